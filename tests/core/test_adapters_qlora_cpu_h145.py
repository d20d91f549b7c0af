"""QLoRA on a machine without a CUDA GPU: an old bitsandbytes (before 0.48, no CPU backend) was told only to choose
LoRA, though upgrading bitsandbytes is the other way to run it here (qlora_problem's own rule: 0.48 on runs 4-bit on
the CPU); bitsandbytes missing says what to install, and 0.48 on CPU is accepted."""

from __future__ import annotations

import importlib.metadata
import importlib.util
from types import SimpleNamespace

import pytest

from finetune_studio.core import adapters


@pytest.fixture
def cpu_with_bitsandbytes(monkeypatch):
    import finetune_studio.core.hardware as hardware

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: SimpleNamespace(name=name) if name == "bitsandbytes" else real(name, *a))
    monkeypatch.setattr(hardware, "detect", lambda: SimpleNamespace(device="cpu"))

    def installed(version):
        real_version = importlib.metadata.version
        monkeypatch.setattr(importlib.metadata, "version",
                            lambda name: version if name == "bitsandbytes" else real_version(name))
    return installed


def test_old_bitsandbytes_on_cpu_says_to_upgrade_or_choose_lora(cpu_with_bitsandbytes):
    cpu_with_bitsandbytes("0.45.5")
    assert adapters.qlora_problem() == (
        "QLoRA's 4-bit weights need a CUDA GPU with the installed bitsandbytes 0.45.5, and this machine has none. "
        "To fix: choose LoRA (adapter.method: lora), which trains the same adapters on unquantized weights. Or "
        "upgrade bitsandbytes to 0.48 or newer (pip install -U 'bitsandbytes>=0.48'), whose CPU backend runs 4-bit "
        "here, slowly.")


def test_new_bitsandbytes_on_cpu_is_accepted(cpu_with_bitsandbytes):
    cpu_with_bitsandbytes("0.48.1")
    assert adapters.qlora_problem() is None


def test_missing_bitsandbytes_says_what_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "bitsandbytes" else real(name, *a))
    said = adapters.qlora_problem()
    assert said.startswith("QLoRA needs the bitsandbytes package for its 4-bit weights, and it is not installed. "
                           "To fix: choose LoRA (adapter.method: lora)")
    assert "pip install 'finetune-studio[qlora]'" in said
