"""Adapter runs in the window: the Runs tab's method column, and (slow) LoRA picked, trained, stopped, resumed,
exported both ways and pushed, all from the real window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.core import test_runs_history as fab
from tests.gui.test_app import dialog_log, make_window
from tests.gui.test_history import rows, wait_rows


@pytest.fixture
def cold_window(make_window: Any) -> Any:
    made = make_window(warm=False)
    made.tabs.setCurrentWidget(made.history)
    return made


def test_the_runs_tab_shows_each_runs_method(qtbot: Any, cold_window: Any, runs_dir: Path) -> None:
    runs_dir.mkdir(parents=True)
    finished = {"state": "finished", "message": "Finished 20 steps.", "model": "builtin:demo",
                "dataset": "builtin:sample"}
    lora = fab.make_run(runs_dir, "lora-run", fab.segment(2, 20), {**finished, "method": "lora"})
    (lora / "config.yaml").write_text("name: lora-run\nadapter:\n  method: lora\n")  # its settings: the defaults
    dora = fab.make_run(runs_dir, "dora-run", fab.segment(2, 20), {"state": "finished"})  # status without it:
    (dora / "config.yaml").write_text("name: dora-run\nmodel:\n  name_or_path: builtin:demo\n"
                                      "adapter:\n  method: dora\n")  # config.yaml says
    fab.make_run(runs_dir, "old-run", fab.segment(2, 20), finished)  # from before adapters: full fine-tuning
    table = wait_rows(qtbot, cold_window.history, lambda r: len(r) == 3)
    assert {name: cells["method"] for name, cells in table.items()} == {"lora-run": "LoRA", "dora-run": "DoRA",
                                                                         "old-run": "full"}
    from finetune_studio.gui.history import COLUMN

    proxy = cold_window.history.proxy
    row = rows(cold_window.history)["lora-run"]["row"]
    tip = proxy.index(row, COLUMN["method"]).data(3)  # ToolTipRole: the method with its settings
    assert tip == "LoRA r 16, alpha 32 (scale 2), dropout 0.05 on all-linear", tip
    old_row = rows(cold_window.history)["old-run"]["row"]
    assert proxy.index(old_row, COLUMN["method"]).data(3) == "Full fine-tuning"


def test_picking_lora_in_the_window_moves_the_training_tabs_learning_rate(qtbot: Any, make_window: Any) -> None:
    window = make_window(warm=False)
    assert window.training_form.lr_edit.text() == "2e-5"  # the seed's
    adapter = window.model_form.adapter_form
    adapter.method_combo.setCurrentIndex(adapter.method_combo.findData("lora"))
    adapter.method_combo.activated.emit(adapter.method_combo.currentIndex())
    assert window.config.adapter.method == "lora" and window.config.training["learning_rate"] == 2e-4
    assert window.training_form.lr_edit.text() == "0.0002"  # shown where it is edited
    assert "0.0002" in adapter.lr_hint.text() and window.isWindowModified()
    adapter.method_combo.setCurrentIndex(adapter.method_combo.findData("full"))
    adapter.method_combo.activated.emit(adapter.method_combo.currentIndex())
    assert window.config.training["learning_rate"] == 2e-5 and window.training_form.lr_edit.text() == "2e-5"


# ---- the whole path through the real window ---------------------------------------------------------------------

LONG = 180_000  # ms
PROMPT = "Leo: this week"


@pytest.fixture
def hub_window(qtbot: Any, demo_cache: Path, runs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A warm main window whose Hub is tests/hub_server.py (huggingface_hub re-pointed in this process); modal
    helpers answer without blocking."""
    from finetune_studio.gui import background, dialogs
    from tests.hub_fixtures import BOB, READ, WRITE, instant_retries, patch_client
    from tests.hub_server import HubServer

    errors: list[tuple[str, str]] = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, message, details=None:
                        errors.append((title, message)))
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a: dialogs.SaveChoice.DISCARD)
    monkeypatch.setattr(dialogs, "confirm_stop_and_close", lambda *a: True)
    with HubServer() as server:
        server.add_token(WRITE, "alice", "write", display_name="studio-write")
        server.add_token(READ, "alice", "read")
        server.add_token(BOB, "bob", "write")
        patch_client(monkeypatch, server.url, tmp_path / "hf_home")
        instant_retries(monkeypatch)
        from finetune_studio.gui.main_window import MainWindow

        window = MainWindow()
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        window.begin_warmup()
        qtbot.waitUntil(lambda: window.warm is not None, timeout=LONG)
        window.errors, window.server = errors, server
        yield window
        if window.runner.running:
            window.runner.stop()
            window.runner.wait(60_000)
        background.wait_idle()
        window.close()
        window.validator.wait()
        background.wait_idle()


def _train_losses(run_dir: Path) -> dict[float, float]:
    from finetune_studio.core.metrics import read_curves

    return dict(read_curves(run_dir / "metrics.jsonl").train.pairs())


