"""Opening a config whose text column differs from the data's only by whitespace around it (a spreadsheet's
"Horoscope Text " header, the config's "Horoscope Text"): the Dataset tab shows the data's spelling and the window's
config holds it (Start trains from the real column, tests/gui/test_dataset_window_h207.py), but the document stays
as the file left it: no asterisk in the title, and closing asks nothing. An edit afterwards marks it modified as
usual, and Save writes the name as the data spells it (what the form shows, and what the run used)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from finetune_studio.core.config import save_config
from finetune_studio.gui import dialogs
from tests.gui.test_app import DialogLog, dialog_log, make_window, window  # fixtures
from tests.gui.test_dataset_window_h207 import (
    PREVIEW,
    SHORT,
    SPACE,
    excel_csv,
    horoscopes,
    press_start_and_finish,
    saved_dataset,
    tiny,
    write_csv,
)

pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py


def shown_title(window: Any) -> str:
    """The title as the window system shows it: Qt puts '*' where '[*]' is while the window is modified."""
    return window.windowHandle().title()


def open_respelled(qtbot: Any, window: Any, tmp_path: Path, runs_dir: Path) -> Path:
    data = excel_csv(tmp_path / "excel.csv")  # its header: "Horoscope Text " (a space at the end)
    config = tiny(data, runs_dir)
    config.dataset.text_column = "Horoscope Text"  # as typed by hand: no space
    path = tmp_path / "horoscopes.yaml"
    save_config(config, path)
    assert window.open_config(path)
    form = window.dataset_form
    qtbot.waitUntil(lambda: form.preview_model.columns == ["sign", "Horoscope Text "], timeout=PREVIEW)
    qtbot.waitUntil(lambda: form.text_column_combo.currentText() == f"Horoscope Text{SPACE}", timeout=SHORT)
    return path


def test_opening_a_config_with_a_respelled_column_leaves_it_unmodified_and_trains(
        qtbot: Any, window: Any, dialog_log: DialogLog, runs_dir: Path, tmp_path: Path) -> None:
    path = open_respelled(qtbot, window, tmp_path, runs_dir)
    assert window.config.dataset.text_column == "Horoscope Text "  # the real name, for Start
    assert not window.session.modified
    assert not window.isWindowModified()
    assert shown_title(window) == "horoscopes.yaml — Finetune Studio"
    assert window.maybe_save() and dialog_log.asked == []  # closing asks nothing
    assert "text_column: Horoscope Text\n" in path.read_text(encoding="utf-8")  # the file as it was
    run_dir = press_start_and_finish(qtbot, window, dialog_log)
    assert saved_dataset(run_dir)["text_column"] == "Horoscope Text "
    assert not window.isWindowModified()
    # An edit afterwards marks it modified as usual.
    combo = window.dataset_form.text_column_combo
    combo.lineEdit().selectAll()
    qtbot.keyClicks(combo.lineEdit(), "Horoscope Text")
    assert window.config.dataset.text_column == "Horoscope Text"
    assert window.session.modified and window.isWindowModified()
    assert shown_title(window) == "horoscopes.yaml* — Finetune Studio"
    dialog_log.save_answer = dialogs.SaveChoice.CANCEL
    assert not window.maybe_save()  # closing now asks
    assert dialog_log.asked == ["ask_save_changes"]


def test_save_after_opening_writes_the_column_as_the_data_spells_it(
        qtbot: Any, window: Any, dialog_log: DialogLog, runs_dir: Path, tmp_path: Path) -> None:
    path = open_respelled(qtbot, window, tmp_path, runs_dir)
    assert not window.isWindowModified()
    assert window.save()
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["dataset"]["text_column"] == "Horoscope Text "
    assert not window.isWindowModified() and shown_title(window) == "horoscopes.yaml — Finetune Studio"
    window.close()
    assert dialog_log.asked == [] and dialog_log.errors == []


def test_a_column_in_another_unicode_form_opens_unmodified_too(
        qtbot: Any, window: Any, dialog_log: DialogLog, runs_dir: Path, tmp_path: Path) -> None:
    """The same letters in another Unicode form (NFD in the data, NFC in the config): the same column, respelled."""
    nfd, nfc = "Horoscope Cafe\u0301", "Horoscope Caf\u00e9"
    data = write_csv(tmp_path / "nfd.csv", ["sign", nfd], [["Aries", text] for text in horoscopes()])
    config = tiny(data, runs_dir)
    config.dataset.text_column = nfc
    path = tmp_path / "cafe.yaml"
    save_config(config, path)
    assert window.open_config(path)
    form = window.dataset_form
    qtbot.waitUntil(lambda: form.preview_model.columns == ["sign", nfd], timeout=PREVIEW)
    qtbot.waitUntil(lambda: window.config.dataset.text_column == nfd, timeout=SHORT)
    assert not window.isWindowModified() and shown_title(window) == "cafe.yaml — Finetune Studio"
    assert window.save()
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["dataset"]["text_column"] == nfd
    assert dialog_log.asked == [] and not window.isWindowModified()
