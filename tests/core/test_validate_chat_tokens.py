"""`finetune-studio validate` and `train` render the first chat rows with the run's own tokenizer and labelling
(validate(render_rows=True), core.chat.token_check) where that tokenizer is on this machine: a dataset none of whose
rows trains a token, or whose test split would hold no trained token, failed `train` after it had tokenized (exit 1,
a failed run folder) while `validate` said ok. Now both refuse it (exit 2, no folder). Replies max_length cuts are
a warning in the run log's words. A tokenizer that is not here (a Hub id not in the cache) adds nothing and waits
for no network."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from finetune_studio.core.cli import main
from finetune_studio.core.config import default_config, save_config

LONG = "x " * 400  # a question max_length 64 cuts before the reply: the row trains nothing


def _chats(path: Path, questions: list[str], reply: str = "Fire.") -> Path:
    rows = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": reply}]}
            for q in questions]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _config(tmp_path: Path, data: Path, runs: Path, **dataset) -> Path:
    config = default_config()  # the built-in demo model: its tokenizer is on this machine once built
    config.runs_dir = str(runs)
    config.dataset.source = str(data)
    config.dataset.max_length = 64
    for key, value in dataset.items():
        setattr(config.dataset, key, value)
    path = tmp_path / "chat.yaml"
    save_config(config, path)
    return path


def _validate(config: Path, capsys: pytest.CaptureFixture) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(["validate", str(config)])
    return code, capsys.readouterr().out.splitlines()


def _train_refuses(config: Path, runs: Path, capsys: pytest.CaptureFixture) -> list[str]:
    capsys.readouterr()
    assert main(["train", str(config), "--name", "refused", "--quiet"]) == 2
    assert not runs.exists() or list(runs.iterdir()) == []
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]


def test_a_chat_dataset_none_of_whose_rows_trains_a_token_is_refused(demo_cache, runs_dir, tmp_path, capsys):
    data = _chats(tmp_path / "cut.jsonl", [LONG] * 30)
    config = _config(tmp_path, data, runs_dir)
    code, lines = _validate(config, capsys)
    said = (f"dataset.max_length: {data}: none of its 30 rows has a token to train: max_length 64 cuts every one "
            "before its reply (or no row has one), so the run would learn nothing. Raise max_length or check "
            "train_on.")
    assert (code, lines) == (2, [f"problem: {said}"])
    assert _train_refuses(config, runs_dir, capsys) == [f"error: {said}"]

    data = _chats(tmp_path / "cut.jsonl", [LONG] * 29 + ["Short?"])  # one row trains: the run trains
    code, lines = _validate(config, capsys)
    assert code == 0 and lines[-1] == "ok: the config is valid.", lines


def test_a_larger_file_is_judged_on_the_rows_read_and_says_so(demo_cache, runs_dir, tmp_path, capsys):
    data = _chats(tmp_path / "big.jsonl", [LONG] * 400)  # ~330 KB: more than the 64 KiB validate reads
    assert data.stat().st_size > 64 << 10
    code, lines = _validate(_config(tmp_path, data, runs_dir), capsys)
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].startswith(f"problem: dataset.max_length: {data}: none of its first ")
    first = int(lines[0].split("none of its first ")[1].split()[0])
    assert 20 < first < 400  # the rows of the bounded read, not the file's
    assert lines[0].endswith("rows has a token to train: max_length 64 cuts every one before its reply (or no row "
                             "has one), so the run would learn nothing (judged on the rows this check reads of a "
                             "larger file). Raise max_length or check train_on.")


def test_a_test_split_that_trains_no_token_is_refused(demo_cache, runs_dir, tmp_path, capsys):
    """Rows that train, but none in the test split (the run's own split: datasets' train_test_split, seed 42):
    the run refused it after tokenizing, with a folder made; validate now says it, in the run's words."""
    import datasets

    split = datasets.Dataset.from_dict({"i": list(range(20))}).train_test_split(test_size=0.1, seed=42)
    held_out = set(split["test"]["i"])
    data = _chats(tmp_path / "split.jsonl", [LONG if i in held_out else "Short?" for i in range(20)])
    config = _config(tmp_path, data, runs_dir, test_size=0.1)
    code, lines = _validate(config, capsys)
    said = (f"dataset.test_size: {data}: none of the 2 rows of the test split has a token to train (max_length 64 "
            "cuts them before the reply), so evaluation would have no loss. Raise max_length, turn on "
            "chat.drop_untrained_rows, or set test_size to 0 (and eval_strategy to 'no').")
    assert (code, lines) == (2, [f"problem: {said}"])
    assert _train_refuses(config, runs_dir, capsys) == [f"error: {said}"]

    # The other rows in the test split: nothing to say.
    _chats(tmp_path / "split.jsonl", [LONG if i not in held_out and i % 2 else "Short?" for i in range(20)])
    code, lines = _validate(config, capsys)
    assert code == 0 and lines[-1] == "ok: the config is valid.", lines


