"""RunConfig is the one declaration of the config's layout: YAML load and save, `--set`, validation and the
forms' help texts follow it with no list of their own. These tests walk every declared field, so a new
section or field is covered the moment it is declared (and a hand-kept list that forgets it fails here)."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from finetune_studio.core.config import (
    SECTIONS,
    TOP_LEVEL_KEYS,
    RunConfig,
    apply_overrides,
    config_field,
    field_help,
    from_yaml,
    parse_config,
    section_type,
    to_yaml,
)
from finetune_studio.core.errors import ConfigError

DECLARED = [(name, f) for name in SECTIONS if (cls := section_type(name)) for f in dataclasses.fields(cls)]
SAMPLES = {str: "changed-value", int: 7, float: 0.25, bool: False}


def _sample(cls: type, declared: dataclasses.Field) -> typing.Any:
    """A value of the field's own type that differs from its default."""
    hint = typing.get_type_hints(cls)[declared.name]
    base = next(a for a in typing.get_args(hint) if a is not type(None)) if typing.get_args(hint) else hint
    choices = declared.metadata.get("choices")
    if choices:
        return next(c for c in choices if c != declared.default)
    value = SAMPLES[base]
    return (not declared.default) if base is bool else value


def test_the_layout_comes_from_runconfig_fields() -> None:
    assert TOP_LEVEL_KEYS == tuple(f.name for f in dataclasses.fields(RunConfig))
    assert list(SECTIONS) == ["dataset", "model", "training", "hub", "adapter", "chat", "launch"]
    assert list(RunConfig().to_dict()) == list(TOP_LEVEL_KEYS)


@pytest.mark.parametrize(("section", "declared"), DECLARED, ids=[f"{s}.{f.name}" for s, f in DECLARED])
def test_every_declared_field_round_trips_through_set_and_yaml(section: str, declared: dataclasses.Field) -> None:
    cls = section_type(section)
    value = _sample(cls, declared)
    import json

    config, _ = apply_overrides(RunConfig(), [f"{section}.{declared.name}={json.dumps(value)}"])  # JSON is YAML
    assert getattr(getattr(config, section), declared.name) == value
    again, _ = from_yaml(to_yaml(config))
    assert getattr(getattr(again, section), declared.name) == value
    assert field_help(f"{section}.{declared.name}"), "every field says what it is for (the forms' tooltip)"


@pytest.mark.parametrize(("section", "declared"), DECLARED, ids=[f"{s}.{f.name}" for s, f in DECLARED])
def test_every_declared_field_of_the_wrong_type_is_a_problem_at_that_field(section: str,
                                                                           declared: dataclasses.Field) -> None:
    from finetune_studio.core.validation import validate

    config = RunConfig()
    hint = typing.get_type_hints(section_type(section))[declared.name]
    takes_a_list = typing.get_origin(hint) in (list, tuple)
    setattr(getattr(config, section), declared.name, {"a": "mapping"} if takes_a_list else ["a", "list"])
    fields = [p.field for p in validate(config, check_files=False)]
    assert f"{section}.{declared.name}" in fields, fields


def test_choices_declared_on_a_field_are_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_studio.core import config as core_config
    from finetune_studio.core.validation import validate

    declared = config_field("hub.repo_id")
    assert declared is not None
    monkeypatch.setattr(declared, "metadata", {**declared.metadata, "choices": ("", "alice/a")})
    config = RunConfig()
    config.hub.repo_id = "bob/b"
    messages = [p.message for p in validate(config, check_files=False) if p.field == "hub.repo_id"]
    assert messages == ["repo_id 'bob/b' is not one of its choices. To fix: write one of , alice/a."]
    assert core_config.config_field("hub.nothing") is None and config_field("training.learning_rate") is None


def test_renames_and_unknown_keys_follow_the_section_declaration() -> None:
    config, notices = apply_overrides(RunConfig(), ["model.torch_dtype=float16", "evaluation_strategy=no"])
    assert config.model.dtype == "float16" and config.training["eval_strategy"] == "no"
    with pytest.raises(ConfigError) as caught:
        parse_config({"hub": {"privat": True}, "adaptor": {}})
    assert [p.field for p in caught.value.problems] == ["adaptor", "hub.privat"]
    assert "Did you mean 'private'?" in str(caught.value)
    sections = "dataset, model, training, hub, adapter, chat and launch"
    with pytest.raises(ConfigError, match=rf"mapping of settings \({sections}, .* not a list \(got \[dataset\]\)"):
        parse_config(["dataset"])
