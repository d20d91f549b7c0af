"""A module in both adapter.target_modules and adapter.modules_to_save is refused before any model loads: peft trains
it in full and drops its adapter without a word, and with no other target the run failed after its folder was made
('Training failed: NoMatchingPeftModuleError')."""

from __future__ import annotations

import pytest

from finetune_studio.core import adapters
from finetune_studio.core.config import default_config

DEMO_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "embed_tokens",
                "lm_head"]


def _messages(method: str, targets: object, saved: object) -> list[tuple[str, str]]:
    config = default_config()
    config.adapter.method = method
    config.adapter.target_modules = targets
    config.adapter.modules_to_save = saved
    return [(p.field, p.message) for p in adapters.problems(config, module_names=lambda model: DEMO_MODULES)]


@pytest.mark.parametrize("targets, saved, said", [
    (["q_proj"], ["q_proj"], "q_proj is"),
    (["q_proj", "v_proj"], ["lm_head", "q_proj"], "q_proj is"),
    (["v_proj", "q_proj", "v_proj"], ["q_proj", "v_proj"], "v_proj, q_proj are"),
])
def test_a_module_in_both_lists_is_refused_with_what_to_remove(targets: list, saved: list, said: str) -> None:
    shown = said.rsplit(" ", 1)[0]
    assert _messages("lora", targets, saved) == [(
        "adapter.modules_to_save",
        f"{said} in both target_modules and modules_to_save: a module either gets an adapter (target_modules) or "
        f"trains in full and is saved with it (modules_to_save), not both. To fix: remove {shown} from one of the "
        "two lists.")]


@pytest.mark.parametrize("targets, saved", [(["all-linear"], ["q_proj"]), (["all-linear"], ["lm_head"]),
                                            (["q_proj"], ["embed_tokens", "lm_head"]), (["q_proj"], [])])
def test_separate_lists_and_all_linear_beside_a_saved_module_pass(targets: list, saved: list) -> None:
    assert _messages("dora", targets, saved) == []


def test_lists_that_are_not_lists_get_their_own_message_only() -> None:
    fields = [field for field, _ in _messages("lora", "q_proj", "q_proj")]
    assert fields == ["adapter.target_modules", "adapter.modules_to_save"]
