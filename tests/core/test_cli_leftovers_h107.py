"""Leftovers found driving the CLI (helper-107): `generate` of a run whose every model is damaged said "resume the run
from its start", which no run can do; `runs` said nothing of a config.yaml that is there but unreadable (it said
"missing" only when gone), and a broken run with such a config was called intact; `whoami` while logged out exits 1,
which README's exit codes now say."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from finetune_studio.core import cli, generate_cli
from finetune_studio.core.runs import UNLOADABLE_FIX, list_runs
from tests.helpers import ROOT, checkpoint
from tests.hub_fixtures import hub, make_finished_run, patch_client  # hub: a fixture
from tests.hub_server import HubServer


def _row(out: str, name: str) -> str:
    rows = [line for line in out.splitlines() if line.startswith(name + " ")]
    assert len(rows) == 1, out
    return rows[0]


# ---------------------------------------------------------------------------------------------- generate


def test_generate_of_a_run_whose_every_model_is_damaged_says_the_apps_fix(tmp_path: Path, monkeypatch,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    def load(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(generate_cli, "load", load)
    run = make_finished_run(tmp_path / "runs", "dmg")
    (run / "model" / "model.safetensors").write_bytes(b"xx")
    assert cli.main(["generate", str(run), "--prompt", "hi"]) == cli.EXIT_FAILED
    out, err = capsys.readouterr()
    assert out == ""
    assert err == ("error: Every model dmg saved is damaged (dmg · final model is damaged: its model.safetensors is "
                   "cut short or not a safetensors file; skipped.). To fix: put the missing or damaged files back "
                   "from a copy of the run, or start it again with its settings (in the app: Runs tab, Use its "
                   "settings, then Start).\n")
    assert f"To fix: {UNLOADABLE_FIX}." in err and "from its start" not in err


# ---------------------------------------------------------------------------------------------- runs


def test_runs_says_a_config_that_is_there_but_unreadable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = tmp_path / "runs"
    good = make_finished_run(runs, "good")
    bad_yaml = make_finished_run(runs, "bad-yaml")
    (bad_yaml / "config.yaml").write_text("a: [unclosed\n", encoding="utf-8")
    not_utf8 = make_finished_run(runs, "not-utf8")
    (not_utf8 / "config.yaml").write_bytes(b"name: \xff\xfe\n")
    a_list = make_finished_run(runs, "a-list")
    (a_list / "config.yaml").write_text("- 1\n", encoding="utf-8")
    gone = make_finished_run(runs, "gone")
    (gone / "config.yaml").unlink()

    assert cli.main(["runs", "--runs-dir", str(runs)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert _row(out, "good").endswith("Finished 12 steps.")
    assert _row(out, "gone").endswith("Finished 12 steps. (config.yaml is missing, so the run cannot be resumed.) To "
                                      "fix: put its config.yaml back (from a copy of the run), or train it again.")
    assert _row(out, "bad-yaml").endswith(
        "Finished 12 steps. (config.yaml is not valid YAML at line 2, column 1, so the run cannot be resumed.) To fix: "
        f"correct config.yaml (finetune-studio validate {bad_yaml / 'config.yaml'} says how), or put it back from a "
        "copy of the run.")
    assert _row(out, "not-utf8").endswith(
        "Finished 12 steps. (config.yaml is not UTF-8 text (byte 0xff at position 6), so the run cannot be resumed.) "
        "To fix: save config.yaml as UTF-8, or put it back from a copy of the run.")
    assert _row(out, "a-list").endswith(
        "Finished 12 steps. (config.yaml holds no settings (key: value lines), so the run cannot be resumed.) To fix: "
        "put config.yaml back from a copy of the run.")
    by_name = {run.name: run for run in list_runs(runs)}  # the Runs tab's listing: same words, every run shown
    assert set(by_name) == {"good", "bad-yaml", "not-utf8", "a-list", "gone"}
    assert by_name["good"].problems == ()
    assert by_name["not-utf8"].problems == ("config.yaml is not UTF-8 text (byte 0xff at position 6), so the run "
                                            "cannot be resumed. To fix: save config.yaml as UTF-8, or put it back "
                                            "from a copy of the run",)
    assert (good / "config.yaml").is_file()


def test_a_broken_run_with_an_unreadable_config_is_not_called_intact(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """No status.json, a whole checkpoint: with a readable config Resume continues from it; with a config.yaml that
    does not parse the listing said "Its config and checkpoint-12 are intact: Resume continues from there"."""
    runs = tmp_path / "runs"
    run = make_finished_run(runs, "broken")
    (run / "status.json").unlink()
    checkpoint(run, 12)
    shutil.copy(run / "config.yaml", tmp_path / "kept.yaml")
    (run / "config.yaml").write_text("model: {name_or_path: x\n", encoding="utf-8")
    assert cli.main(["runs", "--runs-dir", str(runs)]) == 0
    row = _row(capsys.readouterr().out, "broken")
    assert " broken " in row and "intact" not in row
    assert row.endswith(  # one fix, the config's first: the resume it offers comes after it (helper-109)
        "status.json is missing; config.yaml is not valid YAML at line 2, column 1, so the run cannot be resumed. Its "
        f"metrics log says it finished at step 12. To fix: correct config.yaml (finetune-studio validate "
        f"{run / 'config.yaml'} says how), or put it back from a copy of the run; then resume it (open it, then "
        f"Resume; or finetune-studio resume {run}): it continues from checkpoint-12 and writes a new status.json.")
    shutil.copy(tmp_path / "kept.yaml", run / "config.yaml")  # the fix: Resume is offered again
    assert cli.main(["runs", "--runs-dir", str(runs)]) == 0
    assert _row(capsys.readouterr().out, "broken").endswith(
        "Its config and checkpoint-12 are intact. To fix: resume it (open it, then Resume; or finetune-studio resume "
        f"{run}): it continues from checkpoint-12 and writes a new status.json.")


# ---------------------------------------------------------------------------------------------- whoami


def test_whoami_while_logged_out_exits_1_as_readme_says(hub: HubServer, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Kept at 1, as `push` while logged out and `hf auth whoami` exit, so a script can ask whether a login is there;
    README's exit codes say so (they named neither)."""
    patch_client(monkeypatch, hub.url, tmp_path / "hf_home")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert cli.main(["whoami"]) == cli.EXIT_FAILED == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: You are not logged in to the Hugging Face Hub.") and "To fix: " in err
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    exit_1 = readme.split("- `1`: ", 1)[1].split("\n- `2`: ", 1)[0]
    assert "`whoami` or `push` while logged out" in " ".join(exit_1.split())
