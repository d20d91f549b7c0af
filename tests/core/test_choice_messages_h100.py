"""Every "not one of its choices" refusal reads the same way: the value as written, the nearest name where one is
near ("Did you mean 'epoch'?"), and a "To fix:" that names a value that passes, with the choices beside it where
they are few. Validation said "To fix: write epoch, the nearest one." while chat settings said "Did you mean
'messages'? To fix: write one of …"; the nearest name was difflib's guess, so dtype 'float8' was told to write
float32; report_to: wandb,tensorboard was an unknown integration, with no word of a list; and an unknown chat template
reached at run time said "Choose auto, …" with no "To fix:"."""

from __future__ import annotations

from typing import Any

import pytest

from finetune_studio.core.chat import ChatDataError, template_plan
from finetune_studio.core.config import ChatConfig, default_config, from_yaml, nearest
from finetune_studio.core.errors import ConfigError
from finetune_studio.core.validation import _report_to_problems, validate
from tests.helpers import said

DTYPES = "auto, float32, bfloat16, float16"
FORMATS = "auto, text, prompt_completion, alpaca, messages, sharegpt"
TEMPLATES = "auto, chatml, qwen3, llama3, phi3, gemma"



@pytest.mark.parametrize(("yaml_text", "field", "message"), [
    ("training:\n  eval_strategy: epok\n", "training.eval_strategy",
     "eval_strategy 'epok' is not a strategy. Did you mean 'epoch'? To fix: write epoch (the choices: no, steps, "
     "epoch)."),
    ("chat:\n  format: mesages\n", "chat.format",
     f"chat.format 'mesages' is not a row format. Did you mean 'messages'? To fix: write messages (the choices: "
     f"{FORMATS})."),
    ("dataset:\n  batching: Packed\n", "dataset.batching",
     "batching 'Packed' is not a way to batch rows. Did you mean 'packed'? To fix: write packed (the choices: padded, "
     "group_by_length, padding_free, packed)."),
    ("training:\n  optim: adamw_torchh\n", "training.optim",  # 40 names: the guess alone
     "optim 'adamw_torchh' is not one of the choices transformers knows. Did you mean 'adamw_torch'? To fix: write "
     "adamw_torch."),
    ("dataset:\n  sample_by: sentence\n", "dataset.sample_by",
     "sample_by 'sentence' is not a way to cut text into rows. To fix: write one of document, paragraph, line, or "
     "leave it empty."),
], ids=["strategy", "chat format", "batching case", "optim long list", "sample_by no guess"])
def test_every_choice_refusal_has_one_shape(yaml_text: str, field: str, message: str) -> None:
    assert said(yaml_text, field) == [message]


def test_float8_gets_no_misleading_guess_but_the_choices() -> None:
    assert said("model:\n  dtype: float8\n", "model.dtype") == [
        f"dtype 'float8' is not a precision to load the weights in. To fix: write one of {DTYPES}."]


@pytest.mark.parametrize(("yaml_text", "field", "meant"), [
    ("model:\n  dtype: bfloat61\n", "model.dtype", "bfloat16"),
    ("training:\n  eval_strategy: epcoh\n", "training.eval_strategy", "epoch"),
    ("training:\n  save_strategy: ' Steps'\n", "training.save_strategy", "steps"),
])
def test_a_real_typo_is_still_guessed(yaml_text: str, field: str, meant: str) -> None:
    (message,) = said(yaml_text, field)
    assert f" Did you mean '{meant}'? To fix: write {meant} (the choices: " in message


