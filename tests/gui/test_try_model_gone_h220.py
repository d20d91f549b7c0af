"""The Try tab in the real window, a demo run's model deleted outside the app (a file manager, `rm -r`) after the
tab showed and loaded it, the run itself still there: Send let the loaded weights answer under the name of a model
no longer on disk ("Fine-tuned · copy-run · final model"), the picker still listing it. Now Send, and showing the
tab again, let its models go, list the run's models again, and say what happened and what to do; the prompt stays in
the box, and another model of the run answers."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.generate import BASE, TUNED
from tests.gui.test_try_tab import LONG, loaded_tab, send, trained_runs, window  # noqa: F401 - fixtures


@pytest.fixture
def copy_run(window: Any, trained_runs: Path) -> Any:
    """A copy of the module's demo run (its final model, checkpoints 4, 8 and 12), shown and loaded in the Try tab;
    removed afterwards, so the other tests' run stays whole."""
    copy = trained_runs / "copy-run"
    shutil.copytree(trained_runs / "three-checkpoints", copy)
    try:
        yield copy
    finally:
        shutil.rmtree(copy, ignore_errors=True)


def shown_and_loaded(qtbot: Any, window: Any, run: Path, target: str) -> Any:
    tab = loaded_tab(qtbot, window)
    tab.select_run(run, target)
    qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=LONG)
    assert tab.loaded.source.name == f"copy-run · {target}"
    assert tab.panes[TUNED].title() == f"Fine-tuned · copy-run · {target}"
    tab.settings_box.max_new_tokens.setValue(4)
    return tab


def listed(tab: Any) -> list[str]:
    return [tab.target_combo.itemText(i) for i in range(tab.target_combo.count())]


def test_send_after_the_final_model_was_deleted_lets_it_go_and_keeps_the_prompt(
        qtbot: Any, window: Any, copy_run: Path) -> None:
    tab = shown_and_loaded(qtbot, window, copy_run, "final model")
    shutil.rmtree(copy_run / "model")
    tab.prompt_edit.setPlainText("Aries")
    tab.send_button.click()
    assert not tab.runner.running and tab.loaded is None
    assert tab.status_label.text() == ("The final model is no longer in the run folder (deleted since the list was "
                                       "made); the list is refreshed: pick another. Your prompt was not sent: it is "
                                       "still in the box.")
    assert listed(tab) == ["checkpoint-12", "checkpoint-8", "checkpoint-4"] and tab.target_combo.currentIndex() == -1
    assert tab.panes[TUNED].title() == "Fine-tuned" and tab.panes[TUNED].text.toPlainText() == ""
    assert not tab.send_button.isEnabled() and tab.prompt_edit.toPlainText() == "Aries"
    tab.target_combo.setCurrentIndex(0)  # the user picks another model of the run: it loads and answers
    qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=LONG)
    assert tab.loaded.source.name == "copy-run · checkpoint-12"
    send(qtbot, tab, "Aries")
    assert tab.panes[TUNED].text.toPlainText().startswith("Aries") and tab.answers[TUNED].tokens > 0
    assert tab.answers[BASE].tokens > 0


def test_a_checkpoint_deleted_while_another_tab_showed_is_let_go_when_the_tab_shows(
        qtbot: Any, window: Any, copy_run: Path) -> None:
    tab = shown_and_loaded(qtbot, window, copy_run, "checkpoint-8")
    window.tabs.setCurrentWidget(window.pages[window.dataset_form])
    shutil.rmtree(copy_run / "checkpoint-8")
    window.tabs.setCurrentWidget(window.try_tab)
    assert tab.loaded is None and not tab.runner.running
    assert tab.status_label.text() == ("checkpoint-8 is no longer in the run folder (deleted since the list was made); "
                                       "the list is refreshed: pick another.")
    assert listed(tab) == ["final model", "checkpoint-12", "checkpoint-4"] and tab.target_combo.currentIndex() == -1
    assert tab.panes[TUNED].title() == "Fine-tuned" and not tab.send_button.isEnabled()


@pytest.fixture
def deleted_as_it_loads(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Called: each model of copy-run the Try tab loads from then on is deleted (rm -r, a file manager) as its load
    begins."""
    from finetune_studio.core import generate

    real = generate.load

    def load(source: Any, *args: Any, **kwargs: Any) -> Any:
        if source.run_dir is not None and source.run_dir.name == "copy-run":
            shutil.rmtree(source.target.path)
        return real(source, *args, **kwargs)

    return lambda: monkeypatch.setattr(generate, "load", load)


GONE_8 = ("checkpoint-8 is no longer in the run folder (deleted since the list was made); the list is refreshed: "
          "pick another.")


def test_a_checkpoint_deleted_while_it_loads_says_so_not_generation_failed(
        qtbot: Any, window: Any, copy_run: Path, deleted_as_it_loads: Any) -> None:
    """Before: 'Generation failed: FileNotFoundError: [Errno 2] No such file or directory: '…/checkpoint-8'. To fix:
    try other settings or another checkpoint.', the picker still on checkpoint-8 and Send enabled."""
    tab = shown_and_loaded(qtbot, window, copy_run, "final model")
    deleted_as_it_loads()
    tab.target_combo.setCurrentIndex(tab.target_combo.findText("checkpoint-8"))
    qtbot.waitUntil(lambda: not tab.runner.running, timeout=LONG)
    qtbot.wait(50)  # what the job still sent is delivered
    assert tab.status_label.text() == GONE_8
    assert tab.loaded is None and not tab.send_button.isEnabled()
    assert listed(tab) == ["final model", "checkpoint-12", "checkpoint-4"] and tab.target_combo.currentIndex() == -1
    assert tab.panes[TUNED].title() == "Fine-tuned"


def test_a_prompt_sent_while_its_checkpoint_is_deleted_in_its_load_stays_in_the_box(
        qtbot: Any, window: Any, copy_run: Path, deleted_as_it_loads: Any) -> None:
    tab = shown_and_loaded(qtbot, window, copy_run, "final model")
    deleted_as_it_loads()
    tab.target_combo.setCurrentIndex(tab.target_combo.findText("checkpoint-8"))
    tab.prompt_edit.setPlainText("Leo")
    tab.send_button.click()  # while it loads: the prompt waits for it
    qtbot.waitUntil(lambda: not tab.runner.running, timeout=LONG)
    qtbot.wait(50)
    assert tab.status_label.text() == f"{GONE_8} Your prompt was not sent: it is still in the box."
    assert tab.prompt_edit.toPlainText() == "Leo" and tab.loaded is None
    assert listed(tab) == ["final model", "checkpoint-12", "checkpoint-4"] and not tab.send_button.isEnabled()
