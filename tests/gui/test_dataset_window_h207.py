"""Issue 12, items 3 and 4, through the real window (MainWindow): a file is opened on the Dataset tab as a user does
(Open file…, Open folder…), its column, encoding and row split are taken from the tab's boxes into the window's
config, Start is pressed, and a short run of the demo model trains from it to the end. The widget alone is tested in
tests/gui/test_dataset_tab.py, the reading in tests/core/test_data_checks.py."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from PySide6.QtCore import Qt

from finetune_studio.core.config import save_config
from finetune_studio.gui.forms import dataset_form as dataset_module
from finetune_studio.gui.run_header import RunState
from tests.gui.test_app import LONG, DialogLog, dialog_log, make_window, wait_idle, window  # fixtures
from tests.helpers import SAMPLE, read_events, small_config

ENDED = (RunState.FINISHED, RunState.FAILED, RunState.STOPPED, RunState.IDLE)
SPACE = "\u2423"  # ␣, how the column box shows a space at the end of a name
ROWS = 40
SAMPLE_COLUMNS = ["sign", "date", "category", "horoscope"]
PREVIEW = 30_000  # ms for a preview of a small file to be read (as tests/gui/test_dataset_tab.py waits)
SHORT = 10_000  # ms for what follows a preview shown
ACCENTED = "Une journ\u00e9e tr\u00e8s agr\u00e9able \u00e0 No\u00ebl, \u00e7a va"  # é è à ë ç: a byte each in Latin-1

pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py


def horoscopes(count: int = ROWS) -> list[str]:
    return [json.loads(line)["horoscope"] for line in SAMPLE.read_text(encoding="utf-8").splitlines()[:count]]


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with open(path, "w", newline="", encoding=encoding) as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def excel_csv(path: Path) -> Path:
    """A spreadsheet's export: its text column's header ends in a space."""
    return write_csv(path, ["sign", "Horoscope Text "], [["Aries", text] for text in horoscopes()])


def tiny(dataset: Path, runs_dir: Path) -> Any:
    """Two optimizer steps of the demo model, nothing evaluated or saved on the way: a run of a few seconds."""
    return small_config(dataset, runs_dir, max_steps=2, eval_strategy="no", save_strategy="no",
                        load_best_model_at_end=False)


def open_window_on(qtbot: Any, window: Any, config: Any) -> None:
    """The window showing config (the sample's 200 rows), its Dataset tab in front, the preview of its data read."""
    window.set_config(config)
    window.tabs.setCurrentWidget(window.pages[window.dataset_form])
    form = window.dataset_form
    qtbot.waitUntil(lambda: form.preview_model.columns == SAMPLE_COLUMNS, timeout=LONG)
    assert window.config.dataset.text_column == "horoscope"


def open_file(qtbot: Any, window: Any, monkeypatch: pytest.MonkeyPatch, path: Path, columns: list[str]) -> None:
    """Open file… (or Open folder… for a folder) on the window's Dataset tab, the dialog answering `path`; returns
    once the preview shows the file's columns."""
    form = window.dataset_form

    class Chooser:
        @staticmethod
        def getOpenFileName(*_: Any) -> tuple[str, str]:  # noqa: N802 - Qt's name
            return str(path), ""

        @staticmethod
        def getExistingDirectory(*_: Any) -> str:  # noqa: N802 - Qt's name
            return str(path)

    monkeypatch.setattr(dataset_module, "QFileDialog", Chooser)
    (form.open_folder_button if path.is_dir() else form.open_file_button).click()
    assert form.source_edit.text() == str(path)
    qtbot.waitUntil(lambda: form.preview_model.columns == columns, timeout=PREVIEW)


def checked(qtbot: Any, window: Any) -> None:
    """The window's own check of the config it holds now (what it runs on Start) has come back."""
    with qtbot.waitSignal(window.validator.validated, timeout=LONG):
        window.validate_now()


def press_start_and_finish(qtbot: Any, window: Any, dialog_log: DialogLog) -> Path:
    """Start pressed on the window (as the toolbar does), the run trained to its end; returns its folder."""
    checked(qtbot, window)
    assert window.problems == [], [p.message for p in window.problems]
    assert window.start_action.isEnabled()
    window.start_action.trigger()
    assert window.state is RunState.PREPARING  # then the memory estimate, then the run
    qtbot.waitUntil(lambda: window.state in ENDED, timeout=LONG)
    wait_idle(qtbot, window)
    assert window.state is RunState.FINISHED, (window.state, window.header.state_label.text(), dialog_log.errors)
    run_dir = Path(window.run_dir)
    end = read_events(run_dir, "end")[-1]
    assert (end["state"], end["step"]) == ("finished", 2), end
    assert (run_dir / "model" / "config.json").is_file()
    return run_dir


def saved_dataset(run_dir: Path) -> dict[str, Any]:
    """The dataset section of the config.yaml the run wrote into its folder, as YAML reads it."""
    return yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))["dataset"]


