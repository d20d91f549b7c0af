"""The Try tab tried hard with the real demo model (make_run: its real files as a run's checkpoints and final model,
no training): a prompt far longer than the model reads, max new tokens at the field's top, Stop pressed at once
after Send, and the picked run deleted outside the app then Refresh. Everything asserted is the real TryTab's
widgets."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.generate import SIDES
from tests.gui.test_try_tab_states import make_run

WAIT = 60_000


@pytest.fixture
def runs(demo_cache: Path, tmp_path: Path) -> Path:
    from finetune_studio.core.demo import demo_model_path

    folder = tmp_path / "runs"
    make_run(folder, "only", demo_model_path(), steps=(4,))
    return folder


@pytest.fixture
def tab(qtbot: Any, runs: Path) -> Any:
    from finetune_studio.core.session import Session
    from finetune_studio.gui.try_tab import TryTab

    session = Session()
    session.config.runs_dir = str(runs)
    made = TryTab(session)
    qtbot.addWidget(made)
    made.resize(1100, 760)
    made.show()
    qtbot.waitExposed(made)
    qtbot.waitUntil(lambda: made.loaded is not None and not made.runner.running, timeout=WAIT)
    yield made
    made.shutdown()


def idle(qtbot: Any, tab: Any) -> None:
    qtbot.waitUntil(lambda: not tab.runner.running, timeout=WAIT)
    qtbot.wait(30)  # what the job still sent is delivered


def test_stop_pressed_right_after_send_says_stopped_not_loaded(qtbot: Any, tab: Any) -> None:
    """Before: the job ended with no answer and no error, and the tab said 'Both models are loaded and answer at
    the same time.' over two panes left at 'Waiting…' for ever."""
    tab.prompt_edit.setPlainText("Aries: this week brings")
    tab.send_button.click()
    assert tab.stop_button.isEnabled() and not tab.send_button.isEnabled()
    tab.stop_button.click()  # before the answer's thread has begun
    idle(qtbot, tab)
    assert tab.status_label.text() == "Stopped by the user."
    assert [tab.panes[side].stats.text() for side in SIDES] == ["Stopped by the user before it answered."] * 2
    assert tab.send_button.isEnabled() and not tab.stop_button.isEnabled() and tab.new_button.isEnabled()
    assert tab.prompt_edit.toPlainText() == "Aries: this week brings"
    tab.send_button.click()  # and the next Send answers
    idle(qtbot, tab)
    assert all("tokens/s" in tab.panes[side].stats.text() for side in SIDES)


def test_refresh_after_the_picked_run_was_deleted_lets_its_models_go(qtbot: Any, tab: Any, runs: Path) -> None:
    """Before: Refresh said 'No runs in … yet' while Send stayed enabled, the deleted run's models loaded and its base
    in the Base model field."""
    shutil.rmtree(runs / "only")
    tab.refresh_button.click()
    assert tab.status_label.text() == (
        f"only is no longer in the runs folder (deleted or moved), so the Try tab let go of its models. Pick another "
        f"run above. No runs in {runs} yet. Train one, then try it here.")
    assert tab.loaded is None and not tab.send_button.isEnabled()
    assert tab.base_edit.text() == "" and not tab.base_edit.isEnabled()
    assert [tab.panes[side].title() for side in SIDES] == ["Base model", "Fine-tuned"]


def test_a_prompt_longer_than_the_model_reads_says_so_and_the_tab_stays_usable(qtbot: Any, tab: Any) -> None:
    tab.prompt_edit.setPlainText("word " * 20_000)
    tab.send_button.click()
    idle(qtbot, tab)
    said = tab.status_label.text()
    assert said.startswith("The prompt is ") and said.endswith(" this model reads at most 512. To fix: shorten it.")
    assert all(tab.panes[side].stats.text().startswith("⚠ The prompt is ") for side in SIDES)
    assert tab.send_button.isEnabled() and not tab.stop_button.isEnabled()
    tab.prompt_edit.setPlainText("Leo: the stars")
    tab.settings_box.max_new_tokens.setValue(2**31 - 1)  # the field's top: cut to what the model has room for
    tab.send_button.click()
    idle(qtbot, tab)
    assert all("Max new tokens clamped to" in tab.panes[side].stats.text() for side in SIDES)
    assert tab.send_button.isEnabled() and not tab.stop_button.isEnabled()


