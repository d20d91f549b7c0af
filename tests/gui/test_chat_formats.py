"""Each instruction/chat format trains from the window (issue 15, "Done when"): an alpaca, a messages, a ShareGPT
and a prompt/completion file, picked in the Dataset tab and trained with Start on the demo model (tiny runs). The
tab detects the format, the run reads the rows the same way, and the model is saved."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.chat import FORMAT_NAMES
from finetune_studio.core.events import RunState
from tests.gui.test_app import LONG, DialogLog, dialog_log, make_window, start_run, wait_idle, wait_state, window
from tests.helpers import read_events, small_config


def _chats(count: int) -> list[dict]:
    from finetune_studio.resources.make_chat_sample import make_chats

    return make_chats(count)


def rows_in(fmt: str, count: int = 48) -> list[dict]:
    """The demo chat sample's conversations written in `fmt` (first user turn and its reply for the one-turn ones)."""
    out = []
    for chat in _chats(count):
        messages = chat["messages"]
        system = next((m["content"] for m in messages if m["role"] == "system"), None)
        user = next(m["content"] for m in messages if m["role"] == "user")
        reply = next(m["content"] for m in messages if m["role"] == "assistant")
        if fmt == "messages":
            out.append(chat)
        elif fmt == "sharegpt":
            names = {"system": "system", "user": "human", "assistant": "gpt"}
            out.append({"conversations": [{"from": names[m["role"]], "value": m["content"]} for m in messages]})
        elif fmt == "alpaca":
            out.append({"instruction": user, "input": "", "output": reply, **({"system": system} if system else
                                                                               {"system": ""})})
        else:
            out.append({"prompt": f"Question: {user}\nAnswer:", "completion": f" {reply}"})
    return out


pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["alpaca", "messages", "sharegpt", "prompt_completion"])
def test_each_chat_format_trains_from_the_window(qtbot: Any, window: Any, tmp_path: Path, runs_dir: Path,
                                                 fmt: str) -> None:
    path = tmp_path / f"{fmt}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows_in(fmt)), encoding="utf-8")
    config = small_config(path, runs_dir, max_steps=4, eval_steps=2, save_steps=4, logging_steps=1)
    config.dataset.max_length = 128
    window.set_config(config)
    form = window.dataset_form
    qtbot.waitUntil(lambda: form.preview_model.rowCount() == 20, timeout=LONG)
    assert form.effective_format() == fmt  # detected in the tab
    qtbot.waitUntil(lambda: form._checks is not None, timeout=LONG)  # the row checks: nothing to warn about
    assert form.start_warning() is None and form._checks.no_trained_rows() == []
    start_run(qtbot, window, config)
    wait_state(qtbot, window, RunState.FINISHED)
    wait_idle(qtbot, window)
    run_dir = window.run_dir
    notices = " ".join(e["message"] for e in read_events(run_dir, "notice"))
    assert f"Rows are {FORMAT_NAMES[fmt]}" in notices
    losses = [e["loss"] for e in read_events(run_dir, "log") if "loss" in e]
    assert len(losses) == 4 and all(isinstance(x, float) and math.isfinite(x) for x in losses)
    assert (window.model_dir / "config.json").is_file()
    assert read_events(run_dir, "data")[0]["train_rows"] > 0


def _stepping(run_dir: Path | None) -> bool:
    try:
        return run_dir is not None and bool(read_events(run_dir, "step"))
    except (OSError, ValueError):
        return False


@pytest.mark.slow
def test_the_inspector_works_while_a_run_trains(qtbot: Any, window: Any, tmp_path: Path, runs_dir: Path) -> None:
    path = tmp_path / "messages.jsonl"
    rows = rows_in("messages")
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = small_config(path, runs_dir, max_steps=2000, eval_steps=2000, save_steps=2000, logging_steps=50)
    config.dataset.max_length = 128
    start_run(qtbot, window, config)
    qtbot.waitUntil(lambda: _stepping(window.run_dir), timeout=LONG)  # optimizer steps are being taken
    window.dataset_form.open_inspector()
    inspector = window.dataset_form.inspector_window
    qtbot.waitUntil(lambda: bool(inspector.pieces) and inspector.checks is not None, timeout=LONG)
    assert window.runner.running  # the Inspector loaded its tokenizer and checked every row during the run
    replies = "".join(f"{m['content']}<|im_end|>\n" for m in rows[0]["messages"] if m["role"] == "assistant")
    assert "".join(text for text, role in inspector.pieces if role == "trained") == replies
    assert inspector.checks.rows == len(rows) and inspector.checks.no_trained_rows() == []
    inspector.close()
    window.stop()
    wait_state(qtbot, window, RunState.STOPPED)
    wait_idle(qtbot, window)