def test_a_trailing_space_column_is_shown_kept_and_trained_from_the_window(
        qtbot: Any, window: Any, dialog_log: DialogLog, small_dataset: Path, runs_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    data = excel_csv(tmp_path / "excel.csv")
    open_window_on(qtbot, window, tiny(small_dataset, runs_dir))
    form = window.dataset_form
    open_file(qtbot, window, monkeypatch, data, ["sign", "Horoscope Text "])
    combo = form.text_column_combo
    qtbot.waitUntil(lambda: combo.currentText() == f"Horoscope Text{SPACE}", timeout=SHORT)  # the longer text
    assert [combo.itemText(i) for i in range(combo.count())] == ["sign", f"Horoscope Text{SPACE}"]
    assert form.preview_model.headerData(1, Qt.Orientation.Horizontal) == f"Horoscope Text{SPACE}"
    assert window.config.dataset.source == str(data)
    assert window.config.dataset.text_column == "Horoscope Text "  # the exact name, in the window's config
    assert window.isWindowModified()
    run_dir = press_start_and_finish(qtbot, window, dialog_log)
    assert saved_dataset(run_dir)["text_column"] == "Horoscope Text "  # and in the run's config.yaml
    assert "text_column: 'Horoscope Text '" in (run_dir / "config.yaml").read_text(encoding="utf-8")
    data_event = read_events(run_dir, "data")[-1]
    assert (data_event["train_rows"], data_event["eval_rows"]) == (36, 4)  # test_size 0.1 of 40 rows
    log = window.log.toPlainText()
    assert f"Tokenizing {ROWS} rows" in log and "36 rows to train on, 4 to evaluate on" in log
    assert "config says" not in log  # the name the config holds is the data's: nothing to explain


def test_a_config_naming_the_column_without_its_space_trains_from_the_window(
        qtbot: Any, window: Any, dialog_log: DialogLog, runs_dir: Path, tmp_path: Path) -> None:
    data = excel_csv(tmp_path / "excel.csv")
    config = tiny(data, runs_dir)
    config.dataset.text_column = "Horoscope Text"  # as typed by hand, or by an older version that stripped it
    path = tmp_path / "horoscopes.yaml"
    save_config(config, path)
    assert window.open_config(path)
    window.tabs.setCurrentWidget(window.pages[window.dataset_form])
    form = window.dataset_form
    combo = form.text_column_combo
    qtbot.waitUntil(lambda: form.preview_model.columns == ["sign", "Horoscope Text "], timeout=PREVIEW)
    # The preview of the loaded file shows the column as the data spells it, and the window's config follows.
    qtbot.waitUntil(lambda: combo.currentText() == f"Horoscope Text{SPACE}", timeout=SHORT)
    assert window.config.dataset.text_column == "Horoscope Text "
    assert form.field_widget("dataset.text_column").property("problem") in (None, False)
    checked(qtbot, window)
    assert window.problems == [] and window.start_action.isEnabled()
    # The user types the name back without its space: kept as typed, and accepted.
    combo.lineEdit().selectAll()
    qtbot.keyClicks(combo.lineEdit(), "Horoscope Text")
    assert combo.currentText() == "Horoscope Text"
    assert window.config.dataset.text_column == "Horoscope Text"
    run_dir = press_start_and_finish(qtbot, window, dialog_log)
    assert saved_dataset(run_dir)["text_column"] == "Horoscope Text"
    notice = ("The text column is 'Horoscope Text ' (with trailing whitespace) in the data; the config says "
              "'Horoscope Text'. Using the name as the data spells it.")
    assert notice in [e["message"] for e in read_events(run_dir, "notice")]
    assert notice in window.log.toPlainText()
    data_event = read_events(run_dir, "data")[-1]
    assert data_event["train_rows"] + data_event["eval_rows"] == ROWS


def test_opening_another_file_in_the_window_re_picks_its_text_column(
        qtbot: Any, window: Any, dialog_log: DialogLog, small_dataset: Path, runs_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    texts = horoscopes()
    first = tmp_path / "a.jsonl"
    first.write_text("".join(json.dumps({"title": "Aries", "body": t}) + "\n" for t in texts), encoding="utf-8")
    second = tmp_path / "b.jsonl"  # 'body' is here too, but holds numbers
    second.write_text("".join(json.dumps({"body": i, "title": t}) + "\n" for i, t in enumerate(texts)),
                      encoding="utf-8")
    open_window_on(qtbot, window, tiny(small_dataset, runs_dir))
    form = window.dataset_form
    open_file(qtbot, window, monkeypatch, first, ["title", "body"])
    qtbot.waitUntil(lambda: window.config.dataset.text_column == "body", timeout=SHORT)
    assert form.text_column_combo.currentText() == "body"
    open_file(qtbot, window, monkeypatch, second, ["body", "title"])
    qtbot.waitUntil(lambda: window.config.dataset.text_column == "title", timeout=SHORT)
    assert form.text_column_combo.currentText() == "title"
    assert window.config.dataset.source == str(second)
    run_dir = press_start_and_finish(qtbot, window, dialog_log)
    assert saved_dataset(run_dir)["source"] == str(second)
    assert saved_dataset(run_dir)["text_column"] == "title"


def test_a_latin1_file_opened_in_the_window_is_read_and_trained_with_its_encoding(
        qtbot: Any, window: Any, dialog_log: DialogLog, small_dataset: Path, runs_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [["Aries", f"{ACCENTED} ({i}). {text}"] for i, text in enumerate(horoscopes())]
    data = write_csv(tmp_path / "latin1.csv", ["sign", "text"], rows, encoding="latin-1")
    assert b"journ\xe9e" in data.read_bytes()  # not UTF-8
    open_window_on(qtbot, window, tiny(small_dataset, runs_dir))
    form = window.dataset_form
    assert window.config.dataset.encoding is None
    open_file(qtbot, window, monkeypatch, data, ["sign", "text"])
    qtbot.waitUntil(lambda: form.preview_model.rowCount() == 20, timeout=PREVIEW)
    assert form.encoding_combo.currentText() == "cp1252"  # detected, filled in
    assert form.encoding_hint.text().startswith("Detected cp1252: the file is not UTF-8")
    assert form.preview_model.rows[0]["text"] == rows[0][1]  # é è à ë ç as written, not mojibake
    assert not form.error_label.isVisibleTo(form)
    assert window.config.dataset.encoding == "cp1252"
    assert window.config.dataset.text_column == "text"
    run_dir = press_start_and_finish(qtbot, window, dialog_log)
    assert saved_dataset(run_dir)["encoding"] == "cp1252"
    data_event = read_events(run_dir, "data")[-1]
    assert data_event["train_rows"] + data_event["eval_rows"] == ROWS


NOTES = 12  # files; 3 paragraphs each, of 2, 2 and 1 lines


def write_notes(folder: Path) -> Path:
    folder.mkdir()
    texts = horoscopes(NOTES * 5)
    for i in range(NOTES):
        a, b, c, d, e = texts[i * 5:i * 5 + 5]
        (folder / f"note{i:02}.txt").write_text(f"{a}\n{b}\n\n{c}\n{d}\n\n{e}\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize(("split", "rows", "words"), [(None, NOTES, "one row per file"),
                                                     ("paragraph", NOTES * 3, "one row per paragraph")])
def test_a_folder_of_notes_opened_in_the_window_trains_on_the_rows_chosen(
        qtbot: Any, window: Any, dialog_log: DialogLog, small_dataset: Path, runs_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, split: str | None, rows: int, words: str) -> None:
    notes = write_notes(tmp_path / "notes")
    open_window_on(qtbot, window, tiny(small_dataset, runs_dir))
    form = window.dataset_form
    assert not form.sample_by_combo.isEnabled()  # JSON lines
    open_file(qtbot, window, monkeypatch, notes, ["text"])
    qtbot.waitUntil(lambda: form.preview_model.rowCount() == NOTES, timeout=PREVIEW)  # one row per file by default
    assert form.sample_by_combo.isEnabled()
    assert form.preview_status.text() == f"{NOTES} rows shown \u00b7 1 column \u00b7 one row per file"
    assert window.config.dataset.text_column == "text" and window.config.dataset.sample_by is None
    by = form.sample_by_combo
    by.setCurrentIndex(by.findData("line"))
    qtbot.waitUntil(lambda: form.preview_model.rowCount() == 20, timeout=PREVIEW)  # 60 lines, 20 shown
    assert form.preview_status.text().endswith("one row per line")
    assert window.config.dataset.sample_by == "line"
    by.setCurrentIndex(0 if split is None else by.findData(split))  # 0: the automatic choice
    qtbot.waitUntil(lambda: form.preview_status.text().endswith(words), timeout=PREVIEW)
    assert form.preview_model.rowCount() == min(rows, 20)
    assert window.config.dataset.sample_by == split
    run_dir = press_start_and_finish(qtbot, window, dialog_log)
    data_event = read_events(run_dir, "data")[-1]  # the rows the run trained and evaluated on
    assert data_event["train_rows"] + data_event["eval_rows"] == rows
    log = window.log.toPlainText()
    assert f"Tokenizing {rows} rows" in log
    assert f"{data_event['train_rows']} rows to train on, {data_event['eval_rows']} to evaluate on" in log
    assert saved_dataset(run_dir).get("sample_by") == split
