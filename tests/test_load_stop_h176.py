"""core.generate.load can be stopped (the Try tab's Stop while a model loads): it ends with LoadStopped between two
tensors of a model or between two steps, keeps nothing it loaded, and leaves every other load untouched."""

from __future__ import annotations

import gc
import json
import shutil
import threading
import traceback
import weakref
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import generate as g

FREE = 1 << 50  # both models fit: the load takes both, one after the other within it


@pytest.fixture(scope="module")
def run_dir(demo_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder as training leaves it (the demo model's files as its final model), its base the demo model."""
    from finetune_studio.core.config import default_config, save_config
    from finetune_studio.core.demo import demo_model_path

    model = demo_model_path()
    folder = tmp_path_factory.mktemp("stop-runs") / "run"
    shutil.copytree(model, folder / "model")
    (folder / "model" / "trainer_state.json").write_text(json.dumps({"global_step": 8}))
    config = default_config()
    config.model.name_or_path = str(model)
    save_config(config, folder / "config.yaml")
    return folder


def stop_at(said: list[str], stop: threading.Event, words: str) -> Any:
    def progress(text: str) -> None:
        said.append(text)
        if text.startswith(words):
            stop.set()

    return progress


def test_a_stopped_load_ends_inside_the_weights_of_the_model_being_read(run_dir: Path) -> None:
    source = g.resolve(run_dir / "model")
    stop, said = threading.Event(), []
    with pytest.raises(g.LoadStopped) as stopped:
        g.load(source, stop_at(said, stop, "Loading the base model"), where="cpu", free=FREE, stop=stop)
    assert said == [f"Loading the tokenizer of {source.name}…", f"Loading the base model ({source.base.name_or_path})…"]
    files = [Path(frame.filename).name for frame in traceback.extract_tb(stopped.value.__traceback__)]
    assert "core_model_loading.py" in files, f"stopped between tensors of from_pretrained, not after it: {files}"
    assert str(stopped.value) == "The load was stopped."


def test_a_load_stopped_after_one_model_lets_that_model_go(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = g.resolve(run_dir / "model")
    made: list[weakref.ref] = []
    real = g.Loaded.load_side

    def load_side(self: g.Loaded, side: str) -> Any:
        model = real(self, side)
        made.append(weakref.ref(model))
        return model

    monkeypatch.setattr(g.Loaded, "load_side", load_side)
    stop, said = threading.Event(), []
    with pytest.raises(g.LoadStopped):
        g.load(source, stop_at(said, stop, "Loading the fine-tuned model"), where="cpu", free=FREE, stop=stop)
    assert said[-1].startswith("Loading the fine-tuned model") and "Ready." not in said
    gc.collect()
    assert len(made) == 1 and made[0]() is None, "the base model it had loaded is not kept"


def test_only_the_stopped_thread_stops_and_other_loads_go_on(run_dir: Path) -> None:
    """The weight-reading loop checks the stop event of the thread that loads under it, not of any other."""
    source = g.resolve(run_dir / "model")
    stop = threading.Event()
    stop.set()
    outcome: dict[str, Any] = {}

    def elsewhere() -> None:
        outcome["loaded"] = g.load(source, where="cpu", free=FREE)

    with g.stoppable(stop):
        other = threading.Thread(target=elsewhere)
        other.start()
        other.join(120)
        with pytest.raises(g.LoadStopped):
            g.load_weights(source.base, "cpu")
    assert sorted(outcome["loaded"].models) == [g.BASE, g.TUNED]
    loaded = g.load(source, where="cpu", free=FREE, stop=threading.Event())  # a stop event never set: a plain load
    assert sorted(loaded.models) == [g.BASE, g.TUNED] and not loaded.failed
