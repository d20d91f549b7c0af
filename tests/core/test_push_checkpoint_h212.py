"""`finetune-studio push RUN --checkpoint N` (helper-212): export and the Try tab took any complete checkpoint of a
run, a push only its final model, and a stopped run that saved checkpoints but no final model could not be pushed at
all. Now core.core_hub.push_run(checkpoint=N) uploads checkpoint-N's model (an adapter run's adapter, a full fine-tuning
run's weights and config), never the optimizer, scheduler or random generators' state only Resume reads, with the
run's card (which names the checkpoint), metrics and loss curve. A checkpoint the run has not whole, or damaged, is
refused before anything is sent (exit 2), naming those it has; a checkpoint folder given as the run is refused with
the command that pushes it, as export does. Against the local test Hub in this process, with a real stopped LoRA run
(checkpoints 1 and 2, no final model) and a full fine-tuning run with a checkpoint as the Trainer leaves it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core import hub as core_hub
from tests import helpers
from tests.helpers import stopped_lora_run
from tests.hub_fixtures import WRITE, hub, make_finished_run, patch_client  # hub: a fixture
from tests.hub_server import HubServer

RESUME_ONLY = {"optimizer.pt": b"optimizer state" * 40, "scheduler.pt": b"scheduler state",
               "rng_state.pth": b"rng state", "scaler.pt": b"scaler"}


@pytest.fixture
def quiet_hub(hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    patch_client(monkeypatch, hub.url, tmp_path / "hf_home")
    monkeypatch.setenv("HF_TOKEN", WRITE)
    return hub


@pytest.fixture(scope="module")
def stopped(tmp_path_factory: pytest.TempPathFactory, demo_cache: Path) -> Path:
    """A LoRA r 4 run saving a checkpoint each step, stopped after step 2 of 4: checkpoints 1 and 2, no model/."""
    folder = stopped_lora_run(tmp_path_factory.mktemp("h212"))
    assert (folder / "checkpoint-1" / "optimizer.pt").is_file()  # what a push must leave out
    return folder


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err.strip()


@pytest.mark.slow
def test_a_stopped_runs_checkpoint_is_pushed_as_its_adapter_without_the_resume_state(
        stopped: Path, quiet_hub: HubServer, capsys: pytest.CaptureFixture[str]) -> None:
    # Without --checkpoint, the stopped run has nothing to push (no final model): as before, bad input.
    assert cli.main(["push", str(stopped)]) == cli.EXIT_CONFIG
    capsys.readouterr()
    assert quiet_hub.repos == {}

    assert cli.main(["push", str(stopped), "--checkpoint", "1"]) == 0
    out, err = capsys.readouterr()
    # its own repository by default: in the final model's, it replaced that model's weights
    repo = quiet_hub.repos["alice/stopped-run-checkpoint-1"]
    assert out.strip() == f"Pushed {len(repo.files)} files to {quiet_hub.url}/alice/stopped-run-checkpoint-1"
    checkpoint = stopped / "checkpoint-1"
    assert repo.files["adapter_model.safetensors"] == (checkpoint / "adapter_model.safetensors").read_bytes()
    assert repo.files["adapter_model.safetensors"] != (stopped / "checkpoint-2" / "adapter_model.safetensors"
                                                       ).read_bytes()
    assert not set(repo.files) & {"optimizer.pt", "scheduler.pt", "rng_state.pth", "scaler.pt", "training_args.bin"}
    assert {"adapter_config.json", "README.md", "metrics.jsonl", "loss_curve.svg", "trainer_state.json"} <= set(
        repo.files)
    assert json.loads(repo.files["trainer_state.json"])["global_step"] == 1
    assert repo.commit_messages == ["Upload checkpoint-1 of stopped-run from Finetune Studio"]
    card = repo.files["README.md"].decode()
    assert ("These are the weights of checkpoint-1, saved at step 1 of 4 while the run trained, not its final model."
            in card)
    assert ("- Weights: those of checkpoint-1 (step 1 of 4); the final losses below are those of the run's last "
            "steps, not of these weights") in card
    assert "library_name: peft" in card
    assert str(stopped.parent) not in repo.files["trainer_state.json"].decode()


@pytest.mark.slow
def test_a_missing_or_damaged_checkpoint_is_refused_before_anything_is_sent(
        stopped: Path, quiet_hub: HubServer, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import shutil

    assert cli.main(["push", str(stopped), "--checkpoint", "7"]) == cli.EXIT_CONFIG
    # the fix as the command is typed, as export's (205ecc8): it said "give one of its checkpoints: 1 or 2"
    assert _one_line(capsys) == ("error: The run stopped-run has no complete checkpoint 7. Nothing was sent to the "
                                 "Hub. To fix: give --checkpoint 1 or --checkpoint 2 (finetune-studio push "
                                 f"{stopped} --checkpoint 2).")
    with pytest.raises(core_hub.HubError) as refused:
        core_hub.plan_push(stopped, checkpoint=7)
    assert refused.value.kind == core_hub.NO_CHECKPOINT and refused.value.bad_input

    damaged = tmp_path / "runs" / "stopped-run"
    shutil.copytree(stopped, damaged)
    weights = damaged / "checkpoint-2" / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])  # cut short, as a full disk leaves it
    assert cli.main(["push", str(damaged), "--checkpoint", "2"]) == cli.EXIT_CONFIG
    said = _one_line(capsys)
    assert said.startswith("error: stopped-run · checkpoint-2 is damaged: ") and said.endswith(
        f"Nothing was sent to the Hub. To fix: give --checkpoint 1 (finetune-studio push {damaged} --checkpoint "
        "1)."), said
    assert quiet_hub.repos == {} and quiet_hub.count("/api/repos/create") == 0


@pytest.mark.slow
def test_a_checkpoint_folder_given_as_the_run_says_the_command_that_pushes_it(
        stopped: Path, quiet_hub: HubServer, capsys: pytest.CaptureFixture[str]) -> None:
    given = stopped / "checkpoint-2"
    assert cli.main(["push", str(given), "--public"]) == cli.EXIT_CONFIG
    assert _one_line(capsys) == (f"error: {given} is checkpoint-2 of the run stopped-run, not a run folder: push takes "
                                 "the run's folder and the checkpoint's step. Nothing was sent to the Hub. To fix: "
                                 f"finetune-studio push {stopped} --checkpoint 2 --public.")
    assert cli.main(["push", str(given), "--checkpoint", "1"]) == cli.EXIT_CONFIG
    assert _one_line(capsys) == (f"error: {given} is checkpoint-2 of the run stopped-run, not a run folder: push takes "
                                 "the run's folder and the checkpoint's step (and --checkpoint 1 names another one, "
                                 "checkpoint-1). Nothing was sent to the Hub. To fix: finetune-studio push "
                                 f"{stopped} --checkpoint 2, or --checkpoint 1 in its place for checkpoint-1.")
    assert quiet_hub.repos == {}


def test_a_full_fine_tuning_checkpoint_is_pushed_as_its_weights_and_config(quiet_hub: HubServer,
                                                                           tmp_path: Path) -> None:
    run = make_finished_run(tmp_path / "runs")
    checkpoint = helpers.checkpoint(run, 6)
    (checkpoint / "config.json").write_text(json.dumps({"model_type": "gpt2", "transformers_version": "4.0.1"}))
    (checkpoint / "training_args.bin").write_bytes(b"pickled arguments")
    for name, data in RESUME_ONLY.items():
        (checkpoint / name).write_bytes(data)
    state = json.loads((checkpoint / "trainer_state.json").read_text())
    state["best_model_checkpoint"] = str(checkpoint)  # a path of this machine
    (checkpoint / "trainer_state.json").write_text(json.dumps(state))

    planned = dict(core_hub.plan_push(run, checkpoint=6))
    assert sorted(planned) == ["README.md", "config.json", "loss_curve.svg", "metrics.jsonl", "model.safetensors",
                               "trainer_state.json"]
    result = core_hub.push_run(run, checkpoint=6)
    repo = quiet_hub.repos["alice/tiny-run-checkpoint-6"]
    assert "alice/tiny-run" not in quiet_hub.repos  # the final model's repository is left alone
    assert sorted(repo.files) == sorted(planned) == sorted(result.files)
    assert repo.files["model.safetensors"] == (checkpoint / "model.safetensors").read_bytes()
    assert repo.files["model.safetensors"] != (run / "model" / "model.safetensors").read_bytes()
    assert repo.files["config.json"] == (checkpoint / "config.json").read_bytes()
    assert json.loads(repo.files["trainer_state.json"])["best_model_checkpoint"] == "tiny-run/checkpoint-6"
    card = repo.files["README.md"].decode()
    assert "These are the weights of checkpoint-6, saved at step 6 of 12 while the run trained" in card
    assert "| 6 | 2.0000 (these weights) |" in card
    assert "- Transformers: 4.0.1" in card  # the checkpoint's own config.json says the version
    # A merged push is for adapter runs, a checkpoint's as the final model's: refused, nothing sent.
    with pytest.raises(core_hub.HubError) as refused:
        core_hub.push_run(run, repo_id="alice/merged", checkpoint=6, form=core_hub.PUSH_MERGED)
    assert refused.value.kind == core_hub.NOT_AN_ADAPTER_RUN and "alice/merged" not in quiet_hub.repos


@pytest.mark.slow
def test_a_stopped_runs_checkpoint_is_pushed_merged_into_its_base(stopped: Path, quiet_hub: HubServer,
                                                                   tmp_path: Path) -> None:
    from finetune_studio.core.export import MERGED, export_run

    planned = core_hub.plan_push(stopped, form=core_hub.PUSH_MERGED, checkpoint=2)
    unlisted = [name for name, _ in planned if name.startswith(core_hub.MERGED_UNLISTED)]
    assert unlisted == [f"{core_hub.MERGED_UNLISTED} (the run has no final model to list them from)"]

    result = core_hub.push_run(stopped, repo_id="alice/merged-2", form=core_hub.PUSH_MERGED, checkpoint=2)
    repo = quiet_hub.repos["alice/merged-2"]
    assert sorted(repo.files) == sorted(result.files)
    assert "model.safetensors" in repo.files and "config.json" in repo.files
    assert not {"adapter_model.safetensors", "adapter_config.json", "optimizer.pt", "rng_state.pth"} & set(repo.files)
    card = repo.files["README.md"].decode()
    assert "library_name: transformers" in card
    assert "These are the weights of checkpoint-2, saved at step 2 of 4" in card
    assert repo.commit_messages == ["Upload checkpoint-2 of stopped-run from Finetune Studio"]
    exported = export_run(stopped, MERGED, tmp_path / "merged-2", checkpoint=2).out_dir  # export --merged ... 2
    assert repo.files["model.safetensors"] == (exported / "model.safetensors").read_bytes()
