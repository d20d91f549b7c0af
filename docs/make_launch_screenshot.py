"""Render the Launch tab after Copy launch command and save docs/launch.png.

Run under a virtual display:  xvfb-run -a -s "-screen 0 1280x800x24" python docs/make_launch_screenshot.py

A config of two machines with four processes each (the rendezvous at the first machine's address), named, as
the README's two-machine section describes; QSettings go to a temporary folder.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    tmp = Path(tempfile.mkdtemp(prefix="ft-launch-shot-"))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp / "settings"))
    app = QApplication(sys.argv)
    from finetune_studio.core.config import default_config
    from finetune_studio.gui.main_window import MainWindow

    config = default_config()
    config.name = "horoscopes-2x4"
    config.runs_dir = "/shared/runs"
    config.launch.processes, config.launch.nodes, config.launch.node_rank = 4, 2, 0
    config.launch.rdzv_endpoint = "192.168.1.10:29500"
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    window.begin_warmup()  # the window as it settles: the chart in place of its placeholder (gui.chart_texts)
    deadline = time.monotonic() + 120
    while window.chart is None and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
    from finetune_studio.core import launch

    launch._gpu_count = lambda: 4  # the picture is of 4-GPU machines (hardware.png fakes NVML); this one has none
    window.set_config(config, Path("/shared/horoscopes-2x4.yaml"))  # a saved document: its lines name the file
    form = window.launch_form
    window.tabs.setCurrentWidget(window.pages[form])
    deadline = time.monotonic() + 5
    while not form.copy_button.isEnabled() and time.monotonic() < deadline:  # the window's check comes first
        app.processEvents()
        time.sleep(0.02)
    python, sys.executable = sys.executable, "/opt/finetune-studio/.venv/bin/python"  # the README's install path
    form.copy_button.click()
    sys.executable = python
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
    out = ROOT / "docs" / "launch.png"
    window.grab().save(str(out))
    print(f"wrote {out}")
    window.close()


if __name__ == "__main__":
    main()
