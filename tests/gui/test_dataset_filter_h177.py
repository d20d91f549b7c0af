"""The Dataset tab's Open file… dialog lists archives among its data files (helper-177): core.data reads a .zip,
.tar, .tgz or .tar.gz holding one data file since 99186cf, but the 'Data files' filter hid .zip, .tar and .tgz, so
a user had to switch to 'All files' to pick one."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any

from finetune_studio.core import data
from finetune_studio.gui.forms import dataset_form
from finetune_studio.gui.forms.dataset_form import FILE_FILTER
from tests.gui.test_dataset_tab import make_form


def patterns() -> list[str]:
    """The patterns of the filter's first entry, 'Data files (*.csv …)'."""
    first = FILE_FILTER.split(";;")[0]
    found = re.fullmatch(r"Data files \((.*)\)", first)
    assert found, FILE_FILTER
    return found.group(1).split()


def test_the_data_files_filter_lists_archives() -> None:
    assert patterns() == ["*.csv", "*.tsv", "*.json", "*.jsonl", "*.parquet", "*.txt", "*.gz", "*.bz2", "*.xz",
                          "*.zst", "*.zip", "*.tar", "*.tgz"]
    assert FILE_FILTER.split(";;")[1:] == ["All files (*)"]


def test_every_file_core_reads_is_shown_by_the_filter() -> None:
    """Each name core.data reads (a data file, one compressed whole, an archive of one) matches a pattern: Qt
    matches the patterns without case, as fnmatch does on the lower-cased name."""
    names = [f"train{suffix}" for suffix in data.FORMATS]
    names += [f"train.jsonl{suffix}" for suffix in data.READ_COMPRESSED]
    names += [f"train{ending}" for ending in data.READ_ARCHIVES]
    names += ["Train.ZIP", "rows.TGZ"]
    hidden = [name for name in names if not any(fnmatch.fnmatch(name.lower(), p) for p in patterns())]
    assert hidden == []
    assert {"train.zip", "train.tar", "train.tgz", "train.tar.gz"} <= set(names)


def test_open_file_shows_the_dialog_with_the_filter(qtbot: Any, tmp_path: Path, monkeypatch: Any) -> None:
    asked: list[tuple] = []

    def get_open_file_name(*args: Any) -> tuple[str, str]:
        asked.append(args)
        return "", ""  # cancelled: the source stays as it was

    monkeypatch.setattr(dataset_form.QFileDialog, "getOpenFileName", staticmethod(get_open_file_name))
    form = make_form(qtbot)
    before = form.dataset_config().source
    form.open_file_button.click()
    assert [(title, chosen) for _, title, _, chosen in asked] == [("Open a dataset file", FILE_FILTER)]
    assert "*.zip *.tar *.tgz" in asked[0][3] and form.dataset_config().source == before
