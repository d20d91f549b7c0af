"""The Dataset tab with real files (issue 12, items 2-4): column names kept exactly and shown with their spaces,
the text column re-picked for each file, a Latin-1/cp1252 file read with the encoding detected for it, .txt
notes as one row per file, paragraph or line, and Start disabled with the reason for data a run cannot use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from finetune_studio.core.config import default_config, from_yaml, to_yaml
from finetune_studio.gui.forms import DatasetForm
from tests.gui.test_app import LONG, DialogLog, dialog_log, make_window, window  # fixtures
from tests.helpers import small_config

SPACE = "\u2423"  # ␣


pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py


def make_form(qtbot: Any) -> DatasetForm:
    form = DatasetForm()
    qtbot.addWidget(form)
    form.load(default_config())
    qtbot.waitUntil(lambda: form.preview_model.rowCount() == 20, timeout=30_000)  # the built-in sample
    assert form.dataset_config().text_column == "horoscope"
    return form


def choose(qtbot: Any, form: DatasetForm, path: Path, columns: list[str], rows: int) -> None:
    """Pick a file or folder as Open file… / Open folder… do, and wait for its preview."""
    form._choose_source(str(path))
    qtbot.waitUntil(lambda: form.preview_model.columns == columns and form.preview_model.rowCount() == rows,
                    timeout=30_000)


def jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_column_with_a_trailing_space_is_kept_exactly_and_shown_visibly(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text("sign,Horoscope Text \nAries,A bold day ahead of you.\nLeo,Rest.\n", encoding="utf-8")
    form = make_form(qtbot)
    choose(qtbot, form, path, ["sign", "Horoscope Text "], 2)
    combo = form.text_column_combo
    qtbot.waitUntil(lambda: combo.currentText() == f"Horoscope Text{SPACE}", timeout=5_000)
    assert [combo.itemText(i) for i in range(combo.count())] == ["sign", f"Horoscope Text{SPACE}"]
    assert combo.itemData(1) == "Horoscope Text "
    assert form.preview_model.headerData(1, Qt.Orientation.Horizontal) == f"Horoscope Text{SPACE}"
    config = default_config()
    form.store(config)
    assert config.dataset.text_column == "Horoscope Text "  # the exact name, in the config and in YAML
    assert from_yaml(to_yaml(config))[0].dataset.text_column == "Horoscope Text "
    combo.setCurrentText("Horoscope Text")  # typed without the space: kept as typed, accepted by validate
    form.store(config)
    assert config.dataset.text_column == "Horoscope Text"
    form.load(config)  # the preview of the loaded config puts in the real name
    qtbot.waitUntil(lambda: combo.currentText() == f"Horoscope Text{SPACE}", timeout=30_000)
    form.store(config)
    assert config.dataset.text_column == "Horoscope Text "


def test_switching_to_another_file_re_picks_the_text_column(qtbot: Any, tmp_path: Path) -> None:
    first = jsonl(tmp_path / "a.jsonl", [{"title": "Aries", "body": "A long day of bold moves for Aries."}] * 3)
    second = jsonl(tmp_path / "b.jsonl", [{"body": 7, "title": "Leo: a long and restful day at home."}] * 3)
    form = make_form(qtbot)
    choose(qtbot, form, first, ["title", "body"], 3)
    qtbot.waitUntil(lambda: form.dataset_config().text_column == "body", timeout=5_000)
    choose(qtbot, form, second, ["body", "title"], 3)  # 'body' exists here too, but holds numbers
    qtbot.waitUntil(lambda: form.dataset_config().text_column == "title", timeout=5_000)
    form._choose_source("builtin:sample")
    qtbot.waitUntil(lambda: form.dataset_config().text_column == "horoscope", timeout=30_000)


def test_a_latin1_file_gets_its_encoding_filled_in_and_is_read_with_it(qtbot: Any, tmp_path: Path) -> None:
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("sign,text\nAries,Une journ\u00e9e tr\u00e8s agr\u00e9able.\nLeo,\u00c7a va.\n"
                      .encode("latin-1"))
    form = make_form(qtbot)
    with qtbot.waitSignal(form.changed, timeout=30_000):
        form._choose_source(str(latin))
    qtbot.waitUntil(lambda: form.encoding_combo.currentText() == "cp1252", timeout=30_000)
    qtbot.waitUntil(lambda: form.preview_model.rowCount() == 2, timeout=30_000)
    assert form.preview_model.rows[0]["text"] == "Une journ\u00e9e tr\u00e8s agr\u00e9able."
    assert not form.error_label.isVisibleTo(form)
    assert form.encoding_hint.text().startswith("Detected cp1252: the file is not UTF-8")
    assert form.dataset_config().encoding == "cp1252"
    utf8 = jsonl(tmp_path / "plain.jsonl", [{"text": "Caf\u00e9"}])
    choose(qtbot, form, utf8, ["text"], 1)  # the detected encoding belonged to the other file
    assert form.dataset_config().encoding is None and form.preview_model.rows[0]["text"] == "Caf\u00e9"
    assert form.encoding_combo.isEnabled()
    form.source_edit.setText("someone/some_dataset")  # a Hub id: read as its builder says, no encoding to set
    assert not form.encoding_combo.isEnabled()
    form.source_edit.setText(str(utf8))
    assert form.encoding_combo.isEnabled()


def test_a_folder_of_notes_is_one_row_per_file_and_can_be_split(qtbot: Any, tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    for i in range(5):
        (notes / f"{i}.txt").write_text(f"Note {i}\nline two\n\nsecond paragraph\n", encoding="utf-8")
    form = make_form(qtbot)
    assert not form.sample_by_combo.isEnabled()  # the sample is JSON lines
    choose(qtbot, form, notes, ["text"], 5)
    assert form.sample_by_combo.isEnabled()
    assert form.preview_status.text() == "5 rows shown \u00b7 1 column \u00b7 one row per file"
    assert form.dataset_config().text_column == "text" and form.dataset_config().sample_by is None
    form.sample_by_combo.setCurrentIndex(form.sample_by_combo.findData("paragraph"))
    qtbot.waitUntil(lambda: form.preview_model.rowCount() == 10, timeout=30_000)
    assert form.preview_status.text().endswith("one row per paragraph")
    assert form.dataset_config().sample_by == "paragraph"


def test_start_is_disabled_with_the_reason_for_data_a_run_cannot_use(qtbot: Any, window: Any,
                                                                     tmp_path: Path, runs_dir: Path) -> None:
    header_only = tmp_path / "header.csv"
    header_only.write_text("sign,text\n", encoding="utf-8")
    config = small_config(header_only, runs_dir)
    config.dataset.text_column = "text"
    window.set_config(config)
    message = (f"{header_only} has a header row ('sign', 'text') and no rows of data. Add rows below the header, "
               "or pick another file.")
    qtbot.waitUntil(lambda: any(p.message == message for p in window.problems), timeout=LONG)
    assert not window.start_action.isEnabled()
    assert message in window.start_action.toolTip()
    assert window.dataset_form.field_widget("dataset.source").property("problem")
    lists = tmp_path / "lists.jsonl"
    jsonl(lists, [{"tags": ["a", "b"], "text": "Aries day"}] * 3)
    config.dataset.source, config.dataset.text_column = str(lists), "tags"
    window.set_config(config)
    qtbot.waitUntil(lambda: [p.field for p in window.problems] == ["dataset.text_column"], timeout=LONG)
    assert "column 'tags' holds lists, not text. Text columns: text." in window.start_action.toolTip()
    config.dataset.text_column = "text"
    window.set_config(config)
    qtbot.waitUntil(window.start_action.isEnabled, timeout=LONG)


def test_a_semicolon_or_tab_file_opens_with_its_columns_and_a_chosen_separator_is_kept(qtbot: Any,
                                                                                        tmp_path: Path) -> None:
    """A spreadsheet's ';'-separated export showed one column named 'sign;horoscope' and no text column to
    pick; a .tsv could not be opened at all."""
    semi = tmp_path / "export.csv"
    semi.write_text("sign;horoscope\nAries;A bold day, then rest.\nLeo;Shine.\n", encoding="utf-8")
    form = make_form(qtbot)
    assert not form.delimiter_combo.isEnabled()  # the sample is JSON lines
    choose(qtbot, form, semi, ["sign", "horoscope"], 2)
    assert form.delimiter_combo.isEnabled() and form.delimiter_combo.currentData() is None
    assert form.dataset_config().text_column == "horoscope"
    assert form.preview_model.rows[0]["horoscope"] == "A bold day, then rest."
    assert form.preview_status.text() == ("2 rows shown \u00b7 2 columns \u00b7 fields separated by semicolons (;) "
                                          "(found in the header row)")
    assert form.dataset_config().delimiter is None  # found again from the file each time: nothing to store
    form.delimiter_combo.setCurrentIndex(form.delimiter_combo.findData(","))  # the user's choice wins, and the
    # comma inside the first horoscope then makes a row of two fields under a header of one: said at the field
    qtbot.waitUntil(lambda: "reading fields separated by commas (,)" in form.error_label.text(), timeout=30_000)
    assert form.error_label.text().startswith(f"{semi}, line 2: 2 fields where the header has 1 (sign;horoscope)")
    assert form.dataset_config().delimiter == ","
    tabs = tmp_path / "notes.tsv"
    tabs.write_text("sign\ttext\nAries\tA day, a night.\n", encoding="utf-8")
    form.delimiter_combo.setCurrentIndex(0)
    choose(qtbot, form, tabs, ["sign", "text"], 1)
    assert form.dataset_config().text_column == "text" and form.dataset_config().delimiter is None
    config = default_config()
    config.dataset.delimiter = "\t"
    form.load(config)
    assert form.delimiter_combo.currentText() == "Tab"
    assert from_yaml(to_yaml(config))[0].dataset.delimiter == "\t"  # YAML keeps the tab character


def test_no_blank_message_line_under_the_text_column(qtbot: Any, tmp_path: Path) -> None:
    """Showing the Text column row again after each preview (QFormLayout.setRowVisible) also showed its hidden,
    empty message line: a blank line under the field in every screenshot. A real message still shows there."""
    form = make_form(qtbot)
    line = form._fields["dataset.text_column"].error
    assert line.isHidden() and line.text() == ""
    form.mark("dataset.text_column", "there is no column 'body'")
    assert not line.isHidden()
    path = jsonl(tmp_path / "rows.jsonl", [{"text": "Aries day"}, {"text": "Leo day"}])
    choose(qtbot, form, path, ["text"], 2)  # a preview shows the row again: the message stays as marked
    assert not line.isHidden() and line.text() == "there is no column 'body'"
    form.mark("dataset.text_column", None)
    choose(qtbot, form, tmp_path / "rows.jsonl", ["text"], 2)
    form._update_format()
    assert line.isHidden()
