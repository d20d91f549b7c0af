"""The Try tab's settings fields take their ranges from core.generate.LIMITS, the rule `finetune-studio generate`
checks its flags by: the tab took top-p 0 (its field went down to 0.00), which the command refuses."""

from __future__ import annotations

from typing import Any

from finetune_studio.core import generate
from finetune_studio.core.generate import GenerationSettings
from finetune_studio.gui.try_tab import SETTING_DECIMALS, SettingsBox

STEP = 10 ** -SETTING_DECIMALS  # a decimal field's smallest step: its lowest value where the rule is "above 0"


def test_top_p_zero_cannot_be_set_in_the_try_tab(qtbot: Any) -> None:
    box = SettingsBox()
    qtbot.addWidget(box)
    assert (box.top_p.minimum(), box.top_p.maximum()) == (STEP, 1.0)
    box.top_p.setValue(0.0)  # typed or stepped down to 0: the field stops at its smallest step above it
    assert box.settings().top_p == STEP
    assert not generate.LIMITS["top_p"].allows(0.0) and generate.LIMITS["top_p"].allows(STEP)


def test_every_fields_ends_are_values_the_cli_takes_and_just_past_them_it_refuses(qtbot: Any) -> None:
    box = SettingsBox()
    qtbot.addWidget(box)
    assert (box.temperature.minimum(), box.repetition_penalty.minimum()) == (STEP, STEP)  # was 0.5: the CLI takes 0.1
    assert (box.top_k.minimum(), box.max_new_tokens.minimum()) == (0, 1)
    limits = generate.LIMITS
    fields = {"temperature": box.temperature, "top_p": box.top_p, "top_k": box.top_k,
              "repetition_penalty": box.repetition_penalty, "max_new_tokens": box.max_new_tokens}
    for name, field in fields.items():
        limit = limits[name]
        assert limit.allows(field.minimum()) and limit.allows(field.maximum()), name
        below = field.minimum() - (1 if limit.whole else STEP)
        assert not limit.allows(below), f"{name}: the field stops above {below}, which the CLI takes"
    box.set_settings(GenerationSettings(do_sample=True, top_p=0.0, temperature=0.0))  # a model's odd defaults
    settings = box.settings()
    assert all(limits[name].allows(getattr(settings, name)) for name in fields)


def test_the_fields_follow_the_core_rule_so_they_cannot_disagree_again(qtbot: Any, monkeypatch: Any) -> None:
    """A rule changed in core.generate (here top-p at most 0.5, max new tokens at most 64) changes the fields too."""
    limits = dict(generate.LIMITS)
    limits["top_p"] = generate.Limit(0, 0.5, above=True)
    limits["max_new_tokens"] = generate.Limit(1, 64, whole=True)
    monkeypatch.setattr(generate, "LIMITS", limits)
    import finetune_studio.gui.try_tab as try_tab

    monkeypatch.setattr(try_tab, "LIMITS", limits, raising=False)
    box = SettingsBox()
    qtbot.addWidget(box)
    assert (box.top_p.minimum(), box.top_p.maximum()) == (STEP, 0.5)
    assert (box.max_new_tokens.minimum(), box.max_new_tokens.maximum()) == (1, 64)


def test_the_seed_field_checks_by_the_core_rule_too(qtbot: Any, monkeypatch: Any) -> None:
    import finetune_studio.gui.try_tab as try_tab

    limits = dict(generate.LIMITS)
    limits["seed"] = generate.Limit(0, 99, whole=True)
    monkeypatch.setattr(try_tab, "LIMITS", limits, raising=False)
    field = try_tab.SeedEdit("help")
    qtbot.addWidget(field)
    field.setText("100")
    assert field.value() is None
    assert field.problem() == ("The seed must be a whole number from 0 to 99 (got '100'). To fix: write one, e.g. 0, "
                               "or press Defaults.")
    field.setText("99")
    assert field.value() == 99 and field.problem() is None
