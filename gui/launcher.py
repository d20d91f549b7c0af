"""The `finetune-studio` command: the desktop app with no arguments (or `gui`), a headless command otherwise.

This is the console script (pyproject.toml, [project.scripts]). It sits outside core because opening the window
imports gui, and core imports nothing of gui. It imports Qt only once the window is asked for, so `finetune-studio
train` runs, and never loads PySide6, on a machine where the desktop app cannot start.
`--install-desktop-entry` / `--uninstall-desktop-entry` add the app to (or remove it from) the desktop's menu,
for this user (gui.desktop_entry).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

EXIT_FAILED = 1  # as core.cli: the command could not do its job
EXIT_CONFIG = 2  # as core.cli: what was asked cannot be done as it stands (here: a window with no display)
DESKTOP_HELP = """
desktop integration (for this user, under $XDG_DATA_HOME or ~/.local/share):
  --install-desktop-entry    add Finetune Studio to the applications menu, with its icon and AppStream data
  --uninstall-desktop-entry  remove exactly those files again"""

# PySide6 builds that must not run the app, by Python versions they break on. 6.12.0 releases a reference to
# None on every void call (setText, setPen …); Python < 3.12 does not make None immortal, so the interpreter
# aborts ("none_dealloc") a few minutes into a run. The dependency pins exclude it; this catches a later upgrade.
BAD_BINDINGS = {"6.12.0": (3, 12)}  # version -> first Python version it is harmless on


def main(argv: list[str] | None = None) -> int:
    """`finetune-studio [command …]`: parse the command line, then open the window or run the command."""
    from finetune_studio.core import cli  # Qt-free: argparse until a command runs

    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["-h"], ["--help"]):
        try:
            cli.parse_args(args)  # prints the commands' help and exits
        finally:
            try:  # a reader that took its lines and left (`--help | head -1`) ends it quietly, as every command
                print(DESKTOP_HELP, flush=True)
            except BrokenPipeError:
                if not cli.reader_gone():
                    raise
                cli.drop_closed_outputs()
    if args in (["--install-desktop-entry"], ["--uninstall-desktop-entry"]):
        from finetune_studio.gui import desktop_entry  # Qt-free: copies files into the XDG folders

        return desktop_entry.main(uninstalling=args[0] == "--uninstall-desktop-entry")
    if cli.parse_args(args).command in cli.WINDOW_COMMANDS:
        return open_window()
    return cli.main(args)


def open_window() -> int:
    """Import Qt and run the app until its window closes (gui.app.main starts with gui.early_init)."""
    problem = display_problem(sys.platform, os.environ)
    if problem:  # before Qt is imported: its xcb plugin aborts the process (exit 134) with no word of what to do
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        from finetune_studio.gui.app import main as app_main
    except ImportError as exc:
        print(f"error: the desktop app cannot start ({exc}). To fix: pip install pyside6-essentials pyqtgraph, "
              "or use 'finetune-studio train' headless.", file=sys.stderr)
        return EXIT_FAILED
    import PySide6

    problem = binding_problem(PySide6.__version__, sys.version_info[:2])
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_FAILED
    return app_main([])


def display_problem(platform: str, environ: Mapping[str, str]) -> str | None:
    """Why the window cannot open here, with what to do instead; None when it can (or Qt is told where to draw).
    On Linux and the BSDs Qt needs an X or Wayland display; a login over ssh without -X, a container or a cron job
    has none, and Qt then aborts in its xcb plugin. QT_QPA_PLATFORM set (offscreen, vnc, xcb …) is left to Qt."""
    if not platform.startswith(("linux", "freebsd", "openbsd", "netbsd")) or environ.get("QT_QPA_PLATFORM"):
        return None
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    return ("there is no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set: a login without "
            "a desktop, such as ssh). To fix: use the headless commands, e.g. 'finetune-studio train CONFIG.yaml', "
            "'finetune-studio resume RUN', 'finetune-studio runs' ('finetune-studio --help' lists them); or log in "
            "with 'ssh -X' to show the window on your screen; or set QT_QPA_PLATFORM=offscreen to run the app "
            "without showing it.")


def binding_problem(pyside_version: str, python: tuple[int, int]) -> str | None:
    """Why this PySide6 build cannot run the app on this Python, with the fix; None when it can."""
    harmless_from = BAD_BINDINGS.get(pyside_version)
    if harmless_from is None or python >= harmless_from:
        return None
    return (f"PySide6 {pyside_version} crashes the app on Python {python[0]}.{python[1]} (it releases references "
            "to None it never took). To fix: pip install 'pyside6-essentials!=6.12.0' (or use Python 3.12+).")
