"""The pre-flight memory estimate (core/estimate.py) against the memory training really takes, on the CPU.

For each configuration a fresh child process imports the training stack, records its resident memory (the
baseline), resets the kernel's peak-RSS mark (/proc/self/clear_refs), then loads the model the app's way
(core.model.load_model, core.adapters.wrap_model for adapters) and trains 3 optimizer steps with the app's
TrainingArguments (core.training.training_arguments) on rows that all fill max_length (the estimate's worst case;
random token ids, so no tokenizer or dataset library is in the measurement). Measured peak = VmHWM − baseline.
At the last optimizer step (transformers' on_optimizer_step, before the gradients are cleared) the child sums the
bytes of the parameters (each storage once), their gradients and the optimizer's state tensors: the
weights+gradients+optimizer part the estimate must match within 2 %.

Models: the built-in demo (2 layers, hidden 64, vocab 2048) and a Qwen3-0.6B-shaped model with 2 layers (hidden
1024, intermediate 3072, 16 / 8 heads, head_dim 128, vocab 151936, tied embeddings), random weights in float32,
built locally. Goals: estimate ÷ measured peak within 0.85–1.15 per configuration; the states part within 2 %.
On a GPU (when torch sees one) the same children also report torch.cuda.max_memory_allocated against the estimate
for 'cuda' (not run on this CPU machine).

    python benchmarks/memory_estimate.py [--quick]   # --quick: the demo configurations only
    python benchmarks/memory_estimate.py --gpu-only  # only the GPU figures (benchmarks/memory_estimate_gpu.py)
    python benchmarks/memory_estimate.py --runtime   # measure the estimate's CPU runtime constant (below)
    python benchmarks/memory_estimate.py --allocator-check   # also each run with glibc's mmap threshold fixed
    python benchmarks/memory_estimate.py --allocator-speed [--quick] [--speed-steps N]   # its speed cost (below)

--allocator-check is a diagnostic, not the goal: each configuration is measured again under each of
ALLOCATOR_VARIANTS. MALLOC_MMAP_THRESHOLD_=131072 stops glibc from raising its mmap threshold as tensors are freed,
so freed tensors above 128 KiB go back to the OS instead of staying in the heap; the difference between that peak
and the defaults' is memory the heap keeps, which the estimate does not model (docs/memory-estimate.md, Known gaps).
The two others are cheaper candidates for giving it back: the threshold fixed at 1 MiB (only the larger tensors
mapped), and the defaults with malloc_trim(0) after every optimizer step (free heap pages returned once a step).

--allocator-speed measures what fixing that threshold costs in training speed. For each of SPEED_CONFIGS three child
processes train the same configuration (same rows, same seed, same --speed-steps) and take turns, a few optimizer
steps at a time (the chunk in SPEED_CONFIGS), while the other two wait at a step boundary (blocked on a pipe, using
no CPU): one with glibc's defaults, one that calls mallopt(M_MMAP_THRESHOLD, 131072) before it loads the model (what
the app would do at train start), and a second one with the defaults, the control that gives this machine's noise
floor for identical work. The order of the three changes every turn through all six permutations, so a drift in the
machine's speed cancels. The first two turns (set-up, warm-up) are left out. Prints steps/s of the fixed threshold ÷
steps/s of the defaults and of the control ÷ the defaults, by wall time and by the child's CPU time: the median of
the per-turn ratios (robust to another process's burst on a shared machine) with its 90 % bootstrap interval and
quartiles, and the ratio over all turns; and the minor page faults and system CPU time per step of each.

--runtime measures what core.estimate.CPU_RUNTIME_BYTES stands for, on none of the configurations above: the same
child process trains a 1-layer Qwen3 with hidden size 32 and a 256-token vocabulary (0.4 MiB of tensors in all), 3
times; its peak RSS above the baseline minus the estimate's tensor figure is the memory a training run takes besides
its tensors (the loader's, the Trainer's and the CPU kernels' first-use working set).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from goals import report  # this folder is on sys.path when run as a script
from turns import CHILD_CODE, WARMUP_TURNS, Children, bootstrap, take_turns

ROOT = Path(__file__).resolve().parent.parent
STEPS = 3

# (label, model, method, activation checkpointing, per-device batch, max_length)
CONFIGS = [
    ("demo full b4", "demo", "full", False, 4, 512),
    ("demo full+ckpt b4", "demo", "full", True, 4, 512),
    ("demo full b16", "demo", "full", False, 16, 512),
    ("demo lora b16", "demo", "lora", False, 16, 512),
    ("qwen-2L full b1", "qwen", "full", False, 1, 256),
    ("qwen-2L full+ckpt b2", "qwen", "full", True, 2, 256),
    ("qwen-2L lora b2", "qwen", "lora", False, 2, 256),
    ("qwen-2L lora+ckpt b2", "qwen", "lora", True, 2, 256),
]

CHILD = r"""
import json, os, sys
import torch
import transformers, peft  # noqa: F401 - the stack is loaded before the baseline
from transformers import Trainer, TrainerCallback
from finetune_studio.core.config import load_config
from finetune_studio.core import adapters, model as models
from finetune_studio.core.training import training_arguments

