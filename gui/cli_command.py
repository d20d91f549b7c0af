"""The headless command that reruns what the window shows, for File → Copy CLI command.

Either `finetune-studio train <config.yaml>` for a saved config, or the nearest preset plus one `--set` flag per
setting that differs from it. Values whose names look like credentials (hub_token, …) are never put on a
command line, where shell history and process listings would keep them.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from finetune_studio.core.config import PRESETS, RunConfig, flat_settings

SECRET_WORDS = ("token", "password", "secret", "api_key", "apikey")


def is_secret(key: str) -> bool:
    key = key.lower()
    return any(word in key for word in SECRET_WORDS)


def _yaml_value(value: Any) -> str:
    import yaml

    text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    return text.removesuffix("...").rstrip()  # a bare scalar document ends with "..."


def train_command(path: Path | str) -> str:
    return f"finetune-studio train {shlex.quote(str(path))}"


def flags_command(config: RunConfig) -> str:
    """`finetune-studio train --preset P --set k=v …` with the preset that needs the fewest flags."""
    best: tuple[int, str, list[str]] | None = None
    for name, make in PRESETS.items():
        flags = override_flags(config, make())
        if best is None or len(flags) < best[0]:
            best = (len(flags), name, flags)
    assert best is not None
    _, preset, flags = best
    parts = ["finetune-studio", "train", "--preset", preset]
    for flag in flags:
        parts += ["--set", shlex.quote(flag)]
    return " ".join(parts)


def override_flags(config: RunConfig, base: RunConfig) -> list[str]:
    """`key=value` strings that turn base into config. (No key can be missing from config that base has: parsing
    always fills in the seed training keys, and the presets hold nothing else.)"""
    mine, theirs = flat_settings(config.to_dict()), flat_settings(base.to_dict())
    flags = []
    for key, value in mine.items():
        if is_secret(key) or (key in theirs and theirs[key] == value):
            continue
        flags.append(f"{key}={_yaml_value(value)}")
    return flags