def test_a_base_model_fixed_in_the_field_clears_its_could_not_load_note(qtbot: Any, tab: Any) -> None:
    """Before: the base pane went on saying '⚠ This model could not load … /nonexistent/model' under 'Both models are
    loaded and answer at the same time.' once the field named the right base again and it loaded."""
    from finetune_studio.core.demo import demo_model_path

    tab.base_edit.setText("/nonexistent/model")
    tab.base_edit.editingFinished.emit()
    idle(qtbot, tab)
    assert tab.panes["base"].stats.text().startswith(
        "⚠ This model could not load, so it does not answer: Model folder not found: /nonexistent/model.")
    assert tab.status_label.text().startswith("The base model could not load, so the fine-tuned model answers alone.")
    tab.base_edit.setText(str(demo_model_path()))
    tab.base_edit.editingFinished.emit()
    idle(qtbot, tab)
    assert tab.loaded is not None and not tab.loaded.failed
    assert tab.status_label.text() == "Both models are loaded and answer at the same time."
    assert tab.panes["base"].stats.text() == "" and tab.panes["base"].text.toPlainText() == ""
    tab.prompt_edit.setPlainText("Aries")
    tab.send_button.click()
    idle(qtbot, tab)
    assert all("tokens/s" in tab.panes[side].stats.text() for side in SIDES)


def test_a_run_deleted_while_its_checkpoints_are_compared_says_so_at_the_end(
        qtbot: Any, demo_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: 'Stopped: 1 of 6 answers kept in only/answers.jsonl.' for a folder that was gone, with
    Send enabled on its models (the real comparison said 'Done: 2 answers, kept in a/answers.jsonl. checkpoint-4
    skipped: it is damaged: its config.json cannot be read ([Errno 2] …)')."""
    from finetune_studio.core.demo import demo_model_path
    from tests.gui.test_try_tab_states import Fakes, open_try_tab

    fakes = Fakes(monkeypatch)
    fakes.compare_hold_after = 1
    runs = tmp_path / "runs"
    make_run(runs, "only", demo_model_path(), steps=(4,))
    tab = open_try_tab(qtbot, runs)
    tab.session.config.prompts[:] = ["Leo: the stars", "Virgo"]
    tab._load_prompts()
    tab.pages.setCurrentWidget(tab.compare)
    tab.compare.compare_button.click()
    qtbot.waitUntil(lambda: bool(tab.compare.table_data.cells), timeout=WAIT)
    shutil.rmtree(runs / "only")
    tab.compare.stop_button.click()
    idle(qtbot, tab)
    said = ("Stopped: the run folder only was deleted or moved while its checkpoints were compared, so the answers "
            "went with it (1 made). To fix: put the folder back, or pick another run above, then compare again.")
    assert tab.compare.status.text() == said
    assert tab.status_label.text() == ""  # said once, on the page (9c0ed45): no model is picked, none to speak of
    assert tab.loaded is None and not tab.send_button.isEnabled() and tab.run_combo.count() == 0
    assert not tab.compare.compare_button.isEnabled()
    tab.shutdown()


def test_closing_the_window_while_the_models_answer_ends_their_thread(
        qtbot: Any, demo_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from finetune_studio.core.demo import demo_model_path
    from tests.helpers import window_on_runs

    runs = tmp_path / "runs"
    make_run(runs, "only", demo_model_path(), steps=(4,))
    window = window_on_runs(qtbot, runs, monkeypatch)
    tab = window.try_tab
    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=WAIT)
    tab.prompt_edit.setPlainText("Aries " * 50)
    tab.send_button.click()
    qtbot.waitUntil(lambda: any(t.name == "generate" for t in threading.enumerate()), timeout=WAIT)
    window.close()
    assert not tab.runner.running and tab.loaded is None
    assert not any(t.name == "generate" and t.is_alive() for t in threading.enumerate())


def test_the_compare_page_shown_after_its_run_was_deleted_lets_it_go_in_the_windows_words(
        qtbot: Any, tab: Any, runs: Path) -> None:
    """Before: Compare stayed enabled on the deleted run, and pressing it said the command line's '…/runs/only does
    not exist. To fix: give a run folder (it holds config.yaml) or a model folder …'."""
    tab.session.config.prompts[:] = ["Leo: the stars"]
    tab._load_prompts()
    shutil.rmtree(runs / "only")
    tab.pages.setCurrentWidget(tab.compare)
    assert tab.status_label.text().startswith(
        "only is no longer in the runs folder (deleted or moved), so the Try tab let go of its models. Pick another "
        "run above.")
    assert not tab.compare.compare_button.isEnabled() and tab.compare.run_dir is None
    assert tab.loaded is None and not tab.send_button.isEnabled()


def test_compare_asked_for_a_run_deleted_since_says_what_to_do(qtbot: Any, tab: Any, runs: Path) -> None:
    """Compare started another way than its button (a run that finishes, with Compare automatically) on a run
    deleted since it was picked."""
    tab.session.config.prompts[:] = ["Leo: the stars"]
    tab._load_prompts()
    shutil.rmtree(runs / "only")
    tab.compare.start()
    assert tab.compare.status.text() == (
        "The run folder only is no longer in the runs folder (deleted or moved), so there is nothing to compare. To "
        "fix: put it back, or pick another run above (Refresh lists the runs as they are).")
    assert not tab.runner.running and not tab.compare.stop_button.isEnabled()
