"""`finetune-studio export --checkpoint N` (helper-204): a run's checkpoint exported, the adapter alone or merged, as
`generate RUN --checkpoint N` picks it. `export --adapter RUN/checkpoint-2` was refused with "give the folder of
the run it is in: RUN", and doing that exported the run's final model, not the checkpoint the user picked (the one
saved before the run overfit): now the refusal names `export RUN --checkpoint 2`, and that exports checkpoint-2."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import pytest

from finetune_studio.core import cli
from tests import helpers


def _train(root: Path, name: str, method: str | None) -> Path:
    """A finished run of 2 steps saving a checkpoint at each (checkpoint-1, checkpoint-2), LoRA r 4 or (None) full."""
    from finetune_studio.core.training import run

    data = root / "small.jsonl"
    data.write_text("\n".join(helpers.SAMPLE.read_text(encoding="utf-8").splitlines()[:16]) + "\n", encoding="utf-8")
    config = helpers.small_config(data, root / "runs", max_steps=2, eval_strategy="no", save_strategy="steps",
                                  save_steps=1, load_best_model_at_end=False, learning_rate=1e-2)
    config.name = name
    if method:
        config.adapter.method = method
        config.adapter.r = 4
    result = run(config)
    assert result.state == "finished", result.message
    return Path(result.run_dir)


@pytest.fixture(scope="module")
def ckpt_run(tmp_path_factory: pytest.TempPathFactory, demo_cache: Path) -> Path:
    run = _train(tmp_path_factory.mktemp("ckpt h204"), "ckpt-run", "lora")
    assert sorted(p.name for p in run.glob("checkpoint-*")) == ["checkpoint-1", "checkpoint-2"]
    return run


def _tensors(folder: Path, name: str) -> dict:
    from safetensors.torch import load_file

    return load_file(str(folder / name))


@pytest.mark.slow
def test_adapter_export_of_checkpoint_1_holds_its_weights_not_the_final_ones(ckpt_run: Path, tmp_path: Path,
                                                                              capsys) -> None:
    import torch

    out = tmp_path / "first"
    assert cli.main(["export", "--adapter", str(ckpt_run), "--checkpoint", "1", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert said.startswith("Exported the adapter of checkpoint-1 of ckpt-run (") and f") to {out}." in said
    exported = _tensors(out, "adapter_model.safetensors")
    first = _tensors(ckpt_run / "checkpoint-1", "adapter_model.safetensors")
    final = _tensors(ckpt_run / "model", "adapter_model.safetensors")
    assert sorted(exported) == sorted(first) == sorted(final)
    assert all(torch.equal(exported[name], first[name]) for name in first)
    differ = [name for name in final if not torch.equal(exported[name], final[name])]
    assert differ, "checkpoint-1's adapter equals the final one: the test shows nothing"
    # The Trainer's state of resuming stays behind; its trainer_state.json says which step the adapter is of.
    assert sorted(p.name for p in out.iterdir()) == ["adapter_config.json", "adapter_model.safetensors",
                                                     "tokenizer.json", "tokenizer_config.json", "trainer_state.json"]
    assert json.loads((out / "trainer_state.json").read_text())["global_step"] == 1


@pytest.mark.slow
def test_without_checkpoint_the_final_model_is_exported_to_the_default_folder(ckpt_run: Path, capsys) -> None:
    import torch

    assert cli.main(["export", "--adapter", str(ckpt_run)]) == 0
    out = ckpt_run / "export-adapter"
    assert capsys.readouterr().out.startswith("Exported the adapter (")
    final = _tensors(ckpt_run / "model", "adapter_model.safetensors")
    exported = _tensors(out, "adapter_model.safetensors")
    assert all(torch.equal(exported[name], final[name]) for name in final)
    assert not (out / "trainer_state.json").exists()
    # A checkpoint's default folder is its own: the final model's export is neither met nor replaced.
    assert cli.main(["export", "--adapter", str(ckpt_run), "--checkpoint", "2"]) == 0
    assert f"to {ckpt_run / 'export-adapter-checkpoint-2'}." in capsys.readouterr().out
    second = _tensors(ckpt_run / "export-adapter-checkpoint-2", "adapter_model.safetensors")
    saved = _tensors(ckpt_run / "checkpoint-2", "adapter_model.safetensors")
    assert all(torch.equal(second[name], saved[name]) for name in saved)
    assert all(torch.equal(_tensors(out, "adapter_model.safetensors")[name], final[name]) for name in final)


@pytest.mark.slow
def test_merged_export_of_checkpoint_1_answers_as_the_base_with_checkpoint_1s_adapter(ckpt_run: Path,
                                                                                      tmp_path: Path, capsys) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path / "merged"
    assert cli.main(["export", "--merged", str(ckpt_run), "--checkpoint", "1", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("Exported the merged model of checkpoint-1 of ckpt-run (")
    assert "Loading the adapter of checkpoint-1 and merging it into the base model…" in captured.err
    base_name = json.loads((ckpt_run / "checkpoint-1" / "adapter_config.json").read_text())["base_model_name_or_path"]
    tokenizer = AutoTokenizer.from_pretrained(str(ckpt_run / "checkpoint-1"))
    inputs = tokenizer("The quick brown fox", return_tensors="pt")

    def logits(model) -> torch.Tensor:
        with torch.no_grad():
            return model.eval()(**inputs).logits

    merged = logits(AutoModelForCausalLM.from_pretrained(str(out)))
    first = logits(PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base_name),
                                             str(ckpt_run / "checkpoint-1")))
    final = logits(PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base_name),
                                             str(ckpt_run / "model")))
    assert torch.allclose(merged, first, atol=1e-5), (merged - first).abs().max()
    assert (merged - final).abs().max() > 1e-3  # not the final model's


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["adapter", "merged"])
def test_a_checkpoint_folder_given_as_the_run_is_refused_with_the_command_that_exports_it(
        kind: str, ckpt_run: Path, capsys) -> None:
    given = ckpt_run / "checkpoint-2"
    before = sorted(p.name for p in ckpt_run.iterdir())
    assert cli.main(["export", f"--{kind}", str(given)]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: {given} is checkpoint-2 of the run ckpt-run, not a run folder: export takes the run's "
                   f"folder and the checkpoint's step. Nothing was exported. To fix: finetune-studio export --{kind} "
                   f"{shlex.quote(str(ckpt_run))} --checkpoint 2.\n")  # the run's path has a space: one word
    assert sorted(p.name for p in ckpt_run.iterdir()) == before  # nothing written


@pytest.mark.slow
def test_the_fix_keeps_out_and_dtype_and_names_a_different_checkpoint_given_too(ckpt_run: Path, tmp_path: Path,
                                                                                capsys) -> None:
    out = tmp_path / "never"
    assert cli.main(["export", "--merged", str(ckpt_run / "checkpoint-2"), "--checkpoint", "1", "--out", str(out),
                     "--dtype", "float16"]) == 2
    assert capsys.readouterr().err.endswith(
        f"(and --checkpoint 1 names another one, checkpoint-1). Nothing was exported. To fix: finetune-studio export "
        f"--merged {shlex.quote(str(ckpt_run))} --checkpoint 2 --out {out} --dtype float16, or --checkpoint 1 in its "
        "place for checkpoint-1.\n")
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["adapter", "merged"])
def test_a_checkpoint_the_run_does_not_have_is_refused_with_those_it_has(kind: str, ckpt_run: Path, tmp_path: Path,
                                                                         capsys) -> None:
    out = tmp_path / "none"
    assert cli.main(["export", f"--{kind}", str(ckpt_run), "--checkpoint", "5", "--out", str(out)]) == 2
    # helper-216: the others as they are typed, with the command (it said "give one of its checkpoints: 1 or 2.")
    again = " ".join(shlex.quote(arg) for arg in ["export", f"--{kind}", str(ckpt_run), "--checkpoint", "2", "--out",
                                                   str(out)])
    assert capsys.readouterr().err == ("error: The run ckpt-run has no complete checkpoint 5. Nothing was exported. "
                                       f"To fix: give --checkpoint 1 or --checkpoint 2 (finetune-studio {again}), or "
                                       "leave --checkpoint out for its final model.\n")
    assert not out.exists()


@pytest.mark.slow
def test_a_checkpoint_cut_off_while_saving_is_refused_with_the_whole_one(ckpt_run: Path, tmp_path: Path,
                                                                         capsys) -> None:
    run = tmp_path / "ckpt-run"
    shutil.copytree(ckpt_run, run, ignore=shutil.ignore_patterns("export-*"))
    (run / "checkpoint-2" / "trainer_state.json").unlink()  # the Trainer writes it last
    assert cli.main(["export", "--adapter", str(run), "--checkpoint", "2"]) == 2
    # helper-216: why, and the fix as typed (it said "give --checkpoint 1, its only complete checkpoint.")
    assert capsys.readouterr().err == (
        "error: The run ckpt-run has no complete checkpoint 2 (its checkpoint-2 is incomplete: cut off while saving, "
        "or not a checkpoint the Trainer wrote). Nothing was exported. To fix: give --checkpoint 1 (finetune-studio "
        f"export --adapter {shlex.quote(str(run))} --checkpoint 1), or leave --checkpoint out for its final model.\n")
    assert not (run / "export-adapter-checkpoint-2").exists()


@pytest.mark.slow
def test_a_full_runs_checkpoint_is_said_to_be_a_whole_model_already(tmp_path: Path, demo_cache: Path,
                                                                    capsys) -> None:
    run = _train(tmp_path, "full-run", None)
    assert cli.main(["export", "--merged", str(run), "--checkpoint", "1", "--out", str(tmp_path / "out")]) == 2
    assert (f"The run full-run fine-tuned every weight, so its checkpoint-1 is already a whole model that loads as it "
            f"is: {run / 'checkpoint-1'}. Export is for adapter runs" in capsys.readouterr().err)
    assert not (tmp_path / "out").exists()
