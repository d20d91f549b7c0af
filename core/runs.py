"""A run is a folder: config.yaml, metrics.jsonl (append-only), status.json, checkpoints, the final model.

Everything that shows a run (the live chart, the history, the CLI) reads it from here, so a run can always be
reopened from its folder, even one started by another process.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from core.fileio import atomic_write_json, read_json

CONFIG_FILE = "config.yaml"
METRICS_FILE = "metrics.jsonl"
STATUS_FILE = "status.json"
MODEL_DIR = "model"
CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")

STATES = ("running", "finished", "stopped", "failed", "interrupted")


def now_iso() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def generate_run_name(model: str) -> str:
    short = re.sub(r"[^A-Za-z0-9._-]+", "-", model.rsplit("/", 1)[-1].replace("builtin:", "")).strip("-") or "run"
    return f"{short}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


class MetricsLog:
    """Append-only JSON lines, flushed per event so a reader (or a crash) sees every finished line."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        torn = False
        if path.exists() and path.stat().st_size:
            with open(path, "rb") as handle:
                handle.seek(-1, os.SEEK_END)
                torn = handle.read(1) != b"\n"
        self._handle = open(path, "a", encoding="utf-8")
        if torn:  # a writer was killed mid-line: end that line so the next event starts clean
            self._handle.write("\n")

    def append(self, event: dict[str, Any]) -> None:
        self._handle.write(json.dumps(event, ensure_ascii=False, allow_nan=True) + "\n")
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()


def read_metrics(path: Path, start: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Events from byte offset `start`, and the offset to continue from.

    A torn last line (a writer killed mid-write, or one still writing) is left for the next read rather than
    failing, so a follower can poll this while another process appends.
    """
    events: list[dict[str, Any]] = []
    try:
        with open(path, "rb") as handle:
            handle.seek(start)
            data = handle.read()
    except FileNotFoundError:
        return events, start
    offset = start
    for line in data.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break
        offset += len(line)
        text = line.strip()
        if not text:
            continue
        try:
            events.append(json.loads(text))
        except json.JSONDecodeError:
            continue  # a torn line followed by a newer complete one: skip it, keep the rest
    return events, offset


@dataclass
class RunFolder:
    path: Path

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS_FILE

    @property
    def status_path(self) -> Path:
        return self.path / STATUS_FILE

    @property
    def model_dir(self) -> Path:
        return self.path / MODEL_DIR

    def exists(self) -> bool:
        return self.config_path.is_file()

    def read_status(self) -> dict[str, Any]:
        try:
            status = read_json(self.status_path)
        except (FileNotFoundError, json.JSONDecodeError):
            return {"state": "unknown", "message": "No status recorded."}
        if status.get("state") == "running" and not _pid_alive(status.get("pid")):
            status = {**status, "state": "interrupted",
                      "message": "The process running this run ended without finishing it. Resume to continue."}
        return status

    def write_status(self, state: str, message: str = "", **extra: Any) -> dict[str, Any]:
        try:
            previous = read_json(self.status_path)
        except (FileNotFoundError, json.JSONDecodeError):
            previous = {}
        status = {**previous, **extra, "state": state, "message": message, "updated": now_iso(), "pid": os.getpid()}
        status.setdefault("created", status["updated"])
        atomic_write_json(self.status_path, status)
        return status

    def read_metrics(self) -> list[dict[str, Any]]:
        return read_metrics(self.metrics_path)[0]

    def checkpoints(self, output_dir: Path | None = None) -> list[Path]:
        """Complete checkpoints, oldest first. Trainer writes trainer_state.json last (and not atomically), so a
        folder without a readable one is a checkpoint cut off while being written and is skipped."""
        folder = output_dir or self.path
        found = []
        if folder.is_dir():
            for child in folder.iterdir():
                match = CHECKPOINT_RE.match(child.name)
                if match and child.is_dir() and _complete_checkpoint(child):
                    found.append((int(match.group(1)), child))
        return [path for _, path in sorted(found)]

    def latest_checkpoint(self, output_dir: Path | None = None) -> Path | None:
        found = self.checkpoints(output_dir)
        return found[-1] if found else None


def _complete_checkpoint(folder: Path) -> bool:
    try:
        state = read_json(folder / "trainer_state.json")
    except (OSError, ValueError):
        return False
    return isinstance(state, dict) and "global_step" in state


def _pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def iter_runs(runs_dir: Path) -> Iterator[RunFolder]:
    if not runs_dir.is_dir():
        return
    for child in sorted(runs_dir.iterdir()):
        folder = RunFolder(child)
        if child.is_dir() and folder.exists():
            yield folder


def wait_for_file(path: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.05)
    return path.exists()
