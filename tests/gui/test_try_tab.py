"""The Try tab in the real window: both panes stream, Stop stops, one set of settings, the checkpoint table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.config import ModelConfig

LONG = 120_000
PROMPT = "The eleventh house is busy"


@pytest.fixture(scope="module")
def trained_runs(demo_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs folder with one demo run: complete checkpoints 4, 8 and 12, and its final model."""
    from finetune_studio.core.training import run
    from tests.helpers import SAMPLE, small_config

    root = tmp_path_factory.mktemp("try-runs")
    data = root / "small.jsonl"
    data.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:200]) + "\n", encoding="utf-8")
    config = small_config(data, root / "runs", save_steps=4, eval_steps=4, load_best_model_at_end=False)
    config.name = "three-checkpoints"
    assert run(config).state == "finished"
    return root / "runs"


def test_each_job_runs_in_a_thread_of_its_own_one_at_a_time(qtbot: Any) -> None:
    import threading

    from finetune_studio.gui.try_tab import GenerateRunner

    runner = GenerateRunner()
    results: list[Any] = []
    events: list[dict] = []
    errors: list[str] = []
    runner.succeeded.connect(results.append)
    runner.event.connect(events.append)
    runner.errored.connect(lambda message, _details: errors.append(message))

    def job(sink: Any, stop: threading.Event) -> threading.Thread:
        sink({"event": "progress", "text": "working"})
        return threading.current_thread()

    for _ in range(2):
        with qtbot.waitSignal(runner.idle, timeout=10_000):
            assert runner.start(job) and runner.running
            assert not runner.start(job), "one job at a time"
        assert runner.wait(10_000), "the job's thread ends with it"
    assert len(results) == 2 and results[0] is not results[1] and threading.current_thread() not in results
    assert events == [{"event": "progress", "text": "working"}] * 2 and not runner.running

    def fails(sink: Any, stop: threading.Event) -> None:
        raise RuntimeError("kernel exploded")

    with qtbot.waitSignal(runner.idle, timeout=10_000):
        runner.start(fails)
    assert "kernel exploded" in errors[0] and not runner.running
    runner.start(lambda sink, stop: stop.wait(30))
    assert runner.shutdown(10_000) and not runner.running, "shutdown stops the job and waits for its thread"
    with qtbot.waitSignal(runner.idle, timeout=10_000):
        assert runner.start(job)
    assert runner.shutdown(10_000)


def test_a_job_starts_once_the_window_has_drawn_what_changed_for_it(qtbot: Any) -> None:
    """The thread starts from the event loop after the pending paint, so its first milliseconds (the prompt read,
    generate started, the first token) do not take turns with that drawing for the GIL and the cores."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QLabel

    from finetune_studio.gui.try_tab import GenerateRunner

    label = QLabel("before")
    qtbot.addWidget(label)
    painted: list[str] = []

    class Paints(QObject):
        def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802 - Qt override
            if event.type() == QEvent.Type.Paint:
                painted.append(label.text())
            return False

    paints = Paints()
    label.installEventFilter(paints)
    label.show()
    qtbot.waitUntil(lambda: "before" in painted, timeout=10_000)
    painted.clear()
    runner = GenerateRunner()
    seen: list[list[str]] = []
    label.setText("after")  # what a Send handler changes before it starts the job
    with qtbot.waitSignal(runner.idle, timeout=10_000):
        assert runner.start(lambda sink, stop: seen.append(list(painted)))
        assert not seen, "the job's thread starts from the event loop, not inside the handler"
    assert seen and "after" in seen[0], f"the change was drawn before the job began: {seen}"

    ran: list[bool] = []
    assert runner.start(lambda sink, stop: ran.append(True))
    assert runner.shutdown(10_000) and not runner.running and not ran, "closing before it started: it never runs"
    qtbot.wait(50)
    assert not ran


def test_the_pane_without_a_model_is_not_redrawn_at_each_send(qtbot: Any, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A model folder with no base answers alone: the base pane says so once, and a Send leaves it alone (it was
    cleared and set again at every Send, a relayout and a repaint of the chat page at the answer's start)."""
    from PySide6.QtCore import QEvent, QObject

    from finetune_studio.core import generate
    from finetune_studio.core.session import Session
    from finetune_studio.gui.try_tab import NO_BASE, TryTab

    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setattr(generate, "answer_both", lambda *args, **kwargs: {})
    tab = TryTab(Session())
    qtbot.addWidget(tab)
    tab.resize(1000, 700)
    source = generate.Source(generate.Target("model", tmp_path, None), None)
    tab.use(generate.Loaded(source, None, "cpu", "alone", models={generate.TUNED: object()}))
    tab.show()
    qtbot.waitExposed(tab)
    base = tab.panes["base"]
    changed: list[str] = []
    base.text.textChanged.connect(lambda: changed.append("text"))

    class Paints(QObject):
        def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802 - Qt override
            if event.type() == QEvent.Type.Paint:
                changed.append(f"paint {watched.objectName()}")
            return False

    paints = Paints()
    for widget in (base, base.stats, base.text.viewport()):
        widget.installEventFilter(paints)
    for turn in range(2):
        tab.prompt_edit.setPlainText("Aries")
        with qtbot.waitSignal(tab.answered, timeout=10_000):
            tab.send_button.click()
        qtbot.wait(20)
        assert base.stats.text() == NO_BASE and not base.text.toPlainText()
        if turn == 0:
            changed.clear()  # the first Send may set the note; the next ones leave it
    assert changed == [], f"the second Send redrew the pane that has no model: {changed}"