def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    raise RuntimeError(field)

config, _ = load_config(sys.argv[1])
out = sys.argv[2]
torch.manual_seed(0)
baseline = rss("VmRSS:")
with open("/proc/self/clear_refs", "w") as handle:
    handle.write("5")  # reset VmHWM (peak RSS) to the current RSS
cuda = torch.cuda.is_available()
model = models.load_model(config.model, config.adapter)
if adapters.is_adapter_method(config.adapter.method):
    model = adapters.wrap_model(model, config, 0)
batch, length = config.training["per_device_train_batch_size"], config.dataset.max_length
vocab = min(2048, model.config.vocab_size)
rows = [{"input_ids": ids, "labels": ids, "attention_mask": [1] * length}
        for ids in torch.randint(0, vocab, (batch * 3, length)).tolist()]

states = {}

class States(TrainerCallback):
    def on_optimizer_step(self, args, state, control, **kwargs):
        seen, params, grads = set(), 0, 0
        for p in model.parameters():
            key = p.untyped_storage().data_ptr()
            if key not in seen:
                seen.add(key)
                params += p.untyped_storage().nbytes()
            if p.grad is not None:
                grads += p.grad.numel() * p.grad.element_size()
        optimizer = kwargs.get("optimizer") or trainer.optimizer
        opt = sum(t.numel() * t.element_size() for s in optimizer.state.values() for t in s.values()
                  if torch.is_tensor(t) and t.dim() > 0)
        states.update(weights=params, gradients=grads, optimizer=opt)

class Trim(TrainerCallback):  # --allocator-check's third variant: hand the heap's free pages back every step
    def on_step_end(self, args, state, control, **kwargs):
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)

trainer = Trainer(model=model, args=training_arguments(config, os.path.dirname(out)), train_dataset=rows,
                  callbacks=[States()] + ([Trim()] if os.environ.get("BENCH_MALLOC_TRIM") == "1" else []))
trainer.train()
result = {"peak": rss("VmHWM:") - baseline, "baseline": baseline, **states}
if cuda:
    result["cuda_peak"] = torch.cuda.max_memory_allocated()
json.dump(result, open(out, "w"))
"""


# (label, model, method, activation checkpointing, per-device batch, gradient accumulation, max_length, chunk)
SPEED_CONFIGS = [
    ("demo recipe (b2 x acc 8, ckpt)", "demo", "full", True, 2, 8, 512, 2),  # the app's default recipe
    ("demo full b4", "demo", "full", False, 4, 1, 512, 4),
    ("qwen-2L full b1", "qwen", "full", False, 1, 1, 256, 2),
    ("qwen-2L lora b2", "qwen", "lora", False, 2, 1, 256, 2),
]

SPEED_CHILD = CHILD_CODE + r"""
import ctypes, os, sys
import torch
import transformers, peft  # noqa: F401
from transformers import PrinterCallback, Trainer, TrainerCallback
from finetune_studio.core.config import load_config
from finetune_studio.core import adapters, model as models
from finetune_studio.core.training import training_arguments