def _logits(model: Any, tokenizer_dir: Path) -> Any:
    import torch
    from transformers import AutoTokenizer

    inputs = AutoTokenizer.from_pretrained(str(tokenizer_dir))(PROMPT, return_tensors="pt")
    with torch.no_grad():
        return model.eval()(**inputs).logits[0, -1]


@pytest.mark.slow
def test_lora_picked_trained_stopped_resumed_exported_and_pushed_from_the_window(
        qtbot: Any, hub_window: Any, small_dataset: Path, runs_dir: Path, tmp_path: Path) -> None:
    import torch
    from huggingface_hub import hf_hub_download
    from peft import AutoPeftModelForCausalLM, PeftModel
    from transformers import AutoModelForCausalLM

    from finetune_studio.core.demo import demo_model_path
    from finetune_studio.core.events import RunState
    from finetune_studio.core.training import run
    from tests.helpers import small_config
    from tests.hub_fixtures import WRITE

    window = hub_window
    config = small_config(small_dataset, runs_dir, max_steps=12, logging_steps=1, eval_steps=4, save_steps=4)
    config.name = "window-lora"
    window.set_config(config)

    # The Model tab: pick LoRA; the demo model's real modules and the exact figures appear.
    window.tabs.setCurrentWidget(window.pages[window.model_form])
    adapter = window.model_form.adapter_form
    adapter.method_combo.setCurrentIndex(adapter.method_combo.findData("lora"))
    adapter.method_combo.activated.emit(adapter.method_combo.currentIndex())
    qtbot.waitUntil(lambda: adapter.figures is not None and not adapter.busy, timeout=LONG)
    assert adapter.figures.trainable == 38_912
    assert window.config.adapter.method == "lora" and window.config.adapter.target_modules == ["all-linear"]
    assert window.training_form.lr_edit.text() == "0.001"  # the user's own rate: the method leaves it alone

    # Train, stop after the first checkpoint, resume to the end.
    qtbot.waitUntil(window.start_action.isEnabled, timeout=LONG)
    window.start_action.trigger()
    run_dir = runs_dir / "window-lora"
    qtbot.waitUntil(lambda: (run_dir / "checkpoint-4").is_dir(), timeout=LONG)
    window.stop_action.trigger()
    qtbot.waitUntil(lambda: window.state is RunState.STOPPED and not window.runner.running, timeout=LONG)
    stopped_at = max(int(p.name.split("-")[1]) for p in run_dir.glob("checkpoint-*"))
    assert 4 <= stopped_at < 12
    checkpoint = run_dir / f"checkpoint-{stopped_at}"
    assert (checkpoint / "adapter_model.safetensors").is_file() and not (checkpoint / "model.safetensors").exists()
    qtbot.waitUntil(window.resume_action.isEnabled, timeout=LONG)
    window.resume_action.trigger()
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED and not window.runner.running, timeout=LONG)
    assert not window.errors
    from tests.helpers import read_events

    said = [e["message"] for e in read_events(run_dir, "notice") if "parameters" in e["message"]]
    figures = adapter.figures  # training reports the count the Model tab showed
    assert said and all(f"training {figures.trainable:,} of {figures.total:,} parameters" in m for m in said), said
    model_dir = run_dir / "model"
    assert {"adapter_model.safetensors", "adapter_config.json"} <= {p.name for p in model_dir.iterdir()}
    assert not (model_dir / "model.safetensors").exists()  # an adapter run saves the adapter, not the base

    # The same config uninterrupted gives the same per-step losses.
    straight = window.config.copy()
    straight.name = "straight-lora"
    result = run(straight)
    assert result.state == "finished", result.message
    resumed, uninterrupted = _train_losses(run_dir), _train_losses(Path(result.run_dir))
    assert sorted(resumed) == [float(s) for s in range(1, 13)]
    assert resumed == pytest.approx(uninterrupted, rel=1e-6)

    # The Runs tab says how it trained.
    qtbot.waitUntil(lambda: any(r.name == "window-lora" and r.method == "lora" for r in window.history.model.rows),
                    timeout=LONG)

    # Export merged, then adapter only, from the finished run's header.
    base = AutoModelForCausalLM.from_pretrained(str(demo_model_path()))
    expected = _logits(PeftModel.from_pretrained(base, str(model_dir)), model_dir)
    assert window.exporter.button.isVisible()
    window.exporter.button.click()
    dialog = window.exporter.dialog
    dialog.merged_radio.click()
    assert dialog.out_edit.text() == str(run_dir / "export-merged")
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=LONG)
    assert dialog.message.property("kind") == "success", dialog.message.text()
    merged_dir = run_dir / "export-merged"
    assert (merged_dir / "model.safetensors").is_file() and not (merged_dir / "adapter_config.json").exists()
    merged = AutoModelForCausalLM.from_pretrained(str(merged_dir))
    assert type(merged).__name__ == "Qwen3ForCausalLM"
    assert torch.allclose(_logits(merged, merged_dir), expected, atol=1e-5)

    dialog.adapter_radio.click()
    assert dialog.out_edit.text() == str(run_dir / "export-adapter")
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=LONG)
    assert dialog.message.property("kind") == "success", dialog.message.text()
    adapter_dir = run_dir / "export-adapter"
    assert (adapter_dir / "adapter_model.safetensors").read_bytes() == \
        (model_dir / "adapter_model.safetensors").read_bytes()
    loaded = AutoPeftModelForCausalLM.from_pretrained(str(adapter_dir))
    assert torch.allclose(_logits(loaded, adapter_dir), expected, atol=1e-5)
    dialog.close()

    # Push the adapter, then the merged model, to the local Hub.
    login = window.hub.open_login()
    login.token_edit.setText(WRITE)
    login.login_button.click()
    qtbot.waitUntil(lambda: window.hub.status.kind == "account", timeout=LONG)
    assert window.hub.push_button.isVisible()
    window.hub.push_button.click()
    push = window.hub.push_dialog
    qtbot.waitUntil(lambda: bool(push.plan), timeout=LONG)
    assert push.form_box.isVisible() and push.adapter_radio.isChecked()
    listed = [name for name, _ in push.plan]
    assert "adapter_model.safetensors" in listed and "model.safetensors" not in listed
    push.push_button.click()
    qtbot.waitUntil(lambda: not push.pushing, timeout=LONG)
    assert push.message.property("kind") == "success", push.message.text()
    repo = window.server.repos["alice/window-lora"]
    assert repo.files["adapter_model.safetensors"] == (model_dir / "adapter_model.safetensors").read_bytes()
    assert "library_name: peft" in repo.files["README.md"].decode()
    downloaded = tmp_path / "pulled-adapter"
    for name in ("adapter_model.safetensors", "adapter_config.json"):
        Path(hf_hub_download("alice/window-lora", name, token=WRITE, local_dir=downloaded))
    pulled = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(str(demo_model_path())),
                                       str(downloaded))
    assert torch.allclose(_logits(pulled, model_dir), expected, atol=1e-5)

    push.merged_radio.click()
    qtbot.waitUntil(lambda: bool(push.plan) and not push.plan_task.busy, timeout=LONG)
    listed = sorted(name for name, _ in push.plan)  # the merged model's files, named before it is merged
    assert "model.safetensors" in listed and "config.json" in listed and "adapter_model.safetensors" not in listed
    push.repo_edit.setText("alice/window-merged")
    push.push_button.click()
    qtbot.waitUntil(lambda: not push.pushing, timeout=LONG)
    assert push.message.property("kind") == "success", push.message.text()
    files = window.server.repos["alice/window-merged"].files
    assert "model.safetensors" in files and "adapter_config.json" not in files
    assert sorted(files) == listed  # the list named exactly what was pushed
    pulled_dir = tmp_path / "pulled-merged"
    for name in ("model.safetensors", "config.json"):
        hf_hub_download("alice/window-merged", name, token=WRITE, local_dir=pulled_dir)
    remote = AutoModelForCausalLM.from_pretrained(str(pulled_dir))
    assert torch.allclose(_logits(remote, model_dir), expected, atol=1e-5)
    push.close()


