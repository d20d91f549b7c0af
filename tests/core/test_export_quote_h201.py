"""The load line in an export's message runs as written when the folder's name holds an apostrophe
("Bob's models", helper-201): it was written between single quotes as it stood, from_pretrained('/…/Bob's
models/adapter'), which Python reads as a syntax error; the window's Load it: line (repr) was right."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from finetune_studio.core.export import export_adapter
from tests.core.test_export_other_run_h201 import _adapter_run


def test_the_load_lines_of_a_folder_with_an_apostrophe_run_as_written(tmp_path: Path) -> None:
    run = _adapter_run(tmp_path / "runs", "lora-run", b"mine")
    (run / "model" / "generation_config.json").write_text(json.dumps({"eos_token_id": [1458, 0]}))  # a chat run's
    out = tmp_path / "Bob's models" / "ünï adapter"
    message = export_adapter(run, out).message
    calls = re.findall(r"\w+\.from_pretrained\((.*?)\)(?=[.,] )", message)
    assert calls == [repr(str(out))] * 2, message
    for call in calls:
        assert eval(call) == str(out)  # the message's own literal, as Python reads it
    assert f"AutoPeftModelForCausalLM.from_pretrained(\"{out}\")." in message


def test_the_load_line_of_a_folder_given_without_its_whole_path_names_its_whole_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`finetune-studio export --adapter RUN --out exports/mine` said from_pretrained('exports/mine'): pasted into
    a notebook or a script started anywhere else, it named a folder that is not there."""
    from finetune_studio.core import cli

    run = _adapter_run(tmp_path / "runs", "lora-run", b"mine")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["export", "--adapter", str(run), "--out", "exports/mine"]) == 0
    said = capsys.readouterr().out.strip()
    assert said.startswith("Exported the adapter (") and " to exports/mine. " in said
    call = re.search(r"AutoPeftModelForCausalLM\.from_pretrained\((.*?)\)\.", said).group(1)
    monkeypatch.chdir(tmp_path / "runs")  # somewhere else
    assert eval(call) == str(tmp_path / "exports" / "mine")
    assert Path(eval(call), "adapter_config.json").is_file()
