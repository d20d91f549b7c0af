"""An export refused because its folder holds an earlier export says which earlier export that is (helper-217): the
run and checkpoint (or final model) it was exported from, and when it was written. It said "OUT exists already and
is not empty." and the command line "It holds an earlier export.", never of what, so a user exporting checkpoint-1
into a folder holding checkpoint-2's export could not tell whether replacing it lost anything. An export records no
source of its own: it is told from its adapter's weights (byte for byte those of one of the run's models), else
from the step its trainer_state.json names, else said plainly not to be recorded. Real tiny runs: a stopped LoRA run
with checkpoints 1 and 2 and no model/, and a finished one with a final model and no checkpoints."""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import datetime
from pathlib import Path

import pytest

from finetune_studio.core import cli, export
from tests.helpers import lora_run, stopped_lora_run

pytestmark = pytest.mark.slow

WRITTEN = datetime(2026, 12, 5, 14, 2, 30).timestamp()  # set as the folder's time, in the TZ the test sets


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="module")
def stopped(tmp_path_factory: pytest.TempPathFactory, demo_cache: Path) -> Path:
    return stopped_lora_run(tmp_path_factory.mktemp("h217earlier"))


@pytest.fixture
def run(stopped: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "runs" / "stopped-run"
    shutil.copytree(stopped, copy)
    return copy


def _exported(run: Path, step: int | None, out: Path | None = None) -> Path:
    """An export of the run's checkpoint-`step` (None: its final model), its folder dated WRITTEN (UTC)."""
    result = export.export_run(run, export.ADAPTER, out, checkpoint=step)
    os.utime(result.out_dir, (WRITTEN, WRITTEN))
    return result.out_dir


def _written() -> str:
    return datetime.fromtimestamp(WRITTEN).strftime("%Y-%m-%d %H:%M")


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1, err
    return err.strip()


def test_the_command_line_names_the_run_and_checkpoint_of_the_earlier_export(
        run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _exported(run, 1)  # the default folder: RUN/export-adapter-checkpoint-1
    assert _written() == "2026-12-05 14:02"
    assert cli.main(["export", "--adapter", str(run), "--checkpoint", "1"]) == cli.EXIT_CONFIG
    assert _one_line(capsys) == (
        f"error: {out} exists already and is not empty: it holds an earlier export of the run stopped-run's "
        f"checkpoint-1 (written 2026-12-05 14:02). To fix: replace it with finetune-studio export --adapter {run} "
        "--checkpoint 1 --replace, or choose another folder (--out DIR).")


def test_another_checkpoints_export_in_the_folder_is_named_as_that_checkpoint(
        run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _exported(run, 2, tmp_path / "mine")
    with pytest.raises(export.ExportError) as refused:  # the core path, as the Export dialog meets it
        export.export_run(run, export.ADAPTER, out, checkpoint=1)
    assert str(refused.value) == (
        f"{out} exists already and is not empty: it holds an earlier export of the run stopped-run's checkpoint-2 "
        "(written 2026-12-05 14:02). To fix: choose another folder (--out DIR), or delete it first.")
    assert (refused.value.problem, refused.value.kind) == (export.NOT_EMPTY, export.OUT_UNUSABLE)
    assert cli.main(["export", "--adapter", str(run), "--checkpoint", "1", "--out", str(out)]) == cli.EXIT_CONFIG
    assert "it holds an earlier export of the run stopped-run's checkpoint-2 (written" in _one_line(capsys)


def test_a_final_models_export_is_named_as_that(tmp_path: Path, demo_cache: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    finished = lora_run(tmp_path, "lora-run", 16, 2)
    out = _exported(finished, None)
    assert cli.main(["export", "--adapter", str(finished)]) == cli.EXIT_CONFIG
    assert _one_line(capsys) == (
        f"error: {out} exists already and is not empty: it holds an earlier export of the run lora-run's final model "
        f"(written 2026-12-05 14:02). To fix: replace it with finetune-studio export --adapter {finished} --replace, "
        "or choose another folder (--out DIR).")


def test_a_checkpoint_the_run_no_longer_has_is_named_by_its_step_and_the_run_said_unknown(
        run: Path, tmp_path: Path) -> None:
    out = _exported(run, 2, tmp_path / "mine")
    shutil.rmtree(run / "checkpoint-2")  # the run's save_total_limit deleted it since
    with pytest.raises(export.ExportError) as refused:
        export.export_run(run, export.ADAPTER, out, checkpoint=1)
    assert str(refused.value) == (
        f"{out} exists already and is not empty: it holds an earlier export of a checkpoint saved at step 2 (written "
        "2026-12-05 14:02): its trainer_state.json says the step but not the run, and no model of the run stopped-run "
        "has its weights now. To fix: choose another folder (--out DIR), or delete it first.")


@pytest.mark.parametrize(("files", "what"), [
    ({"config.json": {"model_type": "llama"}}, "a whole llama model"),
    ({"adapter_config.json": {"peft_type": "LORA", "base_model_name_or_path": "builtin:demo"}},
     "an adapter on builtin:demo"),
])
def test_an_export_that_tells_nothing_of_its_source_is_said_so(run: Path, tmp_path: Path, files: dict,
                                                               what: str) -> None:
    out = tmp_path / "other"
    out.mkdir()
    for name, content in files.items():
        (out / name).write_text(json.dumps(content))
    os.utime(out, (WRITTEN, WRITTEN))
    with pytest.raises(export.ExportError) as refused:
        export.export_run(run, export.ADAPTER, out, checkpoint=1)
    adapter = ", and no model of the run stopped-run has its weights now" if "adapter" in what else ""
    assert str(refused.value) == (
        f"{out} exists already and is not empty: it holds an earlier export (written 2026-12-05 14:02): {what}, which "
        f"does not record which run or checkpoint it was exported from{adapter}. To fix: choose another folder (--out "
        "DIR), or delete it first.")
