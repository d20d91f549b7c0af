"""An export's files get the permissions any new file gets (0666 less the umask), its weights too (helper-201):
safetensors writes its files 0600, and the adapter export's copy kept that mode of the run's own weights, so the
exported weights were the one file of the folder only its owner could read. Copied to a shared models folder or
loaded by a server under another account, the export failed with 'Permission denied' on its weights alone."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterator

import pytest

from finetune_studio.core.export import export_run
from tests import helpers


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory: pytest.TempPathFactory, demo_cache: Path) -> Path:
    return helpers.lora_run(tmp_path_factory.mktemp("modes h201"), "lora-run", rows=16, max_steps=1)


@pytest.fixture
def umask_022() -> Iterator[None]:
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def _modes(folder: Path) -> dict[str, str]:
    return {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["adapter", "merged"])
def test_every_exported_file_is_readable_as_a_new_file_is(kind: str, lora_run: Path, tmp_path: Path,
                                                          umask_022: None) -> None:
    result = export_run(lora_run, kind, tmp_path / f"the {kind} export")
    modes = _modes(result.out_dir)
    weights = "adapter_model.safetensors" if kind == "adapter" else "model.safetensors"
    assert modes[weights] == "0o644"
    assert set(modes.values()) == {"0o644"}, modes
    assert sorted(modes) == sorted(result.files)


@pytest.mark.slow
def test_a_stricter_umask_is_kept(lora_run: Path, tmp_path: Path) -> None:
    """A user whose umask keeps new files private (077) gets the weights private: only what the umask allows is
    added (the other files are copied with the run's modes, as before)."""
    before = os.umask(0o077)
    try:
        result = export_run(lora_run, "adapter", tmp_path / "private")
    finally:
        os.umask(before)
    assert _modes(result.out_dir)["adapter_model.safetensors"] == "0o600"


@pytest.mark.slow
def test_a_disk_that_refuses_chmod_still_takes_the_export(lora_run: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A FAT USB stick mounted without 'quiet' refuses chmod (EPERM): the export is written all the same."""
    import errno

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "chmod", refuse)
    result = export_run(lora_run, "merged", tmp_path / "stick" / "merged")  # written with no chmod of its own
    assert sorted(result.files) == sorted(p.name for p in result.out_dir.iterdir())
    assert _modes(result.out_dir)["model.safetensors"] == "0o600"  # as the disk keeps it


@pytest.mark.slow
def test_an_adapter_export_onto_a_disk_that_refuses_chmod_is_written(lora_run: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The adapter's files were copied with copy2, whose copystat's chmod such a disk refuses: the export failed as
    'Cannot write to …: the operation is not permitted (a locked file)'."""
    import errno

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "chmod", refuse)
    result = export_run(lora_run, "adapter", tmp_path / "stick" / "adapter")
    assert sorted(result.files) == ["adapter_config.json", "adapter_model.safetensors", "tokenizer.json",
                                    "tokenizer_config.json"]
    for name in result.files:
        assert (result.out_dir / name).read_bytes() == (lora_run / "model" / name).read_bytes()
