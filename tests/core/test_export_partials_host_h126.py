"""The hidden folders an export writes into carry the computer's name beside the process number (helper-126): dead
exports' folders were removed by process number alone, which on a disk several computers share could be another
computer's live export. Only this computer's folders whose process is gone are removed; the others are left, and
mentioned once they are more than a day old."""

from __future__ import annotations

import os
import re
import shutil
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import export
from finetune_studio.core.export import export_adapter
from tests.core.test_cli_push_export_input import _adapter_run

DEAD = 999999999  # no process has this number


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _made(folder: Path, age_s: float = 0.0) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    if age_s:
        then = time.time() - age_s
        os.utime(folder, (then, then))
    return folder


def test_the_hidden_folder_is_named_by_process_and_computer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "gpu box_7.lab")
    run = _adapter_run(tmp_path / "runs")
    out = tmp_path / "exports" / "mine"
    real_copy = shutil.copy2
    seen: list[str] = []

    def copy(source: Any, target: Any, **kwargs: Any) -> Any:
        seen.append(Path(target).parent.name)
        return real_copy(source, target, **kwargs)

    monkeypatch.setattr(export.shutil, "copy2", copy)
    export_adapter(run, out)
    assert re.fullmatch(rf"\.mine\.partial-{os.getpid()}-[0-9a-f]{{8}}-gpu_box_7\.lab", seen[0]), seen
    assert export.this_host() == "gpu_box_7.lab"
    assert _hidden(out.parent) == []


def test_only_this_computers_dead_exports_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "here")
    run = _adapter_run(tmp_path / "runs")
    out = tmp_path / "exports" / "mine"
    parent = out.parent
    dead_here = _made(parent / f".mine.partial-{DEAD}-0a1b2c3d-here")
    live_here = _made(parent / f".mine.partial-{os.getpid()}-feedbeef-here")
    elsewhere = _made(parent / f".mine.partial-{DEAD}-0a1b2c3d-there")  # another computer's: maybe running
    elsewhere_old = _made(parent / f".mine.partial-{DEAD}-11111111-there", age_s=2 * 86400)
    unnamed = _made(parent / f".mine.partial-{DEAD}-22222222")  # named before names carried the computer
    bare = _made(parent / ".mine.partial", age_s=3 * 86400)
    other_name = _made(parent / f".minor.partial-{DEAD}-0a1b2c3d-here")  # another folder's export
    result = export_adapter(run, out)
    assert not dead_here.exists()
    assert _hidden(parent) == sorted(p.name for p in (live_here, elsewhere, elsewhere_old, unnamed, bare, other_name))
    assert result.message.endswith(
        " Hidden folders of other exports into this place (on there), more than a day old, were left as they are, "
        f"since this computer cannot tell whether those exports still run: {bare}, {elsewhere_old}. If no other "
        f"export into {out} is running, delete them.")


def test_nothing_is_said_of_young_folders_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "here")
    run = _adapter_run(tmp_path / "runs")
    out = tmp_path / "mine"
    _made(tmp_path / f".mine.partial-{DEAD}-0a1b2c3d-there")
    result = export_adapter(run, out)
    assert result.message.endswith("AutoPeftModelForCausalLM.from_pretrained('" + str(out) + "').")
