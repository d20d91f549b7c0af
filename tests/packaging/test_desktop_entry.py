"""The desktop entry: one source of truth for the files, both valid, installed into and removed from the user's XDG
folders by `finetune-studio --install-desktop-entry` / `--uninstall-desktop-entry`."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import tomllib

from finetune_studio.gui import desktop_entry
from finetune_studio.gui.desktop_entry import APP_ID, ICON_SIZES, Targets
from finetune_studio.gui.launcher import main as launcher_main

ROOT = Path(__file__).resolve().parents[2]
DESKTOP = ROOT / "resources" / "desktop" / f"{APP_ID}.desktop"
METAINFO = ROOT / "resources" / "desktop" / f"{APP_ID}.metainfo.xml"
needs_desktop_file_utils = pytest.mark.skipif(shutil.which("desktop-file-validate") is None,
                                              reason="desktop-file-utils not installed (packaging/dev setup does)")
needs_appstream = pytest.mark.skipif(shutil.which("appstreamcli") is None,
                                     reason="appstream not installed (packaging/dev setup does)")


def read_desktop(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def test_packaging_holds_links_to_the_packaged_files_not_copies() -> None:
    for source in (DESKTOP, METAINFO):
        link = ROOT / "packaging" / source.name
        assert link.is_symlink(), f"{link} should link to {source}"
        assert link.resolve() == source.resolve()


def test_the_packaged_files_are_the_ones_the_installer_reads() -> None:
    assert desktop_entry.desktop_template().resolve() == DESKTOP.resolve()
    assert desktop_entry.metainfo_file().resolve() == METAINFO.resolve()
    for size in ICON_SIZES:
        assert desktop_entry.icon_png(size).is_file()


@needs_desktop_file_utils
def test_desktop_file_validates() -> None:
    out = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout == "" and out.stderr == "", out.stdout + out.stderr


@needs_appstream
def test_metainfo_validates() -> None:
    out = subprocess.run(["appstreamcli", "validate", "--no-net", str(METAINFO)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_metainfo_agrees_with_the_desktop_file_pyproject_and_docs() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == DESKTOP.name
    assert root.findtext("provides/binary") == desktop_entry.SCRIPT
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert root.findtext("url[@type='homepage']") == project["urls"]["Homepage"]
    assert root.findtext("project_license") == project["license"]
    assert root.find("releases/release").get("version") == project["version"]
    raw = project["urls"]["Homepage"].replace("https://github.com/", "https://raw.githubusercontent.com/") + "/main/"
    images = [image.text for image in root.iter("image")]
    assert images, "AppStream wants screenshots"
    for url in images:
        assert url.startswith(raw)
        assert (ROOT / url.removeprefix(raw)).is_file(), f"{url} names no file of the repository"
    entry = read_desktop(DESKTOP)
    assert entry["Icon"] == APP_ID and entry["Exec"] == desktop_entry.SCRIPT


def test_install_writes_every_file_into_xdg_data_home_and_uninstall_removes_only_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    home = tmp_path / "data home"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    script = tmp_path / "my venv" / "bin" / "finetune-studio"
    monkeypatch.setattr(desktop_entry, "launch_command", lambda: [str(script)])
    assert launcher_main(["--install-desktop-entry"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Installed the desktop entry {home / 'applications' / DESKTOP.name}\n")
    assert f'it starts: "{script}"' in out
    targets = Targets(home)
    assert all(path.is_file() for path in targets.all())
    entry = read_desktop(targets.desktop)
    assert entry["Exec"] == f'"{script}"' and entry["TryExec"] == str(script)
    assert entry["Icon"] == APP_ID and entry["Name"] == "Finetune Studio"
    assert targets.png(48).read_bytes() == desktop_entry.icon_png(48).read_bytes()
    assert targets.metainfo.read_bytes() == METAINFO.read_bytes()
    if shutil.which("desktop-file-validate"):
        validated = subprocess.run(["desktop-file-validate", str(targets.desktop)], capture_output=True, text=True)
        assert validated.returncode == 0 and not validated.stdout, validated.stdout

    other = home / "applications" / "someone-else.desktop"
    other.write_text("[Desktop Entry]\n")
    assert launcher_main(["--uninstall-desktop-entry"]) == 0
    assert capsys.readouterr().out == f"Removed {len(targets.all())} files of the desktop entry from {home}.\n"
    assert not any(path.exists() for path in targets.all())
    assert other.is_file()
    assert launcher_main(["--uninstall-desktop-entry"]) == 0
    assert "No desktop entry of Finetune Studio was installed" in capsys.readouterr().out


def test_data_home_follows_the_xdg_spec(tmp_path: Path) -> None:
    assert desktop_entry.data_home({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path
    assert desktop_entry.data_home({"XDG_DATA_HOME": "relative/path"}) == Path.home() / ".local" / "share"
    assert desktop_entry.data_home({}) == Path.home() / ".local" / "share"


def test_exec_quoting_follows_the_desktop_entry_spec() -> None:
    assert desktop_entry.exec_value(["/usr/bin/finetune-studio"]) == "/usr/bin/finetune-studio"
    assert desktop_entry.exec_value(["/home/a b/bin/finetune-studio"]) == '"/home/a b/bin/finetune-studio"'
    assert desktop_entry.exec_value(["/opt/$x/python", "-m", "finetune_studio.gui"]) == (
        '"/opt/\\\\$x/python" -m finetune_studio.gui')


def test_the_menu_starts_this_installation(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The console script next to this interpreter, by absolute path; `python -m` when there is none."""
    scripts = tmp_path / "bin"
    scripts.mkdir()
    monkeypatch.setattr(sys, "argv", ["pytest"])
    monkeypatch.setattr(desktop_entry.sysconfig, "get_path", lambda name: str(scripts))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    assert desktop_entry.launch_command() == [str(tmp_path / "python"), "-m", "finetune_studio.gui"]
    script = scripts / "finetune-studio"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    assert desktop_entry.launch_command() == [str(script)]


def test_help_names_the_desktop_entry_flags(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        launcher_main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: finetune-studio") and "doctor" in out  # the commands' help comes first
    assert "  --install-desktop-entry    add Finetune Studio to the applications menu" in out
    assert "  --uninstall-desktop-entry  remove exactly those files again" in out
