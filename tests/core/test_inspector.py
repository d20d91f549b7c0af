"""core.inspector: the Dataset Inspector's whole-dataset checks on known rows with the demo tokenizer (ChatML added
to it, as a run adds it): which rows train nothing, which lose their reply to max_length, whether replies train
their end-of-turn token, the fixes offered, and the cache (keyed by data, tokenizer, chat settings, max_length)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from finetune_studio.core.chat import render_and_label, trained_spans
from finetune_studio.core.config import default_config
from finetune_studio.core.inspector import Inspector, checks_summary, length_stats

NO_END_TEMPLATE = ("{% for m in messages %}{% if m['role'] == 'assistant' %}{% generation %}{{ m['content'] }}"
                   "{% endgeneration %}{% else %}{{ m['content'] + ' ' }}{% endif %}{% endfor %}")


def chat(user: str, reply: str, system: str | None = None) -> dict[str, Any]:
    turns = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": user}, {"role": "assistant", "content": reply}]
    return {"messages": turns}


ROWS = [
    chat("Hi there", "Hello! How can I help?", system="Be brief."),  # 0: fine
    chat("word " * 80, "Short answer."),  # 1: a long prompt: max_length 64 cuts before the reply starts
    chat("Tell me", "a long reply " * 30),  # 2: the reply is cut by max_length 64
    {"messages": [{"role": "user", "content": "Hi"}, {"role": "wizard", "content": "?"}]},  # 3: unknown role
    chat("What is 2+2?", "4"),  # 4: fine
]


@pytest.fixture(scope="module")
def tokenizer(demo_cache: Path) -> Any:
    from finetune_studio.core.config import ModelConfig
    from finetune_studio.core.model import load_tokenizer

    return load_tokenizer(ModelConfig())


def inspector(tokenizer: Any, rows: list[dict], tmp_path: Path, max_length: int = 64,
              **chat_settings: Any) -> Inspector:
    config = default_config()
    config.dataset.max_length = max_length
    for key, value in chat_settings.items():
        setattr(config.chat, key, value)
    return Inspector(config, cache=tmp_path / "cache").load(tokenizer=tokenizer, ds=rows)


def test_checks_find_each_known_problem_row_and_offer_its_fixes(tokenizer: Any, tmp_path: Path) -> None:
    ins = inspector(tokenizer, ROWS, tmp_path)
    assert ins.format == "messages" and ins.train_on == "assistant"
    assert ins.template_name == "chatml"
    checks = ins.check()
    assert checks.rows == 5 and not checks.from_cache
    assert sorted(checks.failures) == [3] and "wizard" in checks.failures[3]
    assert checks.cut_before_reply_rows() == [1]
    assert checks.no_trained_rows() == [1]
    assert checks.reply_cut_rows() == [2]
    # The cut reply loses its end-of-turn token; every reply kept whole trains it.
    assert checks.end_not_trained_rows() == [2]
    assert checks.untrained_count() == 2  # row 1 (cut before the reply) and row 3 (cannot be rendered)
    # The totals are render_and_label's own labels, row by row.
    expected = sum(sum(1 for label in render_and_label(tokenizer, row, ins.chat, 64, detection=ins.detection).labels
                       if label != -100) for row in ROWS)
    assert checks.total_trained == expected > 0

    problems = {p.kind: p for p in checks.problems(ins.chat)}
    assert set(problems) == {"failed", "cut_before_reply", "reply_cut"}
    assert problems["failed"].rows == [3] and problems["failed"].severity == "error"
    longest = max(len(render_and_label(tokenizer, row, ins.chat, 10**6, detection=ins.detection).input_ids)
                  for row in ROWS)
    raise_to = -(-longest // 64) * 64
    assert [f.overrides for f in problems["cut_before_reply"].fixes] == [
        {"dataset.max_length": raise_to}, {"chat.drop_untrained_rows": True}]
    assert "raise max_length" in problems["cut_before_reply"].message
    assert [f.overrides for f in problems["reply_cut"].fixes] == [{"dataset.max_length": raise_to}]

    # With that max_length nothing is cut any more, and only the unrenderable row is left.
    fixed = inspector(tokenizer, ROWS, tmp_path, max_length=raise_to).check()
    assert fixed.reply_cut_rows() == [] and fixed.no_trained_rows() == [] and fixed.end_trained
    assert {p.kind for p in fixed.problems()} == {"failed"}


def test_dropping_rows_is_not_offered_again_once_on(tokenizer: Any, tmp_path: Path) -> None:
    ins = inspector(tokenizer, ROWS[:3], tmp_path, drop_untrained_rows=True)
    problem = next(p for p in ins.check().problems(ins.chat) if p.kind == "cut_before_reply")
    assert [f.overrides for f in problem.fixes] == [{"dataset.max_length": problem.fixes[0].overrides[
        "dataset.max_length"]}]
    assert problem.severity == "warning"


def test_a_template_whose_replies_end_on_no_token_is_caught_with_its_fix(tokenizer: Any, tmp_path: Path) -> None:
    ins = inspector(tokenizer, [ROWS[0], ROWS[4]], tmp_path, max_length=512, template=NO_END_TEMPLATE)
    checks = ins.check()
    assert checks.no_trained_rows() == [] and checks.end_not_trained_rows() == [0, 1]
    assert not checks.end_trained
    problem = next(p for p in checks.problems(ins.chat) if p.kind == "end_not_trained")
    assert problem.count == 2 and [f.overrides for f in problem.fixes] == [{"chat.train_on": "all"}]
    assert "2 rows train a reply without its end-of-turn token" in checks_summary(checks)


def test_the_run_and_the_inspector_judge_reply_ends_with_one_rule(tokenizer: Any, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A row's "end-of-turn token is not trained" problem (what a run refuses) and the Inspector's whole-dataset
    count both come from core.chat.SpanEnds, so they cannot drift apart: each verdict here goes through it."""
    from finetune_studio.core import chat as chats

    seen: list[tuple[int, int]] = []
    original = chats.SpanEnds.count

    def spy(self: Any, ids: list[int], roles: list[str]) -> tuple[int, int]:
        seen.append(original(self, ids, roles))
        return seen[-1]

    monkeypatch.setattr(chats.SpanEnds, "count", spy)
    ins = inspector(tokenizer, [ROWS[0], ROWS[4]], tmp_path, max_length=512, template=NO_END_TEMPLATE)
    labeled = render_and_label(tokenizer, ROWS[0], ins.chat, 512, detection=ins.detection)
    assert any("end-of-turn token is not trained" in problem for problem in labeled.problems)
    assert seen == [(1, 0)]  # the row's own check: one reply, not ended on a special token
    seen.clear()
    checks = ins.check()
    assert checks.end_not_trained_rows() == [0, 1]
    assert seen.count((1, 0)) >= 2  # the Inspector counted each row's spans with the same rule


