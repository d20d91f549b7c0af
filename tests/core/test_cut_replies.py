"""Replies that max_length cuts short: the rows still train, but their reply's end-of-turn token is never a target,
so the model does not learn to stop. A run says so in its run log (a notice, as for rows that train nothing), with
how many rows and trained tokens, and what to do."""

from __future__ import annotations

import json

import pytest

from tests.helpers import read_events, small_config


def _rows(long: int, short: int) -> list[dict]:
    reply = "long reply words " * 60
    return ([{"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": reply}]}
             for i in range(long)]
            + [{"messages": [{"role": "user", "content": "Short?"}, {"role": "assistant", "content": "Fire."}]}
               for _ in range(short)])


def test_rows_whose_reply_max_length_cuts_get_a_note_with_counts(demo_cache) -> None:
    import datasets

    from finetune_studio.core.chat import prepare_dataset, render_and_label
    from finetune_studio.core.config import default_config
    from finetune_studio.core.model import load_tokenizer

    config = default_config()
    config.dataset.max_length, config.dataset.test_size = 64, 0.0
    tokenizer = load_tokenizer(config.model)
    rows = _rows(long=5, short=3)
    said: list[str] = []
    prepare_dataset(datasets.Dataset.from_list(rows), tokenizer, config.chat, config.dataset, 42, said.append)
    each = [render_and_label(tokenizer, row, config.chat, 64) for row in rows]  # what the Inspector shows per row
    cut = [r for r in each if r.cut_trained]
    assert len(cut) == 5 and all("cuts the reply" in r.problems[0] for r in cut)
    lost = sum(r.cut_trained for r in cut)
    total = lost + sum(r.trained for r in cut)
    longest = max(len(r.input_ids) for r in cut)
    notes = [n for n in said if "reply cut" in n]
    assert notes == [f"5 of 8 rows have their reply cut by max_length 64: {lost:,} of {total:,} trained tokens in "
                     "them are lost, and so is each cut reply's end-of-turn token, so the model does not learn to "
                     f"stop after such replies. To fix: raise max_length (the longest of these rows is {longest:,} "
                     "tokens), or shorten the replies."]

    said.clear()  # replies that fit: no note
    config.dataset.max_length = 2048
    prepare_dataset(datasets.Dataset.from_list(rows), tokenizer, config.chat, config.dataset, 42, said.append)
    assert not [n for n in said if "reply cut" in n]


@pytest.mark.slow
def test_a_run_on_cut_replies_says_so_in_its_run_log(demo_cache, runs_dir, tmp_path) -> None:
    from finetune_studio.core.training import run

    path = tmp_path / "long_replies.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _rows(long=30, short=0)), encoding="utf-8")
    config = small_config(path, runs_dir, max_steps=1, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False)
    config.dataset.test_size = 0.0
    result = run(config)
    assert result.state == "finished"
    notes = [e["message"] for e in read_events(result.run_dir, "notice") if "reply cut" in e["message"]]
    assert len(notes) == 1 and notes[0].startswith("30 of 30 rows have their reply cut by max_length 64: 7,700 of "
                                                   "9,120 trained tokens in them are lost")
    assert "To fix: raise max_length" in notes[0]
