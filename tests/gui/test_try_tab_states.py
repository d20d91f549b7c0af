"""The Try tab's states while jobs come and go: switching run or checkpoint mid-job, a load that fails with a prompt
waiting, a checkpoint deleted after the list was made, failed answers, Send while busy, and the Compare page's
Stop and its last word.

The runs are folders the listing reads, with the demo model's real files for each checkpoint and the final model
(no training); loading, answering and comparing are core.generate's functions replaced by fakes that hold until
the test lets them go, so each state is reached on purpose rather than by timing. Everything shown is the real
TryTab's widgets."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from finetune_studio.core import generate
from finetune_studio.core.generate import BASE, SIDES, TUNED, GenerationError

WAIT = 10_000
# The status line while and after a comparison (9c0ed45): what became of the Chat page's models, not how the
# comparison went, which the Compare page says once
COMPARED_NOTE = ("newer · final model is picked; its models load at the next Send (a comparison loads its own, one at "
                 "a time).")


def make_run(runs: Path, name: str, model: Path, steps: tuple[int, ...] = (4, 8)) -> Path:
    """A run folder as training leaves it: config.yaml, complete checkpoints (trainer_state.json) and model/. Built
    beside `runs` and moved in whole, so that a window already listing `runs` never reads it half copied (as
    tests.core.test_runs_history.make_run)."""
    from finetune_studio.core.config import default_config, save_config

    runs.mkdir(parents=True, exist_ok=True)
    if (runs / name).exists():
        raise FileExistsError(runs / name)
    run_dir = Path(tempfile.mkdtemp(prefix=".making-", dir=runs.parent))
    for step in steps:
        shutil.copytree(model, run_dir / f"checkpoint-{step}")
        (run_dir / f"checkpoint-{step}" / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    shutil.copytree(model, run_dir / "model")
    config = default_config()
    config.model.name_or_path = str(model)
    save_config(config, run_dir / "config.yaml")
    return run_dir.rename(runs / name)


class Fakes:
    """core.generate's load, answer_both and compare_checkpoints, held at `gate` (set: they run through)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.gate = threading.Event()
        self.gate.set()
        self.loads: list[str] = []
        self.asked: list[str] = []
        self.failing_loads: set[str] = set()
        self.side_errors: dict[str, str] = {}
        self.stream = False  # answers stream until stopped
        self.compare_hold_after: int | None = None
        self.compare_too_long: str | None = None  # a saved prompt the comparison skips on every model
        monkeypatch.setattr(generate, "load", self.load)
        monkeypatch.setattr(generate, "answer_both", self.answer_both)
        monkeypatch.setattr(generate, "compare_checkpoints", self.compare_checkpoints)

    def load(self, source: Any, progress: Any = None, **_kwargs: Any) -> Any:
        self.loads.append(source.name)
        if progress:
            progress(f"Loading the tokenizer of {source.name}…")
        assert self.gate.wait(WAIT / 1000)
        if source.name in self.failing_loads:
            raise GenerationError(f"Could not load {source.name}: its weights are damaged. To fix: pick another "
                                  "checkpoint.")
        return generate.Loaded(source, None, "cpu", "both", models={BASE: object(), TUNED: object()})

    def answer_both(self, loaded: Any, prompt: str, settings: Any, conversation: Any = None, stop: Any = None,
                    sink: Any = None, chat: bool | None = None) -> dict[str, Any]:
        from finetune_studio.core.generate import Answer, StopReason

        self.asked.append(prompt)
        if len(prompt) > 10_000:
            raise GenerationError("The conversation is longer than the model's context (3,006 of 2,048 tokens). "
                                  "To fix: shorten it, or start a new conversation.")
        answers = {}
        for side in SIDES:
            if side in self.side_errors:
                sink({"event": "error", "side": side, "message": self.side_errors[side]})
                continue
            sink({"event": "text", "side": side, "text": f" {side} says"})
            while self.stream and not stop.is_set():
                sink({"event": "text", "side": side, "text": " more"})
                stop.wait(0.01)
            sink({"event": "text", "side": side, "text": " last"})  # what a stopped answer still sends
            reason = StopReason.USER if stop.is_set() else StopReason.EOS
            answers[side] = Answer(side, f" {side} says last", 3, 0.1, 0.01, reason, prompt, 2)
            if conversation is not None and chat:
                conversation.add(side, prompt, answers[side].text)
            sink({"event": "answer", "side": side, "answer": answers[side]})
            if stop.is_set():
                break
        return answers

    def compare_checkpoints(self, run_dir: Path, prompts: list[str], settings: Any = None, sink: Any = None,
                            stop: Any = None, where: Any = None) -> Any:
        from finetune_studio.core.answers import answer_table, append_answer

        records = []
        models = ["base"] + [t.key for t in generate.targets(run_dir)]
        if self.compare_too_long in prompts:
            sink({"event": "skipped", "model": None, "prompt": self.compare_too_long,
                  "text": f"{self.compare_too_long} is too long: skipped on every model."})
        for model in models:
            for prompt in [p for p in prompts if p != self.compare_too_long]:
                if stop.is_set():
                    return answer_table(records, prompts)
                record = {"prompt": prompt, "model": model, "step": None, "answer": f"{model} on {prompt}",
                          "tokens": 3, "stop_reason": "eos", "seconds": 0.1, "settings": {}, "time": "now"}
                append_answer(run_dir, record)
                records.append(record)
                sink({"event": "answer", "prompt": prompt, "model": model, "record": dict(record)})
                if self.compare_hold_after is not None and len(records) >= self.compare_hold_after:
                    stop.wait(WAIT / 1000)
        return answer_table(records, prompts)


