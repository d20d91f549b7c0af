"""A module name written with spaces around it (`target_modules: [" q_proj"]`) is refused with the name to write: peft
matches names as written, and the unknown-name message read 'no module named  q_proj' beside the model's q_proj."""

from __future__ import annotations

from finetune_studio.core import adapters
from finetune_studio.core.config import default_config

DEMO_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "embed_tokens",
                "lm_head"]


def _messages(targets: object, saved: object) -> list[tuple[str, str]]:
    config = default_config()
    config.adapter.method = "lora"
    config.adapter.target_modules = targets
    config.adapter.modules_to_save = saved
    return [(p.field, p.message) for p in adapters.problems(config, module_names=lambda model: DEMO_MODULES)]


def test_spaced_names_are_refused_with_the_names_to_write() -> None:
    assert _messages([" q_proj", "v_proj", "o_proj\t"], ["lm_head "]) == [
        ("adapter.target_modules", "target_modules has ' q_proj', 'o_proj\\t' with spaces around them; module names "
                                   "have none. To fix: write q_proj, o_proj."),
        ("adapter.modules_to_save", "modules_to_save has 'lm_head ' with spaces around it; module names have none. "
                                    "To fix: write lm_head."),
    ]


def test_a_spaced_all_linear_is_refused_the_same_way() -> None:
    assert _messages(["all-linear "], []) == [
        ("adapter.target_modules", "target_modules has 'all-linear ' with spaces around it; module names have none. "
                                   "To fix: write all-linear.")]


def test_names_as_written_pass() -> None:
    assert _messages(["q_proj", "v_proj"], ["lm_head"]) == []
