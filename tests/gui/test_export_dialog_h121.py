"""The export dialog after a review of its screenshots (helper-121): the load command with its whole path in a
field with Copy (the message elides a long path in the middle), Open folder the default button after a success,
a checkbox that says it deletes and names what, and hints that lead with what each kind is for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QGuiApplication

from finetune_studio.gui.export_dialog import ExportDialog
from tests.core.test_cli_push_export_input import _adapter_run
from tests.gui.test_export_dialog_width_h115 import _export_into


def _dialog(qtbot: Any, tmp_path: Path) -> ExportDialog:
    dialog = ExportDialog(_adapter_run(tmp_path / "runs"))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_the_load_command_is_whole_in_a_field_and_copy_puts_it_on_the_clipboard(qtbot: Any, tmp_path: Path) -> None:
    dialog = _dialog(qtbot, tmp_path)
    assert not dialog.load_row.isVisible()
    out = tmp_path / ("x" * 150)
    _export_into(dialog, qtbot, out)
    command = f"from peft import AutoPeftModelForCausalLM; model = AutoPeftModelForCausalLM.from_pretrained('{out}')"
    assert dialog.load_row.isVisible() and dialog.load_edit.isReadOnly()
    assert dialog.load_edit.text() == command
    assert str(out) not in dialog.message.shown_text()  # the message's own command stays elided
    QGuiApplication.clipboard().setText("before")
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == command
    assert dialog.width() == 600 and dialog.sizeHint().width() < 700 and dialog.minimumSizeHint().width() < 700
    assert dialog.load_row.geometry().right() < dialog.width()

    dialog.merged_radio.click()  # a failure (the merge of this stand-in run cannot load a base) hides it
    dialog.out_edit.setText(str(tmp_path / "merged"))
    dialog.out_edit.textEdited.emit(str(tmp_path / "merged"))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=30_000)
    assert dialog.message.property("kind") == "error" and not dialog.load_row.isVisible()


def test_the_merged_load_command_needs_no_peft() -> None:
    from finetune_studio.gui.export_dialog import MERGED, load_command

    assert load_command(MERGED, Path("/m/it's")) == ("from transformers import AutoModelForCausalLM; model = "
                                                     "AutoModelForCausalLM.from_pretrained(\"/m/it's\")")


def test_open_folder_is_the_default_after_a_success_until_the_folder_or_kind_changes(qtbot: Any, tmp_path: Path,
                                                                                     monkeypatch: Any) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QDesktopServices
    from PySide6.QtTest import QTest

    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()))
    dialog = _dialog(qtbot, tmp_path)
    assert dialog.export_button.isDefault() and not dialog.open_button.isDefault()
    out = tmp_path / "out"
    _export_into(dialog, qtbot, out)
    assert dialog.open_button.isDefault() and not dialog.export_button.isDefault()
    assert dialog.focusWidget() is not dialog.export_button
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    QTest.keyClick(dialog.focusWidget() or dialog, Qt.Key.Key_Return)  # Enter opens the folder, exports nothing
    assert opened == [str(out)] and dialog.message.property("kind") == "success" and not dialog.exporting

    dialog.out_edit.setFocus()
    QTest.keyClick(dialog.out_edit, Qt.Key.Key_Z)  # the user edits the folder: Enter exports again
    assert dialog.export_button.isDefault() and not dialog.open_button.isDefault()
    assert dialog.out_edit.text() == f"{out}z"

    _export_into(dialog, qtbot, tmp_path / "second")
    assert dialog.open_button.isDefault()
    dialog.merged_radio.click()  # so does another kind
    assert dialog.export_button.isDefault() and not dialog.open_button.isDefault()


def test_the_checkbox_says_it_deletes_and_names_what_in_orange(qtbot: Any, tmp_path: Path) -> None:
    dialog = _dialog(qtbot, tmp_path)
    assert dialog.overwrite_check.text() == "Delete what the folder holds, then export"
    taken = tmp_path / "taken"
    (taken / "photos").mkdir(parents=True)
    (taken / "notes.txt").write_text("mine")
    (taken / "adapter_config.json").write_text('{"peft_type": "LORA"}')  # an earlier export: only such is replaced
    dialog.out_edit.setText(str(taken))
    dialog.out_edit.textEdited.emit(str(taken))
    assert not dialog.delete_warning.isVisible()  # unticked: nothing is deleted
    dialog.overwrite_check.click()
    assert dialog.delete_warning.isVisible()
    assert dialog.delete_warning.text() == ("Exporting will delete what this folder holds now: adapter_config.json, "
                                            "notes.txt, photos/.")
    assert dialog.delete_warning.styleSheet() == "QLabel { color: #c2410c; }"  # orange
    for name in ("a.txt", "b.txt", "c.txt"):
        (taken / name).write_text("mine")
    dialog.out_edit.setText(str(taken) + "/")  # the warning follows the field
    assert dialog.delete_warning.text() == ("Exporting will delete what this folder holds now: a.txt, "
                                            "adapter_config.json, b.txt and 3 more.")
    dialog.out_edit.setText(str(tmp_path / "empty"))
    assert not dialog.delete_warning.isVisible() and dialog.delete_warning.text() == ""
    dialog.out_edit.setText(str(taken))
    dialog.overwrite_check.click()
    assert not dialog.delete_warning.isVisible()

    dialog.overwrite_check.click()
    text_left = dialog.overwrite_check.x() + dialog.style().pixelMetric(dialog.style().PixelMetric.PM_IndicatorWidth)
    assert text_left <= dialog.delete_warning.x() + dialog.delete_warning.contentsMargins().left() <= text_left + 12
    _export_into(dialog, qtbot, taken)  # deleted as said; the tick is not kept for the export just written
    assert sorted(p.name for p in taken.iterdir()) == ["adapter_config.json", "adapter_model.safetensors",
                                                       "tokenizer_config.json"]
    assert not dialog.overwrite_check.isChecked() and not dialog.delete_warning.isVisible()
    dialog.overwrite_check.click()
    assert dialog.delete_warning.text() == ("Exporting will delete what this folder holds now: adapter_config.json, "
                                            "adapter_model.safetensors, tokenizer_config.json.")


def test_a_folder_of_more_names_than_are_read_says_and_more(tmp_path: Path) -> None:
    from finetune_studio.gui.export_dialog import HELD_LISTED, held_names, names_text

    for index in range(HELD_LISTED + 5):
        (tmp_path / f"f{index:05}").touch()
    names = held_names(tmp_path)
    assert len(names) == HELD_LISTED + 1 and names_text(names) == "f00000, f00001, f00002 and more"
    assert held_names(Path("relative")) == [] and held_names(tmp_path / "none") == []


def test_the_hints_lead_with_what_each_kind_gives_and_the_classes_are_tooltips(qtbot: Any, tmp_path: Path,
                                                                                monkeypatch: Any) -> None:
    import html

    dialog = _dialog(qtbot, tmp_path)
    assert dialog.adapter_hint.text() == ("Small: the adapter's weights and the tokenizer. Runs only on top of its "
                                          "base model, org/base (loads with PEFT).")
    assert dialog.merged_hint.text() == ("A standalone model as large as org/base that loads with plain transformers, "
                                         "no PEFT needed.")
    adapter_tip = ("adapter_model.safetensors and adapter_config.json (which names the base model, org/base) with the "
                   "tokenizer. peft's AutoPeftModelForCausalLM.from_pretrained(folder) loads the base model and puts "
                   "the adapter on it.")
    assert dialog.adapter_hint.toolTip() == dialog.adapter_radio.toolTip() == f"<p>{html.escape(adapter_tip)}</p>"
    assert "merge_and_unload" in dialog.merged_hint.toolTip()
    assert "AutoModelForCausalLM.from_pretrained(folder)" in dialog.merged_radio.toolTip()
    for hint in (dialog.adapter_hint, dialog.merged_hint):
        assert hint.isVisible() and hint.shown_text() == hint.text()  # nothing elided at 600 px
        assert "Auto" not in hint.text() and "safetensors" not in hint.text()

    import finetune_studio.gui.export_dialog as export_dialog

    monkeypatch.setattr(export_dialog, "_method_of", lambda run_dir: "qlora")
    qlora = ExportDialog(dialog.run_dir)
    qtbot.addWidget(qlora)
    assert qlora.merged_hint.text().endswith("no PEFT needed. This run trained on 4-bit weights: the adapter is "
                                             "merged into the base's original weights, since 4-bit ones cannot hold "
                                             "the merged values.")
    # the hint follows the Weights box (helper-180): "as large as org/base" is no claim to make of float16 over a
    # Hub base whose dtype is not known here; the 4-bit note stays
    qlora.merged_radio.setChecked(True)
    qlora.dtype_box.setCurrentIndex(qlora.dtype_box.findData("float16"))
    assert qlora.merged_hint.text() == ("A standalone model, org/base with the adapter merged in and saved in float16, "
                                        "that loads with plain transformers, no PEFT needed. This run trained on 4-bit "
                                        "weights: the adapter is merged into the base's original weights, since 4-bit "
                                        "ones cannot hold the merged values.")
    qlora.dtype_box.setCurrentIndex(qlora.dtype_box.findData("auto"))
    assert qlora.merged_hint.text().startswith("A standalone model as large as org/base that loads with plain ")
    assert qlora.merged_hint.text().endswith("cannot hold the merged values.")
