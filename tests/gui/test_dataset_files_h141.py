"""The Dataset tab with files users really have (helper-141): a 50 MB row is cut before the table shapes it, and a
compressed file or a save_to_disk folder shows what it is and what to do, with Start disabled for the same reason."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.gui.forms.dataset_form import CELL_CHARS, UNREAD_PREVIEW, PreviewModel
from tests.gui.test_app import LONG, dialog_log, make_window, window
from tests.gui.test_dataset_tab import make_form
from tests.helpers import small_config

pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py


def test_a_50_mb_row_is_cut_before_it_is_shaped_for_a_cell(qtbot: Any) -> None:
    model = PreviewModel()
    book = "It was a dark\tand stormy night.\n" * ((50 << 20) // 32)  # 50 MB in one row
    model.set_preview(["text"], [{"text": book}])
    index = model.index(0, 0)
    started = time.perf_counter()
    for _ in range(20):  # a paint, a size hint, a hover: each asks again
        shown = model.data(index)
    elapsed = time.perf_counter() - started
    assert shown == ("It was a dark and stormy night. " * 6)[:CELL_CHARS - 1] + "…"
    assert len(model.data(index, 3)) == 2001  # the tooltip: its first 2,000 characters and …
    assert elapsed < 0.5, f"20 reads of one cell took {elapsed:.2f} s (each split and joined 50 MB)"


def test_a_gzipped_file_says_to_decompress_it_in_the_tab(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"text": "a"}\n'))
    form = make_form(qtbot)
    form._choose_source(str(path))
    qtbot.waitUntil(lambda: form.preview_model.rowCount() == 1, timeout=30_000)  # read as it is (helper-155)
    assert form.error_label.isHidden() and form.preview_status.text() == "1 row shown · 1 column"


def test_a_save_to_disk_folder_holds_start_back_with_the_fix(qtbot: Any, window: Any, tmp_path: Path,
                                                             runs_dir: Path) -> None:
    import datasets

    folder = tmp_path / "saved"
    datasets.Dataset.from_list([{"text": f"Row {i}."} for i in range(8)]).save_to_disk(str(folder))
    config = small_config(folder, runs_dir)
    config.dataset.text_column = "text"
    window.set_config(config)
    message = (f"{folder} is a dataset saved by the datasets library (save_to_disk: Arrow files with state.json); "
               "such a folder is not read as data files. To fix: write it as Parquet and open that file, e.g. in "
               f"Python: datasets.load_from_disk('{folder}').to_parquet('{tmp_path / 'saved.parquet'}')")
    qtbot.waitUntil(lambda: any(p.message == message for p in window.problems), timeout=LONG)
    assert not window.start_action.isEnabled()
    assert message in window.start_action.toolTip()
    form = window.dataset_form
    source = form._fields["dataset.source"].error_label()
    qtbot.waitUntil(lambda: source.text() == message, timeout=LONG)  # said under Dataset, and Preview points there
    qtbot.waitUntil(lambda: form.preview_status.text() == UNREAD_PREVIEW and form.error_label.isHidden(),
                    timeout=LONG)
    json.dumps(message)  # one line of text, no traceback
    assert "Traceback" not in source.text()


def test_a_file_fixed_on_disk_after_its_preview_is_read_again(qtbot: Any, tmp_path: Path) -> None:
    import os

    path = tmp_path / "data.csv"
    path.write_text("text,label\nfine,1\nbad, row,2\n" + "more,3\n" * 20, encoding="utf-8")
    form = make_form(qtbot)
    form._choose_source(str(path))
    qtbot.waitUntil(lambda: "line 3: 3 fields where the header has 2" in form.error_label.text(), timeout=30_000)
    assert form._watcher.files() == [str(path)]
    with qtbot.waitSignal(form.source_files_changed, timeout=10_000):
        path.write_text("text,label\nfine,1\n\"bad, row\",2\n" + "more,3\n" * 20, encoding="utf-8")  # fixed
    qtbot.waitUntil(lambda: form.preview_model.rowCount() == 20, timeout=30_000)  # was: the old error, for good
    assert form.error_label.text() == "" and form.preview_model.rows[1] == {"text": "bad, row", "label": 2}
    assert form.preview_status.text() == "20 rows shown · 2 columns"

    # An editor that saves by writing another file and renaming it over this one ends the old watch: the preview
    # watches the new file, so the next save is seen too.
    replaced = tmp_path / "data.csv.tmp"
    replaced.write_text("text,label\nnew first row,1\n" + "more,3\n" * 20, encoding="utf-8")
    with qtbot.waitSignal(form.source_files_changed, timeout=10_000):
        os.replace(replaced, path)
    qtbot.waitUntil(lambda: form.preview_model.rows[:1] == [{"text": "new first row", "label": 1}], timeout=30_000)
    qtbot.waitUntil(lambda: form._watcher.files() == [str(path)], timeout=10_000)
    with qtbot.waitSignal(form.source_files_changed, timeout=10_000):
        path.write_text("text,label\nthird version,1\n", encoding="utf-8")
    qtbot.waitUntil(lambda: form.preview_model.rows == [{"text": "third version", "label": 1}], timeout=30_000)


def test_a_file_added_to_a_folder_source_is_previewed(qtbot: Any, tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.jsonl").write_text('{"text": "first"}\n', encoding="utf-8")
    form = make_form(qtbot)
    form._choose_source(str(folder))
    qtbot.waitUntil(lambda: form.preview_model.rows == [{"text": "first"}], timeout=30_000)
    assert sorted(form._watcher.directories()) == [str(folder), str(folder / "sub")]
    with qtbot.waitSignal(form.source_files_changed, timeout=10_000):
        (folder / "sub" / "b.jsonl").write_text('{"text": "second"}\n', encoding="utf-8")
    qtbot.waitUntil(lambda: form.preview_model.rows == [{"text": "first"}, {"text": "second"}], timeout=30_000)
    form.load(__import__("finetune_studio.core.config", fromlist=["default_config"]).default_config())
    qtbot.waitUntil(lambda: form.preview_model.rowCount() == 20, timeout=30_000)  # the built-in sample: no watch
    assert form._watcher.files() == [] and form._watcher.directories() == []


def test_the_window_checks_again_when_told_the_files_changed(qtbot: Any, window: Any, tmp_path: Path,
                                                             runs_dir: Path) -> None:
    """The window checks the config again when the source's files change (MainWindow connects source_files_changed
    to validate_now): a file fixed on disk enables Start with no setting edited."""
    path = tmp_path / "data.csv"
    path.write_text("text,label\nfine,1\nbad, row,2\n" + "more,3\n" * 20, encoding="utf-8")
    config = small_config(path, runs_dir)
    config.dataset.text_column = "text"
    window.set_config(config)
    form = window.dataset_form
    qtbot.waitUntil(lambda: [p.field for p in window.problems] == ["dataset.source"], timeout=LONG)
    source = form._fields["dataset.source"].error_label()
    qtbot.waitUntil(lambda: "line 3: 3 fields where the header has 2" in source.text(), timeout=LONG)
    qtbot.waitUntil(lambda: form.preview_status.text() == UNREAD_PREVIEW, timeout=LONG)  # not said twice
    assert "line 3: 3 fields where the header has 2" in window.start_action.toolTip()
    path.write_text("text,label\nfine,1\n\"bad, row\",2\n" + "more,3\n" * 20, encoding="utf-8")
    qtbot.waitUntil(lambda: window.problems == [] and window.start_action.isEnabled(), timeout=LONG)
    qtbot.waitUntil(lambda: form.error_label.text() == "" and form.preview_model.rowCount() == 20, timeout=LONG)
    assert not window.session.modified


def test_a_tab_separated_sheet_saved_as_txt_says_so_under_the_preview(qtbot: Any, tmp_path: Path) -> None:
    from tests.core.test_data_tab_text_h141 import NOTE

    path = tmp_path / "sheet.txt"
    path.write_text("text\tlabel\n" + "".join(f"Row {i} is nice.\t{i % 3}\n" for i in range(30)), encoding="utf-8")
    form = make_form(qtbot)
    form._choose_source(str(path))
    qtbot.waitUntil(lambda: form.preview_model.rows[:1] == [{"text": "text\tlabel"}], timeout=30_000)
    assert form.preview_status.text() == f"20 rows shown · 1 column · one row per line\n{NOTE}"
    tsv = path.rename(tmp_path / "sheet.tsv")
    form._choose_source(str(tsv))
    qtbot.waitUntil(lambda: form.preview_model.columns == ["text", "label"], timeout=30_000)
    assert form.preview_status.text() == ("20 rows shown · 2 columns · fields separated by tabs (found in the "
                                          "header row)")


def test_utf16_without_a_byte_order_mark_gets_its_encoding_filled_in(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "wide.jsonl"
    path.write_bytes("".join(json.dumps({"text": f"Row {i}."}) + "\n" for i in range(30)).encode("utf-16-le"))
    form = make_form(qtbot)
    form._choose_source(str(path))
    qtbot.waitUntil(lambda: form.preview_model.rows[:1] == [{"text": "Row 0."}], timeout=30_000)  # read again
    assert form.encoding_combo.currentText() == "utf-16-le"
    assert form.preview_model.rows[:2] == [{"text": "Row 0."}, {"text": "Row 1."}]
    assert form.error_label.text() == "" and form.dataset_config().encoding == "utf-16-le"
