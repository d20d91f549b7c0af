"""helper-178: the memory fixes that lower the batch (advice.propose_oom_fix, estimate.candidate_fixes) kept the
rows per step by multiplying gradient accumulation, past validation's MAX_ACCUMULATION_STEPS: the out-of-memory
advice proposed a config validate() refuses, and the estimate dropped the fix. Now capped, and said."""

from __future__ import annotations

from pathlib import Path

from finetune_studio.core import estimate
from finetune_studio.core.advice import propose_oom_fix
from finetune_studio.core.config import PRESETS, default_config
from finetune_studio.core.errors import ERROR
from finetune_studio.core.validation import MAX_ACCUMULATION_STEPS, validate

# ---- fixes that lower the batch keep accumulation within MAX_ACCUMULATION_STEPS

def errors(config) -> list[str]:
    return [f"{p.field}: {p.message}" for p in validate(config, check_files=False) if p.level == ERROR]


def test_oom_fix_caps_accumulation_and_says_the_batch_shrinks(runs_dir: Path) -> None:
    config = default_config()
    config.training.update(per_device_train_batch_size=7, gradient_accumulation_steps=2000)
    assert errors(config) == []
    fix = propose_oom_fix(config)
    assert fix.overrides == {"training.per_device_train_batch_size": 1,
                             "training.gradient_accumulation_steps": MAX_ACCUMULATION_STEPS}
    assert fix.description == ("use batch size 1 with gradient accumulation 10000 instead of 7 with 2000 (the "
                               "effective batch goes from 14,000 to 10,000 rows, as gradient accumulation stops at "
                               "10,000 steps, the most a run takes)")
    assert errors(estimate.with_overrides(config, fix.overrides)) == []
    # within the limit: exact, as before
    config.training.update(per_device_train_batch_size=8, gradient_accumulation_steps=4)
    fix = propose_oom_fix(config)
    assert fix.overrides["training.gradient_accumulation_steps"] == 8
    assert fix.description.endswith("(the effective batch stays 32)")


def test_estimate_offers_the_smaller_batch_within_the_limit(runs_dir: Path) -> None:
    config = PRESETS["demo"]()
    config.training.update(per_device_train_batch_size=6, gradient_accumulation_steps=4000)
    assert errors(config) == []
    offered = {description: overrides for description, overrides, _ in estimate.candidate_fixes(config, "cpu")}
    smaller = {d: o for d, o in offered.items() if d.startswith("Batch ")}
    assert list(smaller) == ["Batch 3 with 8000 accumulation steps (same effective batch of 24000)"]
    config.training["gradient_accumulation_steps"] = 6000
    offered = {description: overrides for description, overrides, _ in estimate.candidate_fixes(config, "cpu")}
    description = ("Batch 3 with 10000 accumulation steps (the effective batch goes from 36,000 to 30,000 rows, as "
                   "gradient accumulation stops at 10,000 steps, the most a run takes)")
    assert offered[description] == {"training.per_device_train_batch_size": 3,
                                    "training.gradient_accumulation_steps": MAX_ACCUMULATION_STEPS}
    assert errors(estimate.with_overrides(config, offered[description])) == []
    current = estimate.estimate(config, "cpu")
    found = {fix.description for fix in estimate.fixes(config, estimate.Budget(1 << 20, "RAM", "cpu"),
                                                       current=current)}
    assert description in found  # dropped as refused before, with 12,000 steps


def test_one_process_fix_caps_accumulation(runs_dir: Path) -> None:
    config = PRESETS["demo"]()
    config.launch.processes = 2
    config.training.update(per_device_train_batch_size=1, gradient_accumulation_steps=6000)
    offered = {description: overrides for description, overrides, _ in estimate.candidate_fixes(config, "cpu")}
    description = ("One process instead of 2, with 10000 accumulation steps (the effective batch goes from 12,000 to "
                   "10,000 rows, as gradient accumulation stops at 10,000 steps, the most a run takes): the "
                   "processes share this machine's RAM")
    assert offered[description] == {"launch.processes": 1, "training.gradient_accumulation_steps": 10_000}
    assert errors(estimate.with_overrides(config, offered[description])) == []
