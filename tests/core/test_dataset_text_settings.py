"""The dataset settings a file is read with (encoding, separator, sample_by, text column) given as a list or a
mapping, in a config file or by `--set`: validate read the built-in sample with them and failed with "TypeError:
unhashable type: 'list'" (exit 1, the generic failure), since helper-110's c39f18d for `--set` as well as for a
file. Each is now refused in its own words, with the value as written and a fix, all at once (exit 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from finetune_studio.core.config import from_yaml
from finetune_studio.core.validation import validate
from tests.helpers import ROOT

CASES = {
    "encoding: [a, b]": ("dataset.encoding", "dataset.encoding must be one encoding name as text, not a list (got "
                         "[a, b]). To fix: write one name such as utf-8, cp1252, latin-1 or utf-16, or leave it empty "
                         "for UTF-8."),
    "encoding: {x: 1}": ("dataset.encoding", "dataset.encoding must be one encoding name as text, not a mapping (got "
                         "{x: 1}). To fix: write one name such as utf-8, cp1252, latin-1 or utf-16, or leave it empty "
                         "for UTF-8."),
    "sample_by: [a, b]": ("dataset.sample_by", "sample_by must be a name, not a list (got [a, b]). To fix: write one "
                          "of document, paragraph, line, or leave it empty."),
    "delimiter: [a]": ("dataset.delimiter", "The separator must be one of ',', ';', a tab or '|', or empty to find it "
                       "in the header row (got [a]). To fix: write one of them, or leave it empty."),
    "text_column: [a, b]": ("dataset.text_column", "dataset.text_column must be one column name as text, not a list "
                            "(got [a, b]). To fix: write the one column that holds the text to train on, e.g. "
                            "text_column: text."),
}


@pytest.mark.parametrize("line", list(CASES))
def test_a_list_or_mapping_for_a_reading_setting_is_refused_in_words(line: str) -> None:
    config, _ = from_yaml(f"dataset:\n  source: builtin:sample\n  {line}\nmodel:\n  name_or_path: builtin:demo\n")
    field, message = CASES[line]
    problems = validate(config)  # check_files: the sample is read, as `validate` and Start read it
    assert [p.message for p in problems if p.field == field] == [message]
    assert all(p.field != "dataset.source" for p in problems)  # the file itself is fine: nothing said of it


def test_the_cli_says_each_at_once_for_a_file_and_for_set(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("dataset:\n  source: builtin:sample\n  sample_by: [a, b]\n  text_column: [a, b]\n"
                    "model:\n  name_or_path: builtin:demo\n", encoding="utf-8")
    ended = subprocess.run([sys.executable, "-m", "finetune_studio.core.cli", "validate", str(path),
                            "--set", "dataset.encoding=[x, y]"], cwd=ROOT.parent, capture_output=True, text=True,
                           timeout=120)
    assert ended.returncode == 2, ended.stdout + ended.stderr
    said = ended.stdout + ended.stderr
    assert "TypeError" not in said
    for text in ("dataset.encoding must be one encoding name as text, not a list (got [x, y])",
                 "sample_by must be a name, not a list (got [a, b])",
                 "dataset.text_column must be one column name as text, not a list (got [a, b])"):
        assert text in said, said