@pytest.mark.slow
def test_continue_a_lora_run_for_one_more_epoch_from_the_runs_tab(qtbot: Any, make_window: Any,
                                                                  small_dataset: Path, runs_dir: Path) -> None:
    from finetune_studio.core.events import RunState
    from tests.helpers import read_events, small_config

    window = make_window()
    # One epoch of 180 rows at batch 8 is 23 steps; no max_steps, so the epochs decide.
    config = small_config(small_dataset, runs_dir, max_steps=-1, save_steps=100, eval_steps=100)
    config.name, config.adapter.method, config.adapter.r = "lora-epochs", "lora", 4
    window.set_config(config)
    qtbot.waitUntil(window.start_action.isEnabled, timeout=LONG)
    window.start_action.trigger()
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED and not window.runner.running, timeout=LONG)
    run_dir = window.run_dir
    first = (run_dir / "model" / "adapter_model.safetensors").read_bytes()
    panel = window.history
    table = wait_rows(qtbot, panel, lambda r: r.get(run_dir.name, {}).get("state") == "finished", timeout=LONG)
    assert table[run_dir.name]["method"] == "LoRA" and table[run_dir.name]["steps"] == "23 / 23"
    panel.select([run_dir])
    panel.continue_epochs.setValue(1)
    panel.continue_button.click()
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED and not window.runner.running, timeout=LONG)
    assert [b["start_step"] for b in read_events(run_dir, "train_begin")] == [0, 23]
    assert read_events(run_dir, "end")[-1]["step"] == 46
    after = run_dir / "model"
    assert (after / "adapter_config.json").is_file() and not (after / "model.safetensors").exists()
    assert (after / "adapter_model.safetensors").read_bytes() != first  # the adapter trained on
    assert window.exporter.button.isVisible()
