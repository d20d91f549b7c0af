"""Render the Hardware tab and save docs/hardware.png (the window) and docs/estimate.png (the estimate and fixes).

Run under a virtual display:  xvfb-run -a -s "-screen 0 1280x800x24" python docs/make_hardware_screenshot.py

The machine that makes the docs has no GPU, so NVML is stubbed at pynvml's own functions (as the tests do) with a
workstation of two GPUs of different models, the second one mostly used by another program; everything else is
real: the panel, and the estimate of Qwen3-0.6B's seed recipe (its config.json alone, written to a temporary
folder: the estimator needs no weights) against the chosen GPU's free memory. `--cpu` renders this machine as it
is instead (no GPU: the panel says so and shows the CPU and RAM), to docs/hardware-cpu.png.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

OUT = ROOT / "docs"
WIDTH, HEIGHT = 1280, 800
GIB = 2**30

# Qwen/Qwen3-0.6B's config.json (the fields that shape it), so the estimate is the seed's model.
QWEN3_06B = {
    "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "vocab_size": 151936, "hidden_size": 1024,
    "intermediate_size": 3072, "num_hidden_layers": 28, "num_attention_heads": 16, "num_key_value_heads": 8,
    "head_dim": 128, "max_position_embeddings": 40960, "tie_word_embeddings": True, "torch_dtype": "bfloat16",
    "rms_norm_eps": 1e-6, "rope_theta": 1000000, "hidden_act": "silu", "bos_token_id": 151643,
    "eos_token_id": 151645,
}


def fake_nvml() -> None:
    """Two GPUs as NVML would describe them: an RTX 4090 and a busy RTX 3070 (pynvml's functions replaced)."""
    import pynvml

    devices = [
        {"name": "NVIDIA GeForce RTX 4090", "total": 24 * GIB, "used": int(0.6 * GIB), "util": 3, "procs": []},
        {"name": "NVIDIA GeForce RTX 3070", "total": 8 * GIB, "used": int(6.9 * GIB), "util": 97,
         "procs": [{"pid": 48213, "name": "/usr/bin/blender", "used": int(6.5 * GIB)}]},
    ]
    names = {p["pid"]: p["name"] for d in devices for p in d["procs"]}

    def memory(handle):
        d = devices[handle]
        return SimpleNamespace(total=d["total"], used=d["used"], free=d["total"] - d["used"])

    stubs = {
        "nvmlInit": lambda: None, "nvmlShutdown": lambda: None, "nvmlDeviceGetCount": lambda: len(devices),
        "nvmlDeviceGetHandleByIndex": lambda i: i, "nvmlDeviceGetName": lambda h: devices[h]["name"],
        "nvmlDeviceGetMemoryInfo": memory,
        "nvmlDeviceGetUtilizationRates": lambda h: SimpleNamespace(gpu=devices[h]["util"], memory=0),
        "nvmlDeviceGetPciInfo": lambda h: SimpleNamespace(busId=f"00000000:{h + 1:02X}:00.0"),
        "nvmlSystemGetDriverVersion": lambda: "570.86.15",
        "nvmlDeviceGetComputeRunningProcesses": lambda h: [SimpleNamespace(pid=p["pid"], usedGpuMemory=p["used"])
                                                           for p in devices[h]["procs"]],
        "nvmlSystemGetProcessName": lambda pid: names[pid],
    }
    for name, fn in stubs.items():
        setattr(pynvml, name, fn)


def wait(app: QApplication, done, timeout_s: float = 300.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        app.processEvents()
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", action="store_true", help="this machine as it is (docs/hardware-cpu.png)")
    args = parser.parse_args()
    if not args.cpu:
        fake_nvml()
    from PySide6.QtCore import QSettings

    settings = tempfile.mkdtemp(prefix="ft-hardware-shot-")  # the window's first layout, not this user's saved one
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, settings)
    app = QApplication(sys.argv[:1])
    from finetune_studio.core.config import seed_preset
    from finetune_studio.gui import background
    from finetune_studio.gui.main_window import MainWindow

    window = MainWindow()
    window.resize(WIDTH, HEIGHT)
    window.show()
    window.begin_warmup()
    wait(app, lambda: window.warm is not None)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "Qwen3-0.6B"
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps(QWEN3_06B))
        # The tokenizer (the Dataset tab reads token counts) and an empty weights file, so the config validates:
        # the estimate reads config.json alone, and nothing here trains.
        from finetune_studio.core.demo import demo_model_path

        for item in demo_model_path().iterdir():
            if "token" in item.name or item.name.endswith((".txt", ".jinja")):
                (folder / item.name).write_bytes(item.read_bytes())
        (folder / "model.safetensors").write_bytes(b"")
        config = seed_preset()  # the tutorial's recipe: full fine-tuning, batch 2 x 512, checkpointing on
        config.model.name_or_path = str(folder)
        config.dataset.source = "builtin:sample"
        if not args.cpu:
            config.launch.devices = [0, 1]  # mixed models, the second busy: both said under the table
        window.set_config(config, None, "Qwen3-0.6B seed recipe")
        window.tabs.setCurrentWidget(window.pages[window.hardware_panel])
        bar = window.hardware_panel.estimate_bar
        wait(app, lambda: bar.result is not None and bar.result.estimate is not None
             and bar.result.estimate.total_params > 5e8)
        window.hardware_panel.estimate_bar.wait()
        for _ in range(20):
            app.processEvents()
            time.sleep(0.02)
        name = "hardware-cpu.png" if args.cpu else "hardware.png"
        window.grab().save(str(OUT / name))
        print(f"wrote docs/{name}: {bar.verdict_label.text()}")
        if not args.cpu:
            box = bar.parentWidget()
            box.grab().save(str(OUT / "estimate.png"))
            print("wrote docs/estimate.png")
    window.hardware_panel.estimate_bar.wait()
    window.validator.wait()
    background.wait_idle()
    window.close()


if __name__ == "__main__":
    main()
