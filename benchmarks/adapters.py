"""LoRA in the app against PEFT's own recipe and against full fine-tuning, on a model with Qwen3-0.6B's widths.

The model (hidden 1024, intermediate 3072, 16 heads / 8 KV heads, head_dim 128, vocabulary 151936, tied embeddings,
--layers layers, random weights) is built here with transformers' Qwen3Config and saved to a temporary folder with
the demo tokenizer: no download. Each run is a separate child process of this script, so each one's peak memory is
its own and all are measured the same way (peak RSS on the CPU; torch.cuda.max_memory_allocated on a GPU):

1. the app's LoRA run (core.training.run, adapter.method lora, r 16, all linear layers),
2. a plain script doing what PEFT's documentation does: LoraConfig + get_peft_model + Trainer, same data, settings
   and seed (the seed is set before get_peft_model, which draws the adapters' initial weights),
3. the app's full fine-tuning run at the same batch.

Prints, in one invocation: parity (largest relative per-step loss difference between 1 and 2, goal <= 1e-5),
memory (peak of 1 / peak of 3, goal <= 0.5), speed (steps/s of 1 / steps/s of 3, printed with no goal on the CPU)
and the trainable parameters (counted from the adapter the app saved and by peft in the plain script, both equal to
core.adapter_layout.adapter_figures, the Model tab's figure).

    python benchmarks/adapters.py             # 2 layers, 4 optimizer steps of 2 x 2 rows per run (~10 min on the
                                              # shared 2-core VM: a step of the full run takes ~50 s there)
    python benchmarks/adapters.py --quick     # 1 step: the wiring only
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from goals import report

SEED = 42
R, ALPHA, DROPOUT = 16, 32, 0.05
LEARNING_RATE = 2e-4  # the app's LoRA default (core.adapters.METHOD_DEFAULTS), set in both LoRA runs


def training_settings(steps: int) -> dict[str, Any]:
    """The seed recipe's settings, shortened: the same for all three runs."""
    return {"max_steps": steps, "per_device_train_batch_size": 2, "gradient_accumulation_steps": 2,
            "learning_rate": LEARNING_RATE, "logging_steps": 1, "eval_strategy": "no", "save_strategy": "no",
            "load_best_model_at_end": False, "activation_checkpointing": True, "seed": SEED}


def build_model(folder: Path, layers: int) -> None:
    """Qwen3-0.6B's widths with `layers` layers and random weights, saved with the demo tokenizer."""
    import shutil

    import torch
    from transformers import AutoTokenizer, Qwen3Config, Qwen3ForCausalLM

    from finetune_studio.core.demo import demo_model_path

    demo = demo_model_path()
    tokenizer = AutoTokenizer.from_pretrained(str(demo))
    config = Qwen3Config(hidden_size=1024, intermediate_size=3072, num_attention_heads=16, num_key_value_heads=8,
                         head_dim=128, vocab_size=151936, num_hidden_layers=layers, tie_word_embeddings=True,
                         max_position_embeddings=4096, eos_token_id=tokenizer.eos_token_id,
                         bos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    Qwen3ForCausalLM(config).save_pretrained(str(folder))
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy2(demo / name, folder / name)


# ---- the children -------------------------------------------------------------------------------------------


def peak_memory_mb() -> tuple[float, str]:
    import torch

    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20, "torch.cuda.max_memory_allocated"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "peak RSS"  # kB on Linux


def child_app(model_dir: str, steps: int, method: str) -> dict[str, Any]:
    from finetune_studio.core.config import default_config
    from finetune_studio.core.runs import RunFolder
    from finetune_studio.core.training import run

    config = default_config()
    config.model.name_or_path = model_dir
    config.training.update(training_settings(steps))
    config.adapter.method = method
    config.adapter.r, config.adapter.alpha, config.adapter.dropout = R, ALPHA, DROPOUT
    config.adapter.target_modules = ["all-linear"]
    with tempfile.TemporaryDirectory() as tmp:
        config.runs_dir = tmp
        result = run(config, None, threading.Event())
        events = RunFolder(result.run_dir).read_metrics()
        trainable = None
        if method != "full":  # every trained parameter is in the saved adapter
            from safetensors.torch import load_file

            trainable = sum(t.numel() for t in load_file(str(result.model_dir / "adapter_model.safetensors")).values())
    memory, how = peak_memory_mb()
    summary = [e for e in events if e["event"] == "summary"][-1]
    return {"losses": {e["step"]: e["loss"] for e in events if e["event"] == "log" and "loss" in e},
            "steps_per_s": summary["train_steps_per_second"], "peak_mb": memory, "memory_how": how,
            "trainable": trainable}


def child_script(model_dir: str, steps: int) -> dict[str, Any]:
    """PEFT's documented recipe (LoraConfig, get_peft_model, Trainer) on the seed tutorial's data preparation."""
    import contextlib

    from datasets import load_dataset
    from peft import LoraConfig, get_peft_model
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        DataCollatorForLanguageModeling,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    from finetune_studio.core.demo import SAMPLE_DATASET

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.pad_token = tokenizer.eos_token
    dataset = load_dataset("json", data_files=str(SAMPLE_DATASET), split="train")
    dataset = dataset.map(lambda batch: tokenizer(batch["horoscope"], truncation=True, max_length=512), batched=True,
                          remove_columns=dataset.column_names)
    dataset = dataset.train_test_split(test_size=0.1, seed=SEED)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype="auto")
    set_seed(SEED)  # the adapters' initial weights: the same seed as the run's
    model = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", r=R, lora_alpha=ALPHA, lora_dropout=DROPOUT,
                                             target_modules="all-linear"))
    trainable, _total = model.get_nb_trainable_parameters()
    settings = training_settings(steps)
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(sys.stderr):
        args = TrainingArguments(output_dir=tmp, bf16=False, report_to="none", disable_tqdm=True, **settings)
        trainer = Trainer(model=model, args=args, train_dataset=dataset["train"], processing_class=tokenizer,
                          data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False))
        trainer.train()
    history = trainer.state.log_history
    memory, how = peak_memory_mb()
    return {"losses": {e["step"]: e["loss"] for e in history if "loss" in e},
            "steps_per_s": history[-1]["train_steps_per_second"], "peak_mb": memory, "memory_how": how,
            "trainable": int(trainable)}


