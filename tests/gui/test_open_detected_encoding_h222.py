"""Opening a config whose dataset file is not UTF-8 (Latin-1) and that sets no dataset.encoding: the Dataset tab
detects cp1252 and fills it in, so the window reads the file and a run from the window trains on it. The config file
cannot (the CLI refuses it: "set the dataset's encoding to cp1252"), so the document IS different from its file and
stays marked modified - but the window now says why: the hint under the Encoding box ("not yet saved in the config
(hence the * in the title): save to keep it") and a notice in the log. After Save the file says cp1252, the hint no
longer asks to save, and the file reopens unmodified. A config that already names the encoding opens unmodified."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from finetune_studio.core.config import save_config
from tests.gui.test_app import DialogLog, dialog_log, make_window, window  # fixtures
from tests.gui.test_dataset_window_h207 import ACCENTED, PREVIEW, horoscopes, tiny, write_csv

pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py

UNSAVED = "Filled in, not yet saved in the config (hence the * in the title): save to keep it."


def shown_title(window: Any) -> str:
    return window.windowHandle().title()


def latin1_config(tmp_path: Path, runs_dir: Path, encoding: str | None = None) -> Path:
    rows = [["Aries", f"{ACCENTED} ({i}). {text}"] for i, text in enumerate(horoscopes())]
    data = write_csv(tmp_path / "latin1.csv", ["sign", "text"], rows, encoding="latin-1")
    assert b"journ\xe9e" in data.read_bytes()  # not UTF-8
    config = tiny(data, runs_dir)
    config.dataset.text_column = "text"
    config.dataset.encoding = encoding
    path = tmp_path / "latin.yaml"
    save_config(config, path)
    return path


def open_and_read(qtbot: Any, window: Any, path: Path) -> Any:
    assert window.open_config(path)
    form = window.dataset_form
    qtbot.waitUntil(lambda: form.preview_model.rowCount() == 20, timeout=PREVIEW)
    assert form.preview_model.rows[0]["text"].startswith(ACCENTED)  # é è à ë ç as written, not mojibake
    return form


def log_text(window: Any) -> str:
    return window.log.toPlainText()


def test_a_detected_encoding_marks_the_config_modified_and_the_window_says_why(
        qtbot: Any, window: Any, dialog_log: DialogLog, runs_dir: Path, tmp_path: Path) -> None:
    path = latin1_config(tmp_path, runs_dir)
    form = open_and_read(qtbot, window, path)
    assert form.encoding_combo.currentText() == "cp1252"
    assert window.config.dataset.encoding == "cp1252"  # what Start runs with
    # The document differs from its file (which has no encoding and cannot be read by the CLI): modified, and said.
    assert window.isWindowModified() and shown_title(window) == "latin.yaml* — Finetune Studio"
    assert form.encoding_hint.text() == ("Detected cp1252: the file is not UTF-8, so it is read as cp1252. " + UNSAVED
                                         + " Check in the preview that accented letters look right.")
    assert ("Encoding cp1252 detected in latin1.csv and filled in on the Dataset tab: the file is not UTF-8. The "
            "config is marked changed (*) because it does not say so yet. To keep it: File > Save.") in log_text(window)
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["dataset"]["encoding"] is None  # the file as it was
    # Save keeps it: the file says cp1252, the title loses its *, the hint no longer asks to save.
    assert window.save()
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["dataset"]["encoding"] == "cp1252"
    assert not window.isWindowModified() and shown_title(window) == "latin.yaml — Finetune Studio"
    assert form.encoding_hint.text() == ("Detected cp1252: the file is not UTF-8, so it is read as cp1252. Check in "
                                         "the preview that accented letters look right.")
    assert window.maybe_save() and dialog_log.asked == []  # closing asks nothing
    # Reopened, the saved file is read as it says: unmodified, nothing filled in.
    form = open_and_read(qtbot, window, path)
    assert not window.isWindowModified() and form.encoding_hint.text() == "Files are read as cp1252."


def test_a_config_naming_its_encoding_opens_unmodified(
        qtbot: Any, window: Any, dialog_log: DialogLog, runs_dir: Path, tmp_path: Path) -> None:
    path = latin1_config(tmp_path, runs_dir, encoding="cp1252")
    form = open_and_read(qtbot, window, path)
    assert form.encoding_hint.text() == "Files are read as cp1252."
    assert not window.isWindowModified() and shown_title(window) == "latin.yaml — Finetune Studio"
    assert "detected in latin1.csv" not in log_text(window)
    assert window.maybe_save() and dialog_log.asked == []
