"""`finetune-studio --install-desktop-entry` / `--uninstall-desktop-entry`: the app in the desktop's menu.

The files are package data (finetune_studio.resources: desktop/ and icons/), so this works from an installed
wheel as from the checkout. They go where the freedesktop specs say per-user files go, under $XDG_DATA_HOME
(default ~/.local/share): applications/ for the .desktop file, icons/hicolor/<size>/apps/ for the icon,
metainfo/ for the AppStream data. The installed .desktop file names the absolute path of this installation's
`finetune-studio` (a venv's bin/ folder is rarely on the desktop session's PATH), so the menu entry starts the
copy that installed it. Qt-free: only files, and the desktop's cache tools when they are there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

APP_ID = "io.github.finetune_studio.FinetuneStudio"  # the desktop file's and AppStream's id; gui.app sets it too
SCRIPT = "finetune-studio"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def resources() -> Path:
    return Path(str(files("finetune_studio.resources")))


def desktop_template() -> Path:
    return resources() / "desktop" / f"{APP_ID}.desktop"


def metainfo_file() -> Path:
    return resources() / "desktop" / f"{APP_ID}.metainfo.xml"


def icon_svg() -> Path:
    return resources() / "icons" / "finetune-studio.svg"


def icon_png(size: int) -> Path:
    return resources() / "icons" / f"finetune-studio-{size}.png"


def data_home(environ: dict[str, str] | None = None) -> Path:
    """$XDG_DATA_HOME when set to an absolute path (the spec ignores a relative one), else ~/.local/share."""
    value = (os.environ if environ is None else environ).get("XDG_DATA_HOME", "")
    return Path(value) if value and os.path.isabs(value) else Path.home() / ".local" / "share"


@dataclass(frozen=True)
class Targets:
    """Where each installed file goes, under one data home."""

    home: Path

    @property
    def desktop(self) -> Path:
        return self.home / "applications" / f"{APP_ID}.desktop"

    @property
    def metainfo(self) -> Path:
        return self.home / "metainfo" / f"{APP_ID}.metainfo.xml"

    @property
    def svg(self) -> Path:
        return self.home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"

    def png(self, size: int) -> Path:
        return self.home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"

    def all(self) -> list[Path]:
        return [self.desktop, self.metainfo, self.svg, *(self.png(s) for s in ICON_SIZES)]


def launch_command() -> list[str]:
    """How the menu starts this installation: its `finetune-studio` script by absolute path, or, when this
    interpreter has none (run from a checkout without install), `python -m finetune_studio.gui`."""
    candidates = [Path(sys.argv[0]) if Path(sys.argv[0]).name == SCRIPT else None,
                  Path(sysconfig.get_path("scripts")) / SCRIPT, Path(sys.executable).parent / SCRIPT]
    for candidate in candidates:
        if candidate is not None and candidate.is_file() and os.access(candidate, os.X_OK):
            return [str(candidate.absolute())]
    return [sys.executable, "-m", "finetune_studio.gui"]


def exec_value(command: list[str]) -> str:
    """A command as the Desktop Entry spec's Exec key quotes it: arguments with reserved characters in double
    quotes, with ", `, $ and \\ escaped by a backslash (and every backslash doubled again for the string type)."""
    def quote(arg: str) -> str:
        if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`='):
            return arg
        escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
        return '"' + escaped.replace("\\", "\\\\") + '"'

    return " ".join(quote(a) for a in command)


def desktop_text(command: list[str]) -> str:
    """The packaged .desktop file with Exec (and TryExec) naming `command`."""
    lines = []
    for line in desktop_template().read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            line = "Exec=" + exec_value(command)
        elif line.startswith("TryExec="):
            line = "TryExec=" + command[0]
        lines.append(line)
    return "\n".join(lines) + "\n"


def install(home: Path | None = None, command: list[str] | None = None) -> list[Path]:
    """Write the .desktop file, the icons and the metainfo under `home`; returns the files written."""
    targets = Targets(home or data_home())
    for path in targets.all():
        path.parent.mkdir(parents=True, exist_ok=True)
    _write(targets.desktop, desktop_text(command or launch_command()))
    shutil.copyfile(metainfo_file(), targets.metainfo)
    shutil.copyfile(icon_svg(), targets.svg)
    for size in ICON_SIZES:
        shutil.copyfile(icon_png(size), targets.png(size))
    _refresh_caches(targets.home)
    return targets.all()


def uninstall(home: Path | None = None) -> list[Path]:
    """Remove the files `install` writes (nothing else); returns those that were there."""
    targets = Targets(home or data_home())
    removed = [p for p in targets.all() if p.is_file()]
    for path in removed:
        path.unlink()
    _refresh_caches(targets.home)
    return removed


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def _refresh_caches(home: Path) -> None:
    """Tell the desktop about the change where its cache tools exist; menus also notice new files by themselves."""
    for command in (["update-desktop-database", "-q", str(home / "applications")],
                    ["gtk-update-icon-cache", "-q", "-t", "-f", str(home / "icons" / "hicolor")]):
        if shutil.which(command[0]) and Path(command[-1]).is_dir():
            subprocess.run(command, capture_output=True, timeout=30, check=False)


def main(uninstalling: bool = False) -> int:
    """The two command-line flags: say what was written or removed, and what to do when something failed."""
    home = data_home()
    try:
        paths = uninstall(home) if uninstalling else install(home)
    except OSError as exc:
        print(f"error: could not {'remove' if uninstalling else 'write'} the desktop entry under {home}: "
              f"{exc.strerror or exc}. To fix: check that you can write there, or set XDG_DATA_HOME to a folder "
              "you can write to.", file=sys.stderr)
        return 1
    if uninstalling:
        print(f"Removed {len(paths)} files of the desktop entry from {home}." if paths
              else f"No desktop entry of Finetune Studio was installed under {home}.")
        return 0
    targets = Targets(home)
    print(f"Installed the desktop entry {targets.desktop}\n"
          f"  it starts: {exec_value(launch_command())}\n"
          f"  icons: {targets.svg.parents[2]} (SVG and {len(ICON_SIZES)} PNG sizes)\n"
          f"  AppStream metadata: {targets.metainfo}\n"
          "Finetune Studio is now in your applications menu (log out and in if it does not show yet). "
          "Remove it with: finetune-studio --uninstall-desktop-entry")
    return 0
