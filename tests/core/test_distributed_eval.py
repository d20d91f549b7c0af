"""The eval loss the Trainer logs under torchrun equals one process's at the same global eval batch, also when the
held-out split is not a multiple of that batch (accelerate then pads the last batch with repeated rows).

Evaluation only, on the demo model's initial weights (the same in every process), 2 CPU processes (gloo) with 4
rows each against 1 process with 8: core.distributed.trainer_class's Trainer, and the plain Trainer to show the
split sizes used here do hit the padding."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, free_port

pytestmark = pytest.mark.slow

SIZES = (197, 193, 200)  # 197: the last global batch has 5 rows; 193: 1 row (rank 1's batch all padding); 200: none

SCRIPT = '''
import json, os, sys
import torch
from transformers import Trainer, TrainingArguments
from finetune_studio.core import batching, data, model as models
from finetune_studio.core.config import default_config
from finetune_studio.core.distributed import trainer_class

out, batch = sys.argv[1], int(sys.argv[2])
config = default_config()
tokenizer = models.load_tokenizer(config.model, lambda message: None)
split = data.tokenize_and_split(data.load_split(config.dataset), tokenizer, config.dataset, 42,
                                lambda message: None)["test"]
torch.manual_seed(0)
model = models.load_model(config.model, config.adapter)
args = TrainingArguments(output_dir=os.path.dirname(out), per_device_eval_batch_size=batch, use_cpu=True,
                         report_to="none", disable_tqdm=True, dataloader_pin_memory=False)
found = {}
for size in %s:
    rows = split.select(range(size))
    for name, cls in (("app", trainer_class(Trainer)), ("plain", Trainer)):
        trainer = cls(model=model, args=args, eval_dataset=rows, processing_class=tokenizer,
                      data_collator=batching.collator("padded", tokenizer, labelled=False))
        found[f"{name} {size}"] = trainer.evaluate()["eval_loss"]
if int(os.environ.get("RANK", "0")) == 0:
    with open(out, "w") as handle:
        json.dump(found, handle)
if torch.distributed.is_initialized():  # left to the interpreter's exit, gloo's threads once aborted a rank (SIGABRT)
    torch.distributed.destroy_process_group()
''' % (SIZES,)


def _evaluate(tmp_path: Path, processes: int, batch: int) -> dict[str, float]:
    script = tmp_path / "evaluate.py"
    script.write_text(SCRIPT, encoding="utf-8")
    out = tmp_path / f"eval-{processes}.json"
    prefix = [sys.executable] if processes == 1 else [sys.executable, "-m", "torch.distributed.run",
                                                      "--nproc-per-node", str(processes),
                                                      "--master-port", str(free_port())]
    done = subprocess.run([*prefix, str(script), str(out), str(batch)], cwd=ROOT, capture_output=True, text=True,
                          timeout=400, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8"))


def test_two_processes_log_one_process_eval_loss_whatever_the_split_size(demo_cache: Path, tmp_path: Path) -> None:
    one = _evaluate(tmp_path, 1, 8)
    two = _evaluate(tmp_path, 2, 4)
    for size in SIZES:
        assert one[f"app {size}"] == one[f"plain {size}"]  # one process: the plain Trainer, untouched
        assert two[f"app {size}"] == pytest.approx(one[f"app {size}"], rel=1e-6), size
    for size in (197, 193):  # the plain Trainer counts the repeated rows: these sizes do test the padding
        assert abs(two[f"plain {size}"] / one[f"plain {size}"] - 1) > 1e-3, (size, two, one)
    assert two["plain 200"] == pytest.approx(one["plain 200"], rel=1e-6)