config, _ = load_config(sys.argv[1])
mode, chunk = sys.argv[2], int(sys.argv[3])
if mode == "fixed":
    m_mmap_threshold = -3  # <malloc.h>
    if ctypes.CDLL(None).mallopt(ctypes.c_int(m_mmap_threshold), ctypes.c_int(131072)) != 1:
        raise SystemExit("mallopt failed")
torch.manual_seed(0)
model = models.load_model(config.model, config.adapter)
if adapters.is_adapter_method(config.adapter.method):
    model = adapters.wrap_model(model, config, 0)
batch = config.training["per_device_train_batch_size"] * config.training["gradient_accumulation_steps"]
length = config.dataset.max_length
vocab = min(2048, model.config.vocab_size)
rows = [{"input_ids": ids, "labels": ids, "attention_mask": [1] * length}
        for ids in torch.randint(0, vocab, (batch * 4, length)).tolist()]

turns = Turns(chunk)

class TakeTurns(TrainerCallback):
    def on_train_begin(self, args, state, control, **kwargs):
        turns.begin()

    def on_step_end(self, args, state, control, **kwargs):
        turns.step(state.global_step, state.max_steps)

trainer = Trainer(model=model, args=training_arguments(config, os.path.dirname(sys.argv[4])), train_dataset=rows,
                  callbacks=[TakeTurns()])
trainer.remove_callback(PrinterCallback)
trainer.train()
say(done=True)
"""
SPEED_SIDES = (("default", "default"), ("fixed", "fixed"), ("control", "default"))  # (name, mode)


def child_env() -> dict[str, str]:
    """The children's environment: this checkout first on the import path, ahead of (not instead of) the caller's
    PYTHONPATH, which on a machine given the training stack as a --target folder is where transformers lives."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "TOKENIZERS_PARALLELISM": "false"}


def speed_check(folder: Path, label: str, config_path: Path, chunk: int, steps: int) -> dict:
    """Three children train `config_path` taking turns (see --allocator-speed); returns each side's turn times."""
    env = child_env()
    env.pop("MALLOC_MMAP_THRESHOLD_", None)
    children = Children(folder, {name: [sys.executable, "-c", SPEED_CHILD, str(config_path), mode, str(chunk),
                                        str(folder / name / "out")] for name, mode in SPEED_SIDES}, env)
    try:
        return take_turns(children, steps)
    except RuntimeError as exc:
        raise RuntimeError(f"{label}: {exc}") from None
    finally:
        children.close()