def streaming_pane(qtbot: Any) -> Any:
    """A shown pane continuing "Aries rising", its first word selected by the user as the answer streams."""
    from PySide6.QtGui import QTextCursor

    from finetune_studio.gui.try_tab import AnswerPane

    pane = AnswerPane("tuned")
    qtbot.addWidget(pane)
    pane.resize(400, 160)
    pane.show()
    qtbot.waitExposed(pane)
    pane.begin("Aries rising", chat=False)
    selection = pane.text.textCursor()
    selection.setPosition(0)
    selection.movePosition(QTextCursor.MoveOperation.EndOfWord, QTextCursor.MoveMode.KeepAnchor)
    pane.text.setTextCursor(selection)
    return pane


def test_a_pane_appends_at_the_end_follows_it_and_keeps_the_users_selection(qtbot: Any) -> None:
    pane = streaming_pane(qtbot)
    pieces = [f" piece {i} of an answer long enough to wrap and to scroll the pane" for i in range(40)]
    for piece in pieces:
        pane.add_text(piece)
    pane.finish(an_answer("".join(pieces)))  # draws what add_text held back
    assert pane.text.toPlainText() == "Aries rising" + "".join(pieces)
    assert pane.text.textCursor().selectedText() == "Aries", "the user's selection stays"
    bar = pane.text.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == bar.maximum(), "the view follows the end"
    pane.clear()
    pane.begin("Leo", chat=True)
    pane.add_text("roars")
    pane.begin("Again", chat=True)
    assert pane.text.toPlainText() == "You: Leo\nroars\n\nYou: Again\n"


def an_answer(text: str) -> Any:
    from finetune_studio.core.generate import Answer, StopReason

    return Answer("tuned", text, tokens=len(text.split()), seconds=1.0, first_token_s=0.1,
                  stop_reason=StopReason.MAX_TOKENS, rendered="", prompt_tokens=2)


def test_a_long_one_paragraph_answer_is_not_laid_out_again_for_every_piece(qtbot: Any) -> None:
    """Qt lays out a whole paragraph again for any text added to it: 3,000 pieces of an answer with no newline (a
    text continuation, a random model) drawn one by one cost time growing with the answer per piece, O(n²) in all,
    on the GUI thread. Each insert is one contentsChange and one layout of the paragraph."""
    from PySide6.QtWidgets import QApplication

    pane = streaming_pane(qtbot)
    inserted: list[int] = []
    pane.text.document().contentsChange.connect(lambda _at, _removed, added: inserted.append(added))
    pieces = [f" w{i % 97}" for i in range(3000)]  # one paragraph of ~12,000 characters
    for piece in pieces:
        pane.add_text(piece)
        QApplication.processEvents()  # layout and paint between pieces, as the event loop does
    pane.finish(an_answer("".join(pieces)))
    assert pane.text.toPlainText() == "Aries rising" + "".join(pieces)
    assert inserted[0] == len(pieces[0]), "an answer's first text is drawn at once"
    assert sum(inserted) == len("".join(pieces))
    assert len(inserted) < len(pieces) / 4, f"{len(inserted)} layouts of the paragraph for {len(pieces)} pieces"
    assert pane.text.document().blockCount() == 1, "no paragraph break of the pane's own"
    assert pane.text.textCursor().selectedText() == "Aries", "the user's selection stays"
    bar = pane.text.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == bar.maximum(), "the view follows the end"


