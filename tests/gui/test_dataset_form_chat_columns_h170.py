"""The Dataset tab's chat-format Columns boxes after a failed preview (helper-170): they lose the previous file's
columns (the config's mapping stays), "automatic" no longer claims it found nothing in data it never read, and an
amber note under the boxes says why, until a preview reads the data; the text column's note is there for a source
whose old rows were detected as chat rows too. A folder holding a file and its compressed copy is refused there."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from tests.gui.test_dataset_tab import choose, make_form

pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py


def rows(count: int) -> bytes:
    return "".join(json.dumps({"question": f"Q{i}?", "answer": f"answer {i}", "id": str(i)}) + "\n"
                   for i in range(count)).encode()


def items(combo: Any) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def broken_file(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "broken.jsonl.gz"
    whole = gzip.compress(rows(40))
    path.write_bytes(whole[:len(whole) // 2])
    return path, whole


def fail(qtbot: Any, form: Any, path: Path) -> None:
    form._choose_source(str(path))
    qtbot.waitUntil(lambda: not form.error_label.isHidden(), timeout=30_000)
    assert "is a damaged or incomplete gzip file" in form.error_label.text()


def test_the_column_boxes_of_a_chat_format_forget_the_old_columns_and_say_why(qtbot: Any, tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_bytes(rows(8))
    form = make_form(qtbot)
    choose(qtbot, form, good, ["question", "answer", "id"], 8)
    form.format_combo.setCurrentIndex(form.format_combo.findData("prompt_completion"))
    boxes = form.column_combos
    boxes["prompt"].setCurrentIndex(boxes["prompt"].findData("question"))
    assert list(boxes) == ["prompt", "completion", "tools"]
    assert items(boxes["completion"]) == ["automatic: answer", "question", "answer", "id"]
    label = form._fields["chat.columns"].error_label()
    assert label.isHidden()
    broken, whole = broken_file(tmp_path)
    fail(qtbot, form, broken)
    boxes = form.column_combos
    assert items(boxes["prompt"]) == ["automatic: unknown (no preview)", "question"]  # the config's value only
    assert boxes["prompt"].currentData() == "question"
    assert items(boxes["completion"]) == items(boxes["tools"]) == ["automatic: unknown (no preview)"]
    assert form.chat_config().columns == {"prompt": "question"}
    note = (f"Not checked: the columns of {broken} are unknown because its preview failed (the message under Preview "
            "says why), so the column lists of the data shown before were cleared and automatic has found nothing "
            "yet. To fix: fix the dataset, then check that 'question' is its prompt column.")
    assert label.text() == note and not label.isHidden() and label.property("level") == "warning"
    assert not form.columns_host.property("problem") and form.columns_host.toolTip().startswith(note)
    form.format_combo.setCurrentIndex(form.format_combo.findData("messages"))  # no part of messages is mapped
    assert list(form.column_combos) == ["messages", "tools"]
    assert items(form.column_combos["messages"]) == ["automatic: unknown (no preview)"]
    assert label.text() == note.replace("check that 'question' is its prompt column", "check which column plays "
                                        "each part")
    form.format_combo.setCurrentIndex(form.format_combo.findData("prompt_completion"))
    broken.write_bytes(whole)  # fixed: the preview reads it, the note goes, the lists are this file's
    form._reread_changed_source()
    qtbot.waitUntil(lambda: form.preview_model.rowCount() == 20, timeout=30_000)
    boxes = form.column_combos
    assert items(boxes["completion"]) == ["automatic: answer", "question", "answer", "id"]
    assert boxes["prompt"].currentData() == "question"
    assert label.text() == "" and label.isHidden() and not form.columns_host.toolTip().startswith("Not checked")


def test_the_text_column_note_follows_a_source_whose_old_rows_were_detected_as_chat(qtbot: Any,
                                                                                    tmp_path: Path) -> None:
    chats = tmp_path / "chats.jsonl"
    chats.write_text("".join(json.dumps({"messages": [{"role": "user", "content": f"hi {i}"},
                                                      {"role": "assistant", "content": f"hello {i}"}],
                                         "body": f"b {i}"}) + "\n" for i in range(4)))
    form = make_form(qtbot)
    choose(qtbot, form, chats, ["messages", "body"], 4)
    assert form.format_combo.currentData() == "auto" and form.effective_format() == "messages"
    form.text_column_combo.setCurrentText("body")
    broken, _ = broken_file(tmp_path)
    fail(qtbot, form, broken)
    assert form.effective_format() == "text" and form.column_combos == {}
    label = form._fields["dataset.text_column"].error_label()
    assert label.text().startswith(f"Not checked: the columns of {broken} are unknown because its preview failed")
    assert label.text().endswith("check that 'body' is its text column.")
    assert form._fields["chat.columns"].error is None or form._fields["chat.columns"].error_label().isHidden()


def test_a_folder_with_a_file_and_its_compressed_copy_is_refused_in_the_tab(qtbot: Any, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "train.jsonl").write_bytes(rows(8))
    (folder / "train.jsonl.gz").write_bytes(gzip.compress(rows(8)))
    form = make_form(qtbot)
    form._choose_source(str(folder))
    qtbot.waitUntil(lambda: not form.error_label.isHidden(), timeout=30_000)
    assert (f"The folder {folder} holds the same data file twice: train.jsonl and train.jsonl.gz differ only by a "
            "compression suffix") in form.error_label.text()
    assert "To fix: remove one of them (or move it out of the folder)." in form.error_label.text()
    assert form.preview_model.rowCount() == 0


def test_clearing_the_source_clears_the_old_columns_too(qtbot: Any, tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_bytes(rows(8))
    form = make_form(qtbot)
    choose(qtbot, form, good, ["question", "answer", "id"], 8)
    form.text_column_combo.setCurrentText("answer")
    form.format_combo.setCurrentIndex(form.format_combo.findData("prompt_completion"))
    assert items(form.column_combos["prompt"]) == ["automatic: question", "question", "answer", "id"]
    form.source_edit.setText("")
    qtbot.waitUntil(lambda: form.preview_status.text() == "No dataset chosen.", timeout=10_000)
    boxes = form.column_combos
    assert list(boxes) == ["prompt", "completion", "tools"]
    assert items(boxes["prompt"]) == items(boxes["tools"]) == ["automatic: unknown (no preview)"]
    assert form.text_column_combo.count() == 0 and form.text_column_combo.currentText() == "answer"
    assert form._fields["chat.columns"].error is None or form._fields["chat.columns"].error_label().isHidden()
