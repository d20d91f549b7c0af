"""The estimate counts an evaluation peak only for a run that evaluates, and waits for a config TrainingArguments
refuses (helper-55's D1 and D7)."""

from __future__ import annotations

from finetune_studio.core.config import default_config
from finetune_studio.core.errors import ConfigError
from finetune_studio.core.estimate import Budget, estimate, fixes


def _config(**training):
    config = default_config()
    config.model.name_or_path = "builtin:demo"
    config.training.update(training)
    return config


def test_a_run_that_never_evaluates_has_no_evaluation_peak_and_no_evaluation_fix(demo_cache) -> None:
    evaluating = estimate(_config(per_device_eval_batch_size=512), "cpu")
    assert evaluating.eval_extra > 0
    assert evaluating.total == evaluating.eval_peak > evaluating.training_peak  # 512 rows of logits set the peak
    tight = Budget(evaluating.training_peak, "RAM")  # room for training, not for that evaluation
    assert any(f.description.startswith("Evaluate 256 rows") for f in fixes(_config(per_device_eval_batch_size=512),
                                                                            tight))

    config = _config(per_device_eval_batch_size=512, eval_strategy="no", load_best_model_at_end=False)
    never = estimate(config, "cpu")
    assert never.eval_extra == 0 and never.total == never.training_peak == evaluating.training_peak
    assert not any(f.description.startswith("Evaluate") for f in fixes(config, tight))
    no_split = _config(per_device_eval_batch_size=512, eval_strategy="no", load_best_model_at_end=False)
    no_split.dataset.test_size = 0
    assert estimate(no_split, "cpu").eval_extra == 0


def test_a_config_trainingarguments_refuses_is_not_estimated(demo_cache) -> None:
    try:
        estimate(_config(optim="bogus"), "cpu")
    except ConfigError as exc:
        assert "optim 'bogus' is not one of the choices transformers knows. To fix: write one of adamw_torch, " \
            in str(exc)
    else:
        raise AssertionError("an unknown optim was estimated as if valid")


def test_the_smaller_batch_fix_keeps_exactly_the_rows_per_step_of_every_process(demo_cache) -> None:
    """helper-55's D2: batch 7 became 3 x 2 accumulation (6 rows a step) under 'same effective batch of 7', and the
    figure left the processes out (2 processes of 64 said 64, where the run's effective batch is 128)."""
    from finetune_studio.core.estimate import candidate_fixes

    def smaller_batch(config) -> tuple[str, dict]:
        return next((d, o) for d, o, _ in candidate_fixes(config, "cpu", None) if d.startswith("Batch "))

    for batch, expected in ((7, (1, 7)), (5, (1, 5)), (6, (3, 2)), (64, (32, 2))):
        description, overrides = smaller_batch(_config(per_device_train_batch_size=batch,
                                                       gradient_accumulation_steps=1))
        got = (overrides["training.per_device_train_batch_size"], overrides["training.gradient_accumulation_steps"])
        assert got == expected and got[0] * got[1] == batch
        assert description.endswith(f"(same effective batch of {batch})")
    two = _config(per_device_train_batch_size=64, gradient_accumulation_steps=1)
    two.launch.processes = 2
    assert smaller_batch(two)[0].endswith("(same effective batch of 128)")


def test_cpu_processes_each_count_their_own_python_with_torch(demo_cache) -> None:
    """helper-55's D6: two demo ranks were estimated at 137 MiB and peaked at 1.2 GiB: each rank imports torch and
    the Trainer in a fresh interpreter, which the in-app figure (above what the app already holds) left out."""
    from finetune_studio.core.estimate import CPU_RUNTIME_BYTES
    from finetune_studio.core.launch import RANK_BASE_BYTES

    one = estimate(_config(eval_strategy="no", load_best_model_at_end=False), "cpu")
    assert one.runtime == CPU_RUNTIME_BYTES and one.sharing == 1
    config = _config(eval_strategy="no", load_best_model_at_end=False)
    config.launch.processes = 2
    two = estimate(config, "cpu")
    assert two.runtime == CPU_RUNTIME_BYTES + RANK_BASE_BYTES and two.sharing == 2
    assert two.total == 2 * (one.training_peak + RANK_BASE_BYTES) > 1 << 30
    assert any("imports torch" in note for note in two.notes)
