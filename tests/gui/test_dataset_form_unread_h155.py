"""The Dataset tab when a new file cannot be previewed (helper-155): the text column box kept the column list of the
file shown before, as if its columns were this file's; now the list is cleared, the value (the config's) stays, and
a note under the box says why it is unchecked, until a preview reads the data. A compressed file previews."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest

from tests.gui.test_dataset_tab import choose, make_form
from tests.helpers import title_body_rows

pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py


def test_a_failed_preview_clears_the_old_columns_and_says_why(qtbot: Any, tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_bytes(title_body_rows(8))
    form = make_form(qtbot)
    choose(qtbot, form, good, ["title", "body"], 8)
    combo = form.text_column_combo
    combo.setCurrentText("body")
    assert [combo.itemText(i) for i in range(combo.count())] == ["title", "body"]
    broken = tmp_path / "broken.jsonl.gz"
    whole = gzip.compress(title_body_rows(40))
    broken.write_bytes(whole[:len(whole) // 2])
    form._choose_source(str(broken))
    qtbot.waitUntil(lambda: not form.error_label.isHidden(), timeout=30_000)
    assert "is a damaged or incomplete gzip file" in form.error_label.text()
    assert combo.count() == 0 and combo.currentText() == "body"  # the old file's list is gone; the value stays
    assert form.dataset_config().text_column == "body"
    label = form._fields["dataset.text_column"].error_label()
    note = (f"Not checked: the columns of {broken} are unknown because its preview failed (the message under Preview "
            "says why), so the column list of the data shown before was cleared. To fix: fix the dataset, then check "
            "that 'body' is its text column.")
    assert label.text() == note and not label.isHidden() and label.property("level") == "warning"
    assert not combo.property("problem") and combo.toolTip().startswith(note)
    assert form.preview_model.rowCount() == 0 and form.preview_model.text_column == ""
    broken.write_bytes(whole)  # fixed: the preview reads it, the note goes, the list is this file's
    form._reread_changed_source()
    qtbot.waitUntil(lambda: form.preview_model.rowCount() == 20, timeout=30_000)
    assert [combo.itemText(i) for i in range(combo.count())] == ["title", "body"]
    assert label.text() == "" and label.isHidden() and not combo.toolTip().startswith("Not checked")


def test_a_gzipped_file_previews_in_the_tab(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl.gz"
    path.write_bytes(gzip.compress(title_body_rows(30)))
    form = make_form(qtbot)
    choose(qtbot, form, path, ["title", "body"], 20)
    assert form.error_label.isHidden() and form.preview_status.text() == "20 rows shown · 2 columns"
    assert form.dataset_config().text_column == "body"  # detected in the new file
    assert form._watcher.files() == [str(path)]


def test_row_splitting_and_separator_follow_the_name_under_the_compression(qtbot: Any, tmp_path: Path) -> None:
    form = make_form(qtbot)
    form.source_edit.setText(str(tmp_path / "notes.txt.gz"))  # not there yet: the name alone says .txt
    assert form.sample_by_combo.isEnabled() and not form.delimiter_combo.isEnabled()
    form.source_edit.setText(str(tmp_path / "table.csv.xz"))
    assert form.delimiter_combo.isEnabled() and not form.sample_by_combo.isEnabled()
