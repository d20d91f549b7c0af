"""The push dialog pushes a checkpoint (helper-212): the Export dialog's Model box picked the final model or any
complete checkpoint (e1aa3c9), the Push dialog had no such choice, and a stopped run (checkpoints, no final model)
listed nothing to push. Now its Model box lists the final model, then each complete checkpoint, newest first
(core.hub.model_choices, the reader export_choices shares), with the newest checkpoint chosen for a run without a
final model; the list and the push follow it (push_run's checkpoint=N), and the local Hub receives that checkpoint's
adapter, never its optimizer state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import hub as core_hub
from tests import helpers
from tests.helpers import stopped_lora_run
from tests.hub_fixtures import PUSH_WAIT_MS, WRITE, connect_client, hub, make_finished_run, push, push_dialog


@pytest.fixture(scope="module")
def stopped(tmp_path_factory: pytest.TempPathFactory, demo_cache: Path) -> Path:
    """A LoRA r 4 run saving a checkpoint each step, stopped after step 2 of 4: checkpoints 1 and 2, no model/."""
    return stopped_lora_run(tmp_path_factory.mktemp("h212 dialog"))


def _items(dialog: Any) -> list[tuple[str, Any]]:
    box = dialog.what_box
    return [(box.itemText(row), box.itemData(row)) for row in range(box.count())]


@pytest.mark.slow
def test_a_stopped_run_offers_its_checkpoints_newest_first_and_pushes_the_one_picked(
        stopped: Path, hub: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    connect_client(monkeypatch, hub, tmp_path / "hf_home", token=WRITE)
    with push_dialog(qtbot, stopped, core_hub.whoami()) as dialog:
        assert _items(dialog) == [("checkpoint-2", 2), ("checkpoint-1", 1)]
        assert dialog.what_box.currentText() == "checkpoint-2" and dialog.checkpoint == 2
        assert dialog.what_box.isEnabled() and "never the optimizer state" in dialog.what_box.toolTip()
        assert dialog._form_layout.isRowVisible(dialog._form_row)  # an adapter: the adapter or merged
        listed = dict(dialog.plan)
        assert listed["adapter_model.safetensors"] == (stopped / "checkpoint-2" / "adapter_model.safetensors"
                                                       ).stat().st_size
        assert "optimizer.pt" not in listed and "scheduler.pt" not in listed and "rng_state.pth" not in listed
        assert dialog.push_button.isEnabled()

        dialog.what_box.setCurrentIndex(1)
        qtbot.waitUntil(lambda: not dialog.plan_task.busy and bool(dialog.plan), timeout=PUSH_WAIT_MS)
        assert dialog.checkpoint == 1
        assert dialog.message_edit.placeholderText() == "Upload checkpoint-1 of stopped-run from Finetune Studio"
        assert dialog.repo_edit.text() == "alice/stopped-run-checkpoint-1"  # the proposal follows the Model box
        push(qtbot, dialog)
        assert dialog.result is not None, dialog.message.text()
        repo = hub.repos["alice/stopped-run-checkpoint-1"]
        assert sorted(repo.files) == sorted(name for name, _ in dialog.plan)
        assert repo.files["adapter_model.safetensors"] == (stopped / "checkpoint-1" / "adapter_model.safetensors"
                                                           ).read_bytes()
        assert "optimizer.pt" not in repo.files and "rng_state.pth" not in repo.files
        assert json.loads(repo.files["trainer_state.json"])["global_step"] == 1
        assert "These are the weights of checkpoint-1, saved at step 1 of 4" in repo.files["README.md"].decode()


def test_a_finished_run_offers_its_final_model_first_and_one_without_checkpoints_a_disabled_box(
        hub: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    connect_client(monkeypatch, hub, tmp_path / "hf_home", token=WRITE)
    run = make_finished_run(tmp_path / "runs")  # full fine-tuning
    with push_dialog(qtbot, run, core_hub.whoami()) as dialog:
        assert _items(dialog) == [("Final model", None)] and not dialog.what_box.isEnabled()
        assert "kept no complete checkpoint, so its final model is the one to push" in dialog.what_box.toolTip()
        assert not dialog._form_layout.isRowVisible(dialog._form_row)
        dialog.close()

    checkpoint = helpers.checkpoint(run, 6)
    (checkpoint / "optimizer.pt").write_bytes(b"optimizer state")
    with push_dialog(qtbot, run, core_hub.whoami()) as dialog:
        assert _items(dialog) == [("Final model", None), ("checkpoint-6", 6)] and dialog.what_box.isEnabled()
        assert dialog.checkpoint is None
        assert dict(dialog.plan)["model.safetensors"] == (run / "model" / "model.safetensors").stat().st_size
        dialog.what_box.setCurrentIndex(1)
        qtbot.waitUntil(lambda: not dialog.plan_task.busy and bool(dialog.plan), timeout=PUSH_WAIT_MS)
        listed = dict(dialog.plan)
        assert listed["model.safetensors"] == (checkpoint / "model.safetensors").stat().st_size
        assert "optimizer.pt" not in listed
        push(qtbot, dialog, "alice/tiny-ckpt")
        assert hub.repos["alice/tiny-ckpt"].files["model.safetensors"] == (checkpoint / "model.safetensors"
                                                                           ).read_bytes()


@pytest.mark.slow
def test_a_stopped_run_shown_offers_push_and_opens_the_dialog_on_its_newest_checkpoint(
        stopped: Path, hub: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtCore import QObject, Signal

    from finetune_studio.core.session import Session
    from finetune_studio.gui import background
    from finetune_studio.gui.hub_dialogs import HubController, PushDialog

    class Events(QObject):
        event = Signal(dict)

    connect_client(monkeypatch, hub, tmp_path / "hf_home", token=WRITE)
    events = Events()
    session = Session()
    controller = HubController(session, lambda text, ms: None, events.event)
    qtbot.addWidget(controller.push_button)
    qtbot.waitUntil(lambda: controller.status.kind == "account", timeout=PUSH_WAIT_MS)
    assert controller.push_button.isHidden()  # no run shown
    session.show_recorded(stopped)
    assert session.state.value == "stopped" and not controller.push_button.isHidden()
    opened: list[Any] = []
    monkeypatch.setattr(PushDialog, "open", lambda self: opened.append(self))  # not shown modal here
    controller.push_button.click()
    assert len(opened) == 1 and opened[0].run_dir == stopped
    dialog = opened[0]
    qtbot.addWidget(dialog)
    assert dialog.what_box.currentText() == "checkpoint-2" and dialog.checkpoint == 2
    qtbot.waitUntil(lambda: bool(dialog.plan), timeout=PUSH_WAIT_MS)
    assert "adapter_model.safetensors" in dict(dialog.plan)
    background.wait_idle()
