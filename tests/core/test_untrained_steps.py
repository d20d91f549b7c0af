"""Optimizer steps whose batches train no token (chat rows that max_length cuts before their reply): they log no
loss, so the chart, the Runs tab, the model card and status.json never show a loss of 0.0 that nothing measured,
and the run's final train loss is the last window that trained tokens. The losses of the steps that do train
tokens are the Trainer's own."""

from __future__ import annotations

import json

import pytest

from tests.helpers import read_events, small_config


def _chats(path, trained: set[int], rows: int = 20):
    """`rows` conversations; those not in `trained` ask a question too long for max_length 64 (nothing trains)."""
    long = "x " * 400
    items = [{"messages": [{"role": "user", "content": "Short?" if i in trained else long},
                           {"role": "assistant", "content": "Fire."}]} for i in range(rows)]
    path.write_text("".join(json.dumps(r) + "\n" for r in items), encoding="utf-8")
    return path


def _config(path, runs_dir, name: str, **training):
    config = small_config(path, runs_dir, max_steps=10, per_device_train_batch_size=1, eval_strategy="no",
                          save_strategy="no", load_best_model_at_end=False, **training)
    config.dataset.test_size = 0.0
    config.name = name
    return config


@pytest.mark.slow
def test_steps_that_train_no_token_log_no_loss_and_the_final_loss_is_the_last_trained_window(demo_cache, runs_dir,
                                                                                             tmp_path):
    from finetune_studio.core.metrics import MetricsTally, read_metrics
    from finetune_studio.core.model_card import _final_losses
    from finetune_studio.core.training import run

    data = _chats(tmp_path / "mostly-cut.jsonl", trained={0, 5, 10, 15, 19})
    each = run(_config(data, runs_dir, "each", logging_steps=1))
    assert each.state == "finished"
    logs = read_events(each.run_dir, "log")
    assert [e["step"] for e in logs] == list(range(1, 11))  # every step still logs (learning rate, grad norm)
    assert all("learning_rate" in e and "grad_norm" in e for e in logs)
    losses = {e["step"]: e["loss"] for e in logs if "loss" in e}
    assert 0 < len(losses) < 10, losses  # the seed's order mixes both kinds of step
    assert all(loss > 1.0 for loss in losses.values()), losses  # no 0.0 for a step that trained nothing
    last = losses[max(losses)]
    status = json.loads((each.run_dir / "status.json").read_text())
    assert status["train_loss"] == pytest.approx(last) and each.train_loss == pytest.approx(last)
    tally = MetricsTally()
    for event in read_metrics(each.run_dir / "metrics.jsonl")[0]:
        tally.add(event)
    assert tally.train_loss == pytest.approx(last)  # the Runs tab and `finetune-studio runs`
    assert _final_losses(status, read_metrics(each.run_dir / "metrics.jsonl")[0])[0] == pytest.approx(last)
    summary = read_events(each.run_dir, "summary")[-1]
    assert summary["train_loss"] == pytest.approx(sum(losses.values()) / len(losses), rel=1e-5)

    # Windows of 5 steps: each one's loss is the mean of its steps that trained tokens, the very figures logged
    # per step above (the same training); with logging_nan_inf_filter off, the NaN of an empty step is not taken
    # for a diverged run.
    windows = run(_config(data, runs_dir, "windows", logging_steps=5, logging_nan_inf_filter=False))
    assert windows.state == "finished"
    for event in read_events(windows.run_dir, "log"):
        inside = [loss for step, loss in losses.items() if event["step"] - 5 < step <= event["step"]]
        if inside:
            assert event["loss"] == pytest.approx(sum(inside) / len(inside), rel=1e-5)
        else:
            assert "loss" not in event
    assert any(0 < len([s for s in losses if w - 5 < s <= w]) < 5 for w in (5, 10))  # a mixed window was checked


@pytest.mark.slow
def test_two_processes_leave_out_the_steps_that_train_no_token_on_every_rank(demo_cache, runs_dir, tmp_path):
    """Under torchrun every rank takes the window's figures at the same log (a gather), so no rank waits on another
    and the logged loss is the ranks' mean over the steps that trained tokens."""
    from finetune_studio.core import launch

    data = _chats(tmp_path / "mostly-cut.jsonl", trained={0, 9, 17}, rows=24)
    config = _config(data, runs_dir, "ranks", logging_steps=1)
    config.launch.processes = 2
    result = launch.run(config)
    assert result.state == "finished", result.message
    logs = read_events(result.run_dir, "log")
    assert [e["step"] for e in logs] == list(range(1, 11))
    losses = [e["loss"] for e in logs if "loss" in e]
    assert 0 < len(losses) < 10 and all(loss > 1.0 for loss in losses), logs
    status = json.loads((result.run_dir / "status.json").read_text())
    assert status["train_loss"] == pytest.approx(losses[-1])
