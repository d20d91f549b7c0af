"""The README says a folder holding a file beside its archived copy is refused, as the code does (helper-192): it
named only the plain-and-compressed pair."""

from __future__ import annotations

import json
import re
from pathlib import Path

from finetune_studio.core import data
from tests.core.test_data_archives_h174 import pack
from tests.core.test_data_archives_h186_folder import own_cache  # noqa: F401 - autouse: its own cache
from tests.helpers import data_refusal, dataset_config

README = Path(__file__).resolve().parents[2] / "README.md"



def test_the_readme_names_the_archived_copy_the_folder_check_refuses(tmp_path: Path) -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())
    sentence = re.search(r"A folder holding the same file plain and compressed.*?would train twice\.", text)
    assert sentence is not None
    assert "(`train.jsonl` beside `train.jsonl.zip`), is refused" in sentence.group(0)
    folder = tmp_path / "data"
    folder.mkdir()
    body = "".join(json.dumps({"text": f"row {i}"}) + "\n" for i in range(3)).encode()
    (folder / "train.jsonl").write_bytes(body)
    pack(folder / "train.jsonl.zip", {"train.jsonl": body})
    assert data_refusal(data.preview, dataset_config(folder)).startswith(
        f"The folder {folder} holds the same data file twice: train.jsonl and train.jsonl.zip differ only by a "
        "compression or archive suffix")