@pytest.fixture
def runs(demo_cache: Path, tmp_path: Path) -> Path:
    """Two runs: 'older' and 'newer' (listed first), each with checkpoints 4 and 8 and a final model."""
    import os
    import time

    from finetune_studio.core.demo import demo_model_path

    folder = tmp_path / "runs"
    model = demo_model_path()
    older = make_run(folder, "older", model)
    newer = make_run(folder, "newer", model)
    now = time.time()
    os.utime(older, (now - 60, now - 60))
    os.utime(newer, (now, now))
    return folder


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Fakes:
    return Fakes(monkeypatch)


def open_try_tab(qtbot: Any, runs_dir: Path, wait: int = WAIT, messages: list[str] | None = None,
                 size: tuple[int, int] | None = (1100, 760)) -> Any:
    """The Try tab on its own on a runs folder, shown (models load only then) and waited for until its first pick
    has loaded; the window's messages go to `messages` when given."""
    from finetune_studio.core.session import Session
    from finetune_studio.gui.try_tab import TryTab

    session = Session()
    session.config.runs_dir = str(runs_dir)
    made = TryTab(session, lambda text, _ms=0: messages.append(text) if messages is not None else None)
    qtbot.addWidget(made)
    if size is not None:
        made.resize(*size)
    made.show()
    qtbot.waitExposed(made)
    qtbot.waitUntil(lambda: made.loaded is not None and not made.runner.running, timeout=wait)
    return made


@pytest.fixture
def tab(qtbot: Any, runs: Path, fakes: Fakes) -> Any:
    """The Try tab on its own, shown (models load only then), on the runs folder; its window messages kept."""
    messages: list[str] = []
    made = open_try_tab(qtbot, runs, messages=messages)
    made.messages = messages
    yield made
    fakes.gate.set()
    made.shutdown()


def idle(qtbot: Any, tab: Any) -> None:
    qtbot.waitUntil(lambda: not tab.runner.running, timeout=WAIT)
    qtbot.wait(20)  # anything still queued from the job is delivered (it would be, in the real event loop)


