"""The headless CLI: exit codes, one-line reasons, and the same run folder the GUI writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from finetune_studio.core.cli import main
from finetune_studio.core.config import load_config, save_config
from tests.helpers import read_events, small_config

CORE_CLI = (sys.executable, "-m", "finetune_studio.core.cli")  # what `finetune-studio COMMAND` runs

ROOT = Path(__file__).resolve().parents[2]


def test_validate_ok_and_problems(tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "run.yaml"
    assert main(["init", str(path)]) == 0
    assert main(["validate", str(path)]) == 0
    assert "ok: the config is valid." in capsys.readouterr().out
    assert main(["validate", str(path), "--set", "learning_rate=-1", "--set", "dataset.max_length=0"]) == 2
    out = capsys.readouterr().out.splitlines()
    assert ("problem: dataset.max_length: max_length must be a whole number above 0 (got 0); the seed uses 512. To "
            "fix: set max_length to the model's context length or less, such as 512.") in out
    assert ("problem: training.learning_rate: learning_rate must be above 0 (got -1); the seed uses 2e-5. To fix: set "
            "learning_rate above 0 (1e-5 to 1e-3 is usual for fine-tuning).") in out


def test_unknown_key_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("model:\n  nme_or_path: x\n")
    assert main(["train", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: model.nme_or_path: 'nme_or_path' is not a model setting. Did you mean 'name_or_path'? "
                   "To fix: rename it to name_or_path."]


def test_init_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "exists.yaml"
    path.write_text("keep me")
    assert main(["init", str(path)]) == 2  # bad input, refused with nothing changed
    assert path.read_text() == "keep me"
    assert capsys.readouterr().err.splitlines() == [
        f"error: {path} exists already; nothing was written. To fix: pick another name, or move that file away first."]


def test_train_and_list_runs(demo_cache: Path, small_dataset: Path, runs_dir: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "small.yaml"
    save_config(small_config(small_dataset, runs_dir, max_steps=4, eval_steps=2, save_steps=2), path)
    assert main(["train", str(path), "--name", "cli-run", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("finished: Finished 4 steps. Model saved to ")
    assert load_config(runs_dir / "cli-run" / "config.yaml")[0].name == "cli-run"
    assert [e["step"] for e in read_events(runs_dir / "cli-run", "step")] == [1, 2, 3, 4]
    assert main(["runs", "--runs-dir", str(runs_dir)]) == 0
    assert "cli-run" in capsys.readouterr().out


def test_unusable_data_exits_2_with_reason_and_no_run_folder(tmp_path: Path, runs_dir: Path,
                                                               demo_cache: Path) -> None:
    """An empty data file is found before training (issue 12 item 2): a config problem, not a failed run."""
    bad = tmp_path / "empty.jsonl"
    bad.write_text("")
    result = subprocess.run([*CORE_CLI, "train", "--set", f"dataset.source={bad}",
                             "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (f"error: dataset.source: {bad} is empty. Pick a file with "
                                                      "data in it.")
    assert not runs_dir.exists() or list(runs_dir.iterdir()) == []


def test_init_into_a_read_only_folder_says_it_could_not_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture) -> None:
    import errno
    import os
    import tempfile

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    if os.access(locked, os.W_OK):  # root writes anyway: make the write fail as it does for everyone else
        def refuse(*args: object, **kwargs: object) -> None:
            raise PermissionError(errno.EACCES, "Permission denied", str(locked))

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    path = locked / "run.yaml"
    try:
        assert main(["init", str(path)]) == 2
    finally:
        locked.chmod(0o755)
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"error: could not write {path}: Permission denied; nothing was written. "
                                         "To fix: pick a folder you can write to, e.g. finetune-studio init "
                                         "~/run.yaml"]
    assert captured.out == "" and not path.exists() and list(locked.iterdir()) == []


def test_runs_with_a_file_as_the_runs_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from finetune_studio.core.config import default_runs_dir

    a_file = tmp_path / "runs.txt"
    a_file.write_text("not a folder")
    assert main(["runs", "--runs-dir", str(a_file)]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"error: {a_file} is a file, not a runs folder. To fix: pass the folder "
                                         f"that holds the runs with --runs-dir (the default is {default_runs_dir()})."]
    assert captured.out == ""
    assert main(["runs", "--runs-dir", str(tmp_path / "none-yet")]) == 0  # a folder not made yet simply has no runs
    assert capsys.readouterr().out.strip() == (f"No runs in {tmp_path / 'none-yet'}: the folder does not exist (yet; "
                                               "the first run there makes it).")


def test_empty_config_file_exits_2_from_validate_and_train(tmp_path: Path, runs_dir: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("")
    message = (f"error: Config file {path} is empty: it holds no settings. To fix: write one with "
               "'finetune-studio init NEW.yaml' (or File → Save config in the app), or leave the file out to train "
               "the built-in demo.")
    for command in ("validate", "train"):
        assert main([command, str(path)]) == 2
        captured = capsys.readouterr()
        assert captured.err.splitlines() == [message] and "ok" not in captured.out
    assert not runs_dir.exists() or list(runs_dir.iterdir()) == []


def test_train_prints_the_warnings_validate_prints_before_it_trains(tmp_path: Path, runs_dir: Path,
                                                                   capsys: pytest.CaptureFixture,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_studio.core import training as core_training
    trained: list[float] = []

    def fake_run(config, sink, stop):  # what was asked to train, without training it
        trained.append(config.training["learning_rate"])
        return core_training.RunResult(state="finished", message="Finished 0 steps.", run_dir=runs_dir / "x")

    monkeypatch.setattr(core_training, "run", fake_run)
    assert main(["train", "--preset", "demo", "--set", "learning_rate=5", "--quiet"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert trained == [5.0]
    assert "warning: training.learning_rate: learning_rate 5 is unusually large: fine-tuning uses about 1e-5 to " \
           "1e-3, and above 1 the loss almost always diverges. The seed uses 2e-5." in err


def test_validate_prints_warnings_and_exits_0(tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "run.yaml"
    assert main(["init", str(path)]) == 0
    capsys.readouterr()
    assert main(["validate", str(path), "--set", "learning_rate=5"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "warning: training.learning_rate: learning_rate 5 is unusually large: fine-tuning uses about 1e-5 to 1e-3, "
        "and above 1 the loss almost always diverges. The seed uses 2e-5.",
        "ok: the config is valid."]
    assert main(["validate", str(path), "--set", "learning_rate=.inf"]) == 2
    assert capsys.readouterr().out.splitlines() == [
        "problem: training.learning_rate: learning_rate must be a finite number, but the value is too large: it reads "
        "as infinity (a number past about 1.8e308, such as 1e400, overflows to infinity, as .inf is); the seed uses "
        "2e-5. To fix: write a number below 1e308, or remove learning_rate to use the default."]
