"""What this machine can train with, so "auto" precision means the seed's advice: bf16 where supported, fp16 on
older GPUs, fp32 on the CPU."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Hardware:
    device: str  # "cuda", "mps" or "cpu"
    name: str
    bf16: bool
    fp16: bool

    @property
    def auto_precision(self) -> str:
        if self.bf16:
            return "bf16"
        if self.fp16:
            return "fp16"
        return "fp32"


@lru_cache(maxsize=1)
def detect() -> Hardware:
    from finetune_studio.core.gpus import use_pci_bus_order

    use_pci_bus_order()  # before torch first asks CUDA: GPU numbers then match nvidia-smi and the Hardware tab
    import torch

    if torch.cuda.is_available():
        return Hardware("cuda", torch.cuda.get_device_name(0), bool(torch.cuda.is_bf16_supported()), True)
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return Hardware("mps", "Apple GPU", False, True)
    return Hardware("cpu", "CPU", False, False)
