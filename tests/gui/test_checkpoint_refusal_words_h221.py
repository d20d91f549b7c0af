"""The Export and Push dialogs word core's refusal of the checkpoint their Model box picked from its facts
(helper-221): core.generate.CheckpointRefusal, which core.export's and core.hub's errors carry, said by one helper
(gui.export_dialog.refused_pick_text) in the Model box's words. Before, both dialogs rewrote core's message text with
regular expressions, which a checkpoint the run deleted while it was exported or pushed (CHECKPOINT_REMOVED: a run
training in another process whose save_total_limit keeps only its newest checkpoint) escaped: the dialogs said "To
fix: pick a whole one: --checkpoint 8", a flag they have none of. And the Export dialog's own refusal of a folder that
holds an earlier export now says which export it is (core.export.earlier_export_text), as the command line does."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import hub as core_hub
from finetune_studio.core.config import load_config, save_config
from finetune_studio.core.export import ADAPTER, export_run, removed_checkpoint_error
from finetune_studio.core.runs import RunFolder
from finetune_studio.gui import export_dialog
from finetune_studio.gui.export_dialog import ExportDialog
from tests.core.test_checkpoint_refusal_h221 import adapter_checkpoints
from tests.core.test_cli_push_export_input import _adapter_run
from tests.helpers import hold_like_another_process
from tests.hub_fixtures import PUSH_WAIT_MS, WRITE, connect_client, hub, push_dialog

WAIT = 60_000
WHY = ("checkpoint-4 of the run lora-run was removed while it was being {doing}: the run trains in another process, "
       "and its save_total_limit (1) keeps only its newest checkpoint, so it deleted checkpoint-4 when it saved a "
       "newer one.")


def _items(dialog: Any) -> list[str]:
    return [dialog.what_box.itemText(row) for row in range(dialog.what_box.count())]


def _training_run(tmp_path: Path) -> Path:
    """A LoRA run another process trains for the first time (no final model yet), keeping its newest checkpoint
    (save_total_limit 1): checkpoint-4 and checkpoint-8 are there, as when it has just saved 8."""
    run = _adapter_run(tmp_path / "runs")
    adapter_checkpoints(run, 4, 8)
    shutil.rmtree(run / "model")
    config = load_config(RunFolder(run).config_path)[0]
    config.training["save_total_limit"] = 1
    save_config(config, RunFolder(run).config_path)
    return run


def test_the_export_dialog_says_a_checkpoint_the_run_removed_as_its_model_box(
        qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _training_run(tmp_path)

    def export(run_dir: Path, kind: str, out_dir: Path, *args: Any, checkpoint: int | None = None, **kw: Any) -> Any:
        shutil.rmtree(Path(run_dir) / f"checkpoint-{checkpoint}")  # the run's save_total_limit, mid-copy
        raise removed_checkpoint_error(RunFolder(run_dir), checkpoint, "copied", "Nothing was exported.")

    monkeypatch.setattr(export_dialog, "_export", export)
    fd = hold_like_another_process(run)
    try:
        dialog = ExportDialog(run)
        qtbot.addWidget(dialog)
        dialog.show()
        assert _items(dialog) == ["checkpoint-8", "checkpoint-4"]
        dialog.what_box.setCurrentIndex(1)
        assert dialog.checkpoint == 4
        dialog.export_button.click()
        qtbot.waitUntil(lambda: not dialog.exporting, timeout=WAIT)
        # it said "To fix: pick a whole one: --checkpoint 8. Or export its final model once the run finishes."
        assert dialog.message.text() == (WHY.format(doing="copied") + " Nothing was exported. To fix: pick another "
                                         "model in the Model box: checkpoint-8. Or export its final model once the "
                                         "run finishes.")
        assert _items(dialog) == ["checkpoint-8"] and dialog.checkpoint == 8
    finally:
        os.close(fd)


def test_the_push_dialog_says_a_checkpoint_the_run_removed_as_its_model_box(
        hub: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    connect_client(monkeypatch, hub, tmp_path / "hf_home", token=WRITE)
    run = _training_run(tmp_path)

    def push_run(run_dir: Path, *args: Any, checkpoint: int | None = None, **kw: Any) -> Any:
        shutil.rmtree(Path(run_dir) / f"checkpoint-{checkpoint}")  # the run's save_total_limit, mid-staging
        raise core_hub._removed_refusal(run_dir, checkpoint, "prepared for upload", "Nothing was sent to the Hub.")

    fd = hold_like_another_process(run)
    try:
        with push_dialog(qtbot, run, core_hub.whoami()) as dialog:
            assert _items(dialog) == ["checkpoint-8", "checkpoint-4"]
            dialog.what_box.setCurrentIndex(1)
            qtbot.waitUntil(lambda: not dialog.plan_task.busy and bool(dialog.plan), timeout=PUSH_WAIT_MS)
            assert dialog.checkpoint == 4
            monkeypatch.setattr(core_hub, "push_run", push_run)
            sent = len(hub.requests)
            dialog.push_button.click()
            qtbot.waitUntil(lambda: not dialog.pushing, timeout=PUSH_WAIT_MS)
            # it said core's "To fix: pick a whole one: --checkpoint 8. Or push its final model once the run finishes."
            assert dialog.message.text() == (WHY.format(doing="prepared for upload") + " Nothing was sent to the Hub. "
                                             "To fix: pick another model in the Model box: checkpoint-8. Or push its "
                                             "final model once the run finishes.")
            assert hub.requests[sent:] == [] and _items(dialog) == ["checkpoint-8"]
    finally:
        os.close(fd)


def test_the_export_dialog_says_which_earlier_export_the_folder_holds(qtbot: Any, tmp_path: Path) -> None:
    run = _adapter_run(tmp_path / "runs")
    adapter_checkpoints(run, 4, 8)
    out = tmp_path / "exports" / "mine"
    export_run(run, ADAPTER, out, checkpoint=8)
    written = datetime(2026, 12, 5, 14, 2, 30)
    os.utime(out, (written.timestamp(), written.timestamp()))
    dialog = ExportDialog(run)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.what_box.setCurrentIndex(_items(dialog).index("checkpoint-4"))
    dialog.out_edit.setText(str(out))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=WAIT)
    # it said only "… exists already and holds adapter_config.json, … . Nothing was written."
    assert dialog.message.text() == (
        f"{out} exists already and holds adapter_config.json, adapter_model.safetensors, tokenizer_config.json "
        f"and 1 more. It is an earlier export of the run lora-run's checkpoint-8 (written "
        f"{written:%Y-%m-%d %H:%M}). Nothing was written. To fix: tick “Delete what the folder holds, then export” "
        "if you no longer need what it holds, or choose another folder.")
