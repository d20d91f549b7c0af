"""validate() says every problem of a config in one pass, each once: report_to, lr_scheduler_type and optim, target
modules and the ranges no longer wait for other problems to be fixed; only a check that depends on another (the
strategies' match for load_best_model_at_end on an unknown strategy) waits for it."""

from __future__ import annotations

from pathlib import Path

from finetune_studio.core.validation import validate
from tests.helpers import small_config


def problems_of(config) -> list[tuple[str, str]]:
    return [(p.field, p.message) for p in validate(config)]


def test_problems_across_sections_all_come_in_one_pass(demo_cache: Path, small_dataset: Path,
                                                        runs_dir: Path) -> None:
    """Was five passes: report_to waited for every training type problem, lr_scheduler_type and optim for every
    problem anywhere (TrainingArguments was built only for an otherwise valid config), and ranges were not checked."""
    config = small_config(small_dataset, runs_dir, seed="abc", report_to="wandbb", lr_scheduler_type="cosinus",
                          optim="adamw_torchh", adam_beta1=7, weight_decay=-5, max_grad_norm=-1, save_total_limit=-3,
                          num_train_epochs=-1)
    config.dataset.max_length = 1
    config.adapter.method, config.adapter.r, config.adapter.target_modules = "lora", -4, ["q_projj"]
    found = problems_of(config)
    expected = [
        ("training.seed", "seed must be a whole number (got 'abc'). To fix: write a whole number, or remove seed to "
                         "use the default."),
        ("training.report_to", "report_to 'wandbb' is not an integration transformers knows. Did you mean 'wandb'? "
                               "To fix: write wandb."),
        ("training.lr_scheduler_type", "lr_scheduler_type 'cosinus' is not one of the choices transformers knows. "
                                       "Did you mean 'cosine'? To fix: write cosine."),
        ("training.optim", "optim 'adamw_torchh' is not one of the choices transformers knows. Did you mean "
                           "'adamw_torch'? To fix: write adamw_torch."),
        ("training.adam_beta1", "adam_beta1 must be from 0 up to (not including) 1 (got 7); 0.9 is usual. "
                                "To fix: set adam_beta1 to a value in that range, or remove it."),
        ("training.weight_decay", "weight_decay must be 0 or more (got -5); 0 (none) to 0.1 is usual. To "
                                  "fix: set weight_decay to a value in that range, or remove it."),
        ("training.max_grad_norm", "max_grad_norm must be 0 or more (got -1); 0 turns gradient clipping off, and 1.0 "
                                   "is usual. To fix: set max_grad_norm to a value in that range, or remove it."),
        ("training.save_total_limit", "save_total_limit must be 1 or more (got -3); leave it empty (null) to keep "
                                      "every checkpoint. To fix: set save_total_limit to a value in that range, or "
                                      "remove it."),
        ("training.num_train_epochs", "num_train_epochs must be above 0 (got -1); max_steps ends this run, so any "
                                      "positive number will do (the seed uses 3). To fix: set num_train_epochs to 3, "
                                      "or remove it."),
        ("dataset.max_length", "max_length 1 cuts every row to a single token, and a language model learns each "
                               "token from the ones before it, so a 1-token row trains nothing (the loss stays 0). "
                               "To fix: set max_length to 2 or more; the seed uses 512."),
        ("adapter.r", "r (the adapter rank) must be a whole number above 0 (got -4); 8 to 64 is usual. To fix: "
                      "set r to a whole number such as 16."),
        ("adapter.target_modules", "The model has no module named q_projj. Its modules that can take an adapter: "
                                   "embed_tokens, q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, "
                                   "lm_head. To fix: use names from that list (or all-linear) in target_modules."),
    ]
    for problem in expected:
        assert problem in found
    assert len(found) == len(expected)  # each once: nothing from TrainingArguments repeats them


def test_training_arguments_are_still_asked_when_only_other_sections_have_problems(small_dataset: Path,
                                                                                  runs_dir: Path) -> None:
    """What only TrainingArguments knows (a prefetch factor without workers) comes with a dataset problem."""
    config = small_config(small_dataset, runs_dir, dataloader_prefetch_factor=2)
    config.dataset.test_size = 1.5
    fields = [field for field, _ in problems_of(config)]
    assert fields == ["dataset.test_size", "training"]


def test_unknown_choice_without_a_near_name_lists_the_choices(small_dataset: Path, runs_dir: Path) -> None:
    config = small_config(small_dataset, runs_dir, log_level="zzz")
    assert problems_of(config) == [
        ("training.log_level", "log_level 'zzz' is not one of the choices transformers knows. To fix: write one of "
                               "detail, debug, info, warning, error, critical, passive.")]


def test_unknown_eval_strategy_with_load_best_is_one_problem(small_dataset: Path, runs_dir: Path) -> None:
    """The strategies' match for load_best_model_at_end is not judged on a strategy that is itself unknown."""
    config = small_config(small_dataset, runs_dir, eval_strategy="sometimes", load_best_model_at_end=True)
    assert problems_of(config) == [
        ("training.eval_strategy", "eval_strategy 'sometimes' is not a strategy. To fix: write one of no, steps, "
                                   "epoch.")]
