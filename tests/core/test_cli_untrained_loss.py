"""The CLI's progress bar for a logging window that trained no token (chat rows that max_length cuts before their
reply): such a window logs no loss (core.training), and the bar keeps the last measured loss with its step and names
the steps that trained nothing, instead of `loss=?`; the Runs tab and status.json show that same last loss."""

from __future__ import annotations

import json

import pytest

from finetune_studio.core import cli
from finetune_studio.core.config import save_config
from finetune_studio.core.metrics import read_metrics
from tests.core.test_untrained_steps import _chats  # the same chats: some rows train no token
from tests.helpers import read_events, small_config


@pytest.mark.slow
def test_the_bar_keeps_the_last_measured_loss_through_windows_that_train_no_token(demo_cache, runs_dir, tmp_path,
                                                                                  capsys):
    data = _chats(tmp_path / "mostly-cut.jsonl", trained={0, 5, 10, 15, 19})
    config = small_config(data, runs_dir, max_steps=10, per_device_train_batch_size=1, eval_strategy="no",
                          save_strategy="no", load_best_model_at_end=False, logging_steps=1)
    config.dataset.test_size = 0.0
    config.name = "cut"
    save_config(config, tmp_path / "cut.yaml")
    assert cli.main(["train", str(tmp_path / "cut.yaml")]) == 0
    err = capsys.readouterr().err
    run_dir = runs_dir / "cut"
    logs = read_events(run_dir, "log")
    measured = [(e["step"], e["loss"]) for e in logs if "loss" in e]
    # The seed's order: steps 1-3 and 8-10 train no token, 4, 6 and 7 do (what this test is about: both kinds,
    # a run that opens with untrained steps and ends with them).
    assert [e["step"] for e in logs if "loss" not in e] == [1, 2, 3, 5, 8, 9, 10], logs
    assert "loss=?" not in err
    assert ("note: step 1 trained no token (max_length cut every reply in their batches, or the chat settings "
            "train none of their tokens), so no loss was measured for them; the bar keeps the last measured loss"
            in err)
    last_step, last = measured[-1]
    # The bar's last line (tqdm's close) holds the last window's postfix: the last measured loss, its step, and
    # the steps since that trained nothing; the same loss the run's status and `finetune-studio runs` show.
    assert f"loss={last:.4f} at step {last_step} (steps 8-10 trained no token)" in err, err
    status = json.loads((run_dir / "status.json").read_text())
    assert status["train_loss"] == pytest.approx(last)

    # Every log event of that run through a fresh printer, one at a time: what the bar says after each.
    printer = cli.ProgressPrinter()
    said = {}
    for event in read_metrics(run_dir / "metrics.jsonl")[0]:
        printer(event)
        if event["event"] == "log":
            said[event["step"]] = printer.bar.postfix.split(", tok/s=")[0]  # the speed follows the loss
    capsys.readouterr()
    loss = {step: f"{value:.4f}" for step, value in measured}
    assert said == {
        1: "loss=none yet (step 1 trained no token)",
        2: "loss=none yet (steps 1-2 trained no token)",
        3: "loss=none yet (steps 1-3 trained no token)",
        4: f"loss={loss[4]}",
        5: f"loss={loss[4]} at step 4 (step 5 trained no token)",
        6: f"loss={loss[6]}",
        7: f"loss={loss[7]}",
        8: f"loss={loss[7]} at step 7 (step 8 trained no token)",
        9: f"loss={loss[7]} at step 7 (steps 8-9 trained no token)",
        10: f"loss={loss[7]} at step 7 (steps 8-10 trained no token)",
    }, said