def report_speed(label: str, result: dict, chunk: int) -> None:
    """Print the speed figures of one configuration, by wall time and by the children's CPU time (user + system,
    less sensitive to other processes taking the CPU)."""
    steps = chunk * (len(result["times"]["default"]) - WARMUP_TURNS)
    print(f"# {label}: {len(result['times']['default']) - WARMUP_TURNS} turns of {chunk} steps per side after "
          f"{WARMUP_TURNS} left out; defaults {steps / sum(result['times']['default'][WARMUP_TURNS:]):.3f} steps/s "
          "(wall); per step: minor page faults "
          + ", ".join(f"{name} {result['faults'][name] / steps:,.0f}" for name, _ in SPEED_SIDES)
          + "; system CPU s " + ", ".join(f"{name} {sum(result['sys'][name][WARMUP_TURNS:]) / steps:.3f}"
                                         for name, _ in SPEED_SIDES), flush=True)
    for measure, key in (("wall time", "times"), ("CPU time", "cpu")):
        times = {name: values[WARMUP_TURNS:] for name, values in result[key].items()}
        for name in ("fixed", "control"):
            per_turn = [d / n for d, n in zip(times["default"], times[name])]  # steps/s of `name` / of the defaults
            q1, median, q3 = statistics.quantiles(per_turn, n=4)
            low, high = bootstrap(per_turn)
            ratio = sum(times["default"]) / sum(times[name])
            side = "fixed threshold" if name == "fixed" else "control (defaults again)"
            print(f"{label}: {side} steps/s / defaults steps/s, by {measure}: median per turn {median:.3f} (90 % "
                  f"bootstrap interval {low:.3f}-{high:.3f}, quartiles {q1:.3f}-{q3:.3f}; over all turns "
                  f"{ratio:.3f})", flush=True)
    for name, values in result["times"].items():
        print(f"  turn seconds (wall / CPU), {name}: " + " ".join(
            f"{t:.2f}/{c:.2f}" for t, c in zip(values, result["cpu"][name])))


def build_qwen(folder: Path) -> Path:
    """A Qwen3-0.6B-shaped model with 2 layers and random weights, with the demo's tokenizer (the rows use only its
    first 2048 ids)."""
    import torch
    from transformers import AutoTokenizer, Qwen3Config, Qwen3ForCausalLM

    from finetune_studio.core.demo import demo_model_path

    target = folder / "qwen3-shaped-2l"
    if (target / "config.json").exists():
        return target
    torch.manual_seed(0)
    config = Qwen3Config(vocab_size=151936, hidden_size=1024, intermediate_size=3072, num_hidden_layers=2,
                         num_attention_heads=16, num_key_value_heads=8, head_dim=128, tie_word_embeddings=True,
                         max_position_embeddings=4096, dtype="float32")
    Qwen3ForCausalLM(config).save_pretrained(target)
    AutoTokenizer.from_pretrained(demo_model_path()).save_pretrained(target)
    return target


def build_tiny(folder: Path) -> Path:
    """A 1-layer Qwen3 with hidden size 32 and a 256-token vocabulary: tensors too small to matter (--runtime)."""
    import torch
    from transformers import AutoTokenizer, Qwen3Config, Qwen3ForCausalLM

    from finetune_studio.core.demo import demo_model_path

    target = folder / "qwen3-tiny"
    torch.manual_seed(0)
    config = Qwen3Config(vocab_size=256, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, head_dim=16, tie_word_embeddings=True,
                         dtype="float32")
    Qwen3ForCausalLM(config).save_pretrained(target)
    AutoTokenizer.from_pretrained(demo_model_path()).save_pretrained(target)
    return target


def measure_runtime(folder: Path, repeats: int = 3) -> int:
    """Peak RSS above the baseline minus the estimate's tensors, for the tiny model: the non-tensor memory of a run."""
    from finetune_studio.core.config import load_config
    from finetune_studio.core.estimate import estimate, gib

    config_path = write_config(folder / "tiny.yaml", str(build_tiny(folder)), "full", False, 1, 16)
    predicted = estimate(load_config(config_path)[0], "cpu")
    tensors = predicted.training_peak - predicted.runtime
    found = []
    for index in range(repeats):
        measured = measure(config_path, folder / f"tiny-{index}" / "result.json")
        found.append(measured["peak"] - tensors)
        print(f"# tiny model, run {index + 1}: measured peak {gib(measured['peak'])}, tensors (estimate) "
              f"{gib(tensors)}: {found[-1] / 2**20:.2f} MiB besides the tensors", flush=True)
    print(f"CPU runtime: {min(found) / 2**20:.2f}-{max(found) / 2**20:.2f} MiB (core.estimate.CPU_RUNTIME_BYTES = "
          f"{predicted.runtime / 2**20:.2f} MiB)")
    return max(found)