def test_replies_max_length_cuts_are_a_warning_in_the_run_logs_words(demo_cache, runs_dir, tmp_path, capsys):
    from finetune_studio.core.chat import render_and_label, reply_cut_notice
    from finetune_studio.core.model import load_tokenizer

    data = _chats(tmp_path / "long-replies.jsonl", ["Short?"] * 10, reply="Fire and water. " * 20)
    config = _config(tmp_path, data, runs_dir)
    code, lines = _validate(config, capsys)
    assert code == 0 and lines[-1] == "ok: the config is valid.", lines
    # The run's note on these rows, counted as prepare_dataset counts them (the whole file was read: no
    # "judged on" words).
    run = default_config()
    tokenizer = load_tokenizer(run.model)
    rendered = [render_and_label(tokenizer, json.loads(line), run.chat, 64)
                for line in data.read_text(encoding="utf-8").splitlines()]
    notice = reply_cut_notice([r.cut_trained for r in rendered], [r.trained for r in rendered],
                              [len(r.input_ids) for r in rendered], 10, 64)
    assert notice.startswith("10 of 10 rows have their reply cut by max_length 64: ")
    assert [line for line in lines if line.startswith("warning: ")] == [f"warning: dataset.max_length: {notice}"]


def test_a_tokenizer_that_is_not_here_adds_nothing_and_waits_for_no_network(demo_cache, runs_dir, tmp_path, capsys):
    data = _chats(tmp_path / "cut.jsonl", [LONG] * 30)
    config = default_config()
    config.runs_dir, config.dataset.source, config.dataset.max_length = str(runs_dir), str(data), 64
    config.model.name_or_path = "finetune-studio-tests/not-in-any-cache"
    path = tmp_path / "hub.yaml"
    save_config(config, path)
    started = time.monotonic()
    code, lines = _validate(path, capsys)
    assert time.monotonic() - started < 15
    assert not [line for line in lines if "token to train" in line or "reply cut" in line], lines


def test_the_rendered_rows_check_reads_the_file_once_with_the_source_check(demo_cache, runs_dir, tmp_path,
                                                                          monkeypatch):
    """core.chat's rendered rows come from core.data's cached bounded read (head_rows), the one check_source judges
    the source on: validate(render_rows=True) reads a new file once, not once per check."""
    from finetune_studio.core import data
    from finetune_studio.core.config import load_config
    from finetune_studio.core.validation import validate

    reads: list[str] = []
    real = data._head
    monkeypatch.setattr(data, "_head", lambda config, *a, **k: reads.append(config.source) or real(config, *a, **k))
    source = _chats(tmp_path / "once.jsonl", [LONG] * 30)
    config = load_config(_config(tmp_path, source, runs_dir))[0]
    problems = validate(config, render_rows=True)
    assert [p.field for p in problems] == ["dataset.max_length"]  # the rows were rendered and judged
    assert reads == [str(source)]
