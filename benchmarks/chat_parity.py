"""Does a chat run of the app train exactly as TRL's SFTTrainer does on the same model, data and seed?

1. Conversations: core.training.run on OpenAI-style messages (the built-in chat sample's first rows; the loss on
   the assistant replies) against trl.SFTTrainer with assistant_only_loss=True.
2. Prompt/completion: the same chats as prompt/completion text (the loss on the completion) against SFTTrainer
   with completion_only_loss=True.

Both sides start from the same weights: the demo model, with ChatML's two control tokens added for the
conversations (the demo tokenizer has no template) by the app's own chat.prepare_model, drawn from its fixed seed,
since SFTTrainer leaves adding tokens to its caller. SFTTrainer gets the app's TrainingArguments field for field
(SFTConfig is their subclass), the app's chat template and its tokenizer (pad = eos). Prints, per run pair, the
largest relative difference between the per-step training losses. Goal: <= 1e-5.

    python benchmarks/chat_parity.py            # 40 optimizer steps per run
    python benchmarks/chat_parity.py --quick    # 5 steps: the wiring only
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
import tempfile
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
# This folder goes last on the path: goals.py is found, and a benchmark named like an installed package
# (multiprocess.py) does not shadow it for datasets.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE] + [str(HERE)]
sys.path.insert(0, str(HERE.parent))

from goals import report  # noqa: E402

ROWS = 800
GOAL = 1e-5


def chats(rows: int) -> list[dict]:
    from finetune_studio.core.demo import SAMPLE_CHATS

    lines = SAMPLE_CHATS.read_text(encoding="utf-8").splitlines()[:rows]
    return [json.loads(line) for line in lines]


def as_prompt_completion(chat: dict) -> dict:
    turns = [m for m in chat["messages"] if m["role"] != "system"]
    return {"prompt": f"Question: {turns[0]['content']}\nAnswer:", "completion": " " + turns[1]["content"]}


def app_run(data_file: Path, steps: int, runs: Path) -> tuple[dict[int, float], list[str]]:
    from finetune_studio.core.runs import RunFolder
    from finetune_studio.core.training import run

    config = app_config(data_file, steps)
    config.runs_dir = str(runs)
    result = run(config, None, threading.Event())
    events = RunFolder(result.run_dir).read_metrics()
    return ({e["step"]: e["loss"] for e in events if e["event"] == "log" and "loss" in e},
            [e["message"] for e in events if e["event"] == "notice"])


def app_config(data_file: Path, steps: int):
    from finetune_studio.core.config import default_config

    config = default_config()
    config.dataset.source = str(data_file)
    config.dataset.max_length = 128
    config.dataset.test_size = 0.0
    config.training.update({"max_steps": steps, "per_device_train_batch_size": 8, "gradient_accumulation_steps": 1,
                            "learning_rate": 1e-3, "logging_steps": 1, "eval_strategy": "no", "save_strategy": "no",
                            "load_best_model_at_end": False, "activation_checkpointing": False, "seed": 42})
    return config


def trl_run(data_file: Path, steps: int, out: Path, **loss_options) -> dict[int, float]:
    """The same run through trl.SFTTrainer: the app's arguments, tokenizer, template and starting weights."""
    import datasets
    from transformers import AutoModelForCausalLM, TrainingArguments
    from trl import SFTConfig, SFTTrainer

    from finetune_studio.core import chat as chats_module
    from finetune_studio.core import model as models
    from finetune_studio.core.training import training_arguments

    config = app_config(data_file, steps)
    args = training_arguments(config, out)
    same = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainingArguments) if f.init}
    same["report_to"] = "none"
    sft = SFTConfig(**same, max_length=config.dataset.max_length, shuffle_dataset=False, dataset_num_proc=None,
                    **loss_options)
    tokenizer = models.load_tokenizer(config.model, lambda message: None)
    model = AutoModelForCausalLM.from_pretrained(models.resolve_model(config.model.name_or_path))
    rows = datasets.load_dataset("json", data_files=str(data_file), split="train")
    if "messages" in rows.column_names:
        plan = chats_module.template_plan(tokenizer, config.chat)
        tokenizer.chat_template = plan.text
        chats_module.prepare_model(model, tokenizer, plan)
    trainer = SFTTrainer(model=model, args=sft, train_dataset=rows, processing_class=tokenizer)
    with contextlib.redirect_stdout(sys.stderr):
        trainer.train()
    return {e["step"]: e["loss"] for e in trainer.state.log_history if "loss" in e}


def largest_difference(app: dict[int, float], trl: dict[int, float]) -> float:
    if app.keys() != trl.keys():
        raise SystemExit(f"logged steps differ: app {sorted(app)} vs TRL {sorted(trl)}")
    return max(abs(app[s] - trl[s]) / abs(trl[s]) for s in trl)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="5 steps per run: checks the wiring only")
    options = parser.parse_args(argv)
    steps = 5 if options.quick else options.steps
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = chats(ROWS)
        cases = [("conversations (assistant_only_loss)", rows, {"assistant_only_loss": True}),
                 ("prompt/completion (completion_only_loss)", [as_prompt_completion(c) for c in rows],
                  {"completion_only_loss": True})]
        for index, (what, data, loss_options) in enumerate(cases):
            path = folder / f"data{index}.jsonl"
            path.write_text("".join(json.dumps(r) + "\n" for r in data), encoding="utf-8")
            app, notices = app_run(path, steps, folder / f"runs{index}")
            trl = trl_run(path, steps, folder / f"trl{index}", **loss_options)
            difference = largest_difference(app, trl)
            print(f"{what}: {len(app)} steps; app losses {[round(app[s], 4) for s in sorted(app)][:5]}…; TRL "
                  f"{[round(trl[s], 4) for s in sorted(trl)][:5]}…", flush=True)
            print("  app run log: " + " | ".join(n for n in notices if "loss is on" in n or "template" in n))
            ok &= report(f"chat parity, {what}, largest relative per-step loss difference", f"{difference:.2e}",
                         f"<= {GOAL:g}", difference <= GOAL,
                         f"trl {__import__('trl').__version__} SFTTrainer, same model, data ({len(data)} rows), "
                         f"seed and {steps} steps")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
