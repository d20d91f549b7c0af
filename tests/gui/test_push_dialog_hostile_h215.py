"""A hostile pass over the Push dialog's Model box (helper-215), as helper-214's was over the Export dialog's: the
run's folder changed while the dialog is open, then Push pressed, against the local Hub. Before, a checkpoint
deleted or damaged since the box listed it was refused in the command line's words ("To fix: pick one it has:
--checkpoint 2."), the box kept offering it with its old list of files and Push enabled; a run deleted or renamed
said "`finetune-studio runs` lists the runs" and kept Push enabled; a final model deleted stayed in the box and the
refusal named no checkpoint. Each case: the message says which model and what to do in this dialog, nothing reaches
the Hub (the requests the server got), and the box is re-read."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import hub as core_hub
from tests import helpers
from tests.helpers import stopped_lora_run
from tests.hub_fixtures import PUSH_WAIT_MS, WRITE, connect_client, hub, make_finished_run, push, push_dialog


@pytest.fixture(scope="module")
def stopped_src(tmp_path_factory: pytest.TempPathFactory, demo_cache: Path) -> Path:
    """A LoRA r 4 run stopped after step 2 of 4: checkpoints 1 and 2, no model/ (copied for each test)."""
    return stopped_lora_run(tmp_path_factory.mktemp("h215"))


@pytest.fixture
def stopped(stopped_src: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(stopped_src, tmp_path / "runs" / "stopped-run"))


def _items(dialog: Any) -> list[str]:
    return [dialog.what_box.itemText(row) for row in range(dialog.what_box.count())]


def _press_push(qtbot: Any, dialog: Any) -> None:
    dialog.push_button.click()
    qtbot.waitUntil(lambda: not dialog.pushing, timeout=PUSH_WAIT_MS)
    qtbot.waitUntil(lambda: not dialog.plan_task.busy, timeout=PUSH_WAIT_MS)


def _listed(qtbot: Any, dialog: Any) -> dict[str, int]:
    qtbot.waitUntil(lambda: not dialog.plan_task.busy and bool(dialog.plan), timeout=PUSH_WAIT_MS)
    return dict(dialog.plan)


@pytest.mark.slow
def test_a_checkpoint_deleted_while_open_is_said_as_the_model_box_and_no_longer_offered(
        stopped: Path, hub: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    connect_client(monkeypatch, hub, tmp_path / "hf_home", token=WRITE)
    with push_dialog(qtbot, stopped, core_hub.whoami()) as dialog:
        dialog.what_box.setCurrentIndex(1)
        _listed(qtbot, dialog)
        assert dialog.checkpoint == 1
        shutil.rmtree(stopped / "checkpoint-1")
        sent = len(hub.requests)
        _press_push(qtbot, dialog)
        assert dialog.message.text() == ("The run stopped-run has no complete checkpoint 1. Nothing was sent to the "
                                         "Hub. To fix: pick another model in the Model box: checkpoint-2.")
        assert hub.requests[sent:] == [] and not hub.repos
        assert _items(dialog) == ["checkpoint-2"] and dialog.checkpoint == 2
        listed = _listed(qtbot, dialog)
        assert listed["adapter_model.safetensors"] == (stopped / "checkpoint-2" / "adapter_model.safetensors"
                                                       ).stat().st_size
        assert dialog.message_edit.placeholderText() == "Upload checkpoint-2 of stopped-run from Finetune Studio"
        assert dialog.push_button.isEnabled()


@pytest.mark.slow
def test_a_checkpoint_damaged_while_open_is_named_so_and_push_waits_for_another_pick(
        stopped: Path, hub: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    connect_client(monkeypatch, hub, tmp_path / "hf_home", token=WRITE)
    with push_dialog(qtbot, stopped, core_hub.whoami()) as dialog:
        assert dialog.checkpoint == 2
        weights = stopped / "checkpoint-2" / "adapter_model.safetensors"
        weights.write_bytes(weights.read_bytes()[:100])  # cut short
        sent = len(hub.requests)
        _press_push(qtbot, dialog)
        text = dialog.message.text()
        assert text.startswith("stopped-run · checkpoint-2 is damaged: ") and "Nothing was sent to the Hub." in text
        # the Export dialog's words for a damaged pick (gui.export_dialog.refused_pick_text, one wording for both)
        assert text.endswith(" To fix: pick a whole one in the Model box: checkpoint-1."), text
        assert "--checkpoint" not in text
        assert hub.requests[sent:] == []
        assert _items(dialog) == ["checkpoint-2 (damaged)", "checkpoint-1"]
        assert dialog.plan == [] and dialog.files.topLevelItemCount() == 0 and not dialog.push_button.isEnabled()

        dialog.what_box.setCurrentIndex(1)
        _listed(qtbot, dialog)
        push(qtbot, dialog)
        assert dialog.result is not None, dialog.message.text()
        assert hub.repos["alice/stopped-run-checkpoint-1"].files["adapter_model.safetensors"] == (
            stopped / "checkpoint-1" / "adapter_model.safetensors").read_bytes()


@pytest.mark.slow
def test_every_checkpoint_deleted_while_open_says_nothing_is_left_and_disables_push(
        stopped: Path, hub: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    said = ("The run stopped-run has no model left to push: its final model and checkpoints were deleted since the "
            "dialog listed them. Nothing was sent to the Hub. To fix: choose another run (Choose…), or train this one "
            "again.")
    connect_client(monkeypatch, hub, tmp_path / "hf_home", token=WRITE)
    with push_dialog(qtbot, stopped, core_hub.whoami()) as dialog:
        for path in stopped.glob("checkpoint-*"):
            shutil.rmtree(path)
        sent = len(hub.requests)
        _press_push(qtbot, dialog)
        assert dialog.message.text() == said
        assert hub.requests[sent:] == []
        assert _items(dialog) == [] and not dialog.what_box.isEnabled()
        assert not dialog.push_button.isEnabled() and dialog.push_button.toolTip() == said
        assert dialog.plan == [] and dialog.total_label.text() == "Nothing to upload."


@pytest.mark.slow
def test_the_run_renamed_while_open_says_so_in_the_dialogs_words_and_pushes_once_back(
        stopped: Path, hub: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    said = (f"The run stopped-run is no longer in {stopped.parent} (deleted, moved or renamed since it was shown), so "
            "there is nothing to push there. Nothing was sent to the Hub. To fix: if it was moved or renamed, choose "
            "it in its new place (Choose…).")
    connect_client(monkeypatch, hub, tmp_path / "hf_home", token=WRITE)
    with push_dialog(qtbot, stopped, core_hub.whoami()) as dialog:
        stopped.rename(stopped.with_name("renamed-run"))
        sent = len(hub.requests)
        _press_push(qtbot, dialog)
        assert dialog.message.text() == said
        assert hub.requests[sent:] == [] and not hub.repos
        assert _items(dialog) == [] and dialog.push_button.toolTip() == said
        _press_push(qtbot, dialog)  # still away: said again, nothing sent
        assert dialog.message.text() == said and hub.requests[sent:] == []
        stopped.with_name("renamed-run").rename(stopped)  # put back: Push pushes what the box picked
        push(qtbot, dialog)
        assert dialog.result is not None, dialog.message.text()
        assert _items(dialog) == ["checkpoint-2", "checkpoint-1"] and dialog.checkpoint == 2
        assert hub.repos["alice/stopped-run-checkpoint-2"].files["adapter_model.safetensors"] == (
            stopped / "checkpoint-2" / "adapter_model.safetensors").read_bytes()


def test_the_final_model_deleted_while_open_leaves_the_box_on_the_newest_checkpoint(
        hub: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    connect_client(monkeypatch, hub, tmp_path / "hf_home", token=WRITE)
    run = make_finished_run(tmp_path / "runs")  # full fine-tuning, with checkpoint-6
    checkpoint = helpers.checkpoint(run, 6)
    with push_dialog(qtbot, run, core_hub.whoami()) as dialog:
        assert _items(dialog) == ["Final model", "checkpoint-6"] and dialog.checkpoint is None
        shutil.rmtree(run / "model")
        sent = len(hub.requests)
        _press_push(qtbot, dialog)
        text = dialog.message.text()
        assert text.startswith("The run tiny-run finished, but its model folder ")
        assert text.endswith(" Or push one of its checkpoints: the Model box now picks the newest, checkpoint-6.")
        assert hub.requests[sent:] == []
        assert _items(dialog) == ["checkpoint-6"] and dialog.checkpoint == 6
        assert _listed(qtbot, dialog)["model.safetensors"] == (checkpoint / "model.safetensors").stat().st_size
        push(qtbot, dialog, "alice/tiny-ckpt")
        assert hub.repos["alice/tiny-ckpt"].files["model.safetensors"] == (checkpoint / "model.safetensors"
                                                                           ).read_bytes()


def test_a_checkpoint_deleted_before_it_is_picked_is_said_as_the_model_box(
        hub: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    connect_client(monkeypatch, hub, tmp_path / "hf_home", token=WRITE)
    run = make_finished_run(tmp_path / "runs")
    helpers.checkpoint(run, 6)
    with push_dialog(qtbot, run, core_hub.whoami()) as dialog:
        shutil.rmtree(run / "checkpoint-6")
        dialog.what_box.setCurrentIndex(1)  # listed when the dialog opened
        qtbot.waitUntil(lambda: dialog.message.isVisible(), timeout=PUSH_WAIT_MS)
        assert dialog.message.text() == (
            "The run tiny-run has no complete checkpoint now: checkpoint-6, which the Model box listed, was deleted or "
            "moved since (it holds config.yaml, metrics.jsonl, model/, status.json). Nothing was sent to the Hub. "
            "To fix: pick another model in the Model box: the final model.")
        assert _items(dialog) == ["Final model"] and dialog.checkpoint is None
        assert "model.safetensors" in _listed(qtbot, dialog) and dialog.push_button.isEnabled()


def test_a_run_training_in_another_process_pushes_a_checkpoint_and_refuses_its_final_model(
        hub: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.helpers import hold_like_another_process

    connect_client(monkeypatch, hub, tmp_path / "hf_home", token=WRITE)
    run = make_finished_run(tmp_path / "runs")
    checkpoint = helpers.checkpoint(run, 6)
    fd = hold_like_another_process(run)  # a terminal resumed it
    try:
        with push_dialog(qtbot, run, core_hub.whoami()) as dialog:
            # the final model is not offered while another process trains the run (helper-218's cd716e2): the Model
            # box lists its complete checkpoints alone, under a line saying it trains elsewhere
            assert _items(dialog) == ["checkpoint-6"] and dialog.checkpoint == 6
            assert dialog.training_label.isVisible(), dialog.training_label.text()
            _listed(qtbot, dialog)
            push(qtbot, dialog, "alice/ckpt6")
            assert dialog.result is not None, dialog.message.text()
            assert hub.repos["alice/ckpt6"].files["model.safetensors"] == (checkpoint / "model.safetensors"
                                                                           ).read_bytes()
    finally:
        os.close(fd)


@pytest.mark.slow
def test_at_its_smallest_the_dialog_cuts_no_line_of_the_push_row(
        stopped: Path, hub: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At its smallest (545 by 505 px before) the Weights row and the two lines of its note were squeezed into one
    line's height, overlapping and cut: /tmp/h215/push_smallest.png."""
    connect_client(monkeypatch, hub, tmp_path / "hf_home", token=WRITE)
    with push_dialog(qtbot, stopped, core_hub.whoami()) as dialog:
        dialog.resize(1, 1)
        qtbot.wait(100)
        note = dialog.dtype_note
        short = [(widget.objectName(), widget.height(), need) for widget, need in (
            (note, note.heightForWidth(note.width())), (dialog.dtype_row, dialog.dtype_row.minimumSizeHint().height()),
            (dialog.merged_radio, dialog.merged_radio.sizeHint().height())) if widget.height() < need]
        assert short == [], (dialog.size(), short)
        assert dialog.height() >= dialog.layout().totalHeightForWidth(dialog.width())