def pick(tab: Any, label: str) -> None:
    index = tab.target_combo.findText(label)
    assert index >= 0, [tab.target_combo.itemText(i) for i in range(tab.target_combo.count())]
    tab.target_combo.setCurrentIndex(index)


def texts(tab: Any) -> list[str]:
    return [tab.panes[side].text.toPlainText() for side in SIDES]


# ---------------------------------------------------------------------------------------------- switching mid-job


def test_picking_another_run_while_one_loads_loads_the_new_one(qtbot: Any, tab: Any, fakes: Fakes,
                                                               runs: Path) -> None:
    """Before: the old run's models were announced ("Both models are loaded…") and then released, so nothing was
    loaded while the status said both were, and the new pick waited for a Send."""
    assert tab.run_combo.currentText() == "newer" and tab.loaded.source.name == "newer · final model"
    fakes.gate.clear()
    tab.select_run(runs / "newer", "checkpoint-8")  # a load that holds
    assert tab.runner.running and tab.status_label.text() == "Loading newer · checkpoint-8…"
    tab.select_run(runs / "older")
    assert tab.loaded is None and tab.send_button.isEnabled()  # a Send now waits for the new pick
    assert tab.status_label.text() == "older · final model loads once the last job has stopped…"
    fakes.gate.set()
    qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=WAIT)
    idle(qtbot, tab)
    assert tab.loaded.source.name == "older · final model"
    assert fakes.loads[-2:] == ["newer · checkpoint-8", "older · final model"]
    assert tab.status_label.text() == "Both models are loaded and answer at the same time."
    assert tab.panes[TUNED].title() == "Fine-tuned · older · final model" and tab.send_button.isEnabled()


def test_picking_another_checkpoint_while_answering_drops_the_old_answer(qtbot: Any, tab: Any,
                                                                         fakes: Fakes) -> None:
    """Before: the cancelled answer's last pieces landed in the cleared panes with "stopped by the user", the
    status said "Stopped by the user." though the user only switched, and the new checkpoint was not loaded."""
    fakes.stream = True
    answered: list[bool] = []
    tab.answered.connect(lambda: answered.append(True))
    tab.prompt_edit.setPlainText("Aries")
    tab.send_button.click()
    qtbot.waitUntil(lambda: "more" in tab.panes[BASE].text.toPlainText(), timeout=WAIT)
    pick(tab, "checkpoint-4")
    assert texts(tab) == ["", ""] and tab.loaded is None
    qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=WAIT)
    idle(qtbot, tab)
    assert tab.loaded.source.name == "newer · checkpoint-4"
    assert texts(tab) == ["", ""], "nothing of the superseded answer lands in the new checkpoint's panes"
    assert [tab.panes[side].stats.text() for side in SIDES] == ["", ""]
    assert tab.status_label.text() == "Both models are loaded and answer at the same time."
    assert not answered and tab.send_button.isEnabled() and not tab.stop_button.isEnabled()


# ---------------------------------------------------------------------------------------------- a waiting prompt


def test_a_prompt_sent_during_a_load_that_fails_is_not_sent_later(qtbot: Any, tab: Any, fakes: Fakes) -> None:
    """Before: the prompt stayed queued after its load failed, and picking another checkpoint (no Send) answered
    it there."""
    fakes.gate.clear()
    fakes.failing_loads.add("newer · checkpoint-4")
    pick(tab, "checkpoint-4")
    tab.prompt_edit.setPlainText("STALE PROMPT")
    tab.send_button.click()
    assert tab.status_label.text() == "The prompt is sent as soon as the models are loaded."
    fakes.gate.set()
    idle(qtbot, tab)
    assert tab.status_label.text() == ("Could not load newer · checkpoint-4: its weights are damaged. To fix: pick "
                                       "another checkpoint. Your prompt was not sent: it is still in the box.")
    assert tab.prompt_edit.toPlainText() == "STALE PROMPT"
    tab.prompt_edit.clear()
    pick(tab, "checkpoint-8")
    qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=WAIT)
    idle(qtbot, tab)
    assert fakes.asked == [] and texts(tab) == ["", ""]
    assert tab.status_label.text() == "Both models are loaded and answer at the same time."


