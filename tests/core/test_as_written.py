"""A config value shown as the file writes it: one helper (core.config.as_written / kind_of) for the messages of
core.launch, core.chat and core.validation and for the forms' fields.

core.validation showed a list in Python's form (got ['a', 'b']) where the Launch and chat messages showed YAML's
([a, b]); a model.name_or_path or dataset.source that is a list or mapping said only "Choose a model: ..." as if
nothing were written."""

from __future__ import annotations

from typing import Any

import pytest

from finetune_studio.core.config import as_written, from_yaml, kind_of, yaml_load
from finetune_studio.core.validation import validate

MODEL_FIX = "To fix: write one Hub id (owner/name) or folder, e.g. name_or_path: Qwen/Qwen3-0.6B."
SOURCE_FIX = "To fix: write one source, or put the files in one folder and give the folder."


@pytest.mark.parametrize(("value", "written", "kind"), [
    (["a", "b"], "[a, b]", "a list"),
    ([], "[]", "a list"),
    ({"port": 29500, "host": "node0"}, "{port: 29500, host: node0}", "a mapping"),  # the file's order, not sorted
    (True, "true", "a true/false value"),
    (False, "false", "a true/false value"),
    (None, "null", "no value"),
    (2, "2", "a number"),
    (0.5, "0.5", "a number"),
    ("node0", "node0", "text"),
    ("1e2", "'1e2'", "text"),  # read back as the number 100 unless quoted, as to_yaml quotes it
    (["1e2", "x"], "['1e2', x]", "a list"),
    ("true", "'true'", "text"),
])
def test_a_value_is_written_as_the_config_file_writes_it(value: Any, written: str, kind: str) -> None:
    assert as_written(value) == written
    assert kind_of(value) == kind
    assert yaml_load(written) == value and type(yaml_load(written)) is type(value)


def _messages(text: str, field: str) -> list[str]:
    config, _ = from_yaml(text)
    return [p.message for p in validate(config, check_files=False) if p.field == field]


@pytest.mark.parametrize(("written", "said"), [
    ("[a, b]", "[a, b], a list"),
    ("{org: a, name: b}", "{org: a, name: b}, a mapping"),
    ("!!bool true", "true, a true/false value"),
])
def test_a_model_that_is_no_text_is_named_as_written(written: str, said: str) -> None:
    assert _messages(f"model:\n  name_or_path: {written}\n", "model.name_or_path") == [
        f"model.name_or_path must be one model as text (got {said}). {MODEL_FIX}"]


@pytest.mark.parametrize(("written", "said"), [
    ("[a.jsonl, b.jsonl]", "[a.jsonl, b.jsonl], a list"),
    ("{train: a.jsonl}", "{train: a.jsonl}, a mapping"),
])
def test_a_dataset_source_that_is_no_text_is_named_as_written(written: str, said: str) -> None:
    assert _messages(f"dataset:\n  source: {written}\n", "dataset.source") == [
        f"dataset.source must be one file, folder or Hub id as text (got {said}). {SOURCE_FIX}"]


@pytest.mark.parametrize("written", ["", "''", "'  '", "[]", "{}"])
def test_an_empty_model_or_source_keeps_its_message(written: str) -> None:
    text = f"model:\n  name_or_path: {written}\ndataset:\n  source: {written}\n"
    assert _messages(text, "model.name_or_path") == [
        "Choose a model: a Hub id, a local folder or the built-in demo model."]
    assert _messages(text, "dataset.source") == [
        "Choose a dataset: a Hub id, a local file or folder, or the built-in sample."]


@pytest.mark.parametrize(("text", "field", "expected"), [
    ("adapter:\n  method: lora\n  target_modules: [all-linear, q_proj]\n", "adapter.target_modules",
     "all-linear already covers every linear layer (got [all-linear, q_proj]). To fix: use all-linear alone, or list "
     "the modules without it."),
    ("training:\n  seed: [a, b]\n", "training.seed",
     "seed must be a whole number (got [a, b]). To fix: write a whole number, or remove seed to use the default."),
    ("training:\n  learning_rate: {rate: 1}\n", "training.learning_rate",
     "learning_rate must be a number (got {rate: 1}). To fix: write a number, or remove learning_rate to use the "
     "default."),
    ("training:\n  seed: 'no'\n", "training.seed",  # text keeps its quotes, numbers their form
     "seed must be a whole number (got 'no'). To fix: write a whole number, or remove seed to use the default."),
])
def test_validation_names_a_list_or_mapping_in_yamls_form(text: str, field: str, expected: str) -> None:
    assert _messages(text, field) == [expected]
