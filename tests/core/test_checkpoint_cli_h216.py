"""`export --checkpoint N` and `push --checkpoint N` from a terminal (helper-216): one rule for a checkpoint the user
named that cannot be used, whichever command names it. A damaged one (weights cut short or missing, an unreadable
adapter_config.json) was refused by push with exit 2 and "Nothing was sent to the Hub." while export failed with
exit 1 and said nothing of what it left; both now exit 2 (bad input) and say nothing was done. The fix named the
other checkpoints as bare numbers ("give one of its checkpoints: 1 or 2"); it now says them as they are typed
("--checkpoint 1 or --checkpoint 2", and "leave --checkpoint out for its final model" where the run has one). A step
below 1, a checkpoint-N that is a file or cut off while saving, and a checkpoint-N that is a link to another run's
checkpoint (whose weights this run's card and metrics do not describe) are each refused in one line, exit 2, with a
fix that works when run. Real tiny runs: a stopped LoRA run with checkpoints 1 and 2 and no model/, and the local
Hub for push."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from finetune_studio.core import cli
from tests.helpers import hold_like_another_process, stopped_lora_run
from tests.hub_fixtures import WRITE, hub, make_finished_run, patch_client  # hub: a fixture
from tests.hub_server import HubServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stopped(tmp_path_factory: pytest.TempPathFactory, demo_cache: Path) -> Path:
    """A LoRA r 4 run saving a checkpoint each step, stopped after step 2 of 4: checkpoints 1 and 2, no model/."""
    return stopped_lora_run(tmp_path_factory.mktemp("h216"))


@pytest.fixture
def quiet_hub(hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    patch_client(monkeypatch, hub.url, tmp_path / "hf_home")
    monkeypatch.setenv("HF_TOKEN", WRITE)
    return hub


def _copy(stopped: Path, tmp_path: Path, name: str = "stopped-run") -> Path:
    copy = tmp_path / "runs" / name
    shutil.copytree(stopped, copy)
    return copy


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err.strip()


def _exports(run: Path) -> list[str]:
    return sorted(p.name for p in run.iterdir() if p.name.startswith("export-") or p.name.startswith("."))


def _export(run: Path, step: str, kind: str = "--adapter") -> list[str]:
    return ["export", kind, str(run), "--checkpoint", step]


@pytest.mark.parametrize(("damage", "kind"), [("truncated", "--adapter"), ("truncated", "--merged"),
                                              ("no weights", "--adapter"), ("unreadable config", "--merged")])
def test_a_damaged_checkpoint_is_bad_input_for_export_as_for_push(
        stopped: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str, kind: str) -> None:
    run = _copy(stopped, tmp_path)
    weights = run / "checkpoint-1" / "adapter_model.safetensors"
    if damage == "truncated":
        weights.write_bytes(weights.read_bytes()[:100])  # cut short, as a full disk leaves it
        problem = "its adapter_model.safetensors is cut short or not a safetensors file"
    elif damage == "no weights":
        weights.unlink()
        problem = "it holds no weights (adapter_model.safetensors)"
    else:
        (run / "checkpoint-1" / "adapter_config.json").write_text("{not json", encoding="utf-8")
        problem = ("its adapter_config.json cannot be read (Expecting property name enclosed in double quotes: line 1 "
                   "column 2 (char 1))")
    # HEAD: exit 1, "… To fix: pick a whole one: --checkpoint 2." with no word of what was left
    assert cli.main(_export(run, "1", kind)) == cli.EXIT_CONFIG
    again = ["export", kind, str(run), "--checkpoint", "2"]
    assert _one_line(capsys) == (f"error: stopped-run · checkpoint-1 is damaged: {problem}. Nothing was exported. To "
                                 f"fix: give --checkpoint 2 (finetune-studio {' '.join(again)}).")
    assert _exports(run) == []
    if kind == "--adapter":  # the fix, run as said
        assert cli.main(again) == 0
        assert _exports(run) == ["export-adapter-checkpoint-2"]


@pytest.mark.parametrize(("step", "why"), [
    ("7", ""), ("0", " (a checkpoint is named by the step it was saved at: 1 or more)"),
    ("-1", " (a checkpoint is named by the step it was saved at: 1 or more)"), ("99999999999999999999", "")])
def test_a_checkpoint_the_run_does_not_have_names_the_others_as_they_are_typed(
        stopped: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], step: str, why: str) -> None:
    run = _copy(stopped, tmp_path)
    out = tmp_path / "out"
    assert cli.main([*_export(run, step), "--out", str(out)]) == cli.EXIT_CONFIG
    # HEAD: "To fix: give one of its checkpoints: 1 or 2." (bare numbers), and nothing of why 0 or -1 is none
    again = ["export", "--adapter", str(run), "--checkpoint", "2", "--out", str(out)]
    assert _one_line(capsys) == (f"error: The run stopped-run has no complete checkpoint {step}{why}. Nothing was "
                                 "exported. To fix: give --checkpoint 1 or --checkpoint 2 (finetune-studio "
                                 f"{' '.join(again)}).")
    assert not out.exists() and _exports(run) == []
    if step == "7":
        assert cli.main(again) == 0 and (out / "adapter_model.safetensors").is_file()


def test_a_run_with_a_final_model_is_offered_it_and_one_without_checkpoints_only_it(
        stopped: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _copy(stopped, tmp_path)
    shutil.copytree(run / "checkpoint-2", run / "model")  # as a finished run's final model
    assert cli.main(_export(run, "5")) == cli.EXIT_CONFIG
    assert _one_line(capsys) == (
        "error: The run stopped-run has no complete checkpoint 5. Nothing was exported. To fix: give --checkpoint 1 or "
        f"--checkpoint 2 (finetune-studio export --adapter {run} --checkpoint 2), or leave --checkpoint out for its "
        "final model.")
    for name in ("checkpoint-1", "checkpoint-2"):
        shutil.rmtree(run / name)
    assert cli.main(_export(run, "1")) == cli.EXIT_CONFIG
    # HEAD: "To fix: leave out --checkpoint to use its final model."
    assert _one_line(capsys) == (
        "error: The run stopped-run has no complete checkpoint at all, so --checkpoint 1 has none to pick (it holds "
        "config.yaml, metrics.jsonl, model/, run.lock, status.json). Nothing was exported. To fix: leave --checkpoint "
        "out for its final model.")
    assert cli.main(["export", "--adapter", str(run)]) == 0 and _exports(run) == ["export-adapter"]


def test_a_checkpoint_that_is_a_file_or_cut_off_says_so(stopped: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    run = _copy(stopped, tmp_path)
    shutil.rmtree(run / "checkpoint-1")
    (run / "checkpoint-1").write_text("not a folder", encoding="utf-8")
    (run / "checkpoint-2" / "trainer_state.json").unlink()  # the Trainer writes it last: cut off while saving
    (run / "checkpoint-3").mkdir()
    shutil.copytree(stopped / "checkpoint-2", run / "checkpoint-4")
    fix = f"To fix: give --checkpoint 4 (finetune-studio export --adapter {run} --checkpoint 4)."
    assert cli.main(_export(run, "1")) == cli.EXIT_CONFIG
    assert _one_line(capsys) == (f"error: The run stopped-run has no complete checkpoint 1 ({run / 'checkpoint-1'} is "
                                 f"a file, not a checkpoint folder). Nothing was exported. {fix}")
    assert cli.main(_export(run, "2")) == cli.EXIT_CONFIG
    assert _one_line(capsys) == ("error: The run stopped-run has no complete checkpoint 2 (its checkpoint-2 is "
                                 "incomplete: cut off while saving, or not a checkpoint the Trainer wrote). Nothing "
                                 f"was exported. {fix}")
    assert _exports(run) == []


def test_a_checkpoint_linked_to_another_runs_is_not_exported_or_pushed_as_this_runs(
        stopped: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], quiet_hub: HubServer) -> None:
    run = _copy(stopped, tmp_path)
    other = _copy(stopped, tmp_path, "other-run")
    shutil.rmtree(run / "checkpoint-1")
    (run / "checkpoint-1").symlink_to(other / "checkpoint-1", target_is_directory=True)
    said = (f"checkpoint-1 of the run stopped-run is a link to {other / 'checkpoint-1'}, checkpoint-1 of the run "
            "other-run, not a checkpoint this run saved: its weights are not the ones this run's config and metrics "
            "describe.")
    # HEAD: exported other-run's weights as "the adapter of checkpoint-1 of stopped-run", exit 0
    assert cli.main(_export(run, "1")) == cli.EXIT_CONFIG
    assert _one_line(capsys) == (f"error: {said} Nothing was exported. To fix: give that run's folder ({other} "
                                 f"--checkpoint 1), or give --checkpoint 2 (finetune-studio export --adapter {run} "
                                 "--checkpoint 2).")
    assert _exports(run) == []
    assert cli.main(["export", "--adapter", str(other), "--checkpoint", "1"]) == 0  # the fix, as said
    assert _exports(other) == ["export-adapter-checkpoint-1"]
    capsys.readouterr()
    # push reads the same checkpoint (core.hub._checkpoint_model): HEAD pushed it with this run's card
    assert cli.main(["push", str(run), "--checkpoint", "1"]) == cli.EXIT_CONFIG
    assert _one_line(capsys) == (f"error: {said} Nothing was sent to the Hub. To fix: give that run's folder ({other} "
                                 f"--checkpoint 1), or give --checkpoint 2 (finetune-studio push {run} --checkpoint "
                                 "2).")  # said as export says it (push said "pick a whole one: --checkpoint 2.")
    assert quiet_hub.repos == {} and quiet_hub.count("/api/repos/create") == 0


def test_push_of_a_damaged_or_missing_checkpoint_says_nothing_was_sent(
        stopped: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], quiet_hub: HubServer) -> None:
    """Push already refused these with exit 2 (core.hub wraps core.export's refusal); held here beside export's."""
    run = _copy(stopped, tmp_path)
    weights = run / "checkpoint-2" / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    assert cli.main(["push", str(run), "--checkpoint", "2"]) == cli.EXIT_CONFIG
    assert _one_line(capsys) == ("error: stopped-run · checkpoint-2 is damaged: its adapter_model.safetensors is cut "
                                 "short or not a safetensors file. Nothing was sent to the Hub. To fix: give "
                                 f"--checkpoint 1 (finetune-studio push {run} --checkpoint 1).")
    assert cli.main(["push", str(run), "--checkpoint", "0"]) == cli.EXIT_CONFIG
    assert _one_line(capsys) == ("error: The run stopped-run has no complete checkpoint 0 (a checkpoint is named by "
                                 "the step it was saved at: 1 or more). Nothing was sent to the Hub. To fix: give "
                                 f"--checkpoint 1 (finetune-studio push {run} --checkpoint 1).")  # 2 is damaged now
    assert quiet_hub.repos == {}


def test_a_full_fine_tuning_checkpoint_with_adapter_says_nothing_was_exported(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests import helpers

    run = make_finished_run(tmp_path / "runs", "full-run")
    checkpoint = helpers.checkpoint(run, 6)
    assert cli.main(["export", "--adapter", str(run), "--checkpoint", "6"]) == cli.EXIT_CONFIG
    # HEAD: the same line without "Nothing was exported."
    assert _one_line(capsys) == (f"error: The run full-run fine-tuned every weight, so its checkpoint-6 is already a "
                                 f"whole model that loads as it is: {checkpoint}. Export is for adapter runs (LoRA, "
                                 "QLoRA, DoRA). Nothing was exported. To fix: use that folder as it is (copy its "
                                 "config.json and weights, or load it with AutoModelForCausalLM.from_pretrained).")
    assert _exports(run) == []


def test_a_checkpoint_of_a_run_training_in_another_process_is_exported_and_a_missing_one_refused(
        stopped: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A checkpoint is written once, whole: it is exported while the run trains on (core.export's rule, held)."""
    run = _copy(stopped, tmp_path)
    fd = hold_like_another_process(run)
    try:
        assert cli.main(_export(run, "1")) == 0
        assert _exports(run) == ["export-adapter-checkpoint-1"]
        capsys.readouterr()
        assert cli.main(_export(run, "3")) == cli.EXIT_CONFIG
        assert _one_line(capsys) == (
            "error: The run stopped-run has no complete checkpoint 3. Nothing was exported. To fix: give --checkpoint "
            f"1 or --checkpoint 2 (finetune-studio export --adapter {run} --checkpoint 2).")
    finally:
        os.close(fd)


def test_readme_lists_a_checkpoint_export_or_push_cannot_use_as_bad_input() -> None:
    from tests.core.test_readme_exit_codes import exit_codes

    # HEAD listed `push --checkpoint N` alone, and export --checkpoint N of a damaged one exited 1
    assert ("an `export --checkpoint N` or `push --checkpoint N` the run has not whole, that is damaged, or that is a "
            "link to another run's checkpoint (it names the ones it has)"
            in exit_codes()[cli.EXIT_CONFIG])


@pytest.mark.parametrize("command", [["export", "--adapter"], ["push"]])
@pytest.mark.parametrize("given", ["abc", "1.5", ""])
def test_a_checkpoint_that_is_no_number_is_refused_by_the_parser_with_a_fix(
        stopped: Path, capsys: pytest.CaptureFixture[str], given: str, command: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([*command, str(stopped), "--checkpoint", given])
    out, err = capsys.readouterr()
    assert (exited.value.code, out) == (2, "") and "Traceback" not in err
    # HEAD: "finetune-studio export: error: argument --checkpoint: invalid int value: 'abc'" (push: the same)
    assert err.splitlines()[-1] == (
        f"finetune-studio {command[0]}: error: argument --checkpoint: {given!r} is not a checkpoint's step. To fix: "
        "give the N of a checkpoint-N folder of the run, a whole number (--checkpoint 2), or leave --checkpoint out "
        "for its final model.")


def test_the_checkpoint_folders_own_name_is_taken_as_its_step(stopped: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    # HEAD: "invalid int value: 'checkpoint-2'"
    assert cli.main(["export", "--adapter", str(stopped), "--checkpoint", "checkpoint-2", "--out", str(out)]) == 0
    assert json.loads((out / "trainer_state.json").read_text())["global_step"] == 2


def test_a_checkpoint_being_saved_while_the_run_trains_says_so(stopped: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    run = _copy(stopped, tmp_path)
    (run / "checkpoint-2" / "trainer_state.json").unlink()  # written last: the save is not done yet
    fd = hold_like_another_process(run)
    try:
        assert cli.main(_export(run, "2")) == cli.EXIT_CONFIG
        # HEAD: "The run stopped-run has no complete checkpoint 2. … To fix: give --checkpoint 1, its only …"
        assert _one_line(capsys) == (
            "error: The run stopped-run has no complete checkpoint 2 (its checkpoint-2 is incomplete: the run trains "
            "now, and may be saving it). Nothing was exported. To fix: give --checkpoint 1 (finetune-studio export "
            f"--adapter {run} --checkpoint 1).")
    finally:
        os.close(fd)


def test_a_run_with_many_checkpoints_names_the_newest_four(stopped: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    run = _copy(stopped, tmp_path)
    for step in range(3, 7):
        shutil.copytree(run / "checkpoint-2", run / f"checkpoint-{step}")
    assert cli.main(_export(run, "9")) == cli.EXIT_CONFIG
    assert _one_line(capsys) == (
        "error: The run stopped-run has no complete checkpoint 9. Nothing was exported. To fix: give one of the newest "
        "4 of its 6 whole checkpoints, --checkpoint 3, --checkpoint 4, --checkpoint 5 or --checkpoint 6 "
        f"(finetune-studio export --adapter {run} --checkpoint 6).")


def test_a_checkpoint_linked_to_another_of_the_same_run_says_whose_step_it_holds(
        stopped: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _copy(stopped, tmp_path)
    shutil.rmtree(run / "checkpoint-2")
    (run / "checkpoint-2").symlink_to("checkpoint-1", target_is_directory=True)
    # HEAD: exported checkpoint-1's weights as "the adapter of checkpoint-2", exit 0
    assert cli.main(_export(run, "2")) == cli.EXIT_CONFIG
    assert _one_line(capsys) == (
        "error: checkpoint-2 of the run stopped-run is a link to its checkpoint-1: its weights are those of step 1, "
        f"not of step 2. Nothing was exported. To fix: give --checkpoint 1 (finetune-studio export --adapter {run} "
        "--checkpoint 1).")
    assert _exports(run) == []
    # Held: a run folder reached through a link is no link of its checkpoint
    alias = tmp_path / "alias"
    alias.symlink_to(stopped, target_is_directory=True)
    assert cli.main([*_export(alias, "1"), "--out", str(tmp_path / "out")]) == 0
    assert json.loads((tmp_path / "out" / "trainer_state.json").read_text())["global_step"] == 1