def test_a_prompt_waiting_for_a_load_is_dropped_when_the_pick_changes(qtbot: Any, tab: Any, fakes: Fakes) -> None:
    fakes.gate.clear()
    pick(tab, "checkpoint-4")
    tab.prompt_edit.setPlainText("for checkpoint-4")
    tab.send_button.click()
    pick(tab, "checkpoint-8")
    assert tab.messages[-1] == ("The prompt that waited for the models was not sent: another model was picked. "
                                "Press Send to ask the new one.")
    fakes.gate.set()
    qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=WAIT)
    idle(qtbot, tab)
    assert tab.loaded.source.name == "newer · checkpoint-8" and fakes.asked == [] and texts(tab) == ["", ""]


def test_a_deleted_checkpoint_lets_the_models_go_and_the_list_is_made_again(qtbot: Any, tab: Any,
                                                                            runs: Path) -> None:
    """Before: the CLI's "… does not exist. To fix: give a run folder…", and Send answered with the models loaded
    before while the picker said checkpoint-4."""
    assert tab.loaded.source.name == "newer · final model" and tab.send_button.isEnabled()
    shutil.rmtree(runs / "newer" / "checkpoint-4")
    pick(tab, "checkpoint-4")
    assert tab.status_label.text() == ("checkpoint-4 is no longer in the run folder (deleted since the list was "
                                       "made); the list is refreshed: pick another.")
    assert tab.loaded is None and not tab.send_button.isEnabled()
    assert [tab.target_combo.itemText(i) for i in range(tab.target_combo.count())] == ["final model",
                                                                                       "checkpoint-8"]
    assert tab.target_combo.currentIndex() == -1
    assert tab.panes[TUNED].title() == "Fine-tuned"
    pick(tab, "checkpoint-8")
    qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=WAIT)
    assert tab.loaded.source.name == "newer · checkpoint-8" and tab.send_button.isEnabled()


def test_a_deleted_final_model_is_said_in_a_sentence_that_starts_with_a_capital(qtbot: Any, tab: Any,
                                                                                 runs: Path) -> None:
    """It said "final model is no longer in the run folder …", the one status line that began in lowercase."""
    assert tab.loaded.source.name == "newer · final model"
    shutil.rmtree(runs / "newer" / "model")
    tab.prompt_edit.setPlainText("Aries")
    tab.send_button.click()
    assert tab.status_label.text() == ("The final model is no longer in the run folder (deleted since the list was "
                                       "made); the list is refreshed: pick another. Your prompt was not sent: it is "
                                       "still in the box.")
    assert tab.loaded is None and tab.prompt_edit.toPlainText() == "Aries"
    assert [tab.target_combo.itemText(i) for i in range(tab.target_combo.count())] == ["checkpoint-8", "checkpoint-4"]


# ---------------------------------------------------------------------------------------------- answers that fail


def test_a_chat_prompt_that_fails_stays_in_the_box_and_one_answered_leaves_it(qtbot: Any, tab: Any) -> None:
    """Before: a chat Send emptied the box at once, so an answer that failed (too long for the context) lost the
    prompt, and New conversation then lost its only copy."""
    tab.chat_check.setChecked(True)
    prompt = "Please summarise this: " + "word " * 3000
    tab.prompt_edit.setPlainText(prompt)
    with qtbot.waitSignal(tab.answered, timeout=WAIT):
        tab.send_button.click()
    assert tab.prompt_edit.toPlainText() == prompt
    assert tab.status_label.text() == ("The conversation is longer than the model's context (3,006 of 2,048 "
                                       "tokens). To fix: shorten it, or start a new conversation. Your prompt is "
                                       "kept in the box.")
    tab.new_button.click()
    assert tab.prompt_edit.toPlainText() == prompt
    tab.prompt_edit.setPlainText("Leo")
    with qtbot.waitSignal(tab.answered, timeout=WAIT):
        tab.send_button.click()
    assert tab.prompt_edit.toPlainText() == "", "an answered chat prompt leaves the box: its turn is in the panes"
    assert tab.panes[TUNED].text.toPlainText() == "You: Leo\n tuned says last"


