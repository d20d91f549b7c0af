"""Run core.hub against the local test Hub, the way the app runs it: in a process whose environment points
huggingface_hub at the server before the client is imported.

huggingface_hub reads HF_ENDPOINT and HF_HOME (and the token paths derived from it) once, when it is imported,
and keeps them in module constants, a module-level HfApi and a shared HTTP client. In a pytest process something
(transformers, datasets, another test) has usually imported it already, pointed at the real Hub. So each client
call here runs in a fresh `python -c` subprocess with HF_ENDPOINT, HF_HOME and HF_HUB_DISABLE_TELEMETRY=1 in its
environment: no patching of the client's constants, exactly the configuration a user sets. A call costs ~1 s.

The token travels to the subprocess on stdin (never on the command line, where `ps` shows it). The subprocess logs
every library at DEBUG to stderr; stdout and stderr are kept in `HubClient.outputs` for the token-leak search.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests import hub_server

CORE_CLI = (sys.executable, "-m", "finetune_studio.core.cli")  # what `finetune-studio COMMAND` runs

ROOT = Path(__file__).resolve().parents[1]
RESULT_MARK = "@@HUB-RESULT@@"

DRIVER = r"""
import json, logging, sys, threading, time, traceback

request = json.loads(sys.stdin.read())
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")

# The client's retry back-off returns at once and records its waits, so a test of retries takes no time.
sleeps = []
import huggingface_hub.utils._http as _http

class _Clock:
    def __getattr__(self, name):
        return getattr(time, name)

    def sleep(self, seconds):
        sleeps.append(seconds)

_http.time = _Clock()

from dataclasses import asdict, is_dataclass
from pathlib import Path
from finetune_studio.core import hub

def run(op, args):
    token = args.pop("token", None)
    if op == "whoami":
        return asdict(hub.whoami(token))
    if op == "describe":
        return hub.whoami(token).describe()
    if op == "login":
        return asdict(hub.login(token))
    if op == "logout":
        return hub.logout()
    if op == "current_token_source":
        return hub.current_token_source()
    if op == "plan_push":
        return hub.plan_push(Path(args["run_dir"]), repo_id=args.get("repo_id"))
    if op == "push_run":
        events, cancel = [], threading.Event()
        cancel_at = args.pop("cancel_at_phase", None)

        def progress(event):
            events.append(event)
            if event.get("phase") == cancel_at:
                cancel.set()

        result = hub.push_run(Path(args.pop("run_dir")), token=token, progress=progress, cancel=cancel, **args)
        return {**asdict(result), "events": events}
    if op == "download":
        from huggingface_hub import hf_hub_download

        return {name: hf_hub_download(args["repo_id"], name, token=token) for name in args["files"]}
    raise ValueError(f"unknown op {op}")

results = []
for op, args in request["steps"]:
    try:
        results.append({"ok": True, "value": run(op, dict(args))})
    except Exception as exc:
        results.append({"ok": False, "type": type(exc).__name__,
                        "types": [c.__name__ for c in type(exc).__mro__], "message": str(exc),
                        "detail": getattr(exc, "detail", ""), "traceback": traceback.format_exc()})