@pytest.mark.parametrize(("name", "choices", "meant"), [
    ("float8", ("auto", "float32", "bfloat16", "float16"), None),  # a digit changed: another precision
    ("float", ("float32", "float16"), None),  # which one?
    ("fp32", ("auto", "bf16", "fp16"), None),
    ("on", ("no", "steps", "epoch"), None),  # two letters: no typo of 'no'
    ("mistral", ("auto", "chatml", "llama3"), None),
    ("bfloat61", ("auto", "float32", "bfloat16", "float16"), "bfloat16"),  # digits swapped
    ("epcoh", ("no", "steps", "epoch"), "epoch"),
    ("epok", ("no", "steps", "epoch"), "epoch"),
    ("BF16", ("auto", "bf16", "fp16"), "bf16"),
    ("Adamw-Torch ", ("adamw_torch", "adamw_torch_fused"), "adamw_torch"),
    ("txt", ("id", "text"), "text"),
    ("lerning_rate", ("learning_rate", "lr_scheduler_type"), "learning_rate"),
    ("per_device_batch_size", ("per_device_train_batch_size", "seed"), "per_device_train_batch_size"),
    ("Horoscope", ("sign", "Horoscope Text "), "Horoscope Text "),  # a word left out
    ("lion", ("lion_8bit", "lion_32bit"), None),  # which size?
])
def test_nearest_guesses_slips_only(name: str, choices: tuple[str, ...], meant: str | None) -> None:
    assert nearest(name, choices) == meant


@pytest.mark.parametrize(("report_to", "listed"), [
    ("wandb,tensorboard", "[wandb, tensorboard]"),
    ("wandb, tensorboard", "[wandb, tensorboard]"),
    ("wandb tensorboard", "[wandb, tensorboard]"),
    (["wandb,tensorboard", "mlflow"], "[wandb, tensorboard, mlflow]"),
])
def test_report_to_names_in_one_text_are_told_to_be_a_list(report_to: Any, listed: str) -> None:
    written = report_to if isinstance(report_to, str) else report_to[0]
    assert _report_to_problems(report_to)[0] == (
        f"report_to {written!r} is one text, not a list of integrations, so transformers looks for one integration "
        f"by that whole name. To fix: write a list: report_to: {listed}")


def test_report_to_typo_has_the_choice_shape() -> None:
    assert _report_to_problems("wandbb") == ["report_to 'wandbb' is not an integration transformers knows. Did you "
                                             "mean 'wandb'? To fix: write wandb."]
    (message,) = _report_to_problems("wandb,nonsense")  # not all known names: no list to suggest
    assert message.startswith("report_to 'wandb,nonsense' is not an integration transformers knows. To fix: write "
                              "one of none, all, ")


class _Tokenizer:
    chat_template = None


@pytest.mark.parametrize(("template", "message"), [
    ("chatm", f"chat.template 'chatm' is not a chat template. Did you mean 'chatml'? To fix: write chatml (the "
              f"choices: {TEMPLATES}), or give the template's Jinja text."),
    ("mistral", f"chat.template 'mistral' is not a chat template. To fix: write one of {TEMPLATES}, or give the "
                "template's Jinja text."),
])
def test_an_unknown_template_at_run_time_says_what_to_write(template: str, message: str) -> None:
    with pytest.raises(ChatDataError) as caught:
        template_plan(_Tokenizer(), ChatConfig(template=template))
    assert str(caught.value) == message
    config = default_config()
    config.chat.template = template
    assert [p.message for p in validate(config, check_files=False) if p.field == "chat.template"] == [message]


@pytest.mark.parametrize(("yaml_text", "field", "message"), [
    ("model:\n  nme_or_path: x\n", "model.nme_or_path",
     "'nme_or_path' is not a model setting. Did you mean 'name_or_path'? To fix: rename it to name_or_path."),
    ("launch:\n  zzz: 1\n", "launch.zzz", None),
])
def test_an_unknown_key_has_the_choice_shape(yaml_text: str, field: str, message: str | None) -> None:
    with pytest.raises(ConfigError) as caught:
        from_yaml(yaml_text)
    (said,) = [p.message for p in caught.value.problems if p.field == field]
    if message is not None:
        assert said == message
    else:  # no near name: the names, and what to do with them
        assert said.startswith("'zzz' is not a launch setting. Valid names: ")
        assert said.endswith(". To fix: rename it to one of them, or remove it.")
