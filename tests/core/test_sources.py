"""The one rule that tells a local path from a Hub id (core.sources), pinned case by case.

Before it there were four rules (core.data.is_local, core.model.looks_local, the Dataset form's looks_local and
the model card's id regex) that disagreed on `a/b/c`, `data.csv` and web addresses. Each row says what the text
is and why a user would expect that.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.config import DEMO_MODEL_ID, SAMPLE_DATASET_ID, DatasetConfig, RunConfig
from finetune_studio.core.sources import SourceKind, hub_repo_id, is_local, source_kind

B, L, U, H = SourceKind.BUILTIN, SourceKind.LOCAL, SourceKind.URL, SourceKind.HUB

# (text, kind, why) -- nothing of these names exists in the test's working folder.
CASES = [
    (SAMPLE_DATASET_ID, B, "the built-in sample dataset ships with the app"),
    (DEMO_MODEL_ID, B, "the built-in demo model is built locally"),
    ("Qwen/Qwen3-0.6B", H, "owner/name is a Hub id"),
    ("karthiksagarn/astro_horoscope", H, "owner/name is a Hub id"),
    ("Qwen/Qwen2.5-0.5B", H, "dots in a Hub name are not a file suffix"),
    ("gpt2", H, "a bare name is a (legacy) Hub id"),
    ("  Qwen/Qwen3-0.6B  ", H, "surrounding spaces are not part of it"),
    ("./data", L, "./ is how only paths start"),
    ("../data", L, "../ is how only paths start"),
    ("/srv/data", L, "an absolute path"),
    ("~/x", L, "the home folder"),
    ("C:\\x", L, "a Windows drive letter"),
    ("C:/x", L, "a Windows drive letter with a forward slash"),
    ("\\\\server\\share", L, "a Windows network share"),
    ("data.csv", L, "a data file's suffix: 'file not found' helps more than 'not on the Hub'"),
    ("notes.TXT", L, "suffixes are matched in any case"),
    ("org/data.jsonl", L, "a data file's suffix, even with one slash"),
    ("rows.jsonl.gz", L, "a compressed data file (core.data reads it): 'file not found', not 'not on the Hub'"),
    ("org/table.CSV.xz", L, "a compressed data file, even with one slash and in any case"),
    ("org/weights.gz", H, "a compression over no data type names no data file"),
    ("a/b/c", L, "more than one '/' is never a Hub id, so it is a (missing) folder"),
    ("https://huggingface.co/datasets/org/name", U, "a pasted web page is neither a path nor an id"),
    ("http://example.com/data.csv", U, "a web address wins over the .csv suffix"),
    ("HTTPS://huggingface.co/Qwen/Qwen3-0.6B", U, "the scheme is matched in any case"),
    ("hf://datasets/org/name", U, "huggingface_hub's hf:// addresses are addresses, not ids"),
]


@pytest.mark.parametrize(("text", "kind", "why"), CASES, ids=[c[0] for c in CASES])
def test_the_kind_of_each_text(text: str, kind: SourceKind, why: str, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # nothing named like the cases exists here
    assert source_kind(text) is kind, why
    assert is_local(text) is (kind in (B, L)), why


def test_a_folder_that_exists_wins_over_the_hub_id_it_looks_like(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """`org/name` with a folder of that name here is the folder (transformers does the same)."""
    monkeypatch.chdir(tmp_path)
    assert source_kind("org/name") is H
    (tmp_path / "org" / "name").mkdir(parents=True)
    (tmp_path / "gpt2").write_text("x")
    assert source_kind("org/name") is L
    assert source_kind("gpt2") is L  # a file here too
    assert hub_repo_id("org/name") is None  # the model card must not link a local folder to the Hub


def test_home_folder_paths_are_looked_up_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert source_kind("~") is L


@pytest.mark.parametrize(("text", "expected"), [
    ("Qwen/Qwen3-0.6B", "Qwen/Qwen3-0.6B"),
    (" Qwen/Qwen3-0.6B ", "Qwen/Qwen3-0.6B"),
    ("gpt2", None),  # a bare name: the model card links owner/name only
    ("a b/c", None),  # meant as an id, but not a valid one
    ("./Qwen/Qwen3-0.6B", None),
    ("https://huggingface.co/Qwen/Qwen3-0.6B", None),
    (DEMO_MODEL_ID, None),
    ("org/data.csv", None),
])
def test_hub_repo_id_is_what_a_model_card_links(text: str, expected: str | None, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert hub_repo_id(text) == expected


def test_the_suffixes_are_the_formats_the_dataset_reader_knows() -> None:
    from finetune_studio.core.data import FORMATS
    from finetune_studio.core.sources import DATA_SUFFIXES

    assert sorted(DATA_SUFFIXES) == sorted(FORMATS)


def test_the_compressed_suffixes_are_those_the_dataset_reader_reads() -> None:
    from finetune_studio.core.data import READ_COMPRESSED
    from finetune_studio.core.sources import COMPRESSED_SUFFIXES

    assert sorted(COMPRESSED_SUFFIXES) == sorted(READ_COMPRESSED)


@pytest.mark.parametrize(("text", "field_message"), [
    ("a/b/c", "Dataset not found"),
    ("https://huggingface.co/datasets/org/name", "enter its id: org/name"),
])
def test_validation_follows_the_rule_for_datasets(text: str, field_message: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_studio.core.validation import validate

    monkeypatch.chdir(tmp_path)
    config = RunConfig(dataset=DatasetConfig(source=text), runs_dir=str(tmp_path / "runs"))
    messages = [p.message for p in validate(config) if p.field == "dataset.source"]
    assert any(field_message in m for m in messages), messages


@pytest.mark.parametrize(("text", "expected"), [
    ("https://huggingface.co/Qwen/Qwen3-0.6B", "enter its id: Qwen/Qwen3-0.6B"),
    ("hf://Qwen/Qwen3-0.6B", "enter its id: Qwen/Qwen3-0.6B"),
    ("data.csv", "Model folder not found"),
    ("./missing", "Model folder not found"),
    ("a//b", "neither a folder on this computer nor a valid Hugging Face model id"),
])
def test_model_names_follow_the_rule(text: str, expected: str, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_studio.core.model import model_name_problem

    monkeypatch.chdir(tmp_path)
    problem = model_name_problem(text)
    assert problem is not None and expected in problem, problem
