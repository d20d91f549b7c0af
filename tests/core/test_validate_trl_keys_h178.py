"""helper-178: TRL's training keys (max_seq_length, max_length, dataset_text_field, packing, padding_free) and
transformers 4's group_by_length, said where this app sets them (core.config.ELSEWHERE_TRAINING_KEYS) instead of
"nor close to one of its 114 names"."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.cli import main
from finetune_studio.core.config import default_config
from finetune_studio.core.errors import ERROR, WARNING
from finetune_studio.core.validation import validate


def said(config) -> dict[str, str]:
    return {p.field: p.message for p in validate(config, check_files=False) if p.level != WARNING}


# ---- TRL's keys in the training section: where this app sets them

HEAD = "is not a TrainingArguments setting: it is"


@pytest.mark.parametrize(("key", "value", "words"), [
    ("max_seq_length", 1024, "older TRL scripts' name for the longest row in tokens, which this app sets in "
                             "dataset.max_length. To fix: move it to the dataset section as max_length: 1024."),
    ("max_length", 2048, "TRL's SFTConfig name for the longest row in tokens, which this app sets in "
                         "dataset.max_length. To fix: move it to the dataset section as max_length: 2048."),
    ("dataset_text_field", "text", "TRL's SFTConfig name for the column the model trains on, which this app sets "
                                   "in dataset.text_column. To fix: move it to the dataset section as text_column: "
                                   "'text'."),
    ("packing", True, "TRL's SFTConfig switch for rows packed into max_length blocks, which this app sets in "
                      "dataset.batching. To fix: remove it, and write batching: packed in the dataset section."),
    ("packing", False, "TRL's SFTConfig switch for rows packed into max_length blocks, which this app sets in "
                       "dataset.batching ('packed' there). To fix: remove it; dataset.batching says how rows are "
                       "batched ('padded' unless set)."),
    ("padding_free", True, "TRL's SFTConfig switch for a batch's rows in one sequence, which this app sets in "
                           "dataset.batching. To fix: remove it, and write batching: padding_free in the dataset "
                           "section."),
    ("group_by_length", True, "transformers 4's switch for batches of rows of like length, which this app sets in "
                              "dataset.batching. To fix: remove it, and write batching: group_by_length in the "
                              "dataset section."),
    ("max_seq_length", None, "older TRL scripts' name for the longest row in tokens, which this app sets in "
                             "dataset.max_length. To fix: remove it, and set max_length in the dataset section."),
])
def test_trl_training_key_points_to_its_place(runs_dir: Path, key: str, value: object, words: str) -> None:
    config = default_config()
    config.training[key] = value
    assert said(config)[f"training.{key}"] == f"'{key}' {HEAD} {words}"


def test_trl_keys_named_by_the_cli_and_their_places_exist(tmp_path: Path, runs_dir: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    from finetune_studio.core.config import ELSEWHERE_TRAINING_KEYS, DatasetConfig
    from finetune_studio.core.validation import training_fields

    path = tmp_path / "sft.yaml"
    path.write_text("training:\n  max_seq_length: 1024\n  dataset_text_field: text\n  packing: true\n",
                    encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    out = capsys.readouterr().out
    assert ("problem: training.max_seq_length: 'max_seq_length' is not a TrainingArguments setting: it is older TRL "
            "scripts' name for the longest row in tokens, which this app sets in dataset.max_length. To fix: move it "
            "to the dataset section as max_length: 1024.") in out
    assert "To fix: move it to the dataset section as text_column: 'text'." in out
    assert "To fix: remove it, and write batching: packed in the dataset section." in out
    assert "nor close to one of its" not in out
    # every place named is a dataset field, every mode one of its batching choices, and no key is a real field
    fields = DatasetConfig.__dataclass_fields__
    for key, (place, mode, _) in ELSEWHERE_TRAINING_KEYS.items():
        section, name = place.split(".")
        assert section == "dataset" and name in fields
        assert key not in training_fields()
        if mode is not None:
            config = default_config()
            config.dataset.batching = mode
            assert "dataset.batching" not in said(config)
    # the advice, followed, validates
    moved = default_config()
    moved.dataset.max_length, moved.dataset.batching = 1024, "packed"
    assert not [p for p in validate(moved, check_files=False) if p.level == ERROR]