def in_child(kind: str, model_dir: Path, steps: int) -> dict[str, Any]:
    """Run one kind in a fresh process; its JSON result is the last line of its stdout."""
    started = time.monotonic()
    proc = subprocess.run([sys.executable, __file__, "--child", kind, "--model", str(model_dir), "--steps", str(steps)],
                          capture_output=True, text=True, env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"the {kind} run failed (exit {proc.returncode})")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["losses"] = {int(k): v for k, v in result["losses"].items()}
    print(f"  {kind}: {time.monotonic() - started:.0f} s, {result['steps_per_s']:.3f} steps/s, peak "
          f"{result['peak_mb']:.0f} MB", file=sys.stderr, flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="1 step: the wiring only")
    parser.add_argument("--child", choices=["lora", "full", "script"], help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    args = parser.parse_args()
    steps = 1 if args.quick else args.steps
    if args.child:
        result = child_script(args.model, steps) if args.child == "script" else child_app(args.model, steps,
                                                                                            args.child)
        print(json.dumps(result))
        return 0

    from finetune_studio.core.adapter_layout import adapter_figures
    from finetune_studio.core.config import AdapterConfig, ModelConfig

    with tempfile.TemporaryDirectory(prefix="adapters-bench-") as tmp:
        model_dir = Path(tmp) / "qwen3-0.6b-widths"
        build_model(model_dir, args.layers)
        shown = adapter_figures(ModelConfig(name_or_path=str(model_dir)),
                                AdapterConfig(method="lora", r=R, alpha=ALPHA, dropout=DROPOUT))
        print(f"model: Qwen3-0.6B widths, {args.layers} layers, {shown.total:,} parameters; LoRA r {R}, all linear "
              f"layers; {steps} optimizer steps of 2 x 2 rows per run", flush=True)
        lora = in_child("lora", model_dir, steps)
        script = in_child("script", model_dir, steps)
        full = in_child("full", model_dir, steps)

    ok = True
    if lora["losses"].keys() != script["losses"].keys():
        raise SystemExit(f"logged steps differ: {sorted(lora['losses'])} vs {sorted(script['losses'])}")
    difference = max(abs(lora["losses"][s] - script["losses"][s]) / abs(script["losses"][s]) for s in script["losses"])
    ok &= report("LoRA parity, largest relative per-step loss difference", f"{difference:.2e}", "<= 1e-5",
                 difference <= 1e-5, f"get_peft_model + Trainer script, same data and seed, {len(script['losses'])} "
                 "steps")
    ratio = lora["peak_mb"] / full["peak_mb"]
    ok &= report(f"LoRA memory, {lora['memory_how']} LoRA / full fine-tuning", f"{ratio:.2f} "
                 f"({lora['peak_mb']:.0f} MB / {full['peak_mb']:.0f} MB)", "<= 0.5", ratio <= 0.5,
                 "full fine-tuning at the same batch, separate child processes")
    speed = lora["steps_per_s"] / full["steps_per_s"]
    print(f"LoRA speed, steps/s LoRA / full fine-tuning: {speed:.2f} ({lora['steps_per_s']:.3f} / "
          f"{full['steps_per_s']:.3f} steps/s; no goal on the CPU)", flush=True)
    same = lora["trainable"] == script["trainable"] == shown.trainable
    ok &= report("LoRA trainable parameters, app run = plain peft script = Model tab", f"{lora['trainable']:,} = "
                 f"{script['trainable']:,} = {shown.trainable:,} ({shown.percent:.2f} % of {shown.total:,})",
                 "all equal", same, "core.adapter_layout.adapter_figures (the Model tab's figure)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
