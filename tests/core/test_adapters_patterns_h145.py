"""target_modules (or modules_to_save) written as a regular expression, as peft's own scripts take it: the refusal
names the modules the pattern matches as the list to write. The text '.*q_proj' was told 'To fix: write it as a list,
even for one module: [.*q_proj]', which was then refused as 'no module named .*q_proj': a fix that led nowhere."""

from __future__ import annotations

import pytest

from finetune_studio.core.config import default_config

NAMES = ["embed_tokens", "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "lm_head"]


def _said(field: str, **adapter) -> list[str]:
    from finetune_studio.core.adapters import problems

    config = default_config()
    config.adapter.method = "lora"
    for key, value in adapter.items():
        setattr(config.adapter, key, value)
    return [p.message for p in problems(config, check_files=True, module_names=lambda _model: list(NAMES))
            if p.field == f"adapter.{field}"]


def test_text_pattern_gets_the_names_it_matches():
    assert _said("target_modules", target_modules=".*q_proj") == [
        "target_modules must be a list of module names, e.g. [q_proj, v_proj], or [all-linear] (got '.*q_proj'). "
        "It is text, and a pattern (a regular expression); module names are written out here. To fix: write the "
        "names it matches as a list: [q_proj]."]
    assert _said("target_modules", target_modules="q_proj|v_proj")[0].endswith(
        "To fix: write the names it matches as a list: [q_proj, v_proj].")


def test_pattern_in_a_list_gets_the_names_it_matches():
    assert _said("target_modules", target_modules=[".*_proj"]) == [
        "target_modules takes module names written out, not patterns: .*_proj is a regular expression, and no "
        "module has that name. To fix: write the names it matches as a list in target_modules: [q_proj, k_proj, "
        "v_proj, o_proj, gate_proj, up_proj, down_proj]."]
    assert _said("target_modules", target_modules=["lm_head", "(q|v)_proj"])[0].endswith(
        "To fix: write the names it matches as a list in target_modules: [lm_head, q_proj, v_proj].")
    assert _said("modules_to_save", target_modules=["q_proj"], modules_to_save=["embed.*"])[0].endswith(
        "To fix: write the names it matches as a list in modules_to_save: [embed_tokens].")


@pytest.mark.parametrize("pattern", [".*xyz", "[q"])
def test_pattern_matching_nothing_lists_the_model_modules(pattern):
    assert _said("target_modules", target_modules=[pattern]) == [
        f"target_modules takes module names written out, not patterns: {pattern} is a regular expression, and no "
        f"module has that name. It matches none of the model's modules that can take an adapter: "
        f"{', '.join(NAMES)}. To fix: write names from that list in target_modules."]


def test_plain_names_keep_their_messages():
    assert _said("target_modules", target_modules=["q_proj", "v_proj"]) == []
    assert _said("target_modules", target_modules="q_proj")[0].endswith(
        "It is text. To fix: write it as a list, even for one module: [q_proj].")
    assert _said("target_modules", target_modules=["nothing_here"])[0].startswith(
        "The model has no module named nothing_here.")