print(RESULT_MARK + json.dumps({"results": results, "sleeps": sleeps}, default=str))
""".replace("RESULT_MARK", repr(RESULT_MARK))


@dataclass
class Outcome:
    ok: bool
    value: Any = None
    type: str = ""
    types: list[str] = field(default_factory=list)
    message: str = ""
    detail: str = ""
    traceback: str = ""

    def is_a(self, name: str) -> bool:
        return name in self.types

    def __str__(self) -> str:  # what pytest shows when an assertion on an outcome fails
        return f"ok: {self.value!r}" if self.ok else f"{self.type}: {self.message}\n{self.traceback}"


@dataclass
class HubClient:
    """Runs core.hub calls in subprocesses pointed at `endpoint`, with their own HF_HOME and temp folder."""

    endpoint: str
    hf_home: Path
    tmpdir: Path
    env: dict[str, str] = field(default_factory=dict)  # extra variables, e.g. HF_TOKEN
    outputs: list[str] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING_FACE_"))}
        env.update(HF_ENDPOINT=self.endpoint, HF_HOME=str(self.hf_home), HF_HUB_DISABLE_TELEMETRY="1",
                   HF_HUB_DISABLE_UPDATE_CHECK="1", TMPDIR=str(self.tmpdir), PYTHONPATH=str(ROOT))
        env.update(self.env)
        return env

    def steps(self, *steps: tuple[str, dict[str, Any]]) -> list[Outcome]:
        """Several calls in one process, one after another, as the app makes them (e.g. a push, then a retry)."""
        self.hf_home.mkdir(parents=True, exist_ok=True)
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"steps": [[op, _jsonable(args)] for op, args in steps]})
        proc = subprocess.run([sys.executable, "-c", DRIVER], input=payload, capture_output=True, text=True,
                              cwd=ROOT, env=self.environment(), timeout=120)
        self.outputs += [proc.stdout, proc.stderr]
        marked = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_MARK)]
        assert proc.returncode == 0 and marked, f"driver failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
        data = json.loads(marked[-1][len(RESULT_MARK):])
        self.sleeps += data["sleeps"]
        return [Outcome(**result) for result in data["results"]]

    def call(self, op: str, **args: Any) -> Outcome:
        return self.steps((op, args))[0]

    def finetune(self, *argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """`finetune-studio ARGV` (CORE_CLI) with this environment; a token goes in on `stdin`."""
        self.hf_home.mkdir(parents=True, exist_ok=True)
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([*CORE_CLI, *argv], input=stdin, capture_output=True,
                              text=True, cwd=ROOT, env=self.environment(), timeout=120)
        self.outputs += [proc.stdout, proc.stderr]
        return proc

    def cli(self, *argv: str) -> subprocess.CompletedProcess[str]:
        """huggingface_hub's own `hf` command, with the same environment (to show the login is shared)."""
        hf = Path(sys.executable).with_name("hf")
        proc = subprocess.run([str(hf), *argv], capture_output=True, text=True, cwd=ROOT,
                              env=self.environment(), timeout=60)
        self.outputs += [proc.stdout, proc.stderr]
        return proc


def patch_client(monkeypatch: Any, endpoint: str, hf_home: Path) -> None:
    """In-process alternative to HubClient, for tests that cannot leave the pytest process (a GUI worker thread):
    re-point an already imported huggingface_hub at `endpoint` and `hf_home`. These are the values the client read
    from HF_ENDPOINT and HF_HOME at import and that core.hub, login, upload and download use; monkeypatch undoes it.
    HubClient stays the reference: it needs no knowledge of the client's internals."""
    from huggingface_hub import constants, hf_api

    hf_home.mkdir(parents=True, exist_ok=True)
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "HF_OIDC_RESOURCE"):
        monkeypatch.delenv(name, raising=False)
    values = {
        "ENDPOINT": endpoint,
        "HUGGINGFACE_CO_URL_TEMPLATE": endpoint + "/{repo_id}/resolve/{revision}/{filename}",
        "HF_HOME": str(hf_home),
        "HF_TOKEN_PATH": str(hf_home / "token"),
        "HF_STORED_TOKENS_PATH": str(hf_home / "stored_tokens"),
        "HF_HUB_CACHE": str(hf_home / "hub"),
        "HF_XET_CACHE": str(hf_home / "xet"),
        "HF_HUB_OFFLINE": False,
        "HF_HUB_DISABLE_TELEMETRY": True,
    }
    for name, value in values.items():
        monkeypatch.setattr(constants, name, value)
    monkeypatch.setattr(hf_api.api, "endpoint", endpoint)  # the module-level HfApi behind login() and whoami()


class InstantRetries:
    """Stands in for the `time` module inside huggingface_hub's HTTP retry loop: back-off sleeps return at once
    and are recorded (the in-process twin of the driver's _Clock). `monkeypatch.setattr(_http, "time", ...)`."""

    def __init__(self) -> None:
        import time

        self._time = time
        self.sleeps: list[float] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._time, name)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def instant_retries(monkeypatch: Any) -> InstantRetries:
    import huggingface_hub.utils._http as http

    clock = InstantRetries()
    monkeypatch.setattr(http, "time", clock)
    return clock