def test_pieces_a_frame_apart_are_each_drawn_as_they_arrive(qtbot: Any) -> None:
    """Holding pieces back is for paragraphs that take long to lay out; short text still streams piece by piece."""
    from finetune_studio.gui.try_tab import AnswerPane

    pane = AnswerPane("tuned")
    qtbot.addWidget(pane)
    pane.show()
    pane.begin("Leo", chat=True)
    shown = "You: Leo\n"
    for i in range(5):
        qtbot.wait(100)  # core.generate sends at most one piece a frame; a short answer is cheap to lay out
        pane.add_text(f"roars {i}\n")
        shown += f"roars {i}\n"
        assert pane.text.toPlainText() == shown


def plain_generate(folder: Path | str, prompt: str, **settings: Any) -> str:
    """What a plain transformers script answers with these settings."""
    import torch

    from finetune_studio.core.model import load_model, load_tokenizer

    config = ModelConfig(name_or_path=str(folder))
    model, tokenizer = load_model(config).eval(), load_tokenizer(config)
    ids = tokenizer(prompt, return_tensors="pt")
    with torch.inference_mode():
        out = model.generate(**ids, pad_token_id=tokenizer.pad_token_id, **settings)
    return tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)


@pytest.fixture
def window(qtbot: Any, demo_cache: Path, trained_runs: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from tests.helpers import window_on_runs

    made = window_on_runs(qtbot, trained_runs, monkeypatch)  # qtbot closes it before this fixture's teardown
    made.tabs.setCurrentWidget(made.try_tab)
    yield made
    made.try_tab.shutdown()
    made.session.set_modified(False)  # saved prompts make the config modified: no save question on close
    made.close()


def loaded_tab(qtbot: Any, window: Any) -> Any:
    tab = window.try_tab
    tab.refresh_runs()
    assert tab.run_combo.currentText() == "three-checkpoints"
    assert [tab.target_combo.itemText(i) for i in range(tab.target_combo.count())] == [
        "final model", "checkpoint-12", "checkpoint-8", "checkpoint-4"]
    qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=LONG)
    assert tab.loaded.mode == "both" and "Both models are loaded" in tab.status_label.text()
    return tab


def send(qtbot: Any, tab: Any, prompt: str) -> None:
    from PySide6.QtCore import Qt

    tab.prompt_edit.setPlainText(prompt)
    with qtbot.waitSignal(tab.answered, timeout=LONG):
        qtbot.mouseClick(tab.send_button, Qt.MouseButton.LeftButton)


@pytest.mark.slow
def test_a_prompt_streams_into_both_panes_with_the_same_settings(qtbot: Any, window: Any,
                                                                 trained_runs: Path) -> None:
    tab = loaded_tab(qtbot, window)
    tab.settings_box.max_new_tokens.setValue(12)
    tab.settings_box.repetition_penalty.setValue(1.3)
    updates = {side: 0 for side in tab.panes}
    busy_shown: list[bool] = []
    for side, pane in tab.panes.items():
        pane.text.textChanged.connect(lambda s=side: updates.__setitem__(s, updates[s] + 1))
        pane.text.textChanged.connect(lambda: busy_shown.append(tab.busy.isVisible()))
    send(qtbot, tab, PROMPT)
    assert busy_shown and not any(busy_shown), "the streaming text is the progress: no busy bar over it"
    settings = dict(max_new_tokens=12, repetition_penalty=1.3, do_sample=False)
    base = plain_generate("builtin:demo", PROMPT, **settings)
    tuned = plain_generate(trained_runs / "three-checkpoints" / "model", PROMPT, **settings)
    assert tab.panes["base"].text.toPlainText() == PROMPT + base
    assert tab.panes["tuned"].text.toPlainText() == PROMPT + tuned
    assert base != tuned, "fine-tuning changed the answer"
    assert all(count >= 3 for count in updates.values()), f"the text streamed in pieces: {updates}"
    for side, pane in tab.panes.items():
        answer = tab.answers[side]
        assert f"{answer.tokens} tokens" in pane.stats.text() and "tokens/s" in pane.stats.text()
        assert f"stopped: {answer.stop_reason.text}" in pane.stats.text()
        assert not pane.rendered.isVisible()
        pane.prompt_toggle.click()
        assert pane.rendered.isVisible() and pane.rendered.toPlainText() == PROMPT
    assert tab.send_button.isEnabled() and not tab.stop_button.isEnabled()


