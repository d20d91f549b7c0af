"""core.threads: an answer generated on the CPU leaves a core to what shows it, for its own thread only."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from finetune_studio.core import generate as g
from finetune_studio.core import threads
from finetune_studio.core.config import ModelConfig


@pytest.fixture
def torch_threads():
    """Set torch's intra-op threads whatever the machine (2 as on the 2-core VM); put back after."""
    import torch

    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


def in_thread(work):
    got: list = []
    thread = threading.Thread(target=lambda: got.append(work()))
    thread.start()
    thread.join()
    return got[0]


def mkl_threads() -> int:
    library = threads._library(threads.MKL_OWNERS, "MKL_Get_Max_Threads")
    if library is None:
        pytest.skip("this torch build has no MKL")
    return library.MKL_Get_Max_Threads()


def test_the_rule_leaves_one_core_and_shares_the_rest() -> None:
    assert threads.answer_threads(1, cores=16) == 15
    assert threads.answer_threads(2, cores=16) == 7
    assert threads.answer_threads(1, cores=2) == 1
    assert threads.answer_threads(2, cores=2) == 1  # never none
    assert threads.answer_threads(1, cores=1) == 1


def test_the_count_is_this_threads_own_and_put_back(torch_threads) -> None:
    import torch

    torch_threads(2)
    def work():
        seen = {}
        with threads.this_thread_threads(1) as done:
            seen["set"] = done
            seen["inside"] = (torch.get_num_threads(), mkl_threads())
            # a thread started meanwhile (a training run) keeps the process's count
            seen["other"] = in_thread(lambda: (torch.get_num_threads(), mkl_threads()))
        seen["after"] = (torch.get_num_threads(), mkl_threads())
        return seen

    seen = in_thread(work)
    assert seen == {"set": True, "inside": (1, 1), "other": (2, 2), "after": (2, 2)}
    assert in_thread(torch.get_num_threads) == 2 and torch.get_num_threads() == 2


def test_a_cpu_answer_leaves_a_core_and_two_at_once_share_the_rest(torch_threads, demo_cache: Path) -> None:
    """The demo model answering in the Try tab's way, torch set to 4 threads: the threads each side's forward ran
    on. Greedy, both loaded: the two answer at the same time, (4 - 1) // 2 = 1 each; sampling (a seed to honour):
    one after the other, 4 - 1 = 3 each."""
    import torch

    from finetune_studio.core.demo import demo_model_path

    torch_threads(4)
    source = g.Source(g.Target("demo", demo_model_path(), None), ModelConfig())
    loaded = g.load(source, where="cpu")
    assert loaded.concurrent
    counts: dict[str, set[int]] = {"base": set(), "tuned": set()}
    for side, model in loaded.models.items():
        model.register_forward_pre_hook(lambda _m, _a, side=side: counts[side].add(torch.get_num_threads()))
    for settings, expected in ((g.GenerationSettings(max_new_tokens=4), 1),
                               (g.GenerationSettings(max_new_tokens=4, do_sample=True, seed=3), 3)):
        answers = in_thread(lambda settings=settings: g.answer_both(loaded, "Leo", settings))
        assert answers["base"].tokens == answers["tuned"].tokens == 4
        assert counts == {"base": {expected}, "tuned": {expected}}, settings
        counts["base"].clear(), counts["tuned"].clear()
    assert torch.get_num_threads() == 4 and in_thread(torch.get_num_threads) == 4  # the process's count is untouched


@pytest.mark.slow
def test_building_the_demo_model_keeps_the_processs_count_and_its_weights(torch_threads, demo_cache: Path,
                                                                          tmp_path: Path) -> None:
    """The demo's pre-training runs on one thread, its own: threads started meanwhile (a training run, when the Try
    tab builds the demo as Start is pressed) keep torch's count, and the weights are those of the cached build."""
    import hashlib
    import time

    import torch

    from finetune_studio.core import demo

    torch_threads(2)
    digest = hashlib.sha256((demo.demo_model_path() / "model.safetensors").read_bytes()).hexdigest()
    build = threading.Thread(target=demo.build_demo_model, args=(tmp_path / "demo",))
    build.start()
    counts: set[int] = set()
    while build.is_alive():
        counts.add(in_thread(torch.get_num_threads))
        time.sleep(0.02)
    build.join()
    assert counts == {2}
    assert hashlib.sha256((tmp_path / "demo" / "model.safetensors").read_bytes()).hexdigest() == digest


def test_without_the_libraries_only_a_required_count_is_set_and_then_for_the_process(torch_threads,
                                                                                   monkeypatch) -> None:
    import torch

    torch_threads(2)
    monkeypatch.setattr(threads, "_setters", lambda: (None, None))  # a torch build without OpenMP or MKL found

    def work(required: bool):
        with threads.this_thread_threads(1, required=required) as done:
            inside = (done, torch.get_num_threads())
        return inside, torch.get_num_threads()

    assert in_thread(lambda: work(False)) == ((False, 2), 2)  # an answer: left as torch runs it
    assert in_thread(lambda: work(True)) == ((True, 1), 2)  # the demo's build: the process's count, put back


def test_torch_s_own_openmp_runtime_is_the_one_set(monkeypatch) -> None:
    """Another package may have loaded a second OpenMP runtime first; setting its count would leave torch's team."""
    import ctypes
    import os

    import torch

    torch_gomp = os.path.join(os.path.dirname(torch.__file__), "lib", "libgomp.so.1")
    monkeypatch.setattr(threads, "_loaded_paths", lambda: ["/opt/other/lib/libgomp.so.1", torch_gomp])
    tried: list[str] = []

    class Library:
        omp_set_num_threads = None

        def __init__(self, path: str, mode: int = 0) -> None:
            tried.append(path)

    monkeypatch.setattr(ctypes, "CDLL", Library)
    assert isinstance(threads._library(threads.OPENMP_NAMES, "omp_set_num_threads"), Library)
    assert tried == [torch_gomp]
