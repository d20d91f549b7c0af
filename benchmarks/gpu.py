"""Steps per second and model FLOPs utilization (MFU) of the app's run against the plain tutorial script, on a
Qwen3-0.6B-shaped model in bf16: on one GPU, then on all of them (the app through its torchrun launcher, the
script through torchrun directly).

The model has Qwen3-0.6B's widths (hidden 1024, intermediate 3072, 16 heads / 8 KV heads, head_dim 128, vocab
151936) and --layers layers, random weights, built here with transformers' Qwen3Config (the Hub is not needed);
the data is the built-in sample, tokenized by the demo tokenizer, max_length 512; both sides use the seed's
TrainingArguments (batch 2, accumulation 8, activation checkpointing) with bf16, no evaluation or saving.

- steps/s: optimizer steps after the first (warm-up), divided by the seconds they took; the app's from its
  metrics.jsonl step events, the script's from a callback that only records time.
- MFU: (6 x parameters + 12 x layers x hidden x sequence) FLOPs per token x tokens per second (padded tokens:
  the work the GPU did) / (the GPU's dense bf16 peak x GPUs). The peak comes from a table of known GPUs; an
  unknown one reports MFU as unknown.

On a machine without a CUDA GPU it says so and exits 0 (nothing to measure; run_all lists it as skipped).

    python benchmarks/gpu.py [--steps 30] [--layers 4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from goals import exit_with, report  # noqa: E402 - sits beside this file

# Dense bf16 peak TFLOPs (no sparsity), by a piece of the name torch reports.
PEAK_TFLOPS = {"H200": 989.0, "H100 SXM": 989.0, "H100 PCIe": 756.0, "H100": 756.0, "A100": 312.0, "L40S": 362.0,
               "L40": 181.0, "L4": 121.0, "A10G": 70.0, "A10": 125.0, "RTX 4090": 165.0, "RTX 3090": 71.0,
               "A6000": 155.0, "V100": 125.0, "T4": 65.0}
MAX_LENGTH = 512


def peak_flops(name: str) -> float | None:
    for key in sorted(PEAK_TFLOPS, key=len, reverse=True):
        if key in name:
            return PEAK_TFLOPS[key] * 1e12
    return None


def build_model(folder: Path, layers: int) -> int:
    """A Qwen3-0.6B-shaped model with random weights and the demo tokenizer; returns its parameter count."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, Qwen3Config

    from finetune_studio.core.demo import demo_model_path

    config = Qwen3Config(hidden_size=1024, intermediate_size=3072, num_attention_heads=16, num_key_value_heads=8,
                         head_dim=128, vocab_size=151936, num_hidden_layers=layers, tie_word_embeddings=True,
                         max_position_embeddings=4096)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    model.save_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(demo_model_path())
    tokenizer.save_pretrained(folder)
    return sum(p.numel() for p in model.parameters())


def flops_per_token(parameters: int, layers: int) -> float:
    return 6.0 * parameters + 12.0 * layers * 1024 * MAX_LENGTH


def training_settings(steps: int) -> dict:
    return {"max_steps": steps, "per_device_train_batch_size": 2, "gradient_accumulation_steps": 8,
            "activation_checkpointing": True, "learning_rate": 2e-5, "bf16": True, "eval_strategy": "no",
            "save_strategy": "no", "load_best_model_at_end": False, "logging_steps": 1, "report_to": "none",
            "include_num_input_tokens_seen": "all"}


# ---------------------------------------------------------------------------------------------- the two sides
def app_run(model: Path, runs: Path, name: str, steps: int, processes: int) -> dict:
    """`finetune-studio train` of the app's config (several processes: its own torchrun launcher)."""
    from finetune_studio.core.config import default_config, save_config
    from finetune_studio.core.metrics import read_metrics

    config = default_config()
    config.name, config.runs_dir = name, str(runs)
    config.model.name_or_path = str(model)
    config.dataset.max_length = MAX_LENGTH
    config.training.update(training_settings(steps))
    config.launch.processes = processes
    path = runs.parent / f"{name}.yaml"
    save_config(config, path)
    subprocess.run([sys.executable, "-m", "finetune_studio.core.cli", "train", str(path), "--quiet"], check=True,
                   cwd=ROOT)
    events = read_metrics(runs / name / "metrics.jsonl")[0]
    marks = [(e["time"], e.get("step")) for e in events if e.get("event") == "step"]
    tokens = [e.get("num_input_tokens_seen") for e in events if e.get("event") in ("log", "summary")
              and e.get("num_input_tokens_seen")]
    return _rates(marks, tokens[-1] if tokens else None, steps)


def plain_script(model: Path, out: Path, steps: int, processes: int) -> dict:
    """The tutorial's script (Trainer, DataCollatorForLanguageModeling) in a process of its own, or torchrun's."""
    command = [str(Path(__file__)), "--side", "plain", "--model", str(model), "--steps", str(steps), "--out",
               str(out)]
    if processes > 1:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
                   str(processes), *command]
    else:
        command = [sys.executable, *command]
    subprocess.run(command, check=True, cwd=ROOT)
    return json.loads(out.read_text())