def test_the_status_says_which_answers_failed(qtbot: Any, tab: Any, fakes: Fakes) -> None:
    """Before: with both answers failed the status still said "Both models are loaded and answer at the same
    time."."""
    message = "Generation failed: RuntimeError: kernel exploded. To fix: try other settings or another checkpoint."
    fakes.side_errors = {BASE: message, TUNED: message}
    tab.prompt_edit.setPlainText("Leo")
    with qtbot.waitSignal(tab.answered, timeout=WAIT):
        tab.send_button.click()
    assert tab.status_label.text() == f"Both answers failed: {message}"
    assert [tab.panes[side].stats.text() for side in SIDES] == [f"⚠ {message}"] * 2
    fakes.side_errors = {TUNED: message}
    with qtbot.waitSignal(tab.answered, timeout=WAIT):
        tab.send_button.click()
    assert tab.status_label.text() == f"The fine-tuned model's answer failed (the other one is in): {message}"
    fakes.side_errors = {}
    with qtbot.waitSignal(tab.answered, timeout=WAIT):
        tab.send_button.click()
    assert tab.status_label.text() == "Both models are loaded and answer at the same time."


def test_send_while_answering_or_stopping_says_why_nothing_was_sent(qtbot: Any, tab: Any, fakes: Fakes) -> None:
    """Before: Ctrl+Enter while an answer streamed, or right after Stop, dropped the new prompt without a word."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    fakes.stream = True
    tab.prompt_edit.setPlainText("Aries")
    tab.send_button.click()
    qtbot.waitUntil(lambda: "more" in tab.panes[BASE].text.toPlainText(), timeout=WAIT)
    tab.prompt_edit.setPlainText("Leo")
    tab.prompt_edit.setFocus()
    QTest.keyClick(tab.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert tab.status_label.text() == ("The models are still answering: wait for the answer or press Stop answering, "
                                       "then Send.")
    tab.stop_button.click()
    QTest.keyClick(tab.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert tab.status_label.text() == "Still stopping the last answer: press Send again in a moment."
    assert tab.prompt_edit.toPlainText() == "Leo" and fakes.asked == ["Aries"]
    idle(qtbot, tab)
    fakes.stream = False
    QTest.keyClick(tab.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    idle(qtbot, tab)
    assert fakes.asked == ["Aries", "Leo"]


# ---------------------------------------------------------------------------------------------- Compare checkpoints


def save_prompts(tab: Any, prompts: list[str]) -> None:
    for prompt in prompts:
        tab.prompt_edit.setPlainText(prompt)
        tab.save_prompt_button.click()
    assert tab.session.config.prompts == prompts


def hold_a_comparison(qtbot: Any, tab: Any, fakes: Fakes, prompts: list[str], hold_after: int,
                      show_page: bool = True) -> Any:
    """Saves `prompts`, presses Compare checkpoints (on its page, shown where `show_page`) and waits until the fake
    comparison holds after `hold_after` answers; returns the Compare page."""
    save_prompts(tab, prompts)
    view = tab.compare
    if show_page:
        tab.pages.setCurrentWidget(view)
    fakes.compare_hold_after = hold_after
    view.compare_button.click()
    qtbot.waitUntil(lambda: len(view.table_data.cells) == hold_after, timeout=WAIT)
    return view


def test_the_compare_pages_stop_stops_the_comparison_and_it_says_it_stopped(qtbot: Any, tab: Any, fakes: Fakes,
                                                                            runs: Path) -> None:
    """Before: the Stop beside "Compare checkpoints" stayed disabled for the whole comparison; stopped (with the
    Chat page's Stop) it said "Done: 3 answers…" and the tab's status stayed on "Stopping…"."""
    view = hold_a_comparison(qtbot, tab, fakes, ["Aries", "Leo", "Virgo"], 3)
    assert view.stop_button.isEnabled() and not view.compare_button.isEnabled()
    view.stop_button.click()
    idle(qtbot, tab)
    where = "newer/answers.jsonl"
    assert view.status.text() == f"Stopped: 3 of 12 answers kept in {where}."  # 3 prompts × (base + 3 models)
    assert tab.status_label.text() == COMPARED_NOTE  # not "Stopping…"
    assert not view.stop_button.isEnabled() and view.compare_button.isEnabled()
    (runs / "newer" / "answers.jsonl").unlink()
    fakes.compare_hold_after = None
    view.compare_button.click()
    idle(qtbot, tab)
    assert view.status.text() == f"Done: 12 answers, kept in {where}."
    assert tab.status_label.text() == COMPARED_NOTE
    assert view.table.rowCount() == 3 and view.table.columnCount() == 4


def test_a_stopped_comparison_counts_only_the_answers_left_to_give(qtbot: Any, tab: Any, fakes: Fakes) -> None:
    """A prompt skipped on every model (too long) gives no answers: "3 of 12" (3 prompts × 4 models) overstated
    what the comparison had left to do."""
    fakes.compare_too_long = "Virgo"
    view = hold_a_comparison(qtbot, tab, fakes, ["Aries", "Leo", "Virgo"], 3)
    view.stop_button.click()
    idle(qtbot, tab)
    assert view.status.text() == ("Stopped: 3 of 8 answers kept in newer/answers.jsonl. Virgo is too long: skipped "
                                  "on every model.")  # 2 prompts × (base + 3 models)


def test_picking_another_run_stops_a_comparison_and_keeps_its_table_apart(qtbot: Any, tab: Any, fakes: Fakes,
                                                                          runs: Path) -> None:
    view = hold_a_comparison(qtbot, tab, fakes, ["Aries", "Leo"], 2, show_page=False)
    tab.select_run(runs / "older")
    assert view.status.text() == ("Stopped: another run was picked. The answers so far are kept in "
                                  "newer/answers.jsonl.")
    qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=WAIT)
    idle(qtbot, tab)
    assert view.run_dir == runs / "older" and not view.table_data.cells, "the other run's answers stay out"
    assert tab.loaded.source.name == "older · final model"
    assert len((runs / "newer" / "answers.jsonl").read_text().splitlines()) == 2


def test_picking_another_checkpoint_of_the_run_lets_its_comparison_go_on(qtbot: Any, tab: Any, fakes: Fakes) -> None:
    """The comparison covers every checkpoint of the run: a checkpoint picked for the Chat page does not stop it,
    and the status does not promise a load that only the next Send makes."""
    view = hold_a_comparison(qtbot, tab, fakes, ["Aries"], 1, show_page=False)
    pick(tab, "checkpoint-4")
    assert tab.status_label.text() == ("newer · checkpoint-4 is picked; the comparison goes on, and its models load "
                                       "at the next Send.")
    qtbot.wait(50)
    assert tab.runner.running and view.stop_button.isEnabled(), "the comparison goes on"
    view.stop_button.click()
    idle(qtbot, tab)
    assert view.status.text() == "Stopped: 1 of 4 answers kept in newer/answers.jsonl."
    assert tab.loaded is None and fakes.loads == ["newer · final model"]
    tab.prompt_edit.setPlainText("Leo")
    with qtbot.waitSignal(tab.answered, timeout=WAIT):
        tab.send_button.click()
    assert fakes.loads[-1] == "newer · checkpoint-4" and fakes.asked == ["Leo"]


def test_the_compare_buttons_tooltip_says_training_only_while_it_trains(tab: Any) -> None:
    save_prompts(tab, ["Aries"])
    button = tab.compare.compare_button
    tip = button.toolTip()
    assert button.isEnabled() and tip.startswith("Answer every saved prompt greedily")
    tab.session.set_running(True)
    assert not button.isEnabled()
    assert button.toolTip() == "A training run is using the memory; compare when it ends."
    tab.session.set_running(False)
    assert button.isEnabled() and button.toolTip() == tip, "training ended: the button says what it does"


def test_a_damaged_model_is_marked_in_the_list_and_the_first_whole_one_is_picked(qtbot: Any, runs: Path,
                                                                                 fakes: Fakes) -> None:
    """Before: a run whose final model's config.json was broken listed it as "final model", picked it, and said
    the resolver's error; the user had to find a whole checkpoint by trying. Now it reads "final model (damaged)"
    with the reason as its tooltip, and the newest whole checkpoint is picked and loads."""
    (runs / "newer" / "model" / "config.json").write_text("{ broken", encoding="utf-8")
    tab = open_try_tab(qtbot, runs, size=None)
    combo = tab.target_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["final model (damaged)", "checkpoint-8",
                                                                 "checkpoint-4"]
    assert combo.itemData(0, Qt.ItemDataRole.ToolTipRole).startswith("Cannot load: its config.json cannot be read")
    assert combo.currentText() == "checkpoint-8"
    assert tab.loaded.source.name == "newer · checkpoint-8"
    tab.shutdown()


REAL_COMPARE = generate.compare_checkpoints  # taken before any fixture puts the fake in its place


def test_a_comparison_that_skipped_a_damaged_checkpoint_says_which_at_the_end(qtbot: Any, tab: Any, runs: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The real comparison (the demo model's files, 2 new tokens) with checkpoint-4's weights cut short: the others
    are compared, and the last word says which was skipped and why, where before only a passing status line did
    (and the comparison used to end at it)."""
    weights = runs / "newer" / "checkpoint-4" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4096])
    monkeypatch.setattr(generate, "compare_checkpoints", REAL_COMPARE)
    tab.settings_box.max_new_tokens.setValue(2)
    save_prompts(tab, ["Aries"])
    view = tab.compare
    tab.pages.setCurrentWidget(view)
    view.compare_button.click()
    qtbot.waitUntil(lambda: not tab.runner.running, timeout=60_000)
    idle(qtbot, tab)
    skipped = "checkpoint-4 skipped: it is damaged: its model.safetensors is cut short (smaller than its tensors)."
    assert view.status.text() == f"Done: 3 answers, kept in newer/answers.jsonl. {skipped}"
    assert tab.status_label.text() == COMPARED_NOTE  # the skip is said once, on the page
    assert view.table_data.models == ["base", "checkpoint-8", "final"]


