"""The result a followed multi-process run ends with, read from its status.json: status.json keeps the keys of
earlier segments, so a run finished, resumed for more epochs and stopped still held the first finish's model_dir,
and its stopped result named a model (helper-47 noticed; the one-process result of the same stop names none)."""

from __future__ import annotations

from pathlib import Path

from finetune_studio.core import launch
from finetune_studio.core.runs import RunFolder


def test_a_stopped_segment_after_a_finish_names_no_model(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path / "r")
    folder.path.mkdir()
    folder.write_status("finished", "Finished.", step=24, max_steps=24, model_dir=str(folder.model_dir),
                        finished=1.0, train_loss=1.5)
    finished = launch._ended_result(folder.path, folder.read_status())
    assert (finished.state, finished.step, finished.model_dir) == ("finished", 24, folder.model_dir)
    folder.write_status("stopped", "Stopped at step 30 of 48, resumable.", step=30, max_steps=48)
    status = folder.read_status()
    assert status["model_dir"] == str(folder.model_dir)  # the stale key is still in the file
    stopped = launch._ended_result(folder.path, status)
    assert (stopped.state, stopped.step, stopped.max_steps, stopped.model_dir) == ("stopped", 30, 48, None)
    assert stopped.message == "Stopped at step 30 of 48, resumable." and stopped.train_loss == 1.5