@pytest.mark.slow
def test_stop_stops_both_answers_and_the_tab_stays_usable(qtbot: Any, window: Any) -> None:
    tab = loaded_tab(qtbot, window)
    box = tab.settings_box
    box.sample.setChecked(True)
    box.temperature.setValue(3.0)
    box.top_k.setValue(0)
    box.max_new_tokens.setValue(500)
    tab.prompt_edit.setPlainText("Aries")
    tab.send_button.click()
    qtbot.waitUntil(lambda: len(tab.panes["base"].text.toPlainText()) > len("Aries"), timeout=LONG)
    assert tab.stop_button.isEnabled() and not tab.send_button.isEnabled()
    with qtbot.waitSignal(tab.answered, timeout=LONG):
        tab.stop_button.click()
    assert tab.answers["base"].stop_reason.value == "user" and tab.answers["base"].tokens < 500
    assert "stopped: stopped by the user" in tab.panes["base"].stats.text()
    assert "tuned" not in tab.answers and "Stopped" in tab.panes["tuned"].stats.text()
    assert tab.send_button.isEnabled()
    box.sample.setChecked(False)
    box.max_new_tokens.setValue(4)
    send(qtbot, tab, "Leo")
    assert {a.tokens for a in tab.answers.values()} <= {1, 2, 3, 4} and len(tab.answers) == 2


@pytest.mark.slow
def test_compare_checkpoints_fills_the_table_and_writes_the_run_folder(qtbot: Any, window: Any,
                                                                       trained_runs: Path) -> None:
    tab = loaded_tab(qtbot, window)
    prompts = ["Aries", "Taurus: You"]
    for prompt in prompts:
        tab.prompt_edit.setPlainText(prompt)
        tab.save_prompt_button.click()
    assert window.session.config.prompts == prompts and window.session.modified
    assert [tab.saved_combo.itemData(i) for i in range(tab.saved_combo.count())] == prompts
    view = tab.compare
    tab.settings_box.max_new_tokens.setValue(12)
    tab.pages.setCurrentWidget(view)
    run_dir = trained_runs / "three-checkpoints"
    (run_dir / "answers.jsonl").unlink(missing_ok=True)
    view.compare_button.click()
    assert tab.loaded is None, "the chat's models are released: the comparison loads its own"
    qtbot.waitUntil(lambda: not tab.runner.running, timeout=LONG)
    headers = [view.table.horizontalHeaderItem(i).text() for i in range(view.table.columnCount())]
    assert headers == ["Base model", "checkpoint-4", "checkpoint-8", "checkpoint-12", "Final model"]
    assert view.table.rowCount() == 2
    assert all(view.table.item(r, c) is not None for r in range(2) for c in range(5))
    records = [json.loads(line) for line in (run_dir / "answers.jsonl").read_text().splitlines()]
    assert len(records) == 10 and {r["model"] for r in records} == {"base", "checkpoint-4", "checkpoint-8",
                                                                     "checkpoint-12", "final"}
    expected = plain_generate(run_dir / "checkpoint-8", "Aries", max_new_tokens=tab.settings_box.max_new_tokens
                              .value(), do_sample=False)
    assert view.table.item(0, 2).text() == expected.strip() and view.answer("Aries", "checkpoint-8") == expected
    view.set_run(None)
    assert view.table.columnCount() == 0 and view.table.rowCount() == 2  # the saved prompts, no answers
    view.set_run(run_dir)  # reopened from the folder
    assert view.table.item(1, 4).text() == records[-1]["answer"].strip()


@pytest.mark.slow
def test_training_start_releases_the_models_and_says_so(qtbot: Any, window: Any) -> None:
    tab = loaded_tab(qtbot, window)
    assert tab.send_button.isEnabled()
    window.runner.started.emit()  # what the window hears when a training run starts
    assert tab.loaded is None and "training always wins" in tab.status_label.text()
    assert not tab.send_button.isEnabled()
    window.runner.idle.emit()
    assert tab.send_button.isEnabled()


