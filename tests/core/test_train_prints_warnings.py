"""`finetune-studio train` prints every warning `validate` prints, once. It asked core.validation.warnings_for
before validate(), and the adapter rank past break-even reads the model's layers validation reads
(core.adapters.warnings_for, build=False): in a fresh process `train` never said it. Nor did it say the replies
max_length cuts (token_warnings), which `validate` prints; the run's own note of the same words is not repeated."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import adapter_layout
from finetune_studio.core import training as core_training
from finetune_studio.core.cli import main
from tests.core.test_adapters_rank_warning import ALL_LINEAR_41
from tests.core.test_validate_chat_tokens import _chats, _config

RANK_41 = ["--set", "adapter.method=lora", "--set", "adapter.r=41", "--set", "adapter.target_modules=[all-linear]"]


def fake_run(runs: Path, notes: list[str] = ()):  # what the run says of itself, without training
    def run(config, sink, stop):
        for note in notes:
            sink({"event": "notice", "message": note})
        return core_training.RunResult(state="finished", message="Finished 0 steps.", run_dir=runs / "x")

    return run


def warning_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("warning: ")]


def test_train_in_a_fresh_process_prints_the_rank_warning_once(demo_cache: Path, runs_dir: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setattr(adapter_layout, "_modules", {})  # as in a fresh process: no layers read yet
    monkeypatch.setattr(core_training, "run", fake_run(runs_dir))
    assert main(["train", "--preset", "demo", *RANK_41, "--quiet"]) == 0
    assert warning_lines(capsys.readouterr().err) == [f"warning: adapter.r: {ALL_LINEAR_41}"]


def test_train_prints_what_validate_prints_and_the_runs_own_note_is_not_repeated(
        demo_cache: Path, runs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    data = _chats(tmp_path / "long-replies.jsonl", ["Short?"] * 10, reply="Fire and water. " * 20)
    config = _config(tmp_path, data, runs_dir)
    monkeypatch.setattr(adapter_layout, "_modules", {})
    capsys.readouterr()
    assert main(["validate", str(config), *RANK_41]) == 0
    validated = warning_lines(capsys.readouterr().out)
    assert len(validated) == 2 and validated[0] == f"warning: adapter.r: {ALL_LINEAR_41}"
    assert validated[1].startswith("warning: dataset.max_length: 10 of 10 rows have their reply cut by max_length 64")
    cut_note = validated[1].removeprefix("warning: dataset.max_length: ")

    monkeypatch.setattr(adapter_layout, "_modules", {})
    monkeypatch.setattr(core_training, "run", fake_run(runs_dir, [cut_note, "Another note."]))
    assert main(["train", str(config), *RANK_41]) == 0
    err = capsys.readouterr().err
    assert warning_lines(err) == validated  # each once, as validate prints them
    assert f"note: {cut_note}" not in err.splitlines() and "note: Another note." in err.splitlines()
