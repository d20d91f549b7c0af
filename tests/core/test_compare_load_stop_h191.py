"""Stop on the Compare page during a checkpoint's load: compare_checkpoints loaded each checkpoint without
core.generate.stoppable, so Stop waited for the whole load (then the comparison ended). Now each model loads under
stoppable(stop): the load ends between two tensors, the sink hears {"event": "load stopped", "model", "label"},
nothing of that model is kept (no answer, no "skipped"), no model after it is loaded, and the answers already made
stay in answers.jsonl.

The load is the real one (the demo model), made slow: transformers' per-tensor progress bar (core_model_loading.tqdm,
the loop core.generate.stoppable checks) sleeps SLOW_S before each tensor once `slow` is set (24 tensors: ~6 s)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import answers as saved
from finetune_studio.core import generate as g
from tests.core.test_load_stop_download_h188 import Stopper
from tests.gui.test_try_tab_states import make_run

SLOW_S = 0.25  # per tensor, once slowed
STOP_WITHIN_S = 2.5  # the old code took 5.8 s; a guard with room for a busy machine, the tensors read are checked


class SlowTensors:
    """transformers' progress-bar factory whose bars, while `slow` is set, take SLOW_S per tensor; counts them."""

    def __init__(self, factory: Any):
        self.factory = factory
        self.slow = threading.Event()
        self.read = 0  # tensors read while slow
        self.loads = 0  # bars made (one a load)
        self.slow_from: int | None = None  # or: slow from this load on (1: the first)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        bar = self.factory(*args, **kwargs)
        self.loads += 1
        if self.slow_from is not None and self.loads >= self.slow_from:
            self.slow.set()
        return self._slowly(bar) if self.slow.is_set() else bar

    def _slowly(self, bar: Any) -> Any:
        for item in bar:
            time.sleep(SLOW_S)
            self.read += 1
            yield item


@pytest.fixture
def tensors(monkeypatch: pytest.MonkeyPatch) -> SlowTensors:
    from transformers import core_model_loading

    slow = SlowTensors(core_model_loading.tqdm)
    monkeypatch.setattr(core_model_loading, "tqdm", slow)
    return slow


@pytest.fixture
def run_dir(demo_cache: Path, tmp_path: Path) -> Path:
    from finetune_studio.core.demo import demo_model_path

    return make_run(tmp_path / "runs", "run", demo_model_path(), steps=(4, 8))


def compare(run_dir: Path, tensors: SlowTensors, slow_at: str) -> tuple[Stopper, list[dict], threading.Event]:
    """The comparison in a thread; its loads turn slow when the progress line says `slow_at`."""
    events: list[dict] = []
    loading = threading.Event()

    def sink(event: dict) -> None:
        events.append(event)
        if event["event"] == "progress" and event["text"].startswith(slow_at):
            tensors.slow.set()
            loading.set()

    stopper = Stopper(lambda stop: g.compare_checkpoints(run_dir, ["Aries", "Leo"],
                                                         g.GenerationSettings(max_new_tokens=2), sink, stop, "cpu"))
    assert loading.wait(60), [e for e in events if e["event"] != "answer"]
    deadline = time.monotonic() + 30
    while tensors.read < 2 and time.monotonic() < deadline:  # the slow load is under way
        time.sleep(0.01)
    return stopper, events, loading


def test_stop_during_a_checkpoint_load_ends_it_and_keeps_the_answers_made(run_dir: Path,
                                                                          tensors: SlowTensors) -> None:
    stopper, events, _ = compare(run_dir, tensors, "Loading checkpoint-4")
    took = stopper.stop_now()
    assert took < STOP_WITHIN_S, f"{took:.2f} s from the stop to the end of the comparison"
    assert stopper.error is None, repr(stopper.error)
    assert tensors.read < 24, f"{tensors.read} of 24 tensors read: the load went on to its end"
    assert [e for e in events if e["event"] not in ("answer", "progress")] == [
        {"event": "load stopped", "model": "checkpoint-4", "label": "checkpoint-4"}]
    texts = [e["text"] for e in events if e["event"] == "progress"]
    assert texts[-1] == "Loading checkpoint-4…" and not any("checkpoint-8" in t or "final" in t for t in texts)
    assert [(e["prompt"], e["model"]) for e in events if e["event"] == "answer"] == [("Aries", "base"),
                                                                                      ("Leo", "base")]
    assert [(r["prompt"], r["model"]) for r in saved.read_answers(run_dir)] == [("Aries", "base"), ("Leo", "base")]
    assert sorted(stopper.result.cells) == [("Aries", "base"), ("Leo", "base")]
    assert stopper.result.unsaved == ""


def test_stop_during_the_base_model_load_keeps_nothing(run_dir: Path, tensors: SlowTensors) -> None:
    stopper, events, _ = compare(run_dir, tensors, "Loading the base model")
    took = stopper.stop_now()
    assert took < STOP_WITHIN_S, f"{took:.2f} s from the stop to the end of the comparison"
    assert stopper.error is None, repr(stopper.error)
    assert [e for e in events if e["event"] != "progress"] == [
        {"event": "load stopped", "model": "base", "label": "the base model"}]
    assert saved.read_answers(run_dir) == []
    assert stopper.result.cells == {}


def test_stop_during_the_final_model_load_names_it(run_dir: Path, tensors: SlowTensors) -> None:
    stopper, events, _ = compare(run_dir, tensors, "Loading final model")
    took = stopper.stop_now()
    assert took < STOP_WITHIN_S, f"{took:.2f} s from the stop to the end of the comparison"
    assert [e for e in events if e["event"] == "load stopped"] == [
        {"event": "load stopped", "model": "final", "label": "the final model"}]
    assert sorted({r["model"] for r in saved.read_answers(run_dir)}) == ["base", "checkpoint-4", "checkpoint-8"]
    assert len(saved.read_answers(run_dir)) == 6
