"""Render docs/screenshot.png from the real window after a short real demo training run.

    xvfb-run -a -s "-screen 0 1280x800x24" python docs/make_screenshot.py [--extra DIR]
    xvfb-run -a -s "-screen 0 1280x800x24" python docs/make_screenshot.py --size 900x600 --review

`--size WxH` renders the window at that size (default 1280x800). `--review` shows what clips first in a small
window: after the run, the Dataset tab scrolled to the token-length histogram and a problem listed above the
chart; it writes docs/window-WxH.png unless --out says otherwise (docs/window-900x600.png and
docs/window-1280x800.png are made this way, and looked at after every layout change).

Runs go to a temporary folder and QSettings to a temporary location, so this never touches the user's state.
`--extra DIR` also saves the error dialog (collapsed and with details) and the "Start disabled" state there, for
checking how they render.
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

STEPS = 150
REVIEW_STEPS = 40  # --review is about layout, not the curve: a shorter run


def wait(app: object, condition: object, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not reach the expected state")
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="where to write the PNG (default docs/screenshot.png, or docs/window-WxH.png "
                                      "with --review)")
    parser.add_argument("--extra", help="folder for the error-dialog and Start-disabled screenshots")
    parser.add_argument("--size", default="1280x800", help="window size, WIDTHxHEIGHT (default 1280x800)")
    parser.add_argument("--review", action="store_true",
                        help="after the run, show the token-length histogram and a problem above the chart")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.lower().split("x"))
    args.out = args.out or str(ROOT / "docs" / ("window-%dx%d.png" % (width, height) if args.review
                                                else "screenshot.png"))
    tmp = Path(tempfile.mkdtemp(prefix="ft-screenshot-"))
    os.environ["FINETUNE_STUDIO_RUNS"] = str(tmp / "runs")

    from PySide6.QtCore import QPointF, QSettings
    from PySide6.QtWidgets import QApplication

    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp / "settings"))
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Finetune Studio")
    app.setStyle("Fusion")

    from finetune_studio.core.config import PRESETS, save_config
    from finetune_studio.core.demo import demo_model_path
    from finetune_studio.gui import dialogs
    from finetune_studio.gui.app import create_window
    from finetune_studio.gui.run_header import RunState

    demo_model_path()  # built once per machine; not part of what the picture shows
    if not args.extra:  # an error dialog would wait for a click that never comes: say what it says and stop
        def fail(parent: object, title: str, message: str, details: str | None = None) -> None:
            print(f"{title}: {message}\n{details or ''}", file=sys.stderr, flush=True)
            os._exit(1)

        dialogs.show_error = fail
    config = PRESETS["demo"]()
    config.name = "horoscopes-demo"
    config.dataset.max_length = 128
    steps = REVIEW_STEPS if args.review else STEPS
    config.training.update(max_steps=steps, per_device_train_batch_size=8, gradient_accumulation_steps=1,
                           learning_rate=1e-3, warmup_steps=10, logging_steps=2, eval_strategy="steps",
                           eval_steps=25, save_strategy="steps", save_steps=75, activation_checkpointing=False)
    path = tmp / "horoscopes-demo.yaml"
    save_config(config, path)

    window = create_window()
    window.open_config(path)
    window.resize(width, height)
    window.move(0, 0)
    window.show()
    window.begin_warmup()
    wait(app, lambda: window.start_action.isEnabled())

    if args.extra:
        extra = Path(args.extra)
        extra.mkdir(parents=True, exist_ok=True)
        save_start_disabled(app, window, extra / "start_disabled.png", wait)
        save_error_dialog(app, window, extra)

    window.start_action.trigger()
    wait(app, lambda: window.state is RunState.FINISHED and not window.runner.running)
    wait(app, lambda: window.chart.point_count == steps // 2)
    chart = window.chart
    chart.loss_plot.vb.autoRange()
    app.processEvents()
    (_, _), (y_low, y_high) = chart.loss_plot.vb.viewRange()
    hover = chart.loss_plot.vb.mapViewToScene(QPointF(steps * 0.62, (y_low + y_high) / 2))
    if args.review:
        show_review_state(app, window, wait)
    else:
        chart._mouse_moved((hover,))  # show the crosshair readout as a user hovering the curve sees it
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)
    out = Path(args.out)
    window.grab().save(str(out))
    print(f"wrote {out} ({window.width()}x{window.height()})")
    window.setWindowModified(False)
    dialogs.ask_save_changes = lambda *a: dialogs.SaveChoice.DISCARD
    window.close()
    return 0


def show_review_state(app: object, window: object, wait: object) -> None:
    """The parts that clip first in a small window: the Dataset tab scrolled down to the token-length histogram
    (with its max_length line and label), and a problem listed above the chart (Start disabled)."""
    form = window.dataset_form  # type: ignore[attr-defined]
    wait(app, form.histogram.has_data)  # type: ignore[operator]
    config = window.config.copy()  # type: ignore[attr-defined]
    config.training["learning_rate"] = -1
    window.set_config(config, window.path)  # type: ignore[attr-defined]
    wait(app, lambda: bool(window.problems))  # type: ignore[attr-defined]
    window.tabs.setCurrentWidget(window.pages[form])  # type: ignore[attr-defined]
    page = window.pages[form]  # type: ignore[attr-defined]
    for _ in range(10):
        app.processEvents()  # type: ignore[attr-defined]
    page.ensureWidgetVisible(form.histogram)
    page.horizontalScrollBar().setValue(0)  # as the tab opens: its left edge (a form too wide scrolls sideways)


def save_start_disabled(app: object, window: object, out: Path, wait: object) -> None:
    """Two problems in the Training tab: Start disabled, the reason above the chart, fields marked."""
    config = window.config.copy()  # type: ignore[attr-defined]
    good = config.copy()
    config.training["learning_rate"] = -1
    config.training["per_device_train_batch_size"] = 0
    window.set_config(config, window.path)  # type: ignore[attr-defined]
    window.tabs.setCurrentWidget(window.pages[window.training_form])  # type: ignore[attr-defined]
    wait(app, lambda: not window.start_action.isEnabled())  # type: ignore[attr-defined]
    for _ in range(10):
        app.processEvents()  # type: ignore[attr-defined]
    window.grab().save(str(out))  # type: ignore[attr-defined]
    print(f"wrote {out}")
    window.set_config(good, window.path)  # type: ignore[attr-defined]
    window.tabs.setCurrentIndex(0)  # type: ignore[attr-defined]
    wait(app, lambda: window.start_action.isEnabled())  # type: ignore[attr-defined]


def save_error_dialog(app: object, window: object, folder: Path) -> None:
    from finetune_studio.gui import dialogs

    try:
        raise RuntimeError("CUDA error: an illegal memory access was encountered")
    except RuntimeError:
        import traceback

        details = traceback.format_exc()
    box = dialogs.error_box(window, "Training failed",  # type: ignore[arg-type]
                            "Training failed: RuntimeError: CUDA error: an illegal memory access was encountered",
                            details)
    box.show()
    for _ in range(10):
        app.processEvents()  # type: ignore[attr-defined]
    box.grab().save(str(folder / "error_dialog.png"))
    for button in box.buttons():
        if button.text().startswith("Show Details"):
            button.click()
    for _ in range(10):
        app.processEvents()  # type: ignore[attr-defined]
    box.grab().save(str(folder / "error_dialog_details.png"))
    box.close()
    print(f"wrote {folder / 'error_dialog.png'} and error_dialog_details.png")


if __name__ == "__main__":
    sys.exit(main())
