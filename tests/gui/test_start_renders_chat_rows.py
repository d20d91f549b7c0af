"""The window's Start renders the first chat rows with the run's tokenizer before it claims a run folder, as
`finetune-studio validate` and `train` do (validate(render_rows=True) in core.training.run): a chat dataset none
of whose rows trains a token used to start, tokenize, and fail with a failed run folder left behind. Now Start is
refused with the problem at its field and in the dialog, and no folder is made."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from finetune_studio.gui.run_header import RunState
from tests.gui.test_app import LONG, DialogLog, dialog_log, make_window
from tests.helpers import small_config

LONG_QUESTION = "x " * 400  # max_length 64 cuts it before the reply: the row trains nothing


def _chats(path: Path, questions: list[str]) -> Path:
    rows = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": "Fire."}]}
            for q in questions]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_start_refuses_a_chat_dataset_that_trains_no_token_before_a_folder(qtbot: Any, make_window: Any,
                                                                           tmp_path: Path, runs_dir: Path,
                                                                           dialog_log: DialogLog) -> None:
    data = _chats(tmp_path / "cut.jsonl", [LONG_QUESTION] * 30)
    window = make_window()
    config = small_config(data, runs_dir, max_steps=2, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False)
    config.name = "cut"
    window.set_config(config)
    qtbot.waitUntil(lambda: window.start_action.isEnabled(), timeout=LONG)  # the edit-time check finds nothing
    window.start_action.trigger()
    qtbot.waitUntil(lambda: not window.runner.running and bool(dialog_log.errors), timeout=LONG)

    said = (f"{data}: none of its 30 rows has a token to train: max_length 64 cuts every one before its reply (or "
            "no row has one), so the run would learn nothing. Raise max_length or check train_on.")
    assert [(p.field, p.message) for p in window.problems] == [("dataset.max_length", said)]
    assert dialog_log.errors[0][0] == "Cannot start" and said in dialog_log.errors[0][1]
    assert window.state is RunState.IDLE and not window.start_action.isEnabled()
    assert not (runs_dir / "cut").exists() and (not runs_dir.exists() or list(runs_dir.iterdir()) == [])

    _chats(data, [LONG_QUESTION] * 29 + ["Short?"])  # one row trains: Start goes ahead
    config.dataset.max_length = 63  # an edit, so the window checks the config again and enables Start
    window.set_config(config)
    qtbot.waitUntil(lambda: window.start_action.isEnabled(), timeout=LONG)
    window.start_action.trigger()
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED, timeout=LONG)
    assert len(dialog_log.errors) == 1
    assert (runs_dir / "cut" / "metrics.jsonl").exists()