def write_config(path: Path, model: str, method: str, checkpointing: bool, batch: int, length: int,
                 cuda: bool = False, **training) -> Path:
    from finetune_studio.core.config import default_config, save_config

    config = default_config()
    config.model.name_or_path = model
    config.adapter.method = method
    config.dataset.max_length = length
    config.training.update({"per_device_train_batch_size": batch, "gradient_accumulation_steps": 1,
                            "max_steps": STEPS, "activation_checkpointing": checkpointing, "eval_strategy": "no",
                            "save_strategy": "no", "load_best_model_at_end": False, "logging_steps": 1,
                            "report_to": "none", "use_cpu": not cuda, **training})
    save_config(config, path)
    return path


# --allocator-check's variants, each a way to keep glibc's heap from holding freed memory: (what it is, environment)
ALLOCATOR_VARIANTS = [
    ("MALLOC_MMAP_THRESHOLD_=131072 (glibc's initial threshold, fixed)", {"MALLOC_MMAP_THRESHOLD_": "131072"}),
    ("MALLOC_MMAP_THRESHOLD_=1048576 (fixed at 1 MiB)", {"MALLOC_MMAP_THRESHOLD_": "1048576"}),
    ("malloc_trim(0) after every optimizer step", {"BENCH_MALLOC_TRIM": "1"}),
]


