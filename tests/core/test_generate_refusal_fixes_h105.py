"""`finetune-studio generate` refusals whose "To fix:" leads somewhere: a run training now is told to wait for its
first checkpoint (resume is refused while it trains), an adapter that does not fit says what does not (torch's
"Error(s) in loading state_dict for PeftModel:" said nothing), and a damaged checkpoint of a finished run names the
whole ones to pick (resuming would not save it again). Exit codes as README gives them: 1 for a model that cannot
load, 2 for bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core import generate as g
from finetune_studio.core.cli import main
from finetune_studio.core.config import default_config, load_config, save_config
from finetune_studio.core.runs import RunFolder, RunLock
from finetune_studio.core.training import new_run_folder
from tests.helpers import checkpoint, lora_run
from tests.hub_fixtures import make_finished_run


def _err_line(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().err.strip().splitlines()[-1]


def _live_run(root: Path, **training: object) -> RunFolder:
    folder = RunFolder(root / "r")
    folder.path.mkdir(parents=True)
    config = default_config()
    config.training.update(training)
    save_config(config, folder.config_path)
    folder.write_status("running", "")
    return folder


def test_a_run_training_now_with_no_checkpoint_is_told_to_wait_for_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It said "To fix: train it until it saves a checkpoint, or resume it.", and resume refuses a run that trains."""
    folder = _live_run(tmp_path, save_strategy="steps", save_steps=50)
    waits = (f"To fix: wait for its first checkpoint, saved at step 50 (save_steps: 50), then try again. It is "
             f"training now (process {os.getpid()}); the Runs tab, or `finetune-studio runs`, shows how far it is.")
    with RunLock.acquire(folder.path):
        with pytest.raises(g.GenerationError) as caught:
            g.resolve(folder.path)
        assert str(caught.value) == ("The run r has no final model and no complete checkpoint yet, so there is "
                                     "nothing to talk to: it holds config.yaml, run.lock, status.json. " + waits)
        assert main(["generate", str(folder.path), "--prompt", "Aries:"]) == cli.EXIT_FAILED
        assert _err_line(capsys) == f"error: {caught.value}"
        assert main(["generate", str(folder.path), "--checkpoint", "3", "--prompt", "Aries:"]) == cli.EXIT_CONFIG
        assert _err_line(capsys) == ("error: The run r has no complete checkpoint at all, so --checkpoint 3 has none "
                                     "to pick (it holds config.yaml, run.lock, status.json). " + waits)
    # its lock released (the process ended without a save, before its first step): Resume refuses a run with no
    # checkpoint, so it is told to start again, under its own name, which takes the folder over (07b0703)
    with pytest.raises(g.GenerationError) as caught:
        g.resolve(folder.path)
    assert str(caught.value).endswith(
        "To fix: start it again as it is; nothing was trained, so the same name takes this folder over: "
        f"'finetune-studio train {folder.config_path} --runs-dir {tmp_path} --name r'.")
    config, _ = load_config(folder.config_path)  # that command's start: the name r takes the folder over
    config.name, config.runs_dir = "r", str(tmp_path)
    assert new_run_folder(config)[1].path == folder.path and list(folder.path.iterdir()) == []


@pytest.mark.parametrize(("training", "when"), [
    ({"save_strategy": "epoch"}, "wait for its first checkpoint, saved at the end of its first epoch "
                                 "(save_strategy: epoch), then try again"),
    ({"save_strategy": "no"}, "wait until it finishes: it saves no checkpoint (save_strategy: no), only its final "
                              "model at the end, then try again"),
])
def test_the_wait_follows_its_save_strategy(tmp_path: Path, training: dict, when: str) -> None:
    folder = _live_run(tmp_path, **training)
    with RunLock.acquire(folder.path), pytest.raises(g.GenerationError) as caught:
        g.resolve(folder.path)
    assert f"To fix: {when}. It is training now (process {os.getpid()})" in str(caught.value)


