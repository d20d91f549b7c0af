"""An adapter rank below the width validate refuses (test_adapters_rank_width) but at or past the adapted layers'
break-even: a LoRA update of a fan_in × fan_out layer trains r·(fan_in + fan_out) weights, so from
r = fan_in·fan_out / (fan_in + fan_out) on it trains as many as the layer itself and saves nothing. Nothing was said
there; warnings_for (what `finetune-studio validate` prints) now says it, for the adapted layers as a whole, with
the highest r that still saves weights. It never blocks: validate finds no problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import adapter_layout
from finetune_studio.core.cli import main
from finetune_studio.core.config import default_config
from finetune_studio.core.errors import WARNING
from finetune_studio.core.validation import validate, warnings_for

# builtin:demo, 2 blocks of q/o_proj 64 -> 64, k/v_proj 64 -> 32, gate/up_proj 64 -> 192, down_proj 192 -> 64:
# all-linear adapts 2 x 49,152 = 98,304 weights with r x 2 x 1,216 adapter weights, so from r 41 on saves none.
ALL_LINEAR_41 = (
    "r 41 makes the adapter train more weights than the layers it adapts have (99,712 against 98,304): a LoRA update "
    "of a layer with fan_in inputs and fan_out outputs trains r × (fan_in + fan_out) weights, so from r 41 on this "
    "adapter saves no weights over training those layers in full. Each past its own break-even: k_proj (64 inputs, "
    "32 outputs: from r 22), v_proj (64 inputs, 32 outputs: from r 22), q_proj (64 inputs, 64 outputs: from r 32), "
    "o_proj (64 inputs, 64 outputs: from r 32). To fix: lower r to at most 40 (8 to 64 is usual on models thousands "
    "wide, a few on one this narrow), or train the full model (method full).")
K_PROJ_22 = (
    "r 22 makes the adapter train more weights than the layers it adapts have (4,224 against 4,096): a LoRA update "
    "of a layer with fan_in inputs and fan_out outputs trains r × (fan_in + fan_out) weights, so from r 22 on this "
    "adapter saves no weights over training k_proj (64 inputs, 32 outputs) in full. To fix: lower r to at most 21 "
    "(8 to 64 is usual on models thousands wide, a few on one this narrow), or train the full model (method full).")


def _config(targets: list[str], r: int):
    config = default_config()
    config.adapter.method = "lora"
    config.adapter.target_modules = targets
    config.adapter.r = r
    return config


def _rank_warnings(config) -> list[str]:
    found = [w for w in warnings_for(config) if w.field == "adapter.r"]
    assert all(w.level == WARNING for w in found)
    return [w.message for w in found]


@pytest.mark.parametrize("targets, r, expected", [
    (["all-linear"], 41, ALL_LINEAR_41),  # 41 x 2 x 1,216 = 99,712 >= 98,304 (2 x 49,152)
    (["k_proj"], 22, K_PROJ_22),  # 22 x 96 = 2,112 >= 2,048 per block
])
def test_a_rank_past_break_even_is_a_warning_not_a_problem(demo_cache: Path, targets: list[str], r: int,
                                                           expected: str) -> None:
    config = _config(targets, r)
    assert [p for p in validate(config) if p.field.startswith("adapter.")] == []
    assert _rank_warnings(config) == [expected]


@pytest.mark.parametrize("targets, r", [
    (["all-linear"], 40),  # 40 x 2,432 = 97,280 < 98,304: still saves
    (["k_proj"], 21),
    (["k_proj", "gate_proj"], 40),  # k_proj alone is past its break-even (22), the two together are not (41)
    (["all-linear"], 64),  # at the width: validate refuses it (rank_problem), no warning besides
])
def test_below_break_even_or_refused_says_no_warning(demo_cache: Path, targets: list[str], r: int) -> None:
    config = _config(targets, r)
    refused = [p.field for p in validate(config) if p.field.startswith("adapter.")]
    assert refused == (["adapter.r"] if r == 64 else [])
    assert _rank_warnings(config) == []


@pytest.mark.parametrize("targets, r, first", [(["embed_tokens"], 62, 62), (["all-linear"], 63, 41),
                                               (["gate_proj", "up_proj", "down_proj"], 48, 48)])
def test_the_first_rank_that_saves_nothing_is_named(demo_cache: Path, targets: list[str], r: int,
                                                    first: int) -> None:
    config = _config(targets, r)
    validate(config)
    [message] = _rank_warnings(config)
    assert f"so from r {first} on this adapter saves no weights" in message
    assert f"To fix: lower r to at most {first - 1} " in message


def test_warnings_for_builds_no_model(demo_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """warnings_for runs on every edit of a form: it says the rank warning from the layers validation read, and
    never builds the model itself."""
    monkeypatch.setattr(adapter_layout, "_modules", {})
    real = adapter_layout.meta_model

    def no_build(*args, **kwargs):
        raise AssertionError("warnings_for built the model")

    monkeypatch.setattr(adapter_layout, "meta_model", no_build)
    config = _config(["k_proj"], 22)
    assert _rank_warnings(config) == []
    monkeypatch.setattr(adapter_layout, "meta_model", real)
    assert [p for p in validate(config) if p.field.startswith("adapter.")] == []  # reads the layers
    monkeypatch.setattr(adapter_layout, "meta_model", no_build)
    assert _rank_warnings(config) == [K_PROJ_22]


def test_cli_validate_prints_the_warning_and_exits_0(demo_cache: Path, tmp_path: Path, runs_dir: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setattr(adapter_layout, "_modules", {})  # as in a fresh process: no layers read yet
    path = tmp_path / "run.yaml"
    assert main(["init", str(path)]) == 0
    capsys.readouterr()
    assert main(["validate", str(path), "--set", "adapter.method=lora", "--set", "adapter.r=41",
                 "--set", "adapter.target_modules=[all-linear]"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"warning: adapter.r: {ALL_LINEAR_41}",
                                                    "ok: the config is valid."]
    assert main(["validate", str(path), "--set", "adapter.method=lora", "--set", "adapter.r=40",
                 "--set", "adapter.target_modules=[all-linear]"]) == 0
    assert capsys.readouterr().out.splitlines() == ["ok: the config is valid."]


def test_full_fine_tuning_says_nothing(demo_cache: Path) -> None:
    """method full: the adapter fields are not used, whatever r says."""
    config = _config(["k_proj"], 30)
    validate(config)
    assert len(_rank_warnings(config)) == 1
    config.adapter.method = "full"
    assert _rank_warnings(config) == []
