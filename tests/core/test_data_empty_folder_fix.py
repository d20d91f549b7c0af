"""A folder with no data file in it (only notes, or nothing) says what to do next, as every data message does; one
that holds compressed files or spreadsheets keeps the advice for those (349cc26)."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.data import DataError, local_files


@pytest.mark.parametrize("files", [{}, {"notes.md": "# my data\n", "sub/readme.txt.bak": "x"}])
def test_a_folder_without_data_files_says_what_to_pick(tmp_path: Path, files: dict[str, str]) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as refused:
        local_files(str(folder))
    assert str(refused.value) == (
        f"The folder {folder} holds no data files (.csv, .json, .jsonl, .parquet, .tsv, .txt). To fix: pick the "
        "folder that holds the data files, or a single data file (Open file).")
