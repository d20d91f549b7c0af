"""The Dataset tab previews an archive holding one data file (helper-174; core.data reads it), and says why it
cannot preview one holding several."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.gui.test_dataset_tab import choose, make_form
from tests.helpers import title_body_rows

pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py


def test_a_zip_of_one_file_previews_and_one_of_two_says_why_not(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "train.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data/train.jsonl", title_body_rows(30))
    form = make_form(qtbot)
    choose(qtbot, form, path, ["title", "body"], 20)
    assert form.error_label.isHidden() and form.preview_status.text() == "20 rows shown · 2 columns"
    assert form.dataset_config().text_column == "body"
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("a.jsonl", title_body_rows(3))
        archive.writestr("b.jsonl", title_body_rows(3))
    form._choose_source(str(two))
    qtbot.waitUntil(lambda: not form.error_label.isHidden(), timeout=30_000)
    assert f"{two} is a zip archive holding 2 data files (a.jsonl, b.jsonl)" in form.error_label.text()
    assert "To fix: extract it (unzip two.zip)" in form.error_label.text()
    assert form.preview_model.rowCount() == 0
