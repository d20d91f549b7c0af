"""Stop pressed while a run on several machines waits at the rendezvous for the others. No rank has started, so none
reads the stop file: torchrun waited out join_timeout (300 s by default) and the run then failed with 'The machines
never all met'. The supervisor now ends torchrun at once and records the run stopped, nothing trained. Machine 1
is never started here (the wait a real user ends with Stop); Stop comes as the event (CLI Ctrl-C, an in-process
follower) and as the stop file (the window, which follows a detached supervisor)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from finetune_studio.core import launch
from finetune_studio.core.distributed import request_stop, stop_path
from finetune_studio.core.runs import RunFolder
from tests.helpers import free_port, read_events, small_config

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("how", ["event", "file"])
def test_stop_while_waiting_for_the_other_machines_ends_the_run_at_once(demo_cache: Path, small_dataset: Path,
                                                                        runs_dir: Path, how: str) -> None:
    from tests.core.test_launch_processes import run_processes

    config = small_config(small_dataset, runs_dir, max_steps=4)
    config.name = f"wait-{how}"
    config.launch.nodes = 2
    config.launch.rdzv_endpoint = f"127.0.0.1:{free_port()}"
    config.launch.join_timeout = 60
    run_dir = runs_dir / config.name
    stop = threading.Event()
    pressed: list[float] = []

    def press() -> None:
        pressed.append(time.monotonic())
        stop.set() if how == "event" else request_stop(run_dir)

    said: list[dict] = []

    def sink(event: dict) -> None:
        said.append(event)
        if event.get("event") == "phase" and event.get("phase") == "rendezvous":
            threading.Timer(2.0, press).start()  # torchrun has started and waits for machine 1

    result = launch.run(config, sink, stop)
    assert pressed and time.monotonic() - pressed[0] < 20  # not join_timeout's 60 s
    message = (f"Stopped while waiting for the other machines to join at {config.launch.rdzv_endpoint}: nothing was "
               "trained or saved. Start the run again as it is once every machine is ready to start its line (the "
               "same name takes this folder over).")
    assert (result.state, result.step, result.message) == ("stopped", 0, message)
    status = RunFolder(run_dir).read_status()
    assert (status["state"], status["message"]) == ("stopped", message)
    assert [(e["state"], e["message"]) for e in read_events(run_dir, "end")] == [("stopped", message)]
    assert [(e["state"], e["message"]) for e in said if e["event"] == "end"] == [("stopped", message)]
    assert not stop_path(run_dir).exists()
    assert run_processes(run_dir) == []
    from finetune_studio.core.training import new_run_folder

    assert new_run_folder(config)[1].path == run_dir  # nothing trained: the same name takes the folder over