def _jsonable(args: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in args.items()}


# ---- a finished run, without training ---------------------------------------------------------------------


def safetensors_bytes(payload: bytes) -> bytes:
    """A whole safetensors file holding `payload` as one uint8 tensor: a push checks a model's files are not cut
    short (core.export.shipping_problem) before it sends them."""
    header = json.dumps({"w": {"dtype": "U8", "shape": [len(payload)], "data_offsets": [0, len(payload)]}}).encode()
    header += b" " * (-len(header) % 8)
    return len(header).to_bytes(8, "little") + header + payload


MODEL_FILES = {
    "config.json": json.dumps({"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "hidden_size": 64,
                               "transformers_version": "5.24.0"}, indent=2).encode(),
    "generation_config.json": b'{\n  "eos_token_id": 0,\n  "transformers_version": "5.24.0"\n}\n',
    "tokenizer.json": json.dumps({"version": "1.0", "model": {"type": "BPE", "vocab": {"a": 0, "b": 1}}}).encode(),
    "tokenizer_config.json": b'{"eos_token": "<|endoftext|>", "model_max_length": 512}\n',
    # every byte value, many times: a round trip that changes one byte (text mode, encoding) shows
    "model.safetensors": safetensors_bytes(bytes(range(256)) * 1024 + hashlib.sha256(b"weights").digest() * 64),
    "chat_template.jinja": b"",  # an empty file travels too
    "extra/notes.bin": b"\x00\xff\r\n\x1a nested",
    "training_args.bin": b"pickled TrainingArguments: never uploaded",
}