def test_prompt_completion_and_alpaca_rows_train_the_completion_and_its_end(tokenizer: Any, tmp_path: Path) -> None:
    rows = [{"prompt": "The sky is", "completion": " blue."}, {"prompt": "Two and two make", "completion": " four."}]
    checks = inspector(tokenizer, rows, tmp_path, max_length=512).check()
    assert checks.format == "prompt_completion" and checks.end_trained
    assert checks.counts["trained"].tolist() == [
        sum(1 for x in render_and_label(tokenizer, r, Inspector(default_config()).chat, 512).labels if x != -100)
        for r in rows]
    alpaca = [{"instruction": "Name a colour.", "input": "", "output": "Red."}]
    ins = inspector(tokenizer, alpaca, tmp_path / "a", max_length=512)
    checks = ins.check()
    assert ins.format == "alpaca" and checks.end_trained and checks.no_trained_rows() == []


def test_the_second_check_reads_the_cache_and_another_setting_does_not(tokenizer: Any, tmp_path: Path) -> None:
    reports: list[tuple[int, int]] = []
    first = inspector(tokenizer, ROWS, tmp_path).check(progress=lambda d, t: reports.append((d, t)))
    assert reports[-1] == (5, 5)
    files = list((tmp_path / "cache").glob("*.npz"))
    assert len(files) == 1
    with np.load(files[0]) as stored:
        assert json.loads(str(stored["meta"]))["rows"] == 5 and stored["trained"].tolist() == first.counts[
            "trained"].tolist()
    second = inspector(tokenizer, ROWS, tmp_path).check()
    assert second.from_cache and second.failures == first.failures
    assert {k: v.tolist() for k, v in second.counts.items()} == {k: v.tolist() for k, v in first.counts.items()}
    # Another max_length, another train_on, other data: computed again, each in a file of its own.
    assert not inspector(tokenizer, ROWS, tmp_path, max_length=128).check().from_cache
    assert not inspector(tokenizer, ROWS, tmp_path, train_on="all").check().from_cache
    assert not inspector(tokenizer, ROWS[:4], tmp_path).check().from_cache
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 4


