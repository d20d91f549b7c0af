"""Render docs/model-lora.png: the real window's Model tab with LoRA picked on the demo model.

    xvfb-run -a -s "-screen 0 1280x800x24" python docs/make_adapter_screenshot.py [--out PATH] [--size WxH]

The tab shows the method with its cost, rank and alpha with the α/r scale, the target modules as the demo model's
real module groups (read on the meta device) and the live figures. QSettings and runs go to a temporary folder, so
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


def wait(app: object, condition: object, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not reach the expected state")
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "model-lora.png"))
    parser.add_argument("--size", default="1280x800", help="window size, WIDTHxHEIGHT (default 1280x800)")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.lower().split("x"))
    tmp = Path(tempfile.mkdtemp(prefix="ft-adapter-screenshot-"))
    os.environ["FINETUNE_STUDIO_RUNS"] = str(tmp / "runs")

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication, QScrollArea

    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp / "settings"))
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Finetune Studio")
    app.setStyle("Fusion")

    from finetune_studio.core.config import PRESETS, save_config
    from finetune_studio.core.demo import demo_model_path
    from finetune_studio.gui.app import create_window

    demo_model_path()
    config = PRESETS["demo"]()
    config.name = "horoscopes-lora"
    config.adapter.method = "lora"
    config.adapter.r = 16
    config.adapter.alpha = 32
    path = tmp / "horoscopes-lora.yaml"
    save_config(config, path)

    window = create_window()
    window.open_config(path)
    window.resize(width, height)
    window.move(0, 0)
    window.show()
    window.begin_warmup()
    wait(app, lambda: window.warm is not None and window.start_action.isEnabled())  # the stack loaded, validated
    form = window.model_form
    window.tabs.setCurrentWidget(window.pages[form])
    adapter = form.adapter_form
    adapter.refresh_now()
    wait(app, lambda: adapter.figures is not None and not adapter.busy)
    page = window.pages[form]
    if isinstance(page, QScrollArea):  # the method at the top of the view, the figures below it
        app.processEvents()
        top = adapter.mapTo(form, adapter.rect().topLeft()).y()
        page.verticalScrollBar().setValue(max(0, top - 8))
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)
    out = Path(args.out)
    window.grab().save(str(out))
    print(f"wrote {out} ({window.width()}x{window.height()})")
    window.setWindowModified(False)
    window.close()
    from finetune_studio.gui import background

    background.wait_idle()  # a job still running would report to a deleted relay at exit
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
