"""One limit for a seed, owned by core.generate, taken by `finetune-studio generate --seed` (and the Try tab's seed
field): torch.manual_seed's range, 0 … 2**64 - 1."""

from __future__ import annotations

from types import SimpleNamespace

from finetune_studio.core import generate, generate_cli


def _args(seed: int) -> SimpleNamespace:
    return SimpleNamespace(max_new_tokens=None, temperature=None, sample=None, top_p=None, top_k=None,
                           repetition_penalty=None, seed=seed)


def test_the_seed_limit_is_core_generates_and_the_cli_checks_against_it() -> None:
    assert generate.SEED_LIMIT == 2**64
    assert generate.LIMITS["seed"].high == generate.SEED_LIMIT - 1  # the rule the CLI checks by (LIMITS)
    assert generate_cli.settings_problems(_args(generate.SEED_LIMIT - 1)) == []
    assert generate_cli.settings_problems(_args(generate.SEED_LIMIT)) == [
        "--seed must be a whole number from 0 to 18446744073709551615 (got 18446744073709551616). To fix: give a "
        "seed in that range, e.g. --seed 0."]
