"""Stop on the Compare page during an adapter checkpoint's load. 4dbe0a4 made Stop reach a full checkpoint's load
(between two tensors), but an adapter's weights are read by peft (load_peft_weights: safetensors' load_file, the
whole file in one call), out of that check's reach, so Stop ended an adapter's load only once it was loaded; and a
stop inside a second adapter's load (_add_adapter) would have been said as "checkpoint-2 skipped". Now, under
core.generate.stoppable, peft's reader reads the adapter's tensors one at a time, the stop checked before each
(core.generate._StoppableAdapterFile); peft does the rest (set_peft_model_state_dict), and answers are unchanged.

The run: a LoRA run of the demo recipe (2 steps, a checkpoint at each, and the final model: three adapters of 28
tensors). Its adapters' lora_B tensors are then set to seeded random values, so each model answers differently from
the base and from the others (after 2 steps they all answered as the base did) and an answer shows which weights
made it. The read is made slow by a stand-in for safetensors' safe_open (which load_file and the per-tensor reader
both open the file with) that takes SLOW_S per tensor once `slow` is set, and counts them."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from finetune_studio.core import answers as saved
from finetune_studio.core import generate as g
from tests.core.test_load_stop_download_h188 import Stopper

TENSORS = 28  # in each adapter_model.safetensors of the run
SLOW_S = 0.2  # per tensor, once slowed: a whole adapter ~5.6 s
STOP_WITHIN_S = 2.5  # a guard with room for a busy machine; the tensors read are checked
PROMPTS = ["Aries", "Leo"]
SETTINGS = g.GenerationSettings(max_new_tokens=6)


@pytest.fixture(scope="module")
def lora_checkpoints(demo_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from finetune_studio.core.training import run
    from tests.helpers import SAMPLE, small_config

    root = tmp_path_factory.mktemp("compare-adapter-stop")
    data = root / "small.jsonl"
    data.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:64]) + "\n", encoding="utf-8")
    config = small_config(data, root / "runs", max_steps=2, eval_strategy="no", save_strategy="steps", save_steps=1,
                          load_best_model_at_end=False, learning_rate=1e-2)
    config.name = "lora-checkpoints"
    config.adapter.method = "lora"
    config.adapter.r = 4
    result = run(config)
    assert result.state == "finished", result.message
    run_dir = Path(result.run_dir)
    files = sorted(run_dir.glob("*/adapter_model.safetensors"))
    assert [f.parent.name for f in files] == ["checkpoint-1", "checkpoint-2", "model"]
    for seed, path in enumerate(files):
        with safe_open(str(path), "pt") as opened:
            metadata = opened.metadata()
        tensors = load_file(str(path))
        assert len(tensors) == TENSORS
        generator = torch.Generator().manual_seed(seed)
        for name, tensor in tensors.items():
            if "lora_B" in name:
                tensors[name] = torch.randn(tensor.shape, generator=generator, dtype=tensor.dtype) * 0.5
        save_file(tensors, str(path), metadata=metadata)
    return run_dir


@pytest.fixture
def run_dir(lora_checkpoints: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(lora_checkpoints, copy)
    (copy / "answers.jsonl").unlink(missing_ok=True)
    return copy


class SlowReads:
    """safetensors' safe_open whose files, while `slow` is set, take SLOW_S per tensor read; counts those reads and
    calls `after_read(count)` after each."""

    def __init__(self, real: Callable[..., Any]):
        self.real = real
        self.slow = threading.Event()
        self.read = 0
        self.after_read: Callable[[int], None] = lambda _count: None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _Opened(self, self.real(*args, **kwargs))


class _Opened:
    def __init__(self, reads: SlowReads, opened: Any):
        self._reads = reads
        self._opened = opened

    def __enter__(self) -> _Opened:
        self._opened.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        return self._opened.__exit__(*exc)

    def get_tensor(self, name: str) -> Any:
        if self._reads.slow.is_set():
            time.sleep(SLOW_S)
            self._reads.read += 1
            tensor = self._opened.get_tensor(name)
            self._reads.after_read(self._reads.read)
            return tensor
        return self._opened.get_tensor(name)

    def get_tensors(self) -> dict[str, Any]:  # safetensors.torch.load_file's one call: slow too, tensor by tensor
        return {name: self.get_tensor(name) for name in self._opened.offset_keys()}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._opened, name)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> SlowReads:
    import safetensors
    import safetensors.torch

    slow = SlowReads(safetensors.safe_open)
    monkeypatch.setattr(safetensors, "safe_open", slow)
    monkeypatch.setattr(safetensors.torch, "safe_open", slow)
    return slow


def compare(run_dir: Path, reads: SlowReads, slow_at: str) -> tuple[Stopper, list[dict]]:
    """The comparison in a thread; its reads turn slow when the progress line says `slow_at`; returns once two
    tensors of that load are read."""
    events: list[dict] = []
    loading = threading.Event()

    def sink(event: dict) -> None:
        events.append(event)
        if event["event"] == "progress" and event["text"].startswith(slow_at):
            reads.slow.set()
            loading.set()

    stopper = Stopper(lambda stop: g.compare_checkpoints(run_dir, PROMPTS, SETTINGS, sink, stop, "cpu"))
    assert loading.wait(120), [e for e in events if e["event"] != "answer"]
    deadline = time.monotonic() + 30
    while reads.read < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    return stopper, events


@pytest.mark.parametrize("label, before", [("checkpoint-1", ["base"]), ("checkpoint-2", ["base", "checkpoint-1"])])
def test_stop_during_an_adapters_load_ends_it_within_a_moment(run_dir: Path, reads: SlowReads, label: str,
                                                               before: list[str]) -> None:
    """checkpoint-1: the first adapter (PeftModel.from_pretrained on the base); checkpoint-2: one more beside it
    (PeftModel.load_adapter). Either way: stopped between two tensors, said as stopped, not as skipped."""
    stopper, events = compare(run_dir, reads, f"Loading the adapter of {label}")
    took = stopper.stop_now()
    assert stopper.error is None, repr(stopper.error)
    assert took < STOP_WITHIN_S, f"{took:.2f} s from the stop to the end of the comparison"
    assert reads.read < TENSORS, f"{reads.read} of {TENSORS} tensors read: the adapter's load went on to its end"
    assert [e for e in events if e["event"] not in ("answer", "progress")] == [
        {"event": "load stopped", "model": label, "label": label}]
    texts = [e["text"] for e in events if e["event"] == "progress"]
    assert texts[-1] == f"Loading the adapter of {label}…"
    kept = [(prompt, model) for model in before for prompt in PROMPTS]
    assert [(r["prompt"], r["model"]) for r in saved.read_answers(run_dir)] == kept
    assert sorted(stopper.result.cells) == sorted(kept)


def test_a_second_adapter_stopped_partway_is_not_applied(run_dir: Path, reads: SlowReads) -> None:
    """_add_adapter stopped after two of its 28 tensors: LoadStopped, checkpoint-2's adapter is deleted again, and
    the PeftModel answers as checkpoint-1 did before (it had been "checkpoint-2 skipped", or the whole adapter)."""
    from finetune_studio.core.adapters import grow_embeddings

    source = g.resolve(run_dir)
    tokenizer = g.load_tokenizer(source)
    first, second = (t for t in g.targets(run_dir) if t.label in ("checkpoint-1", "checkpoint-2"))
    base = g.load_weights(source.base, "cpu")
    grow_embeddings(base, len(tokenizer))
    model = g._with_adapter(base, first, adapter_name=first.key)
    rendered = g.render(tokenizer, "Leo", chat=False)

    def answer() -> str:
        return g.stream_answer(model, tokenizer, rendered, SETTINGS.greedy(), threading.Event()).text

    before = answer()
    stop = threading.Event()
    reads.slow.set()
    reads.after_read = lambda count: stop.set() if count == 2 else None
    with g.stoppable(stop), pytest.raises(g.LoadStopped, match="^The load was stopped.$"):
        g._add_adapter(model, second)
    assert reads.read == 2, "the stop was heard before the third tensor"
    assert list(model.peft_config) == ["checkpoint-1"] and model.active_adapter == "checkpoint-1"
    assert not [name for name, _ in model.named_parameters() if "checkpoint-2" in name]
    assert answer() == before


def test_an_unstopped_comparison_answers_as_the_adapters_loaded_by_peft_alone(run_dir: Path) -> None:
    """The comparison's adapters (read tensor by tensor under stoppable) answer exactly as each adapter loaded by
    peft's own load_file path (outside stoppable) on a fresh base; the per-tensor read gives load_file's tensors."""
    import torch
    from peft.utils import save_and_load
    from safetensors.torch import load_file

    from finetune_studio.core.adapters import grow_embeddings, load_adapter

    table = g.compare_checkpoints(run_dir, PROMPTS, SETTINGS, where="cpu")
    assert table.models == ["base", "checkpoint-1", "checkpoint-2", "final"]
    made = {(r["prompt"], r["model"]): r["answer"] for r in saved.read_answers(run_dir)}

    source = g.resolve(run_dir)
    tokenizer = g.load_tokenizer(source)
    alone: dict[tuple[str, str], str] = {}
    for target in [None, *g.targets(run_dir)]:
        base = g.load_weights(source.base, "cpu")
        grow_embeddings(base, len(tokenizer))
        model = base if target is None else load_adapter(base, target.path, adapter_name=target.key).eval()
        for prompt in PROMPTS:  # rendered as compare_checkpoints renders it
            rendered = g.render(tokenizer, prompt, chat=source.chat,
                                template=g.chat_template(tokenizer, source.chat_config) if source.chat else None)
            answer = g.stream_answer(model, tokenizer, rendered, SETTINGS.greedy(), threading.Event())
            alone[(prompt, "base" if target is None else target.key)] = answer.text
    assert made == alone
    assert len({made[("Leo", model)] for model in table.models}) == 4, made  # each model's weights show

    path = run_dir / "checkpoint-2" / "adapter_model.safetensors"
    whole = load_file(str(path))
    with g.stoppable(threading.Event()):
        tensor_by_tensor = save_and_load.safe_load_file(str(path), device="cpu")
    assert type(save_and_load.safe_load_file).__name__ == "_StoppableAdapterFile"
    assert list(tensor_by_tensor) == list(whole)
    assert all(torch.equal(tensor_by_tensor[k], whole[k]) and tensor_by_tensor[k].dtype == whole[k].dtype
               for k in whole)
