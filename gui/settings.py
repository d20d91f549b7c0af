"""What the app remembers between sessions: window geometry, recent configs and dataset sources, the last config.

Only these live in QSettings; configs themselves are YAML files the user can see and rerun headless.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "FinetuneStudio"
APPLICATION = "Finetune Studio"
MAX_RECENT = 8


def settings() -> QSettings:
    return QSettings(ORGANIZATION, APPLICATION)


def _as_list(value: Any) -> list[str]:
    """QSettings hands back a str for a one-item list and None for an empty one on some backends."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value if v]


def recent(key: str) -> list[str]:
    return _as_list(settings().value(key))


def push_recent(key: str, item: str) -> list[str]:
    items = [item] + [i for i in recent(key) if i != item]
    items = items[:MAX_RECENT]
    settings().setValue(key, items)
    return items


def remove_recent(key: str, item: str) -> list[str]:
    items = [i for i in recent(key) if i != item]
    settings().setValue(key, items)
    return items


RECENT_CONFIGS = "recent/configs"
RECENT_DATASETS = "recent/datasets"
LAST_CONFIG = "config/last"


def last_config() -> str | None:
    value = settings().value(LAST_CONFIG)
    return str(value) if value else None


def set_last_config(path: str | None) -> None:
    settings().setValue(LAST_CONFIG, path or "")


def saved_layout() -> dict[str, QByteArray | None]:
    s = settings()
    return {key: s.value(f"window/{key}") for key in ("geometry", "state", "splitter", "right_splitter")}


def save_layout(**values: QByteArray) -> None:
    s = settings()
    for key, value in values.items():
        s.setValue(f"window/{key}", value)
