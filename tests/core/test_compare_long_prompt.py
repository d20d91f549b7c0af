"""Compare checkpoints with one saved prompt longer than the model reads: it ended the whole comparison with the
chat's advice ("To fix: shorten it, or start a new conversation"), no answer made. Now that prompt is skipped on
every model, said once in the comparison's words, and the other prompts are answered by every model."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import answers as saved
from finetune_studio.core import generate as g
from tests.gui.test_try_tab_states import make_run

LONG = "word " * 600  # about 1200 tokens; the demo model reads 512


@pytest.fixture
def run_dir(demo_cache: Path, tmp_path: Path) -> Path:
    from finetune_studio.core.demo import demo_model_path

    return make_run(tmp_path / "runs", "run", demo_model_path(), steps=(4,))


def test_a_prompt_too_long_is_skipped_once_and_the_rest_are_compared(run_dir: Path) -> None:
    events: list[dict] = []
    table = g.compare_checkpoints(run_dir, ["Aries", LONG, "Leo"], g.GenerationSettings(max_new_tokens=2),
                                  sink=events.append, where="cpu")
    skipped = [e for e in events if e["event"] == "skipped"]
    assert len(skipped) == 1 and skipped[0]["prompt"] == LONG and skipped[0]["model"] is None
    tokens = int(skipped[0]["text"].split("context (")[1].split(" ")[0])
    assert tokens > 512
    assert skipped[0]["text"] == (
        f'prompt 2 ("word word word word word word…") is longer than the model\'s context ({tokens} tokens, limit '
        "512, prompt and answer together): skipped on every model. To fix: shorten it to well under 512 tokens "
        "(save the shorter one, remove this one), then compare again.")
    assert "conversation" not in skipped[0]["text"]
    assert table.models == ["base", "checkpoint-4", "final"]
    answered = sorted((r["prompt"], r["model"]) for r in saved.read_answers(run_dir))
    assert answered == sorted((p, m) for p in ("Aries", "Leo") for m in ("base", "checkpoint-4", "final"))
    assert table.prompts == ["Aries", LONG, "Leo"] and table.answer(LONG, "base") is None


def test_every_prompt_too_long_is_refused_before_loading(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_load(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(g, "load_weights", no_load)
    with pytest.raises(g.GenerationError) as caught:
        g.compare_checkpoints(run_dir, [LONG, LONG + "x"], g.GenerationSettings(max_new_tokens=2), where="cpu")
    assert str(caught.value) == (
        "Every saved prompt is longer than the model's context (limit 512 tokens, prompt and answer together), so "
        "there is nothing to compare on. To fix: save shorter prompts, well under 512 tokens, and remove the long "
        "ones.")


def test_a_model_whose_context_only_loading_tells_skips_the_prompt_once(run_dir: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Measured after loading (stream_answer's PromptTooLong), for a model whose config.json cannot be read here."""
    monkeypatch.setattr(g, "prompt_problems", lambda *_args, **_kwargs: [])
    events: list[dict] = []
    g.compare_checkpoints(run_dir, [LONG, "Leo"], g.GenerationSettings(max_new_tokens=2), sink=events.append,
                          where="cpu")
    assert [e["prompt"] for e in events if e["event"] == "skipped"] == [LONG]
    assert sorted(r["model"] for r in saved.read_answers(run_dir)) == ["base", "checkpoint-4", "final"]