@pytest.mark.slow
def test_bad_input_keeps_the_tab_usable(qtbot: Any, window: Any, monkeypatch: pytest.MonkeyPatch,
                                        trained_runs: Path) -> None:
    tab = loaded_tab(qtbot, window)
    tab.prompt_edit.setPlainText("   ")
    tab.send_button.click()
    assert not tab.runner.running and "empty" in tab.status_label.text()

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("kernel exploded")

    with monkeypatch.context() as patched:  # not monkeypatch.undo(): that also undoes the fixtures' fake dialogs
        patched.setattr(tab.loaded.models["tuned"], "generate", boom)
        tab.settings_box.max_new_tokens.setValue(5)
        send(qtbot, tab, "Leo")
        assert "kernel exploded" in tab.panes["tuned"].stats.text()
        assert tab.answers["base"].tokens > 0 and tab.send_button.isEnabled()
    tab.settings_box.max_new_tokens.setValue(100_000)
    send(qtbot, tab, "Leo")
    assert "clamped to" in tab.panes["tuned"].stats.text()
    empty = trained_runs / "no-checkpoint"
    empty.mkdir(exist_ok=True)
    (empty / "config.yaml").write_text((trained_runs / "three-checkpoints" / "config.yaml").read_text())
    (empty / "checkpoint-2").mkdir(exist_ok=True)
    try:
        tab.select_run(empty)
        assert "no final model and no complete checkpoint" in tab.status_label.text()
        assert "checkpoint-2/" in tab.status_label.text() and not tab.send_button.isEnabled()
    finally:
        import shutil

        shutil.rmtree(empty)
    from finetune_studio.gui import dialogs

    assert dialogs.ask_save_changes.__name__ == "<lambda>"  # window_on_runs' answer stays for the close


@pytest.mark.slow
def test_closing_the_window_during_generation_stops_cleanly(qtbot: Any, window: Any) -> None:
    tab = loaded_tab(qtbot, window)
    tab.settings_box.sample.setChecked(True)
    tab.settings_box.temperature.setValue(3.0)
    tab.settings_box.top_k.setValue(0)
    tab.settings_box.max_new_tokens.setValue(500)
    tab.prompt_edit.setPlainText("Aries")
    tab.send_button.click()
    qtbot.waitUntil(lambda: len(tab.panes["base"].text.toPlainText()) > len("Aries"), timeout=LONG)
    assert tab.runner.running
    worker = tab.runner._thread
    window.close()
    assert not tab.runner.running and tab.loaded is None and not worker.is_alive()


@pytest.mark.slow
def test_refresh_lists_the_shown_runs_models_again_and_lets_go_of_a_deleted_one(qtbot: Any, window: Any,
                                                                                 trained_runs: Path) -> None:
    """Refresh listed the runs folder again but kept the shown run's checkpoint list as it was: a deleted final
    model stayed listed and Send answered with its copy in memory under its name (helper-44)."""
    import shutil

    copy = trained_runs / "copy-for-refresh"
    shutil.copytree(trained_runs / "three-checkpoints", copy)
    try:
        tab = window.try_tab
        tab.refresh_runs()
        tab.select_run(copy, "checkpoint-8")
        qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=LONG)
        assert tab.target_combo.currentText() == "checkpoint-8"
        shutil.rmtree(copy / "checkpoint-12")  # not the picked one: listed no more, the pick and its models stay
        loaded = tab.loaded
        tab.refresh_button.click()
        assert [tab.target_combo.itemText(i) for i in range(tab.target_combo.count())] == [
            "final model", "checkpoint-8", "checkpoint-4"]
        assert tab.target_combo.currentText() == "checkpoint-8" and tab.loaded is loaded
        shutil.rmtree(copy / "checkpoint-8")  # the picked one: its models go, nothing is picked
        tab.refresh_button.click()
        assert [tab.target_combo.itemText(i) for i in range(tab.target_combo.count())] == [
            "final model", "checkpoint-4"]
        assert tab.target_combo.currentIndex() == -1 and tab.loaded is None
        assert tab.panes["tuned"].title() == "Fine-tuned"
        assert "checkpoint-8 is no longer in the run folder" in tab.status_label.text()
        assert not tab.send_button.isEnabled()
    finally:
        shutil.rmtree(copy, ignore_errors=True)