def test_a_stopped_check_returns_nothing_and_caches_nothing(tokenizer: Any, tmp_path: Path) -> None:
    stop = threading.Event()
    stop.set()
    assert inspector(tokenizer, ROWS, tmp_path).check(stop=stop) is None
    assert not list((tmp_path / "cache").glob("*"))


def test_histogram_and_lengths_count_every_rendered_row(tokenizer: Any, tmp_path: Path) -> None:
    checks = inspector(tokenizer, ROWS, tmp_path).check()
    edges, trained, prompt = checks.histogram(bins=10)
    assert len(edges) == 11 and sum(trained) == sum(prompt) == 4  # the unrenderable row is not counted
    stats = length_stats(checks)
    assert stats.longest == max(checks.counts["total"]) and stats.truncated == 2  # rows 1 and 2 exceed 64


def test_trained_spans() -> None:
    assert trained_spans(["prompt", "trained", "trained", "special", "trained"]) == [(1, 3), (4, 5)]
    assert trained_spans(["prompt"]) == []


def test_the_tokenizer_alone_is_enough(demo_cache: Path, tmp_path: Path) -> None:
    """No weights anywhere: the demo model's folder without model.safetensors (config and tokenizer files only, as
    before a download of the weights) is inspected like the model."""
    import shutil

    from finetune_studio.core.demo import demo_model_path

    folder = tmp_path / "tokenizer-only"
    folder.mkdir()
    for path in demo_model_path().iterdir():
        if path.name.startswith(("tokenizer", "special_tokens")) or path.name == "config.json":
            shutil.copy(path, folder / path.name)
    assert not any(p.suffix in (".safetensors", ".bin") for p in folder.iterdir())
    config = default_config()
    config.model.name_or_path = str(folder)
    ins = Inspector(config, cache=tmp_path / "cache").load(ds=ROWS[:1])
    labeled = ins.row(0)
    assert [t for t, r in ins.pieces(labeled) if r == "trained"] and ins.check().rows == 1


def test_a_large_file_is_first_read_by_a_child_process(demo_cache: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """datasets' first parse of a large file (seconds under the GIL) happens in a child; this process then opens
    the cached table, and a second load asks no child."""
    import subprocess

    from finetune_studio.core import inspector as module

    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "datasets"))
    path = tmp_path / "chats.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS), encoding="utf-8")
    monkeypatch.setattr(module, "BUILD_IN_CHILD_BYTES", 1)
    calls: list[list[str]] = []
    real_run = subprocess.run
    monkeypatch.setattr(subprocess, "run", lambda args, **kw: calls.append(args) or real_run(args, **kw))
    config = default_config()
    config.dataset.source = str(path)
    first = module.load_rows(config.dataset)
    assert len(calls) == 1 and calls[0][1] == "-c"
    assert len(first) == 5 and first[1]["messages"] == ROWS[1]["messages"]
    assert list((tmp_path / "datasets").rglob("*.arrow"))  # the child built datasets' cache
    assert len(module.load_rows(config.dataset)) == 5 and len(calls) == 1
