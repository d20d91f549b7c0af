"""A "To fix:" leads to a value that passes (helper-99's review of e3d052a): a quoted number was told to lose its
quotes even when the number itself is refused ('2.5' processes, '0' where 1 is the least, '-5' tokens, a test_size
of '5'); and load_best_model_at_end refused save_steps 0.3 with eval_steps 0.1, which TrainingArguments accepts
(it compares fractions at a millionth), telling the user to set save_steps to 0.3."""

from __future__ import annotations

import pytest

from finetune_studio.core.config import from_yaml
from finetune_studio.core.validation import validate, whole_number_problem


@pytest.mark.parametrize(("written", "fix"), [
    ("2", "To fix: write 2 without quotes."),
    ("2.5", "To fix: set processes to a whole number, 1 or more."),
    ("0", "To fix: set processes to a whole number, 1 or more."),
    ("2.0", "To fix: set processes to a whole number, 1 or more."),
])
def test_a_quoted_whole_number_is_unquoted_only_when_it_would_pass(written: str, fix: str) -> None:
    problem = whole_number_problem("launch.processes", written, 1)
    assert problem is not None and problem.message == f"processes must be a whole number (got '{written}'). {fix}"


def _messages(text: str, field: str) -> list[str]:
    config, _ = from_yaml(text)
    return [p.message for p in validate(config) if p.field == field]


@pytest.mark.parametrize(("text", "field", "fix"), [
    ('dataset:\n  max_length: "64"\n', "dataset.max_length", "To fix: write 64 without quotes."),
    ('dataset:\n  max_length: "-5"\n', "dataset.max_length",
     "To fix: set max_length to the model's context length or less, such as 512."),
    ('dataset:\n  test_size: "0.2"\n', "dataset.test_size", "To fix: write 0.2 without quotes."),
    ('dataset:\n  test_size: "5"\n', "dataset.test_size",
     "To fix: set test_size to a fraction such as 0.1, or 0 to hold out none."),
])
def test_a_quoted_dataset_number_is_unquoted_only_when_it_would_pass(text: str, field: str, fix: str) -> None:
    [message] = _messages(text, field)
    assert message.endswith(fix)


BEST = "training:\n  eval_strategy: steps\n  save_strategy: steps\n  load_best_model_at_end: true\n"


@pytest.mark.parametrize(("eval_steps", "save_steps"), [(0.1, 0.3), (0.1, 0.7), (0.05, 0.15), (200, 600)])
def test_save_steps_that_transformers_takes_as_a_multiple_pass(eval_steps: float, save_steps: float) -> None:
    from transformers import TrainingArguments

    TrainingArguments(output_dir="unused", eval_strategy="steps", save_strategy="steps", load_best_model_at_end=True,
                      eval_steps=eval_steps, save_steps=save_steps)  # transformers' own verdict: accepted
    assert _messages(f"{BEST}  eval_steps: {eval_steps}\n  save_steps: {save_steps}\n", "training.save_steps") == []


def test_save_steps_that_are_no_multiple_get_one_that_is() -> None:
    assert _messages(f"{BEST}  eval_steps: 0.2\n  save_steps: 0.3\n", "training.save_steps") == [
        "load_best_model_at_end needs save_steps (0.3) to be a multiple of eval_steps (0.2). To fix: set save_steps "
        "to 0.4, or another multiple of 0.2."]
    assert _messages(f"{BEST}  eval_steps: 200\n  save_steps: 500\n", "training.save_steps") == [
        "load_best_model_at_end needs save_steps (500) to be a multiple of eval_steps (200). To fix: set save_steps "
        "to 600, or another multiple of 200."]


def test_a_fraction_and_a_step_count_are_refused_as_transformers_refuses_them() -> None:
    from transformers import TrainingArguments

    with pytest.raises(ValueError, match="mixing ratio and absolute steps"):
        TrainingArguments(output_dir="unused", eval_strategy="steps", save_strategy="steps",
                          load_best_model_at_end=True, eval_steps=0.1, save_steps=300)
    assert _messages(f"{BEST}  eval_steps: 0.1\n  save_steps: 300\n", "training.save_steps") == [
        "load_best_model_at_end needs save_steps (300) to be a multiple of eval_steps (0.1), which cannot be known "
        "when one is a fraction of the run and the other a step count. To fix: give both as fractions of the run "
        "(below 1) or both as step counts."]
