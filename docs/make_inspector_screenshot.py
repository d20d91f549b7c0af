"""Render the Dataset Inspector on the built-in chat sample and save docs/inspector.png.

Run under a virtual display:  xvfb-run -a -s "-screen 0 1280x800x24" python docs/make_inspector_screenshot.py

The chat-demo preset (the demo model's tokenizer, which has no chat template, so ChatML is used; builtin:chat;
max_length 128), showing a conversation with a system prompt and a follow-up turn: its system, prompt, special
and trained tokens coloured by role, and the whole-dataset checks with the rows max_length cuts and the fix.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

from finetune_studio.core.config import PRESETS  # noqa: E402
from finetune_studio.gui import background  # noqa: E402
from finetune_studio.gui.inspector import InspectorWindow  # noqa: E402

OUT = ROOT / "docs" / "inspector.png"
WIDTH, HEIGHT = 1200, 620


def wait(app: QApplication, done, timeout_s: float = 300.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the Inspector")
        app.processEvents()
        time.sleep(0.02)


def settle(app: QApplication, seconds: float = 0.5) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)


def main() -> None:
    app = QApplication(sys.argv[:1])
    window = InspectorWindow(PRESETS["chat-demo"]())
    window.resize(WIDTH, HEIGHT)
    window.show()
    wait(app, lambda: window.inspector is not None and window.checks is not None and bool(window.pieces))
    # The first chat with a system prompt and two replies, none of it cut.
    inspector = window.inspector
    for index in range(len(inspector)):
        messages = inspector.raw_row(index)["messages"]
        roles = [m["role"] for m in messages]
        if roles[0] == "system" and roles.count("assistant") == 2:
            labeled = inspector.row(index)
            if "cut" not in labeled.roles:
                break
    window.show_row(index)
    wait(app, lambda: window.counts_label.text().startswith(f"Row {index + 1}:"))
    settle(app)
    window.grab().save(str(OUT))
    background.wait_idle()
    print(f"wrote {OUT.relative_to(ROOT)} (row {index + 1})")


if __name__ == "__main__":
    main()
