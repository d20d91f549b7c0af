"""A merged export's dtype is chosen (core.export MERGED_DTYPES: auto, float16, bfloat16, float32), not always the
dtype the run trained in, and config.json says it under both names transformers has read it by (dtype, and
torch_dtype for transformers before 4.56). float16 is refused for weights past its range, a name that is no dtype
(fp16) with the one meant, and a dtype for an adapter export, which copies the adapter as saved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core import export
from finetune_studio.core.export import ExportError, export_merged, export_run
from tests import helpers


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory: pytest.TempPathFactory, demo_cache: Path) -> Path:
    return helpers.lora_run(tmp_path_factory.mktemp("dtype"), "lora-run", rows=60, max_steps=2)


def _config(folder: Path) -> dict:
    return json.loads((folder / "config.json").read_text(encoding="utf-8"))


@pytest.mark.slow
@pytest.mark.parametrize(("dtype", "stored"), [("float16", "F16"), ("bfloat16", "BF16")])
def test_a_merged_export_is_saved_in_the_dtype_chosen(lora_run: Path, tmp_path: Path, dtype: str,
                                                      stored: str) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    same = export_merged(lora_run, tmp_path / "same")
    chosen = export_merged(lora_run, tmp_path / dtype, dtype=dtype)
    assert helpers.weight_dtypes(chosen.out_dir) == {stored} and helpers.weight_dtypes(same.out_dir) == {"F32"}
    config = _config(chosen.out_dir)
    assert (config["dtype"], config["torch_dtype"]) == (dtype, dtype)
    weights = lambda result: (result.out_dir / "model.safetensors").stat().st_size  # noqa: E731
    assert abs(weights(chosen) * 2 - weights(same)) < 64 * 1024  # half the bytes, but for the headers
    assert f"in {dtype}, converted from float32, the dtype the run trained in) to {chosen.out_dir}" in chosen.message
    loaded = AutoModelForCausalLM.from_pretrained(str(chosen.out_dir), dtype="auto")
    assert loaded.dtype == getattr(torch, dtype)
    # the same model, in fewer bits: its weights are the float32 export's, rounded
    full = AutoModelForCausalLM.from_pretrained(str(same.out_dir))
    name, weight = next((n, p) for n, p in full.named_parameters() if "q_proj" in n)
    assert torch.allclose(dict(loaded.named_parameters())[name].float(), weight, rtol=1e-2, atol=1e-3)
    # the push's list of the merged files (made before merging) gives the same sizes
    assert dict(export.merged_files(lora_run, dtype=dtype)) == {
        p.relative_to(chosen.out_dir).as_posix(): p.stat().st_size for p in chosen.out_dir.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_the_same_dtype_as_training_is_said_under_both_names(lora_run: Path, tmp_path: Path) -> None:
    result = export_run(lora_run, export.MERGED, tmp_path / "auto", dtype="auto")
    config = _config(result.out_dir)
    assert (config["dtype"], config["torch_dtype"]) == ("float32", "float32")
    assert ", in float32) to " in result.message
    assert "converted" not in result.message


def test_names_that_are_no_dtype_are_refused_before_anything_loads(lora_run: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError) as raised:
        export_merged(lora_run, tmp_path / "out", dtype="fp16")
    assert raised.value.kind == export.BAD_DTYPE and raised.value.bad_input
    assert str(raised.value) == ("A merged model cannot be saved in 'fp16': the choices are float16, bfloat16, "
                                 "float32, or auto (the dtype the run trained in). Nothing was exported. To fix: write "
                                 "float16.")
    with pytest.raises(ExportError) as raised:
        export_run(lora_run, export.ADAPTER, tmp_path / "out", dtype="float16")
    assert raised.value.kind == export.BAD_DTYPE
    assert str(raised.value).startswith("An adapter export copies the adapter as the run saved it, so it has no "
                                        "dtype to choose (got float16). Nothing was exported. To fix: ")
    assert not (tmp_path / "out").exists()


def test_float16_is_refused_for_weights_past_its_range() -> None:
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)).to(torch.bfloat16)
    with torch.no_grad():
        model[1].weight[0, 1] = -70000.0
    with pytest.raises(ExportError) as raised:
        export._check_fits(model, "float16", "bfloat16")
    assert raised.value.kind == export.DTYPE_OVERFLOW
    assert str(raised.value) == (
        "The merged model cannot be saved in float16: its weight 1.weight holds values up to 70,144, and float16 "
        "holds at most 65,504, so they would be saved as inf and the model would answer NaN. Nothing was exported. "
        "To fix: export it in bfloat16 (as small as float16, with float32's range), or in bfloat16, the dtype the "
        "run trained in.")
    export._check_fits(model, "bfloat16", "bfloat16")  # any other dtype holds it
    with torch.no_grad():
        model[1].weight[0, 1] = 60000.0
    export._check_fits(model, "float16", "bfloat16")


def test_the_size_in_each_dtype_is_known_for_a_local_base(lora_run: Path) -> None:
    from finetune_studio.core.hub import local_base_size

    base = local_base_size(lora_run)
    assert base > 0 and export.trained_dtype(lora_run) == "float32"  # the demo base is saved in float32
    assert [export.merged_size(lora_run, dtype) for dtype in export.MERGED_DTYPES] == [base, base // 2, base // 2,
                                                                                       base]