def make_finished_run(runs_dir: Path, name: str = "tiny-run", model: str | None = None,
                      dataset: str | None = None) -> Path:
    """A run folder as a finished run leaves it: config.yaml, status.json, metrics.jsonl and model/."""
    from finetune_studio.core.config import default_config, save_config
    from finetune_studio.core.runs import MetricsLog, RunFolder

    config = default_config()
    config.name = name
    config.runs_dir = str(runs_dir)
    if model:
        config.model.name_or_path = model
    if dataset:
        config.dataset.source = dataset
    config.training.update({"num_train_epochs": 1, "max_steps": 12, "learning_rate": 1e-3, "logging_steps": 2})
    folder = RunFolder(runs_dir / name)
    folder.path.mkdir(parents=True)
    save_config(config, folder.config_path)
    for rel, data in MODEL_FILES.items():
        path = folder.model_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    log = MetricsLog(folder.metrics_path)
    log.append({"event": "run_start", "run_dir": str(folder.path), "name": name, "pid": 4242, "time": 1.0})
    for step in range(2, 13, 2):
        log.append({"event": "log", "step": step, "epoch": step / 12, "loss": round(3.0 - 0.2 * step, 4),
                    "grad_norm": 1.5, "learning_rate": 1e-3, "time": 1.0 + step})
        if step % 6 == 0:
            log.append({"event": "eval", "step": step, "epoch": step / 12, "eval_loss": round(2.9 - 0.15 * step, 4),
                        "time": 1.5 + step})
            log.append({"event": "checkpoint", "step": step, "path": str(folder.path / f"checkpoint-{step}"),
                        "time": 1.6 + step})
    log.append({"event": "end", "state": "finished", "step": 12, "max_steps": 12, "train_loss": 0.6,
                "eval_loss": 1.1, "model_dir": str(folder.model_dir), "time": 20.0})
    log.close()
    folder.write_status("finished", "Finished 12 steps.", name=name, step=12, max_steps=12, train_loss=0.6,
                        eval_loss=1.1, model_dir=str(folder.model_dir))
    return folder.path


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under root (and the list of names), to show a folder was not touched."""
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


def files_containing(root: Path, needle: bytes, skip: set[str] = frozenset()) -> list[str]:
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.name not in skip and needle in path.read_bytes():
            found.append(str(path))
    return found


# ---- accounts and fixtures the Hub test modules share (import them into a module to use them)

# Shaped like real tokens (hf_ + 34 letters and digits) and easy to search for.
WRITE = "hf_TESTSECRET123writeAliceAbCdEfGhIjKlMn"
READ = "hf_TESTSECRET456readAliceAbCdEfGhIjKlMnO"
BOB = "hf_TESTSECRET789writeBobAbCdEfGhIjKlMnOp"


@pytest.fixture
def hub():
    """A local Hub with alice (a write and a read token) and bob; fails the test on any endpoint it lacks."""
    from tests.hub_server import HubServer

    with HubServer() as server:
        server.add_token(WRITE, "alice", "write", display_name="studio-write")
        server.add_token(READ, "alice", "read", display_name="studio-read")
        server.add_token(BOB, "bob", "write")
        yield server
        assert not server.unhandled, f"requests the test hub does not implement: {server.unhandled}"


@pytest.fixture
def client(hub: Any, tmp_path: Path) -> HubClient:
    return HubClient(hub.url, tmp_path / "hf_home", tmp_path / "tmp")


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return make_finished_run(tmp_path / "runs")



class Stall:
    """Makes a route of the local test Hub (a `_route_…` of hub_server._Handler) wait `seconds` before it answers,
    while `on` is set; `calls` counts the requests that waited. A reply to a client that gave up is dropped."""

    def __init__(self, monkeypatch: Any, route: str, seconds: float) -> None:
        import threading
        import time

        from tests import hub_server

        self.on = threading.Event()
        self.on.set()
        self.calls = 0
        original = getattr(hub_server._Handler, route)

        def stalled(handler: Any, **kw: Any) -> None:
            if self.on.is_set():
                self.calls += 1
                time.sleep(seconds)
            try:
                original(handler, **kw)
            except OSError:  # the client gave up and closed the connection: nobody to answer
                pass

        monkeypatch.setattr(hub_server._Handler, route, stalled)

# ---- the push dialog against the local Hub, in this process (tests/gui). Qt and finetune_studio.gui are imported
# inside the functions: core tests import this module where Qt may not be importable.

PUSH_WAIT_MS = 20_000  # the longest a push dialog's list of files, or a push, may take in a test


def connect_client(monkeypatch: Any, hub: Any, hf_home: Path, *, token: str | None = None,
                   limit_s: float | None = None) -> InstantRetries:
    """This process's client pointed at the local `hub` (patch_client) with instant retries; core.hub's time limit
    (REQUEST_TIMEOUT_S) set to `limit_s` where given; logged in with `token` (the app's saved login) where given."""
    from finetune_studio.core import hub as core_hub

    patch_client(monkeypatch, hub.url, hf_home)
    clock = instant_retries(monkeypatch)
    if limit_s is not None:
        monkeypatch.setattr(core_hub, "REQUEST_TIMEOUT_S", limit_s, raising=False)
    if token is not None:
        core_hub.login(token)
    return clock


@contextmanager
def push_dialog(qtbot: Any, run_dir: Path, account: Any, *, keep_on_close: bool = False) -> Iterator[Any]:
    """A PushDialog for `run_dir` and `account`, shown, once it has listed the files to push; on the way out, the
    dialog's background work is waited for. A core.hub.Account of your own where core.hub.push_run is stood in;
    against the local Hub, the open_push_dialog fixture. keep_on_close: WA_DeleteOnClose off, for a test that closes
    the dialog and reads it after."""
    from PySide6.QtCore import Qt

    from finetune_studio.gui import background
    from finetune_studio.gui.hub_dialogs import PushDialog

    made = PushDialog(run_dir, account)
    if keep_on_close:
        made.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
    qtbot.addWidget(made)
    made.show()
    qtbot.waitUntil(lambda: bool(made.plan), timeout=PUSH_WAIT_MS)
    try:
        yield made
    finally:
        background.wait_idle()


@pytest.fixture
def open_push_dialog(qtbot: Any, hub: Any, run_dir: Path, tmp_path: Path, monkeypatch: Any) -> Iterator[Any]:
    """`open_push_dialog(token=WRITE, login=True, limit_s=None, keep_on_close=False)`: a push dialog for `run_dir`
    against the local `hub` (connect_client, then push_dialog), closed down at the test's end. The account is the
    token's: logged in with it (the app's saved login), or, where `login` is False, the token given to the dialog
    with none saved. `limit_s`: core.hub's time limit."""
    from finetune_studio.core import hub as core_hub

    with ExitStack() as opened:
        def open_(*, token: str = WRITE, login: bool = True, limit_s: float | None = None,
                  keep_on_close: bool = False) -> Any:
            connect_client(monkeypatch, hub, tmp_path / "hf_home", token=token if login else None, limit_s=limit_s)
            account = core_hub.whoami() if login else core_hub.whoami(token)
            return opened.enter_context(push_dialog(qtbot, run_dir, account, keep_on_close=keep_on_close))

        yield open_


def push(qtbot: Any, dialog: Any, repo_id: str | None = None) -> None:
    """Press Push in a push dialog (with `repo_id` typed in its Repository field first, where given) and wait until
    the push has ended."""
    if repo_id is not None:
        dialog.repo_edit.setText(repo_id)
    dialog.push_button.click()
    qtbot.waitUntil(lambda: not dialog.pushing, timeout=PUSH_WAIT_MS)


class LfsHandler(hub_server._Handler):
    """The local Hub as the real one takes large files: its preupload answers "lfs" for `lfs_paths`, and it serves
    the LFS batch endpoint, which sends every object to /lfs-store/<oid>. What a PUT there does is a subclass's
    `_store_put(path, body)`; `_batch(request)` sees each batch request. Both requests are recorded (as handled).
    Install a subclass with monkeypatch.setattr(hub_server, "_Handler", cls): HubServer.start subclasses it."""

    lfs_paths: tuple[str, ...] = ()

    def _serve(self) -> None:
        path = urlsplit(self.path).path
        if self.command == "POST" and path.endswith(".git/info/lfs/objects/batch"):
            body = self._read_body()
            self._note(len(body))
            request = json.loads(body)
            self._batch(request)
            self._json(200, {"transfer": "basic", "objects": [
                {"oid": o["oid"], "size": o["size"], "authenticated": True,
                 "actions": {"upload": {"href": f"{self.hub.url}/lfs-store/{o['oid']}"}}}
                for o in request["objects"]]})
        elif self.command == "PUT" and path.startswith("/lfs-store/"):
            body = self._read_body()
            self._note(len(body))
            self._store_put(path, body)
        else:
            super()._serve()

    def _batch(self, request: dict[str, Any]) -> None:
        pass

    def _store_put(self, path: str, body: bytes) -> None:
        raise NotImplementedError

    def _note(self, length: int) -> None:
        headers = {k.lower(): ("<redacted>" if k.lower() == "authorization" else v) for k, v in self.headers.items()}
        self.hub._record(hub_server.Request(self.command, self.path, headers, length), handled=True)

    def _route_preupload(self, body: bytes, query: str, repo: str, rev: str) -> None:
        found = self._visible_repo(repo)
        self._require_writer(found.owner, "upload to a model")
        files = json.loads(body or b"{}").get("files", [])
        self._json(200, {"files": [{"path": item["path"], "shouldIgnore": False, "oid": None,
                                    "uploadMode": "lfs" if item["path"] in self.lfs_paths else "regular"}
                                   for item in files], "commitOid": found.head})


@contextmanager
def lfs_hub_serving(monkeypatch: Any, handler: type[LfsHandler], hf_home: Path, **attributes: Any) -> Iterator[Any]:
    """A local Hub served by `handler` (an LfsHandler subclass) with alice's write token, the client pointed at it
    (its home `hf_home`) and its retries instant. `attributes` are set on the server first (the stores and events the
    handler uses); server.release, an Event, is set on the way out so that a PUT the handler holds is let go. A
    request the Hub does not implement fails the test."""
    monkeypatch.setattr(hub_server, "_Handler", handler)  # HubServer.start subclasses the module's _Handler
    server = hub_server.HubServer()
    server.release = threading.Event()
    for name, value in attributes.items():
        setattr(server, name, value)
    with server:
        server.add_token(WRITE, "alice", "write")
        patch_client(monkeypatch, server.url, hf_home)
        instant_retries(monkeypatch)
        try:
            yield server
        finally:
            server.release.set()
    assert not server.unhandled, f"requests the test hub does not implement: {server.unhandled}"
