"""An export into another run's model or checkpoint folder is refused (helper-201). Only the exported run's own
folders were refused: with --replace (the window's "Delete what the folder holds, then export"), an export into
runs/other/model put this run's adapter in place of that run's trained model, and one into runs/other/checkpoint-2
deleted the optimizer state its Resume needs, each saying "Exported the adapter … to runs/other/model"."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core.export import destination_refusal
from tests.helpers import checkpoint
from tests.hub_fixtures import make_finished_run, safetensors_bytes


def _adapter_run(runs: Path, name: str, payload: bytes) -> Path:
    """A finished LoRA run as far as export reads it, its adapter weights holding `payload`."""
    run = make_finished_run(runs, name)
    shutil.rmtree(run / "model")
    (run / "model").mkdir()
    (run / "model" / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 4,
                                                                   "base_model_name_or_path": "org/base"}))
    (run / "model" / "adapter_model.safetensors").write_bytes(safetensors_bytes(payload * 64))
    (run / "model" / "tokenizer_config.json").write_text("{}")
    return run


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("where", ["model", "checkpoint-2", "model/sub"])
def test_an_export_into_another_runs_model_or_checkpoint_is_refused_and_changes_nothing(
        where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = tmp_path / "runs"
    run = _adapter_run(runs, "lora-run", b"mine")
    other = _adapter_run(runs, "other-run", b"them")
    checkpoint(other, 2)
    shutil.copy2(other / "model" / "adapter_config.json", other / "checkpoint-2")
    before = _digest(other)
    out = other / where
    code = cli.main(["export", "--adapter", str(run), "--out", str(out), "--replace"])
    err = capsys.readouterr().err.strip()
    place = where.split("/")[0]
    assert (code, err) == (2, (
        f"error: Refused to export into {out}: it is inside the {place} folder of another run, other-run ({other}), "
        "which Resume, the Try tab and a push of that run read as they are; an export there would replace or mix "
        "into that run's saved model. Nothing was changed. To fix: export to a folder outside it (--out DIR), or "
        "leave --out out for the default (export-adapter or export-merged in the run folder)."))
    assert _digest(other) == before  # its trained adapter and checkpoint as they were
    assert not (other / "model" / "sub").exists()
    assert sorted(p.name for p in other.iterdir() if p.name.startswith(".")) == []  # no hidden folder left
    # The window asks the same as the folder is typed, before Export is pressed (its Export stays disabled).
    assert destination_refusal(run, out) == err.removeprefix("error: ")


def test_another_runs_own_export_folder_and_a_sibling_folder_still_take_an_export(tmp_path: Path) -> None:
    """What is not a run's model or checkpoint stays open: the other run's export-adapter (an export, replaced with
    --replace), and a new folder beside the runs."""
    runs = tmp_path / "runs"
    run = _adapter_run(runs, "lora-run", b"mine")
    other = _adapter_run(runs, "other-run", b"them")
    for out in (other / "export-adapter", tmp_path / "exports" / "mine"):
        assert destination_refusal(run, out) is None
        assert cli.main(["export", "--adapter", str(run), "--out", str(out)]) == 0
        assert _digest(out)["adapter_model.safetensors"] == _digest(run / "model")["adapter_model.safetensors"]


def update_base(run: Path, base: str) -> None:
    """The base model the run's adapter_config.json names."""
    path = run / "model" / "adapter_config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "base_model_name_or_path": base}))