def test_training_that_starts_during_a_load_is_not_preceded_by_loaded(qtbot: Any, tab: Any, fakes: Fakes,
                                                                      runs: Path) -> None:
    """Before: a load still running when training started finished, announced "Both models are loaded…", and only
    then were the models released with the training message. The load's outcome is now dropped."""
    said: list[str] = []
    real_say = tab._say
    tab._say = lambda text: (said.append(text), real_say(text))
    fakes.gate.clear()
    pick(tab, "checkpoint-8")  # a load of the new pick begins and holds
    qtbot.waitUntil(lambda: tab.runner.running and "newer · checkpoint-8" in fakes.loads, timeout=WAIT)
    said.clear()
    tab.release_for_training()
    fakes.gate.set()
    idle(qtbot, tab)
    assert tab.loaded is None
    assert not any(text.startswith("Both models are loaded") for text in said), said
    assert tab.status_label.text().startswith("Training started, so the models were released")


def test_closing_the_window_while_a_model_loads_hides_it_at_once(qtbot: Any, runs: Path, fakes: Fakes,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A model being loaded cannot be interrupted (from_pretrained has no stop), so closing waits for the load;
    the window goes at once rather than staying on screen, frozen and unpainted, for the rest of it."""
    from tests.helpers import window_on_runs

    window = window_on_runs(qtbot, runs, monkeypatch)
    fakes.gate.clear()
    window.tabs.setCurrentWidget(window.try_tab)
    qtbot.waitUntil(lambda: bool(fakes.loads) and window.try_tab.runner.running, timeout=WAIT)
    assert fakes.loads == ["newer · final model"]
    visible_while_loading: list[bool] = []
    waiting = threading.Event()
    real_shutdown = window.try_tab.shutdown

    def shutdown() -> None:  # what close() waits in for the load (after hiding the window, on the new code)
        waiting.set()
        real_shutdown()

    monkeypatch.setattr(window.try_tab, "shutdown", shutdown)

    def finish_the_load() -> None:
        waiting.wait(WAIT / 1000)
        visible_while_loading.append(window.isVisible())
        fakes.gate.set()

    helper = threading.Thread(target=finish_the_load)
    helper.start()
    window.close()
    helper.join()
    assert visible_while_loading == [False]
    assert not window.try_tab.runner.running and window.try_tab.loaded is None


def test_a_run_begins_only_once_a_try_tab_load_has_ended_and_stop_cancels_the_wait(
        qtbot: Any, runs: Path, fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    """A model load cannot be interrupted, and from_pretrained sets torch's default dtype for the whole process
    while it builds: a run that began during a Try tab load trained under that state. Start (and Resume) now wait
    for the load's thread, saying so, and Stop cancels the waiting start."""
    from tests.helpers import window_on_runs

    window = window_on_runs(qtbot, runs, monkeypatch)
    began: list[str] = []
    monkeypatch.setattr(window.runner, "start", lambda config: began.append("start"))
    monkeypatch.setattr(window.runner, "resume", lambda run_dir, extra_epochs=None: began.append("resume"))
    fakes.gate.clear()
    window.tabs.setCurrentWidget(window.try_tab)
    qtbot.waitUntil(lambda: bool(fakes.loads) and window.try_tab.runner.running, timeout=WAIT)
    window._begin_run()
    assert began == [] and window.start_pending
    assert window.session.state_text == "Starting… waiting for the Try tab to let its model go"
    assert window.stop_action.isEnabled() and not window.start_action.isEnabled()
    window.stop()  # cancels the waiting start: the load ends, nothing begins
    assert window.session.state_text == "Start cancelled before the run began" and not window.start_pending
    fakes.gate.set()
    qtbot.waitUntil(lambda: not window.try_tab.runner.running, timeout=WAIT)
    qtbot.wait(50)
    assert began == []
    fakes.gate.clear()
    window.try_tab.select_run(runs / "older")  # another load, held
    qtbot.waitUntil(lambda: window.try_tab.runner.running, timeout=WAIT)
    window._begin_run()
    assert began == []
    fakes.gate.set()
    qtbot.waitUntil(lambda: began == ["start"], timeout=WAIT)
    assert window.try_tab.loaded is None and not window.start_pending  # the load's models were not kept
    fakes.gate.clear()
    window.try_tab.select_run(runs / "newer")
    qtbot.waitUntil(lambda: window.try_tab.runner.running, timeout=WAIT)
    window.warm = window.warm or object()  # Resume needs the training stack; only the order is checked here
    window.resume_run(runs / "older")
    assert began == ["start"] and window.session.state_text.startswith("Starting… waiting for the Try tab")
    fakes.gate.set()
    qtbot.waitUntil(lambda: began == ["start", "resume"], timeout=WAIT)