def measure(config_path: Path, out: Path, variant: dict[str, str] | None = None) -> dict:
    env = {**child_env(), **(variant or {})}
    done = subprocess.run([sys.executable, "-c", CHILD, str(config_path), str(out)], env=env, capture_output=True,
                          text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(out.read_text())


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def states_match(label: str, predicted, measured: dict) -> bool:
    """The estimate's weights+gradients+optimizer against the tensors the child summed at its last optimizer step."""
    from finetune_studio.core.estimate import gib

    summed = measured["weights"] + measured["gradients"] + measured["optimizer"]
    states = predicted.weights + predicted.gradients + predicted.optimizer
    error = abs(states - summed) / summed
    return report(f"{label}: weights+gradients+optimizer vs summed tensor sizes", f"{100 * error:.2f} % off",
                  "<= 2 %", error <= 0.02, f"summed {gib(summed)} at the last optimizer step")


def main(configs: list[tuple] | None = None) -> int:
    """`configs`: the configurations to measure, CONFIGS when None (memory_estimate_gpu.py passes its own six)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the demo configurations only")
    parser.add_argument("--gpu-only", action="store_true",
                        help="only the GPU measurements (torch.cuda.max_memory_allocated); SKIPPED without a GPU")
    parser.add_argument("--runtime", action="store_true", help="measure the CPU runtime constant on a tiny model")
    parser.add_argument("--allocator-check", action="store_true",
                        help="diagnostic: also measure each configuration with glibc's mmap threshold fixed")
    parser.add_argument("--allocator-speed", action="store_true",
                        help="the speed cost of fixing glibc's mmap threshold: three children taking turns")
    parser.add_argument("--only", default="", help="--allocator-speed: only configurations whose label has this")
    parser.add_argument("--speed-steps", type=int, default=40, help="--allocator-speed: optimizer steps per child")
    args = parser.parse_args()
    if args.allocator_speed:
        with tempfile.TemporaryDirectory(prefix="memory-speed-") as tmp:
            folder = Path(tmp)
            print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {args.speed_steps} "
                  f"steps per child", flush=True)
            for label, which, method, checkpointing, batch, accumulation, length, chunk in SPEED_CONFIGS:
                if (which == "qwen" and args.quick) or args.only not in label:
                    continue
                name = "builtin:demo" if which == "demo" else str(build_qwen(folder))
                stem = "speed-" + label.split(" (")[0].replace(" ", "_").replace("+", "-")
                config_path = write_config(folder / f"{stem}.yaml", name, method, checkpointing, batch, length,
                                           max_steps=args.speed_steps, gradient_accumulation_steps=accumulation,
                                           logging_steps=10)
                result = speed_check(folder / stem, label, config_path, chunk, args.speed_steps)
                report_speed(label, result, chunk)
            print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return 0
    if args.runtime:
        with tempfile.TemporaryDirectory(prefix="memory-runtime-") as tmp:
            measure_runtime(Path(tmp))
        return 0
    from finetune_studio.core.config import load_config
    from finetune_studio.core.estimate import estimate, gib

    on_gpu_too = cuda_available()
    if args.gpu_only and not on_gpu_too:
        print("SKIPPED: no CUDA GPU on this machine, so there is no torch.cuda.max_memory_allocated to compare with. "
              "Run it on a GPU machine (memory_estimate_gpu.py: six configurations; memory_estimate.py --gpu-only: all "
              "eight).", flush=True)
        return 0
    ok = True
    with tempfile.TemporaryDirectory(prefix="memory-estimate-") as tmp:
        folder = Path(tmp)
        qwen = None
        for label, which, method, checkpointing, batch, length in CONFIGS if configs is None else configs:
            if which == "qwen" and args.quick:
                continue
            if which == "qwen" and qwen is None:
                qwen = build_qwen(folder)
            name = "builtin:demo" if which == "demo" else str(qwen)
            stem = label.replace(" ", "_").replace("+", "-")
            if not args.gpu_only:
                config_path = write_config(folder / f"{stem}.yaml", name, method, checkpointing, batch, length)
                config, _ = load_config(config_path)
                predicted = estimate(config, "cpu")
                measured = measure(config_path, folder / stem / "result.json")
                ratio = predicted.training_peak / measured["peak"]
                parts = ", ".join(f"{part} {gib(value)}" for part, value in predicted.parts()
                                  if part != "evaluation logits")  # eval_strategy 'no': the training peak is compared
                print(f"# {label}: estimate {gib(predicted.training_peak)} ({parts}); measured peak "
                      f"{gib(measured['peak'])} over a baseline of {gib(measured['baseline'])}", flush=True)
                ok &= report(f"{label}: estimate / measured peak RSS", f"{ratio:.3f}", "0.85-1.15",
                             0.85 <= ratio <= 1.15, f"measured {gib(measured['peak'])}, same child process")
                for number, (what, variant) in enumerate(ALLOCATOR_VARIANTS if args.allocator_check else []):
                    fixed = measure(config_path, folder / f"{stem}-variant{number}" / "result.json", variant)
                    print(f"# {label}, diagnostic: with {what} measured peak {gib(fixed['peak'])}, estimate / peak "
                          f"{predicted.training_peak / fixed['peak']:.3f}; {gib(measured['peak'] - fixed['peak'])} "
                          f"below glibc's defaults", flush=True)
                ok &= states_match(label, predicted, measured)
            if on_gpu_too:
                gpu_path = write_config(folder / f"{stem}-cuda.yaml", name, method, checkpointing, batch, length, True)
                on_gpu = measure(gpu_path, folder / f"{stem}-cuda" / "result.json")
                gpu_estimate = estimate(load_config(gpu_path)[0], "cuda")
                tensors = gpu_estimate.training_peak - gpu_estimate.runtime  # the CUDA context is not allocated memory
                ratio = tensors / on_gpu["cuda_peak"]
                print(f"# {label} on the GPU: estimate without the CUDA runtime {gib(tensors)}; "
                      f"torch.cuda.max_memory_allocated {gib(on_gpu['cuda_peak'])}", flush=True)
                ok &= report(f"{label}: estimate / torch.cuda.max_memory_allocated", f"{ratio:.3f}", "0.85-1.15",
                             0.85 <= ratio <= 1.15, f"measured {gib(on_gpu['cuda_peak'])}")
                if args.gpu_only:
                    ok &= states_match(f"{label} on the GPU", gpu_estimate, on_gpu)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
