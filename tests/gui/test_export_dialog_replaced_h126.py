"""The export dialog puts back an earlier export that an export killed while replacing it left hidden beside its
folder (helper-126): as it opens on that folder, and when Export is pressed for a folder typed, saying so."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.export import export_adapter
from finetune_studio.gui.export_dialog import ExportDialog
from tests.core.test_cli_push_export_input import _adapter_run
from tests.core.test_export_replaced_left_h126 import WEIGHTS, _hidden, _killed_mid_replace, _put_back
from tests.gui.test_export_dialog_h114 import press_export


@pytest.fixture(autouse=True)
def _here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "here")


def put_back_then_refused(out: Path, aside: Path) -> str:
    """What Export says for a folder it put an earlier export back into: that, then the folder holds one."""
    return (f"{_put_back(out, aside)} {out} exists already and holds adapter_config.json, adapter_model.safetensors, "
            "tokenizer_config.json. It is an earlier export (written 2026-12-05 14:02): an adapter on org/base, which "
            "does not record which run or checkpoint it was exported from, and no model of the run lora-run has its "
            "weights now. Nothing was written. To fix: tick “Delete what the folder holds, then export” if "
            "you no longer need what it holds, or choose another folder.")


def test_the_dialog_puts_the_earlier_export_back_as_it_opens_on_its_folder(qtbot: Any, tmp_path: Path) -> None:
    run = _adapter_run(tmp_path / "runs")
    out = run / "export-adapter"  # the folder the dialog proposes
    aside = _killed_mid_replace(run, out)
    dialog = ExportDialog(run)
    qtbot.addWidget(dialog)
    assert dialog.out_edit.text() == str(out)
    assert (out / WEIGHTS).read_bytes() == b"the earlier export's weights 0a1b2c3d"
    assert _hidden(run) == []
    assert dialog.message.property("kind") == "info" and not dialog.message.isHidden()
    assert dialog.message.text() == _put_back(out, aside)
    assert dialog.overwrite_check.isEnabled() and dialog.export_button.isEnabled()


def test_export_pressed_for_a_typed_folder_says_what_it_put_back(qtbot: Any, tmp_path: Path) -> None:
    run = _adapter_run(tmp_path / "runs")
    export_adapter(run)  # the proposed folder holds an export: nothing to put back there
    out = tmp_path / "exports" / "mine"
    aside = _killed_mid_replace(run, out)
    dialog = ExportDialog(run)
    qtbot.addWidget(dialog)
    assert dialog.message.isHidden()
    press_export(dialog, qtbot, str(out))
    assert dialog.message.property("kind") == "error"
    assert dialog.message.text() == put_back_then_refused(out, aside)
    assert (out / WEIGHTS).read_bytes() == b"the earlier export's weights 0a1b2c3d"
    assert _hidden(out.parent) == [] and os.listdir(out.parent) == ["mine"]


def test_a_copy_beside_a_refused_folder_is_named_before_the_refusal(qtbot: Any, tmp_path: Path) -> None:
    run = _adapter_run(tmp_path / "runs")
    out = run / "export-adapter"
    aside = _killed_mid_replace(run, out)
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    dialog = ExportDialog(run)
    qtbot.addWidget(dialog)
    assert dialog.message.property("kind") == "error"
    assert dialog.message.text() == (
        f"{aside} is an earlier export of {out} that an export stopped while replacing it left behind; {out} is there "
        "again, holding something else, so it was not put back. If you no longer need that copy, delete it. "
        f"{out} holds notes.txt and no earlier export (no model's config.json or adapter_config.json): an export "
        "replaces everything its folder holds, so none goes there. Nothing was changed. To fix: choose an empty "
        "folder or a new name, or move those files away first.")
    assert not dialog.export_button.isEnabled() and not dialog.overwrite_check.isEnabled()
    dialog.out_edit.setText(str(tmp_path / "new"))  # another folder: the refusal and the note go
    assert dialog.message.isHidden() and dialog.export_button.isEnabled()
