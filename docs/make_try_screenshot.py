"""Render docs/try.png (the Try tab: base and fine-tuned answers side by side) and docs/try-compare.png (Compare
checkpoints: saved prompts × checkpoints) from a real demo run.

    xvfb-run -a -s "-screen 0 1280x800x24" python docs/make_try_screenshot.py

Trains, in a temporary runs folder, one demo run with three checkpoints; QSettings go to a temporary location, so
this never touches the user's state.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STEPS = 90
PROMPT = "Your lucky colour"
SAVED = ["Aries: this week brings", "Leo: the stars", "Your lucky colour"]


def wait(app: object, condition: object, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not reach the expected state")
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.01)


def settle(app: object) -> None:
    for _ in range(30):
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.02)


def make_run(runs: Path) -> Path:
    from finetune_studio.core.config import PRESETS
    from finetune_studio.core.training import run

    config = PRESETS["demo"]()
    config.name = "horoscopes-lr-1e-3"
    config.runs_dir = str(runs)
    config.dataset.max_length = 128
    config.training.update(max_steps=STEPS, per_device_train_batch_size=8, gradient_accumulation_steps=1,
                           learning_rate=1e-3, warmup_steps=10, logging_steps=5, eval_strategy="steps",
                           eval_steps=30, save_strategy="steps", save_steps=30, activation_checkpointing=False,
                           load_best_model_at_end=False)
    return Path(run(config).run_dir)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "try.png"))
    parser.add_argument("--compare-out", default=str(ROOT / "docs" / "try-compare.png"))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ft-try-"))
    runs = tmp / "runs"
    os.environ["FINETUNE_STUDIO_RUNS"] = str(runs)

    from finetune_studio.core.demo import demo_model_path

    demo_model_path()
    run_dir = make_run(runs)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp / "settings"))
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Finetune Studio")
    app.setStyle("Fusion")

    from finetune_studio.gui import dialogs
    from finetune_studio.gui.app import create_window

    window = create_window()
    window.resize(1280, 800)
    window.move(0, 0)
    window.show()
    window.begin_warmup()
    wait(app, lambda: window.warm is not None)
    window.show_run(run_dir)
    window.session.config.prompts = list(SAVED)
    tab = window.try_tab
    tab._load_prompts()
    window.tabs.setCurrentWidget(tab)
    window.splitter.setSizes([900, 380])
    tab.select_run(run_dir)
    wait(app, lambda: tab.loaded is not None and not tab.runner.running)
    tab.settings_box.max_new_tokens.setValue(48)
    tab.settings_box.repetition_penalty.setValue(1.2)
    tab.prompt_edit.setPlainText(PROMPT)
    done: list[bool] = []
    tab.answered.connect(lambda: done.append(True))
    tab.send_button.click()
    wait(app, lambda: bool(done))
    tab.panes["base"].prompt_toggle.click()  # the short answer's pane has room for it
    tab.prompt_edit.setPlainText("Leo: the stars")
    settle(app)
    out = Path(args.out)
    window.grab().save(str(out))
    print(f"wrote {out} ({window.width()}x{window.height()})")

    tab.pages.setCurrentWidget(tab.compare)
    tab.compare.compare_button.click()
    wait(app, lambda: not tab.runner.running)
    table = tab.compare.table
    for column in range(table.columnCount()):
        table.setColumnWidth(column, 168)
    settle(app)
    out = Path(args.compare_out)
    window.grab().save(str(out))
    print(f"wrote {out}")
    window.session.set_modified(False)
    dialogs.ask_save_changes = lambda *a: dialogs.SaveChoice.DISCARD
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
