"""The export dialog keeps its width for long paths (helper-115): a folder name of 150 characters with no spaces,
which word wrap cannot break, made the message label as wide as the path and the dialog ~1120 px wide, and it
stayed that wide after the path was shortened. Too-wide parts of a path are now elided in the middle to the
label's width, the whole text in text() and the tooltip."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from finetune_studio.gui.export_dialog import ExportDialog
from tests.core.test_cli_push_export_input import _adapter_run


def _export_into(dialog: ExportDialog, qtbot: Any, out: Path) -> None:
    dialog.out_edit.setText(str(out))
    dialog.out_edit.textEdited.emit(str(out))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=30_000)
    assert dialog.message.property("kind") == "success", dialog.message.text()
    qtbot.wait(50)  # the layout settles


def _widths(dialog: ExportDialog) -> tuple[int, int, int]:
    return dialog.width(), dialog.sizeHint().width(), dialog.minimumSizeHint().width()


def test_a_150_character_folder_name_keeps_the_width_and_it_stays_after_a_short_one(qtbot: Any,
                                                                                   tmp_path: Path) -> None:
    run = _adapter_run(tmp_path / "runs")
    dialog = ExportDialog(run)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    start = dialog.width()
    assert start == 600
    out = tmp_path / ("x" * 150)
    _export_into(dialog, qtbot, out)
    width, hint, least = _widths(dialog)
    assert width == start and hint < 700 and least < 700, (width, hint, least)  # the old dialog: 1123 px
    full = (f"Exported the adapter (398 bytes) to {out}. It loads on top of its base model org/base with peft: "
            f"AutoPeftModelForCausalLM.from_pretrained('{out}').")
    assert dialog.message.text() == full and dialog.message.toolTip() == f"<p>{html.escape(full)}</p>"
    shown = dialog.message.shown_text()
    assert str(out) not in shown and f"{tmp_path}/x" in shown and shown.count("…") == 2  # the long part, elided
    assert shown.startswith("Exported the adapter (398 bytes) to ") and shown.endswith("x').")
    assert dialog.message.geometry().right() < dialog.width()
    dialog.grab().save(str(tmp_path / "long.png"))

    short = tmp_path / "short"
    _export_into(dialog, qtbot, short)
    assert _widths(dialog)[0] == start and max(_widths(dialog)[1:]) < 700
    said = (f"Exported the adapter (398 bytes) to {short}. It loads on top of its base model org/base with peft: "
            f"AutoPeftModelForCausalLM.from_pretrained('{short}').")
    assert dialog.message.text() == said == dialog.message.shown_text() and dialog.message.toolTip() == ""


def test_a_long_run_name_and_base_folder_keep_the_width(qtbot: Any, tmp_path: Path) -> None:
    run = _adapter_run(tmp_path / "runs")
    base = "/models/" + "b" * 150
    config = json.loads((run / "model" / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = base
    (run / "model" / "adapter_config.json").write_text(json.dumps(config))
    run = run.rename(run.parent / ("r" * 150))
    dialog = ExportDialog(run)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.wait(50)
    width, hint, least = _widths(dialog)
    assert width == 600 and hint < 700 and least < 700, (width, hint, least)  # the old dialog: 1191 px
    assert "r" * 150 not in dialog.run_label.text() and dialog.run_label.toolTip() == f"{run}\nBase model: {base}"
    hint_label = next(label for label in dialog.findChildren(type(dialog.message)) if base in label.text())
    assert hint_label.toolTip().startswith(f"<p>{html.escape(hint_label.text())}</p><p>adapter_model.safetensors")
    assert base not in hint_label.shown_text()
