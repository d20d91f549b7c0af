"""GPU and memory samples over a run: recorded in step events, read back through core.metrics.ResourceCurves with
the resume rule."""

from __future__ import annotations

from finetune_studio.core.metrics import MetricsLog, ResourceCurves


def test_resource_curves_follow_steps_and_the_resume_rule(tmp_path) -> None:
    log = MetricsLog(tmp_path / "metrics.jsonl")
    log.append({"event": "train_begin", "step": 0, "start_step": 0, "max_steps": 6})
    for step in range(1, 5):
        event = {"event": "step", "step": step, "max_steps": 6, "epoch": step / 6, "memory_mb": 100.0 + step}
        if step % 2 == 0:
            event.update(gpu_memory_mb=[1000.0 + step, 500.0], gpu_util=[90.0, "nan"])
        log.append(event)
    log.append({"event": "log", "step": 4, "epoch": 0.6, "loss": 1.0})
    curves = ResourceCurves()
    assert curves.read_more(tmp_path / "metrics.jsonl")
    assert curves.memory.pairs() == [(1, 101.0), (2, 102.0), (3, 103.0), (4, 104.0)]
    assert [c.pairs() for c in curves.gpu_memory] == [[(2, 1002.0), (4, 1004.0)], [(2, 500.0), (4, 500.0)]]
    assert [c.pairs() for c in curves.gpu_util] == [[(2, 90.0), (4, 90.0)], []]  # "nan": not drawn
    # resumed from the checkpoint at step 2: what was recorded after it belongs to the attempt cut short
    log.append({"event": "train_begin", "step": 2, "start_step": 2, "max_steps": 6})
    log.append({"event": "step", "step": 3, "max_steps": 6, "epoch": 0.5, "memory_mb": 90.0})
    log.close()
    assert curves.read_more(tmp_path / "metrics.jsonl")
    assert curves.memory.pairs() == [(1, 101.0), (2, 102.0), (3, 90.0)]
    assert curves.gpu_memory[0].pairs() == [(2, 1002.0)]
    assert not curves.read_more(tmp_path / "metrics.jsonl")  # nothing new
