"""A model folder whose config.json no longer matches its weights (helper-115): core.model's loads refuse it with a
ModelError naming the folder, one tensor and its two shapes, and what to do, where transformers' own RuntimeError
("You set `ignore_mismatched_sizes` to `False`, thus raising an error. For details look at the above report!")
came through as it was to `generate`, `train` (weights validation cannot read: pytorch_model.bin) and the Try tab."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from finetune_studio.core import cli
from finetune_studio.core.config import ModelConfig
from finetune_studio.core.errors import ModelError
from finetune_studio.core.model import load_model
from tests.helpers import demo_model_copy
from tests.hub_fixtures import make_finished_run

FIX = "To fix: put back the folder's original config.json, or pick the folder the weights were trained from."


def _mismatched(folder: Path, bin_weights: bool = False) -> Path:
    """A copy of the demo model whose config.json says hidden_size 128 beside weights of 64."""
    base = demo_model_copy(folder)
    if bin_weights:  # validate reads only safetensors headers: with a .bin the load is the first to find out
        import torch
        from safetensors.torch import load_file

        torch.save(load_file(base / "model.safetensors"), base / "pytorch_model.bin")
        (base / "model.safetensors").unlink()
    config = json.loads((base / "config.json").read_text())
    assert config["hidden_size"] == 64
    config["hidden_size"] = 128
    (base / "config.json").write_text(json.dumps(config))
    return base


def _said(base: Path) -> str:
    return (f"Could not load the model: the config.json in {base} does not match its weights "
            "(model.embed_tokens.weight is 1457 × 64 in the weights, 1457 × 128 by config.json; 19 more differ). "
            f"{FIX}")


def test_load_model_refuses_the_folder_with_its_tensor_shapes_and_a_fix(tmp_path: Path, demo_cache: Path) -> None:
    base = _mismatched(tmp_path / "my model")
    with pytest.raises(ModelError) as refused:
        load_model(ModelConfig(name_or_path=str(base)))
    assert str(refused.value) == _said(base)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__


def test_generate_on_the_folder_says_so_with_exit_1(tmp_path: Path, demo_cache: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    base = _mismatched(tmp_path / "base")
    code = cli.main(["generate", str(base), "--prompt", "Hi", "--max-new-tokens", "2"])
    out, err = capsys.readouterr()
    assert code == cli.EXIT_FAILED == 1
    assert out == "" and "Traceback" not in err and "ignore_mismatched_sizes" not in err
    assert err.splitlines()[-1] == f"error: {_said(base)}"


def test_generate_base_of_a_run_says_so(tmp_path: Path, demo_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = _mismatched(tmp_path / "base")
    run = make_finished_run(tmp_path / "runs", model=str(base))
    for tokenizer_file in base.glob("tokenizer*"):  # the run's own tokenizer, which generate reads first
        shutil.copy(tokenizer_file, run / "model" / tokenizer_file.name)
    code = cli.main(["generate", str(run), "--base", "--prompt", "Hi", "--max-new-tokens", "2"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.splitlines()[-2:] == [f"Loading the base model ({base})…", f"error: {_said(base)}"]


def test_train_on_bin_weights_that_validation_cannot_read_says_so(tmp_path: Path, demo_cache: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    base = _mismatched(tmp_path / "base", bin_weights=True)
    runs = tmp_path / "runs"
    code = cli.main(["train", "--preset", "demo", "--set", f"model.name_or_path={base}", "--runs-dir", str(runs),
                     "--name", "mismatch", "--quiet", "--set", "max_steps=2"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.splitlines()[-1] == f"error: {_said(base)}"
    status = json.loads((runs / "mismatch" / "status.json").read_text())
    assert (status["state"], status["message"]) == ("failed", _said(base))
    assert yaml.safe_load((runs / "mismatch" / "config.yaml").read_text())["model"]["name_or_path"] == str(base)


def test_config_mismatch_reads_the_older_text_and_leaves_other_failures(tmp_path: Path) -> None:
    from finetune_studio.core.model import config_mismatch  # imported here: the other tests run on the old model.py

    older = RuntimeError("Error(s) in loading state_dict for Qwen3ForCausalLM:\n\tsize mismatch for lm_head.weight: "
                         "copying a param with shape torch.Size([1457, 64]) from checkpoint, the shape in current "
                         "model is torch.Size([1457, 128]).\n\tsize mismatch for model.norm.weight: copying a param "
                         "with shape torch.Size([64]) from checkpoint, the shape in current model is "
                         "torch.Size([128]).\n\tYou may consider adding `ignore_mismatched_sizes=True` to "
                         "`from_pretrained(...)` if appropriate.")
    assert config_mismatch(older, tmp_path) == (
        f"the config.json in {tmp_path} does not match its weights (lm_head.weight is 1457 × 64 in the weights, "
        "1457 × 128 by config.json; 1 more differs)")
    bare = RuntimeError("You set `ignore_mismatched_sizes` to `False`, thus raising an error. For details look at "
                        "the above report!")
    assert config_mismatch(bare, "/m") == "the config.json in /m does not match its weights"
    for other in (RuntimeError("CUDA error: out of memory"), OSError("no file named model.safetensors"),
                  ValueError("Unrecognized model"), ModelError("Model folder not found: /m. To fix: …")):
        assert config_mismatch(other, "/m") is None


def test_config_mismatch_gives_the_clause_of_the_refusal_load_model_raised(tmp_path: Path, demo_cache: Path) -> None:
    """What core.export can word with its own fix: the ModelError reaches it, not transformers' error."""
    from finetune_studio.core.model import config_mismatch

    base = _mismatched(tmp_path / "base")
    with pytest.raises(ModelError) as refused:
        load_model(ModelConfig(name_or_path=str(base)))
    assert config_mismatch(refused.value, "/elsewhere") == (
        f"the config.json in {base} does not match its weights (model.embed_tokens.weight is 1457 × 64 in the "
        "weights, 1457 × 128 by config.json; 19 more differ)")


def test_a_folder_that_fits_still_loads(tmp_path: Path, demo_cache: Path) -> None:
    base = demo_model_copy(tmp_path / "base")
    model = load_model(ModelConfig(name_or_path=str(base)))
    assert model.config.hidden_size == 64 and model.model.embed_tokens.weight.shape == (1457, 64)
