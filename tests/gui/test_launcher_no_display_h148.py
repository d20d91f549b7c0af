"""`finetune-studio` (the window) with no display: it aborted inside Qt's xcb plugin (exit 134, "could not connect
to display ... This application failed to start because no Qt platform plugin could be initialized"). It now
says so before Qt is imported, points to the headless commands, ssh -X and QT_QPA_PLATFORM, and exits 2."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers import ROOT

PROBE = ("import sys; from finetune_studio.gui.launcher import main; code = main([]); "
         "print('PySide6' in sys.modules, 'torch' in sys.modules); sys.exit(code)")


def launch(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env={**clean, **env}, capture_output=True,
                          text=True, timeout=120)


def test_no_display_exits_2_with_what_to_do_before_qt_loads() -> None:
    done = launch()
    assert (done.returncode, done.stdout) == (2, "False False\n")
    assert done.stderr == (
        "error: there is no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set: a login without "
        "a desktop, such as ssh). To fix: use the headless commands, e.g. 'finetune-studio train CONFIG.yaml', "
        "'finetune-studio resume RUN', 'finetune-studio runs' ('finetune-studio --help' lists them); or log in "
        "with 'ssh -X' to show the window on your screen; or set QT_QPA_PLATFORM=offscreen to run the app "
        "without showing it.\n")


def test_a_display_or_a_chosen_platform_is_left_to_qt() -> None:
    from finetune_studio.gui.launcher import display_problem

    assert display_problem("linux", {"DISPLAY": ":0"}) is None
    assert display_problem("linux", {"WAYLAND_DISPLAY": "wayland-0"}) is None
    assert display_problem("linux", {"QT_QPA_PLATFORM": "offscreen"}) is None
    assert display_problem("darwin", {}) is None and display_problem("win32", {}) is None
    assert display_problem("linux", {"DISPLAY": "", "QT_QPA_PLATFORM": ""}).startswith("there is no display")
    assert display_problem("freebsd14", {}).startswith("there is no display")
