"""The Export and Push dialogs' Model box and the run header's buttons, as helper-218 found them:

- a run another process trains (a terminal's resume) had no Export… and no Push to Hub…, though its complete
  checkpoints are written once, whole, and core exports and pushes them; now both are offered, the Model box lists
  those checkpoints alone (not the final model, which is written when the run ends), and a line says why;
- a checkpoint named "(damaged)" kept the name once repaired: the box is read again as its list opens and as the
  user picks, and a damaged pick is refused in words at once;
- the list of a run with 60 checkpoints opened as tall as the screen (Fusion ignores maxVisibleItems);
- Push to Hub… of a run whose folder went since it was shown opened a chooser of runs; it says why, as Export… does.

Real tiny LoRA runs (tests.helpers.stopped_lora_run); the other process is tests.helpers.hold_like_another_process.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from finetune_studio.core.events import RunState
from finetune_studio.gui import dialogs
from finetune_studio.gui.export_dialog import ExportDialog
from tests.gui.test_app import dialog_log, make_window, window  # fixtures
from tests.helpers import hold_like_another_process, stopped_lora_run

WAIT = 120_000
# The open list, offscreen: the plugin cannot raise it or grab the keyboard for it.
ROWS = 15  # gui.dialogs.MODEL_BOX_ROWS: what the Model box's open list shows before it scrolls
OPEN_LIST = pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing)")


@pytest.fixture(scope="module")
def stopped_src(tmp_path_factory: pytest.TempPathFactory, demo_cache: Path) -> Path:
    """A LoRA r 4 run stopped after step 2 of 4: checkpoints 1 and 2, no model/ (copied for each test)."""
    return stopped_lora_run(tmp_path_factory.mktemp("h218"))


@pytest.fixture
def stopped(stopped_src: Path, runs_dir: Path) -> Path:
    return Path(shutil.copytree(stopped_src, runs_dir / "stopped-run"))


def _items(box: Any) -> list[str]:
    return [box.itemText(row) for row in range(box.count())]


def _training_line(run: Path, what: str) -> str:
    return (f"The run {run.name} is still training in another process (process {os.getpid()}, at step 2 of 4). Its "
            "final model is written only when it ends, so the Model box lists only the checkpoints it has saved "
            f"whole so far: each is written once, whole, and can be {what} while the run trains on. Open the list "
            "again to see newer ones.")


def _cut(weights: Path) -> bytes:
    """Cut the weights short (a full disk, a broken copy); returns them whole, to put back."""
    whole = weights.read_bytes()
    weights.write_bytes(whole[:1000])
    return whole


@pytest.mark.slow
def test_a_run_training_in_another_process_offers_export_and_push_of_its_checkpoints(
        qtbot: Any, window: Any, stopped: Path) -> None:
    window.show_run(stopped)
    assert window.state is RunState.STOPPED and not window.exporter.button.isHidden()
    # hold_like_another_process writes its record over the run's own without truncating it: a shorter record left
    # the old one's tail behind, unreadable JSON, so the run read as held by no one (by chance of the digits)
    (stopped / "run.lock").unlink()
    fd = hold_like_another_process(stopped)  # a terminal resumes it
    try:
        window.show_run(stopped)  # the Runs tab's poll shows it again: followed, training in another process
        assert window.state is RunState.RUNNING and not window.session.running
        # Both were hidden: "Export…" waited for the run to end, Push to Hub… was offered to ended runs only.
        assert not window.exporter.button.isHidden()
        assert not window.hub.push_button.isHidden()
        assert "still training in another process" in window.exporter.button.toolTip()

        qtbot.mouseClick(window.exporter.button, Qt.MouseButton.LeftButton)
        dialog = window.exporter.dialog
        assert dialog is not None and dialog.isVisible()
        assert _items(dialog.what_box) == ["checkpoint-2", "checkpoint-1"]  # no final model
        assert dialog.training_label.isVisible()
        assert dialog.training_label.text() == _training_line(stopped, "exported")
        assert dialog.export_button.isEnabled()
        dialog.export_button.click()
        qtbot.waitUntil(lambda: not dialog.exporting, timeout=WAIT)
        assert dialog.message.property("kind") == "success", dialog.message.text()
        assert dialog.message.text().startswith("Exported the adapter of checkpoint-2 of stopped-run (")
        assert (stopped / "export-adapter-checkpoint-2" / "adapter_model.safetensors").read_bytes() == (
            stopped / "checkpoint-2" / "adapter_model.safetensors").read_bytes()
        dialog.close()

        qtbot.mouseClick(window.hub.push_button, Qt.MouseButton.LeftButton)
        push = window.hub.push_dialog
        assert push is not None and push.isVisible()
        assert _items(push.what_box) == ["checkpoint-2", "checkpoint-1"]
        assert push.training_label.isVisible() and push.training_label.text() == _training_line(stopped, "pushed")
        qtbot.waitUntil(lambda: not push.plan_task.busy, timeout=WAIT)
        assert push.checkpoint == 2 and "adapter_model.safetensors" in dict(push.plan)
        push.close()
        assert window.exporter.poll.isActive() and window.hub.poll.isActive()  # for newer checkpoints, or its end
    finally:
        os.close(fd)


@pytest.mark.slow
@OPEN_LIST
def test_a_checkpoint_named_damaged_loses_the_name_once_repaired_and_a_damaged_pick_is_refused_in_words(
        qtbot: Any, stopped: Path) -> None:
    dialog = ExportDialog(stopped)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.checkpoint == 2
    weights = stopped / "checkpoint-2" / "adapter_model.safetensors"
    whole = _cut(weights)
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=WAIT)
    assert "checkpoint-2 is damaged" in dialog.message.text()
    assert _items(dialog.what_box) == ["checkpoint-2 (damaged)", "checkpoint-1"]

    weights.write_bytes(whole)  # repaired while the dialog is open
    dialog.what_box.showPopup()  # it kept "(damaged)"
    assert _items(dialog.what_box) == ["checkpoint-2", "checkpoint-1"] and dialog.checkpoint == 2
    dialog.what_box.hidePopup()

    other = stopped / "checkpoint-1" / "adapter_model.safetensors"
    _cut(other)
    dialog.what_box.setFocus()
    qtbot.keyClick(dialog.what_box, Qt.Key.Key_Down)  # the user picks checkpoint-1: it said nothing until Export
    assert dialog.checkpoint == 1
    assert _items(dialog.what_box) == ["checkpoint-2", "checkpoint-1 (damaged)"]
    assert dialog.message.property("kind") == "error" and dialog.message.isVisible()
    assert dialog.message.text() == (
        "stopped-run · checkpoint-1 is damaged: its adapter_model.safetensors is cut short or not a safetensors "
        "file, so it cannot be exported. To fix: pick a whole one in the Model box: checkpoint-2.")
    dialog.export_button.click()  # and Export still refuses it, in words
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=WAIT)
    assert dialog.message.text().startswith("stopped-run · checkpoint-1 is damaged: ")
    assert not (stopped / "export-adapter-checkpoint-1").exists()

    qtbot.keyClick(dialog.what_box, Qt.Key.Key_Up)  # back to the whole one: the words of the other go
    assert dialog.checkpoint == 2 and not dialog.message.isVisible()


@pytest.mark.slow
@OPEN_LIST
def test_the_push_dialogs_damaged_label_follows_the_files(qtbot: Any, stopped: Path) -> None:
    from finetune_studio.gui import background
    from finetune_studio.gui.hub_dialogs import PushDialog

    weights = stopped / "checkpoint-2" / "adapter_model.safetensors"
    whole = _cut(weights)  # the files' list, made on the disk alone, refuses it: no Hub needed
    dialog = PushDialog(stopped, None)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.plan_task.busy, timeout=WAIT)
    assert _items(dialog.what_box) == ["checkpoint-2 (damaged)", "checkpoint-1"]
    assert not dialog.push_button.isEnabled() and "checkpoint-2 is damaged" in dialog.message.text()

    weights.write_bytes(whole)
    dialog.what_box.showPopup()  # it kept "(damaged)", and nothing to upload
    assert _items(dialog.what_box) == ["checkpoint-2", "checkpoint-1"] and dialog.checkpoint == 2
    dialog.what_box.hidePopup()
    qtbot.waitUntil(lambda: not dialog.plan_task.busy and bool(dialog.plan), timeout=WAIT)
    assert "adapter_model.safetensors" in dict(dialog.plan)
    background.wait_idle()
    dialog.close()


def _popup_rows(box: Any) -> tuple[int, int, int]:
    """(the open list's height, one row's height, the screen's height)."""
    box.showPopup()
    container = box.view().window()
    try:
        return container.height(), box.view().sizeHintForRow(0), QGuiApplication.primaryScreen().availableGeometry(
            ).height()
    finally:
        box.hidePopup()


@pytest.mark.slow
@OPEN_LIST
def test_the_model_boxs_list_of_60_checkpoints_shows_15_rows_and_scrolls(qtbot: Any, stopped: Path) -> None:
    from finetune_studio.gui.hub_dialogs import PushDialog

    for step in range(3, 61):
        shutil.copytree(stopped / "checkpoint-1", stopped / f"checkpoint-{step}")
        state = stopped / f"checkpoint-{step}" / "trainer_state.json"
        state.write_text(state.read_text().replace('"global_step": 1', f'"global_step": {step}'))
    export = ExportDialog(stopped)
    push = PushDialog(stopped, None)
    for dialog in (export, push):
        qtbot.addWidget(dialog)
        dialog.show()
        assert dialog.what_box.count() == 60
        height, row, screen = _popup_rows(dialog.what_box)
        # It opened 788 px tall on an 800 px screen (every row a menu item).
        assert row * ROWS <= height <= row * (ROWS + 1), (height, row)
        assert height < screen / 2
        dialog.what_box.showPopup()
        assert dialog.what_box.view().verticalScrollBar().maximum() > 0  # the other 45 scroll
        dialog.what_box.hidePopup()
    from finetune_studio.gui import background

    background.wait_idle()
    export.close()
    push.close()


def test_push_to_hub_of_a_run_whose_folder_went_says_so_and_opens_no_chooser(
        qtbot: Any, window: Any, runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.hub_fixtures import make_finished_run

    run = make_finished_run(runs_dir)
    window.show_run(run)
    assert not window.hub.push_button.isHidden()
    chooser: list[tuple] = []
    monkeypatch.setattr(dialogs, "choose_folder", lambda *args: chooser.append(args))
    shutil.move(run, runs_dir / "renamed")
    qtbot.mouseClick(window.hub.push_button, Qt.MouseButton.LeftButton)
    assert chooser == []  # a chooser of runs opened, and said nothing of this one
    assert window.hub.push_dialog is None
    assert window.statusBar().full_message == (
        f"The run {run.name} is no longer in {runs_dir} (deleted, moved or renamed since it was shown), so there is "
        "nothing to push there. Nothing was sent to the Hub. To fix: if it was moved or renamed, open it from its new "
        "place (the Runs tab, or File → Open run folder) and push it from there, or choose its folder with Push a run "
        "folder… in the Hub menu.")
    assert window.hub.push_button.isHidden()
