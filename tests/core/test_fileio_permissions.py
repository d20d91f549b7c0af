"""A file the app writes keeps the permissions a file there has, and a new one gets those any new file gets:
atomic_write_text wrote through a mkstemp file (0600), so File > Save turned a 0644 config into 0600, and a new
config (init) or status.json was 0600 where the user's umask gives 0644 (helper-118's finding)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from finetune_studio.core.config import default_config, save_config
from finetune_studio.core.fileio import atomic_write_text, write_new_text


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_saving_over_a_file_keeps_its_permissions(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("name: x\n", encoding="utf-8")
    for mode in (0o644, 0o640, 0o664):
        path.chmod(mode)
        save_config(default_config(), path)
        assert _mode(path) == mode
    assert "builtin:demo" in path.read_text(encoding="utf-8")


def test_a_new_file_gets_the_umasks_permissions(tmp_path: Path, umask_022: None) -> None:
    atomic_write_text(tmp_path / "status.json", "{}\n")
    assert write_new_text(tmp_path / "new.yaml", "name: x\n")
    assert (_mode(tmp_path / "status.json"), _mode(tmp_path / "new.yaml")) == (0o644, 0o644)
    os.umask(0o077)
    atomic_write_text(tmp_path / "private.json", "{}\n")
    assert _mode(tmp_path / "private.json") == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left