def plain_side(model: Path, out: Path, steps: int) -> None:
    """The tutorial: tokenize the sample's text column, split as the seed does, Trainer with the LM collator,
    train; only step times recorded."""
    from datasets import load_dataset
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        DataCollatorForLanguageModeling,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    from finetune_studio.core.demo import SAMPLE_DATASET

    tokenizer = AutoTokenizer.from_pretrained(model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    data = load_dataset("json", data_files=str(SAMPLE_DATASET), split="train")
    data = data.map(lambda rows: tokenizer(rows["horoscope"], truncation=True, max_length=MAX_LENGTH), batched=True,
                    remove_columns=data.column_names)
    # The seed's split (benchmarks/seed_recipe.py): the app trains on the same 90 %, so both sides see the same rows
    # in the same order and do equal work per optimizer step.
    data = data.train_test_split(test_size=0.1, seed=42)["train"]
    marks: list[tuple[float, int]] = []

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            marks.append((time.time(), state.global_step))

    settings = training_settings(steps)
    trainer = Trainer(model=AutoModelForCausalLM.from_pretrained(model, dtype="auto"),
                      args=TrainingArguments(output_dir=str(out.parent / "plain-out"), disable_tqdm=True,
                                             **settings),
                      train_dataset=data, data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False),
                      callbacks=[Clock()])
    trainer.train()
    if trainer.is_world_process_zero():
        out.write_text(json.dumps(_rates(marks, trainer.state.num_input_tokens_seen, steps)))


def _rates(marks: list[tuple[float, int]], tokens: int | None, steps: int) -> dict:
    """Steps/s and tokens/s over the steps after the first."""
    if len(marks) < 2:
        return {"steps_per_s": None, "tokens_per_s": None}
    seconds = marks[-1][0] - marks[0][0]
    counted = marks[-1][1] - marks[0][1]
    per_step = tokens / steps if tokens else None
    return {"steps_per_s": counted / seconds if seconds > 0 else None,
            "tokens_per_s": per_step * counted / seconds if per_step and seconds > 0 else None}


# ---------------------------------------------------------------------------------------------- the comparison
def compare(label: str, app: dict, plain: dict, gpus: int, flops_token: float, peak: float | None) -> list[bool]:
    results = []
    ratio = app["steps_per_s"] / plain["steps_per_s"] if app["steps_per_s"] and plain["steps_per_s"] else 0.0
    results.append(report(f"steps/s, app vs plain tutorial script, {label}",
                          f"{app['steps_per_s'] or 0:.3f} vs {plain['steps_per_s'] or 0:.3f} ({ratio:.2f}x)",
                          ">= 0.95x the script", ratio >= 0.95, "the plain tutorial script, same invocation"))

    def mfu(side: dict) -> float | None:
        if not peak or not side.get("tokens_per_s"):
            return None
        return side["tokens_per_s"] * flops_token / (peak * gpus)

    app_mfu, plain_mfu = mfu(app), mfu(plain)
    if app_mfu is None or plain_mfu is None:
        print(f"MFU, {label}: unknown (no peak for this GPU, or no token count)", flush=True)
    else:
        results.append(report(f"model FLOPs utilization, app vs plain script, {label}",
                              f"{app_mfu:.1%} vs {plain_mfu:.1%}", ">= 0.95x the script's",
                              app_mfu >= 0.95 * plain_mfu, "the plain tutorial script, same invocation"))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--side", choices=["plain"], help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side == "plain":
        plain_side(Path(args.model), Path(args.out), args.steps)
        return 0
    import torch

    if not torch.cuda.is_available():
        print("SKIPPED: no CUDA GPU on this machine, so there is nothing to measure (steps/s and MFU need one). "
              "Run benchmarks/gpu.py on a GPU machine.", flush=True)
        return 0
    os.environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    gpus = torch.cuda.device_count()
    name = torch.cuda.get_device_name(0)
    peak = peak_flops(name)
    print(f"{gpus} x {name} (dense bf16 peak {peak / 1e12 if peak else 'unknown'} TFLOPs each)", flush=True)
    results: list[bool] = []
    with tempfile.TemporaryDirectory(prefix="gpu-bench-") as tmp:
        folder = Path(tmp)
        parameters = build_model(folder / "model", args.layers)
        per_token = flops_per_token(parameters, args.layers)
        print(f"model: Qwen3-0.6B widths, {args.layers} layers, {parameters / 1e6:.0f} M parameters", flush=True)
        for count in sorted({1, gpus}):
            label = "1 GPU" if count == 1 else f"all {count} GPUs"
            plain = plain_script(folder / "model", folder / f"plain-{count}.json", args.steps, count)
            app = app_run(folder / "model", folder / "runs", f"app-{count}", args.steps, count)
            print(f"{label}: app {app}, plain {plain}", flush=True)
            results += compare(label, app, plain, count, per_token, peak)
        if gpus == 1:
            print("all GPUs: this machine has one, so the 1-GPU figures are the all-GPU figures", flush=True)
    return 0 if all(results) else 1


if __name__ == "__main__":
    exit_with(main)  # a crash exits goals.CRASHED, not 1 like a missed goal
