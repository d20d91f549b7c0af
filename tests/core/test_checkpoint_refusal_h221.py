"""A checkpoint a command cannot use is refused with its facts (helper-221): core.generate.resolve's error, and
core.export's and core.hub's, carry a CheckpointRefusal (why, the checkpoint asked, the run's whole models, core's
fix where there are none), and the command line words the fix from it as typed, one wording for generate, export and
push. Before, resolve's error carried nothing but its sentence ("give one of its checkpoints: 4 or 8"), and export
and push rewrote core's message text to say theirs. A LoRA run as export reads it (no training): its final model and
adapter checkpoints 4 and 8, each with weights of its own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from finetune_studio.core import cli, generate
from finetune_studio.core import hub as core_hub
from finetune_studio.core.export import CHECKPOINT_REMOVED, NO_CHECKPOINT, ExportError, export_run
from finetune_studio.core.generate import InputError, resolve
from finetune_studio.core.runs import RunFolder
from tests.core.test_cli_push_export_input import _adapter_run, _one_line
from tests.hub_fixtures import safetensors_bytes


def adapter_checkpoints(run: Path, *steps: int) -> None:
    """The run's checkpoint-N for each step as a LoRA run saves it: its adapter (weights of its own) and the
    trainer_state.json saying its step."""
    for step in steps:
        folder = run / f"checkpoint-{step}"
        shutil.copytree(run / "model", folder)
        (folder / "adapter_model.safetensors").write_bytes(safetensors_bytes(b"ck%02d" % step * 64))
        (folder / "trainer_state.json").write_text(json.dumps({"global_step": step}))


@pytest.fixture
def run(tmp_path: Path) -> Path:
    folder = _adapter_run(tmp_path / "runs")
    adapter_checkpoints(folder, 4, 8)
    return folder


def test_generate_refusal_carries_the_facts_and_the_command_line_says_the_generate_command(run: Path) -> None:
    with pytest.raises(InputError) as refused:
        resolve(run, 99)
    facts = refused.value.refusal
    assert (facts.cause, facts.run, facts.checkpoint) == (generate.MISSING, "lora-run", 99)
    assert facts.choices == (4, 8, None)
    assert facts.reason == "The run lora-run has no complete checkpoint 99."
    assert str(refused.value) == ("The run lora-run has no complete checkpoint 99. To fix: give one of its "
                                  "checkpoints: 4 or 8.")  # core's own sentence, as before
    args = cli.parse_args(["generate", str(run), "--checkpoint", "99", "--prompt", "hi"])
    assert cli.generate_refusal(args, refused.value) == (
        "The run lora-run has no complete checkpoint 99. To fix: give --checkpoint 4 or --checkpoint 8 "
        f"(finetune-studio generate {run} --checkpoint 8 --prompt hi), or leave --checkpoint out for its final model.")
    assert cli.generate_refusal(args, InputError("The prompt is empty.")) is None  # no facts: said as it is


def test_a_damaged_checkpoint_and_none_left_carry_their_cause(run: Path) -> None:
    (run / "checkpoint-4" / "adapter_model.safetensors").write_bytes(b"cut")
    with pytest.raises(Exception) as damaged:
        resolve(run, 4)
    facts = damaged.value.refusal
    assert (facts.cause, facts.checkpoint, facts.choices) == (generate.DAMAGED, 4, (8, None))
    assert facts.what.startswith("lora-run · checkpoint-4 is damaged: ")
    shutil.rmtree(run / "checkpoint-4")
    shutil.rmtree(run / "checkpoint-8")
    with pytest.raises(InputError) as none:
        resolve(run, 8)
    facts = none.value.refusal
    assert (facts.cause, facts.checkpoint, facts.choices) == (generate.NONE_LEFT, 8, (None,))
    assert facts.detail == "it holds config.yaml, metrics.jsonl, model/, status.json"
    assert facts.fallback == "leave out --checkpoint to use its final model."


def test_export_and_push_carry_the_same_facts_with_what_each_did_not_do(run: Path, capsys) -> None:
    with pytest.raises(ExportError) as exported:
        export_run(run, "adapter", checkpoint=99)
    facts = exported.value.refusal
    assert exported.value.kind == NO_CHECKPOINT and facts.choices == exported.value.choices == (4, 8, None)
    assert facts.reason == "The run lora-run has no complete checkpoint 99. Nothing was exported."
    with pytest.raises(core_hub.HubError) as pushed:
        core_hub._checkpoint_model(run, 99)
    assert pushed.value.refusal.reason == "The run lora-run has no complete checkpoint 99. Nothing was sent to the Hub."
    assert pushed.value.refusal.choices == pushed.value.choices == (4, 8, None)

    assert cli.main(["export", "--adapter", str(run), "--checkpoint", "99"]) == cli.EXIT_CONFIG
    assert _one_line(capsys) == (
        "error: The run lora-run has no complete checkpoint 99. Nothing was exported. To fix: give --checkpoint 4 or "
        f"--checkpoint 8 (finetune-studio export --adapter {run} --checkpoint 8), or leave --checkpoint out for its "
        "final model.")


def test_a_checkpoint_the_run_removed_while_exported_carries_the_facts_and_the_command_line_says_them(
        run: Path) -> None:
    from finetune_studio.core.export import removed_checkpoint_error

    shutil.rmtree(run / "checkpoint-4")
    shutil.rmtree(run / "model")  # a run training for the first time: no final model yet
    error = removed_checkpoint_error(RunFolder(run), 4, "copied", "Nothing was exported.")
    facts = error.refusal
    assert (error.kind, facts.cause, facts.checkpoint) == (CHECKPOINT_REMOVED, generate.REMOVED, 4)
    assert facts.choices == (8,)
    assert facts.also == "Or export another run's model."
    args = cli.parse_args(["export", "--adapter", str(run), "--checkpoint", "4"])
    assert cli._checkpoint_refusal(args, facts, cli._export_argv) == (
        "checkpoint-4 of the run lora-run was removed while it was being copied: it was deleted meanwhile, by another "
        "program or by hand. Nothing was exported. To fix: give --checkpoint 8 (finetune-studio export --adapter "
        f"{run} --checkpoint 8). Or export another run's model.")
