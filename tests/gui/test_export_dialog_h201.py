"""The export dialog refuses another run's model or checkpoint folder as the folder is chosen (helper-201): with
"Delete what the folder holds, then export" ticked, an export there replaced that run's trained model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.gui.export_dialog import ExportDialog
from tests.core.test_export_other_run_h201 import _adapter_run, _digest
from tests.core.test_generate_chat_stops import lora_chat_run  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("drain_background")


def test_another_runs_model_folder_is_refused_before_export_is_pressed(qtbot: Any, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    run = _adapter_run(runs, "lora-run", b"mine")
    other = _adapter_run(runs, "other-run", b"them")
    before = _digest(other)
    dialog = ExportDialog(run)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.out_edit.setText(str(other / "model"))  # as the … button sets it
    assert dialog.message.property("kind") == "error"
    assert dialog.message.text() == (
        f"Refused to export into {other / 'model'}: it is inside the model folder of another run, other-run "
        f"({other}), which Resume, the Try tab and a push of that run read as they are; an export there would replace "
        "or mix into that run's saved model. Nothing was changed. To fix: export to a folder outside it, or use the "
        f"default folder, {run / 'export-adapter'}.")
    assert (dialog.export_button.isEnabled(), dialog.overwrite_check.isEnabled()) == (False, False)
    if os.environ.get("H201_SHOT"):
        dialog.resize(640, dialog.sizeHint().height())
        qtbot.wait(200)
        dialog.grab().save(os.environ["H201_SHOT"])
    dialog.start_export()  # Enter, or a caller: nothing starts
    assert not dialog.exporting and _digest(other) == before
    dialog.out_edit.setText(str(tmp_path / "exports" / "mine"))  # a folder of its own: offered again
    assert dialog.export_button.isEnabled() and not dialog.message.isVisible()


@pytest.mark.slow
def test_the_copied_load_line_of_a_chat_adapter_stops_its_replies_at_the_end_of_turn(lora_chat_run: Path,
                                                                                      qtbot: Any,
                                                                                      tmp_path: Path) -> None:
    """The dialog's 'Load it:' line loaded a chat adapter with peft alone, which answers with its base's
    generation_config (its only stop the base's EOS), while the message above it says to load the export's too:
    replies from the copied line ran on past <|im_end|> to max_new_tokens."""
    from PySide6.QtGui import QGuiApplication
    from transformers import AutoTokenizer

    from tests.core.test_generate_chat_stops import reply_when_told_to_end

    out = tmp_path / "my exports" / "chat adapter"
    dialog = ExportDialog(lora_chat_run)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.out_edit.setText(str(out))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=60_000)
    assert dialog.message.property("kind") == "success", dialog.message.text()
    dialog.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert copied == (f"from peft import AutoPeftModelForCausalLM; model = AutoPeftModelForCausalLM.from_pretrained("
                      f"'{out}'); from transformers import GenerationConfig; model.generation_config = "
                      f"GenerationConfig.from_pretrained('{out}')")
    names: dict[str, Any] = {}
    exec(copied, names)  # as the user pastes it
    model = names["model"]
    tokenizer = AutoTokenizer.from_pretrained(str(out))
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert end in model.generation_config.eos_token_id
    reply = reply_when_told_to_end(model, tokenizer, end)  # a model that ends its reply at its 4th token
    assert (len(reply), reply[-1]) == (4, end)
