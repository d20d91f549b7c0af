"""A folder that holds no run is said in one wording (core.runs.run_folder_problem) by every entry point that takes
a run's folder: the command line's push and export (exit 2, one line, no traceback) and core.export's and
core.hub's functions, which used to say it three other ways ("Run folder not found: …", "… is not a run folder (it
has no config.yaml)." with no next step)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from finetune_studio.core import cli, hub
from finetune_studio.core.export import export_adapter, export_merged, export_run
from finetune_studio.core.runs import (
    MISSING,
    NO_CONFIG,
    NO_RUN,
    NOT_A_FOLDER,
    RunFolderUnusable,
    require_run_folder,
    run_folder_problem,
)

GIVE_A_RUN = "To fix: give a run's folder (the one holding its config.yaml); `finetune-studio runs` lists the runs."


def _bad_folders(tmp_path: Path) -> dict[str, tuple[Path, str, str]]:
    """name: (the folder given, its RunFolderUnusable.kind, the whole sentence every entry point says)."""
    missing = tmp_path / "no-such-run"
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a run")
    empty = tmp_path / "empty"
    empty.mkdir()
    runs = tmp_path / "runs"  # the runs folder itself, not one run in it
    (runs / "first").mkdir(parents=True)
    (runs / "first" / "config.yaml").write_text("name: first\n")
    (runs / "first" / "status.json").write_text(json.dumps({"state": "finished"}))
    orphan = tmp_path / "orphan"  # a run whose config.yaml was deleted
    orphan.mkdir()
    (orphan / "status.json").write_text(json.dumps({"state": "finished"}))
    (orphan / "metrics.jsonl").write_text("")
    return {
        "missing": (missing, MISSING, f"No run folder at {missing}. {GIVE_A_RUN}"),
        "file": (a_file, NOT_A_FOLDER, f"{a_file} is a file, not a run folder. {GIVE_A_RUN}"),
        "empty": (empty, NO_RUN, f"{empty} is not a run folder (it has no config.yaml). {GIVE_A_RUN}"),
        "runs folder": (runs, NO_RUN, f"{runs} is not a run folder: it holds runs (1, e.g. first). To fix: give one "
                                      f"run's folder, e.g. {runs / 'first'}; `finetune-studio runs --runs-dir "
                                      f"{runs}` lists them."),
        "no config": (orphan, NO_CONFIG, f"{orphan} holds a run whose config.yaml is missing (status.json and "
                                         "metrics.jsonl are there), so its settings are lost and it cannot be "
                                         "resumed, exported or pushed. To fix: put its config.yaml back (from a "
                                         "copy of the run), or train it again."),
    }


CASES = ["missing", "file", "empty", "runs folder", "no config"]

ENTRY_POINTS: dict[str, Callable[[Path, Path], object]] = {
    "export_adapter": lambda run, out: export_adapter(run, out),
    "export_merged": lambda run, out: export_merged(run, out),
    "export_run": lambda run, out: export_run(run, "adapter", out),
    "plan_push": lambda run, out: hub.plan_push(run),
    "push_run": lambda run, out: hub.push_run(run, token="hf_never_sent"),
    "apply_fix": lambda run, out: _apply_fix(run),  # the window's Apply fix and resume, `resume --apply-fix`
    "resume": lambda run, out: _resume(run),  # the window's Resume, core.training.resume for an API user
}


def _resume(run: Path) -> object:
    from finetune_studio.core.training import resume

    return resume(run)


def _apply_fix(run: Path) -> object:
    from finetune_studio.core.advice import apply_fix

    return apply_fix(run)


@pytest.mark.parametrize("case", CASES)
def test_run_folder_problem_says_what_the_folder_is_and_what_to_give(case: str, tmp_path: Path) -> None:
    folder, kind, sentence = _bad_folders(tmp_path)[case]
    problem = run_folder_problem(folder)
    assert isinstance(problem, RunFolderUnusable)
    assert (problem.kind, str(problem)) == (kind, sentence)
    with pytest.raises(RunFolderUnusable) as raised:
        require_run_folder(folder)
    assert (raised.value.kind, str(raised.value)) == (kind, sentence)


def test_a_run_folder_has_no_problem(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.yaml").write_text("name: run\n")
    assert run_folder_problem(tmp_path / "run") is None
    assert require_run_folder(str(tmp_path / "run")) == tmp_path / "run"


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize("case", CASES)
def test_export_and_hub_say_it_in_the_same_words(case: str, entry: str, tmp_path: Path) -> None:
    folder, _kind, sentence = _bad_folders(tmp_path)[case]
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises(Exception) as raised:
        ENTRY_POINTS[entry](folder, tmp_path / "out")
    assert str(raised.value) == sentence
    if entry.startswith("export") or entry in ("apply_fix", "resume"):  # a bad-input error: the command line exits 2
        assert isinstance(raised.value, RunFolderUnusable)
    else:  # what the window's push dialog shows as it is
        assert isinstance(raised.value, hub.HubError) and raised.value.kind == hub.NOT_A_RUN_FOLDER
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # nothing was written


COMMANDS = [["push", "{dir}"], ["push", "{dir}", "--merged", "--repo", "alice/x"], ["export", "--adapter", "{dir}"],
            ["export", "--merged", "{dir}", "--out", "{out}"]]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("case", CASES)
def test_cli_push_and_export_exit_2_with_one_line(case: str, command: list[str], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    folder, _kind, sentence = _bad_folders(tmp_path)[case]
    argv = [part.format(dir=folder, out=tmp_path / "out") for part in command]
    assert cli.main(argv) == cli.EXIT_CONFIG
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [f"error: {sentence}"]  # one line: no traceback, no progress
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("state", ["finished", "stopped"])
def test_a_run_without_its_model_says_why_in_one_wording_for_export_and_push(tmp_path: Path, state: str) -> None:
    """A finished run whose model folder is gone was told 'Only a finished run has one; finish or resume it
    first.' (helper-48): now it says the model folder is missing; an unfinished run is told to resume to the end."""
    from finetune_studio.core.config import default_config, save_config
    from finetune_studio.core.export import ExportError
    from finetune_studio.core.runs import RunFolder

    folder = RunFolder(tmp_path / "r")
    folder.path.mkdir()
    save_config(default_config(), folder.config_path)
    folder.write_status(state, "")
    finished = (f"The run r finished, but its model folder {folder.model_dir} is missing or empty (moved or deleted "
                "since), so there is no model to {}. To fix: put the model folder back from a copy, or train the run "
                "again under a new name.")
    unfinished = ("The run r has no saved model to {} (its state is stopped): a run saves its model when it "
                  "finishes. No checkpoint was saved, so it cannot resume. To fix: start it again under another name, "
                  "with its settings: finetune-studio train RUN/config.yaml --name NEW_NAME (RUN being this run's "
                  "folder, which keeps its name; in the window: the Runs tab, Use its settings, then Start)."
                  )  # "resume it to the end first" only with a checkpoint that loads
    expected = finished if state == "finished" else unfinished
    with pytest.raises(ExportError) as exported:
        export_adapter(folder.path)
    assert str(exported.value) == expected.format("export")
    with pytest.raises(hub.HubError) as pushed:
        hub.plan_push(folder.path)
    assert str(pushed.value) == expected.format("push")
