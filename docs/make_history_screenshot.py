"""Render docs/history.png: the Runs tab with real runs of the demo model, three of them compared on the chart.

    xvfb-run -a -s "-screen 0 1280x800x24" python docs/make_history_screenshot.py

Trains, in a temporary runs folder: one run to the end, one stopped halfway (resumable), one killed with SIGKILL
by a headless `finetune-studio train` (it lists as interrupted), and one that fails at once (a text column the
data does not have). QSettings go to a temporary location, so this never touches the user's state.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CORE_CLI = (sys.executable, "-m", "finetune_studio.core.cli")  # what `finetune-studio COMMAND` runs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STEPS = 120


def wait(app: object, condition: object, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not reach the expected state")
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.01)


def config_for(runs: Path, name: str, learning_rate: float) -> object:
    from finetune_studio.core.config import PRESETS

    config = PRESETS["demo"]()
    config.name = name
    config.runs_dir = str(runs)
    config.dataset.max_length = 128
    config.training.update(max_steps=STEPS, per_device_train_batch_size=8, gradient_accumulation_steps=1,
                           learning_rate=learning_rate, warmup_steps=10, logging_steps=2, eval_strategy="steps",
                           eval_steps=20, save_strategy="steps", save_steps=20, activation_checkpointing=False)
    return config


def make_runs(runs: Path, tmp: Path) -> None:
    from finetune_studio.core.config import save_config
    from finetune_studio.core.training import run

    run(config_for(runs, "lr-1e-3-finished", 1e-3))

    stop = threading.Event()
    run(config_for(runs, "lr-3e-4-stopped", 3e-4), lambda e: e.get("step", 0) >= 70 and stop.set(), stop)

    killed = config_for(runs, "lr-2e-3-killed", 2e-3)
    save_config(killed, tmp / "killed.yaml")
    process = subprocess.Popen([*CORE_CLI, "train", str(tmp / "killed.yaml"), "--quiet"],
                               cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    metrics = runs / "lr-2e-3-killed" / "metrics.jsonl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if metrics.exists() and '"step": 56' in metrics.read_text():
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()

    # A run that fails while training (a wrong column no longer does: it is refused before a run folder exists).
    try:
        result = run(config_for(runs, "lr-1e9-diverged", 1e9))
        print(f"(the diverging run ended {result.state}, as planned)")
    except Exception as exc:  # noqa: BLE001 - failing is the point: the run folder records why
        print(f"(the diverging run failed as planned: {type(exc).__name__})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "history.png"))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ft-history-"))
    runs = tmp / "runs"
    os.environ["FINETUNE_STUDIO_RUNS"] = str(runs)

    from finetune_studio.core.demo import demo_model_path

    demo_model_path()
    make_runs(runs, tmp)

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
    panel = window.history
    window.tabs.setCurrentWidget(panel)
    wait(app, lambda: panel.proxy.rowCount() == 4)
    compared = [runs / name for name in ("lr-1e-3-finished", "lr-3e-4-stopped", "lr-2e-3-killed")]
    panel.select(compared)
    wait(app, lambda: len(window.chart.overlays) == 3)
    window.chart.loss_plot.vb.autoRange()
    for _ in range(30):
        app.processEvents()
        time.sleep(0.02)
    out = Path(args.out)
    window.grab().save(str(out))
    print(f"wrote {out} ({window.width()}x{window.height()})")
    window.setWindowModified(False)
    dialogs.ask_save_changes = lambda *a: dialogs.SaveChoice.DISCARD
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