def test_a_damaged_checkpoint_of_a_finished_run_names_the_whole_ones(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It said "To fix: pick another one (checkpoint-2, final model), or resume the run to save it again.": a
    finished run trains no more, and a resume never saves that checkpoint again."""
    run = make_finished_run(tmp_path / "runs")
    for step in (1, 2, 3):
        checkpoint(run, step)
    weights = run / "checkpoint-1" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8])  # cut short, as a full disk leaves it
    damaged = "tiny-run · checkpoint-1 is damaged: its model.safetensors is cut short (smaller than its tensors)."
    assert main(["generate", str(run), "--checkpoint", "1", "--prompt", "Aries:"]) == cli.EXIT_FAILED
    assert _err_line(capsys) == (f"error: {damaged} To fix: give --checkpoint 2 or --checkpoint 3 (finetune-studio "
                                 f"generate {run} --checkpoint 3 --prompt Aries:), or leave --checkpoint out for its "
                                 "final model.")  # as export and push say it (helper-221's CheckpointRefusal)
    assert main(["generate", str(run / "checkpoint-1"), "--prompt", "Aries:"]) == cli.EXIT_FAILED
    assert _err_line(capsys) == (f"error: {damaged} To fix: give a whole one: {run / 'checkpoint-2'}, "
                                 f"{run / 'checkpoint-3'} or {run / 'model'} (the final model).")
    assert g.resolve(run, 2).target.label == "checkpoint-2"  # what it names loads
    for name in ("checkpoint-2", "checkpoint-3", "model"):
        (run / name / "model.safetensors").write_bytes(b"")
    with pytest.raises(g.GenerationError) as caught:
        g.resolve(run, 1)
    assert str(caught.value) == (f"{damaged} To fix: put the missing or damaged files back from a copy of the run, or "
                                 "start it again with its settings (in the app: Runs tab, Use its settings, then "
                                 "Start); or pick another run: this one has no other whole model.")


def test_an_adapter_that_does_not_fit_says_what_does_not(demo_cache: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """It said "Could not load the adapter in <model>: Error(s) in loading state_dict for PeftModelForCausalLM:. To
    fix: ..." (the heading alone, and a double stop)."""
    run = lora_run(tmp_path, "edited", rows=16, max_steps=1)
    settings = json.loads((run / "model" / "adapter_config.json").read_text())
    settings["r"] = 8  # r edited from 4: every lora_A and lora_B no longer fits
    (run / "model" / "adapter_config.json").write_text(json.dumps(settings))
    capsys.readouterr()
    assert main(["generate", str(run), "--prompt", "Aries:", "--max-new-tokens", "2"]) == cli.EXIT_FAILED
    line = _err_line(capsys)
    model = run / "model"
    assert line.startswith(f"error: Could not load the adapter in {model}: Error(s) in loading state_dict for "
                           "PeftModelForCausalLM: size mismatch for base_model.model.model.layers.0.self_attn.q_proj."
                           "lora_A.default.weight: copying a param with shape torch.Size([4, 64]) from checkpoint, "
                           "the shape in current model is torch.Size([8, 64]) (and ")
    assert ":." not in line
    assert line.endswith(f" more like it). To fix: check that adapter_config.json and adapter_model.safetensors in "
                         f"{model} are the ones the run saved together (copy the run folder again if it was copied "
                         "or edited), and that the base model is the one it trained on; or pick another checkpoint.")
    settings["r"] = 4
    (run / "model" / "adapter_config.json").write_text(json.dumps(settings))
    assert main(["generate", str(run), "--prompt", "Aries:", "--max-new-tokens", "2"]) == 0  # the fix loads


def test_a_checkpoint_the_run_lacks_is_said_with_the_generate_command_to_type(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """generate --checkpoint N of a checkpoint the run does not have words its fix as export and push do, the
    command as typed with a checkpoint it has: it said core.generate's bare 'give one of its checkpoints: 1 or 2'."""
    run = make_finished_run(tmp_path / "runs")
    for step in (1, 2):
        checkpoint(run, step)
    assert main(["generate", str(run), "--checkpoint", "99", "--prompt", "Aries:"]) == cli.EXIT_CONFIG
    said = _err_line(capsys)
    assert said.endswith(f"To fix: give --checkpoint 1 or --checkpoint 2 (finetune-studio generate {run} "
                         "--checkpoint 2 --prompt Aries:), or leave --checkpoint out for its final model."), said
