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
        assert "bogus is not a valid OptimizerNames" in str(exc)
    else:
        raise AssertionError("an unknown optim was estimated as if valid")
