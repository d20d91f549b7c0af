"""Default run names (issue 12 item 14): say which model trained on which data, stay short and safe as a folder
and as a Hub repo name, and stay unique through new_run_folder's -2, -3 … suffix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from finetune_studio.core.runs import NAME_PART_CHARS, generate_run_name

DATE = r"\d{6}-\d{4}"
HUB_SAFE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")


@pytest.mark.parametrize(("model", "dataset", "start"), [
    ("builtin:demo", "builtin:sample", "demo-sample-"),
    ("Qwen/Qwen3-0.6B", "someone/astro_horoscope", "Qwen3-0.6B-astro_horoscope-"),
    ("/home/me/models/my model (v2)/", "~/data/Horoscope Exports 2024.csv.gz", "my-model-v2-Horoscope-Exports-2024-"),
    ("C:\\models\\llama", "notes folder/", "llama-notes-folder-"),
    ("org/m..--x", "https://example.com/data/file.jsonl", "m.x-file-"),
    ("gpt2", "gpt2", "gpt2-"),  # the same name twice says it once
    ("!!!", "", "run-"),  # nothing usable left: still a valid name
])
def test_run_names_say_model_and_dataset(model: str, dataset: str, start: str) -> None:
    name = generate_run_name(model, dataset)
    assert name.startswith(start) and re.fullmatch(re.escape(start) + DATE, name), name
    assert HUB_SAFE.match(name) and ".." not in name and "--" not in name


def test_run_names_stay_short() -> None:
    name = generate_run_name("org/" + "m" * 80, "/data/" + "d" * 80 + ".csv")
    assert name == f"{'m' * NAME_PART_CHARS}-{'d' * NAME_PART_CHARS}-{name[-11:]}"
    assert len(name) <= 2 * NAME_PART_CHARS + 13 <= 96  # the Hub's repo-name limit


def test_new_run_folder_names_the_run_after_model_and_dataset(tmp_path: Path) -> None:
    from finetune_studio.core.config import default_config
    from finetune_studio.core.training import new_run_folder

    config = default_config()
    config.runs_dir = str(tmp_path / "runs")
    config.dataset.source = str(tmp_path / "My Horoscopes.jsonl")
    first, folder = new_run_folder(config)
    second, _ = new_run_folder(config)
    assert re.fullmatch(rf"demo-My-Horoscopes-{DATE}", first.name) and folder.path.name == first.name
    # the same minute: the -2 suffix keeps them apart (or the minute turned between the two calls)
    assert re.fullmatch(rf"demo-My-Horoscopes-{DATE}(-2)?", second.name) and second.name != first.name
