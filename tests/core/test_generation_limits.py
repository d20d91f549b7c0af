"""core.generate.LIMITS: the one rule for generation settings, which `finetune-studio generate` refuses flags by and
the Try tab's fields take their ranges from. --temperature inf said "must be above 0", which it is."""

from __future__ import annotations

import math

import pytest

from finetune_studio.core import generate_cli
from finetune_studio.core.cli import parse_args


def _problems(*flags: str) -> list[str]:
    return generate_cli.settings_problems(parse_args(["generate", "x", "--prompt", "hi", *flags]))


@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
def test_a_temperature_that_is_no_finite_number_says_finite(value: str) -> None:
    assert _problems("--sample", f"--temperature={value}") == [
        f"--temperature must be a finite number above 0 (got {float(value)}). To fix: give a positive "
        "--temperature (1 samples as the model learned, lower is safer), or leave it out."]


def test_a_repetition_penalty_of_infinity_says_finite() -> None:
    assert _problems("--repetition-penalty", "inf") == [
        "--repetition-penalty must be a finite number above 0 (got inf). To fix: give 1 for no penalty, or a little "
        "above 1 (e.g. 1.1) to repeat less."]


def test_top_p_nan_and_infinity_are_refused() -> None:
    assert _problems("--top-p", "nan", "--sample") == [
        "--top-p must be above 0 and at most 1 (got nan). To fix: give e.g. --top-p 0.9, or 1 to draw from all "
        "tokens."]
    assert _problems("--top-p", "inf")[0].startswith("--top-p must be above 0 and at most 1 (got inf).")


def test_the_rule_allows_the_edges_and_nothing_past_them() -> None:
    from finetune_studio.core.generate import LIMITS

    assert LIMITS["top_p"].allows(1.0) and LIMITS["top_p"].allows(1e-9) and not LIMITS["top_p"].allows(0.0)
    assert not LIMITS["top_p"].allows(1.0000001)
    assert LIMITS["temperature"].allows(1e300) and not LIMITS["temperature"].allows(math.inf)
    assert LIMITS["seed"].allows(2**64 - 1) and not LIMITS["seed"].allows(2**64)
    assert LIMITS["top_k"].allows(0) and not LIMITS["top_k"].allows(-1) and not LIMITS["top_k"].allows(True)
    assert set(LIMITS) == {"temperature", "top_p", "top_k", "repetition_penalty", "max_new_tokens", "seed"}
