"""`finetune-studio validate` prints core.data.text_table_warnings (a .txt sheet saved as "Text (Tab delimited)" is
trained as whole lines, header and tabs included) and still exits 0: the warning existed (0964783) but no command
printed it, as token_warnings, which validate prints after its bounded read of the source, did not include it."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.cli import main
from finetune_studio.core.config import default_config
from finetune_studio.core.validation import token_warnings, warnings_for

NOTE = ("The lines look like a table of 2 columns separated by tabs (first line: 'text', 'label'), and a .txt file is "
        "read one row per line, so each whole line is trained as text, the first one and the tabs included. To fix: "
        "if it is a table, rename it to .tsv, so that its columns are read, and pick the text column; if the tabs "
        "belong to the text, nothing needs doing.")


def test_validate_prints_the_tab_table_warning_and_exits_0(
        demo_cache: Path, tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sheet.txt"
    path.write_text("text\tlabel\n" + "".join(f"Row {i} is nice.\t{i % 3}\n" for i in range(30)), encoding="utf-8")
    capsys.readouterr()
    assert main(["validate", "--set", f"dataset.source={path}", "--set", "dataset.text_column=text"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f"warning: dataset.source: {path}: t{NOTE[1:]}" in out
    assert out[-1] == "ok: the config is valid."
    config = default_config()
    config.dataset.source, config.dataset.text_column = str(path), "text"
    assert [p.field for p in warnings_for(config)].count("dataset.source") == 0  # the cheap one reads no file
    assert [(p.field, p.message) for p in token_warnings(config)] == [("dataset.source", f"{path}: t{NOTE[1:]}")]
    notes = tmp_path / "notes.txt"  # plain lines: nothing said
    notes.write_text("First note.\nSecond note.\nThird note.\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["validate", "--set", f"dataset.source={notes}", "--set", "dataset.text_column=text"]) == 0
    assert not [line for line in capsys.readouterr().out.splitlines() if line.startswith("warning: dataset.source")]
