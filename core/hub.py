"""The Hugging Face Hub from the app: who is logged in, log in and out, and push a finished run in one call.

The login is huggingface_hub's own (the `token` and `stored_tokens` files under HF_HOME), so the app, `hf auth
whoami`, transformers and every other tool on the machine share it. HF_TOKEN in the environment overrides a saved
login, for the app exactly as for them; `whoami` says which one is in use.

`push_run` uploads a staged view of the run: the saved model (`model/`), a model card, the metrics and a loss
curve. The run folder is only read. Every failure is a `HubError` with a sentence a user can act on; the access
token never appears in a message, a log line, or any file this module writes.

Nothing here imports Qt, and huggingface_hub is imported inside the functions: the GUI imports this module at
start-up, and the client reads HF_ENDPOINT and HF_HOME when it is first imported.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar, copy_context
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from finetune_studio.core.errors import FinetuneError, Problem
from finetune_studio.core.runs import METRICS_FILE, RunFolder, no_model_text, training_now

if TYPE_CHECKING:  # core.export imports this module
    from finetune_studio.core.export import ExportError

log = logging.getLogger(__name__)

Event = dict[str, Any]
Progress = Callable[[Event], None]

# Where the token in use comes from.
FROM_ARGUMENT = "argument"
FROM_ENVIRONMENT = "HF_TOKEN"
FROM_SAVED_LOGIN = "saved login"

CARD_FILE = "README.md"
# Not uploaded from model/: Trainer's pickled TrainingArguments (unsafe to load, and it would carry a hub_token set
# in the config); the card is generated.
EXCLUDED_MODEL_FILES = {"training_args.bin", CARD_FILE}
# metrics.jsonl fields that describe this machine, not the training.
PRIVATE_METRICS_KEYS = {"run_dir", "model_dir", "pid", "resume_from"}
STAGING_PREFIX = "finetune-studio-push-"
LIBRARY_NAME = "finetune-studio"

# TrainingArguments fields of the Trainer's own push (transformers 5.24: push_to_hub and the hub_* fields), with
# what to use instead. The app refuses them (validate) and never passes them on (core.training.training_arguments):
# the Trainer would upload its whole output_dir, which is the run folder (config.yaml, status.json, metrics with
# local paths, the pickled training_args.bin) plus a second copy of the weights, to a public repository by
# default. The app's own push (hub.push_when_done, or Push to Hub…) uploads the model, a card, scrubbed metrics and
# a loss curve, privately by default. Tokens (hub_token, any *_token field) are refused by config_problems too.
TRAINER_PUSH_FIELDS: dict[str, str] = {
    "push_to_hub": "tick 'Push when training ends' on the Hub tab (hub.push_when_done) instead: private by default, "
                   "it uploads the model, a model card, the metrics and a loss curve",
    "hub_model_id": "set the repository on the Hub tab (hub.repo_id) instead",
    "hub_private_repo": "set the visibility on the Hub tab (hub.private) instead",
    "hub_strategy": "the app pushes once, when training ends (Hub tab, hub.push_when_done)",
    "hub_always_push": "the app pushes once, when training ends (Hub tab, hub.push_when_done)",
    "hub_revision": "the app pushes to the repository's main branch (Hub tab, hub.repo_id)",
}
LOGIN_HINT = "log in instead: Hub → Log in… in the app, or finetune-studio login"


# ---- errors ------------------------------------------------------------------------------------------------


# HubError.kind values code may test (never the message text).
READ_ONLY_TOKEN = "read_only_token"
NOT_A_RUN_FOLDER = "not_a_run_folder"  # the sentence is core.runs.run_folder_problem's
BAD_REPO_ID = "bad_repo_id"
NOT_AN_ADAPTER_RUN = "not_an_adapter_run"  # a merged push of a run that trained every weight
STAGING_FAILED = "staging_failed"  # a push's files (or its merge) could not be written where it stages them
RUN_TRAINING = "run_training"  # the run is training now (core.export.training_text): wait for it, or stop it
TRAINING_HERE = "training_here"  # a merged push while a run trains in this app (core.export's kind of the same)
# What the user gave is unusable as it stands (nothing was sent): the command line exits 2 (bad input), not 1.
BAD_DTYPE = "bad_dtype"  # a dtype for a push that is not merged, or a name that is no dtype (core.export's)
DTYPE_OVERFLOW = "dtype_overflow"  # merged weights past float16's range, found once merged (before the repository
# is created: nothing was sent). Not bad input (exit 1), as core.export's own refusal of it is not.
NO_MODEL = "no_model"  # a run not training that has no saved model to push (core.export's kind of the same)
# A checkpoint (push --checkpoint N) the run does not have whole, or one that is damaged: refused with the ones it has,
# in core.export's (core.generate.resolve's) words, before anything is sent.
NO_CHECKPOINT = "no_checkpoint"
# The run deleted the checkpoint being pushed while it was read (save_total_limit of a run training in another
# process): core.export's CHECKPOINT_REMOVED, said as a push's (_removed_refusal). Not bad input: exit 1.
CHECKPOINT_REMOVED = "checkpoint_removed"
BAD_INPUT_KINDS = frozenset({NOT_A_RUN_FOLDER, BAD_REPO_ID, NOT_AN_ADAPTER_RUN, BAD_DTYPE, NO_MODEL, NO_CHECKPOINT})
REPO_ID_FIX = ("To fix: write the repository as owner/name (letters, digits, '-', '_' and '.'), or leave it empty "
               "for <your user>/<run name>.")


class HubError(FinetuneError):
    """A Hub operation failed; the message says what happened and what to do. `detail` holds the client's own
    error text (with any token removed) for a details pane. Where the two parts are written apart, `message` is
    what happened and `fix` what to do next (str(error) is both); `kind` names the failure for code that must
    tell failures apart, so no caller reads the sentence."""

    def __init__(self, message: str, detail: str = "", *, kind: str = "", fix: str = "", refusal: Any = None):
        super().__init__(f"{message} {fix}" if fix else message)
        self.message = message
        self.detail = detail
        self.kind = kind
        self.fix = fix
        # NO_CHECKPOINT, CHECKPOINT_REMOVED: the facts of the checkpoint refused (core.generate.CheckpointRefusal:
        # why, the run's whole models, core's fix where there are none), for each front end to word its fix itself;
        # `choices` is the refusal's (steps, then None for the final model)
        self.refusal = refusal
        self.choices: tuple[int | None, ...] = refusal.choices if refusal is not None else ()

    @property
    def needs_login(self) -> bool:
        """Logging in (again, or with another token) is the fix: the window offers its Log in button."""
        return isinstance(self, HubAuthError) or self.kind == READ_ONLY_TOKEN

    @property
    def bad_input(self) -> bool:
        """What the user gave (a folder, a repository id, --merged) cannot be used; nothing was sent."""
        return self.kind in BAD_INPUT_KINDS


class HubAuthError(HubError):
    """Not logged in, or the token was rejected: the fix is to log in again."""


class HubPermissionError(HubError):
    """The token is valid but may not do this (read-only token, someone else's namespace)."""


class HubConnectionError(HubError):
    """The Hub could not be reached, or the connection dropped."""


class HubServerError(HubError):
    """The Hub failed (HTTP 5xx) or is rate limiting (HTTP 429): trying again later is the fix."""


class HubCancelled(HubError):
    """The push was cancelled before its upload's commit was sent."""


# ---- results -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    name: str
    role: str  # "read", "write", "fineGrained", or "" when the Hub does not say (OAuth)
    token_source: str  # FROM_ARGUMENT, FROM_ENVIRONMENT or FROM_SAVED_LOGIN
    token_name: str | None = None
    orgs: tuple[str, ...] = ()
    env_overrides_saved: bool = False  # HF_TOKEN is set and wins over a different saved login
    # (organization, the account's role in it) as whoami-v2 lists them ("orgs", each with "roleInOrg": "read",
    # "contributor", "write" or "admin"), "" where an entry gives no role; None where the answer has no "orgs" list
    # (an older or partial server): which organizations the account is in is then unknown.
    org_roles: tuple[tuple[str, str], ...] | None = None

    @property
    def can_write(self) -> bool:
        """False only for a token the Hub calls read-only; fine-grained scopes are left to the Hub to judge."""
        return self.role != "read"

    def describe(self) -> str:
        role = {"read": "read-only token", "write": "write token", "fineGrained": "fine-grained token"}.get(
            self.role, "token")
        text = f"Logged in as {self.name} ({role}"
        text += ", from the HF_TOKEN environment variable)" if self.token_source == FROM_ENVIRONMENT else ")"
        if self.env_overrides_saved:
            text += ". HF_TOKEN is set and is used instead of the login saved on this computer"
        return text + "."


@dataclass(frozen=True)
class PushResult:
    url: str  # the repository's page
    repo_id: str
    files: list[str] = field(default_factory=list)  # paths in the repository, as uploaded
    commit_url: str = ""
    unchanged: bool = False  # the repository held these files already: no commit was made


@dataclass(frozen=True)
class _Item:
    path_in_repo: str
    size: int
    source: Path | None = None  # a file of the run, linked into the staging folder
    content: bytes | None = None  # generated


# ---- tokens ------------------------------------------------------------------------------------------------


def endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT.rstrip("/")


def _clean(token: str | None) -> str | None:
    return (token or "").replace("\r", "").replace("\n", "").strip() or None


def _env_token() -> str | None:
    return _clean(os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN"))


def _saved_token() -> str | None:
    from huggingface_hub import constants

    try:
        return _clean(Path(constants.HF_TOKEN_PATH).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None


def current_token_source() -> str | None:
    """Which token the app would use, without asking the Hub: FROM_ENVIRONMENT, FROM_SAVED_LOGIN or None."""
    if _env_token():
        return FROM_ENVIRONMENT
    if _saved_token():
        return FROM_SAVED_LOGIN
    return None


def _resolve_token(token: str | None) -> tuple[str, str]:
    token = _clean(token)
    if token:
        return _usable(token, FROM_ARGUMENT), FROM_ARGUMENT
    from huggingface_hub import get_token

    effective = _clean(_call("reading your saved login", get_token, None))
    if effective:
        source = FROM_ENVIRONMENT if effective == _env_token() else FROM_SAVED_LOGIN
        return _usable(effective, source), source
    raise not_logged_in()


def _usable(token: str, source: str) -> str:
    """`token`, unless it holds a character no token has (a token is printable ASCII: hf_ and letters and digits).
    A zero-width space or a space copied with it from a web page or a chat was sent as it was: the HTTP client
    failed with 'Failed while checking your Hugging Face account: UnicodeEncodeError: 'ascii' codec can't encode
    character …', a control character as 'the connection was dropped', a space as a mistyped token. Said without
    the token, by the characters' names and places."""
    import unicodedata

    bad = [(place, char) for place, char in enumerate(token, 1) if not 33 <= ord(char) <= 126]
    if not bad:
        return token

    def name(char: str) -> str:
        return f"{unicodedata.name(char, 'a control character').lower()} (U+{ord(char):04X})"

    said = "; ".join(f"{name(char)} at character {place}" for place, char in bad[:3])
    said += f"; and {len(bad) - 3} more" if len(bad) > 3 else ""
    tokens_url = f"{endpoint()}/settings/tokens"
    whose, fix = {
        FROM_ENVIRONMENT: ("The token in the HF_TOKEN environment variable",
                           f"To fix: set HF_TOKEN again to the token as {tokens_url} shows it, or unset it."),
        FROM_SAVED_LOGIN: ("The token of the login saved on this computer",
                           "To fix: log in again: Hub → Log in… in the app, or finetune-studio login."),
    }.get(source, ("This Hugging Face token",
                   f"To fix: copy the token again with the copy button at {tokens_url}, or type it (hf_ then letters "
                   "and digits)."))
    count = "a character" if len(bad) == 1 else f"{len(bad)} characters"
    raise HubAuthError(f"{whose} has {count} that no token has: {said}. Nothing was sent to the Hub.", fix=fix)


def not_logged_in(detail: str = "") -> HubAuthError:
    """No token at all: no saved login (huggingface_hub's token file under HF_HOME) and no HF_TOKEN. Said with where
    a token comes from and how to log in with it, the same for `whoami`, a push and the client's own
    LocalTokenNotFoundError."""
    return HubAuthError("You are not logged in to the Hugging Face Hub. No login is saved on this machine, and "
                        "HF_TOKEN is not set.", detail,
                        fix=f"To fix: create an access token at {endpoint()}/settings/tokens (with write access to "
                            "push), then log in with it: finetune-studio login, or Hub → Log in… in the app.")


def redact(text: str, token: str | None) -> str:
    from finetune_studio.core.model_card import scrub

    if token:
        text = text.replace(token, "<redacted>")
    return scrub(text)


# ---- turning client errors into sentences ------------------------------------------------------------------


# huggingface_hub wraps whatever stops an LFS file's upload (a time limit, a dropped connection, an HTTP error, the
# push's Cancel) in RuntimeError("Error while uploading 'model.safetensors' to the Hub.") from the cause; said as
# "Failed while uploading to alice/run: RuntimeError: Error while uploading …", the cause and its fix were lost.
_LFS_WRAPPER_RE = re.compile(r"^Error while uploading '(?P<path>[^']*)' to the Hub\.$")


def _translate(exc: BaseException, action: str, token: str | None, source: str | None = None,
               repo_id: str | None = None) -> HubError:
    wrapper = _LFS_WRAPPER_RE.match(str(exc)) if type(exc) is RuntimeError else None
    if wrapper and exc.__cause__ is not None:
        exc = exc.__cause__
        if action.startswith("uploading ") and wrapper["path"]:
            action = f"uploading {wrapper['path']}{action[len('uploading'):]}"
    if isinstance(exc, HubError):
        return exc
    from huggingface_hub.errors import (
        HfHubHTTPError,
        HFValidationError,
        LocalTokenNotFoundError,
        OfflineModeIsEnabled,
    )

    detail = redact(f"{type(exc).__name__}: {exc}", token)
    url = endpoint()
    unchanged = " Nothing in your run folder changed." if repo_id else ""  # a push only ever reads the run
    if isinstance(exc, HfHubHTTPError) and exc.response is not None:
        status = exc.response.status_code
        server = redact(exc.server_message or "", token).strip().splitlines()
        server_text = server[0].rstrip(".") if server else ""
        if status == 401:
            if source == FROM_ARGUMENT:  # a token just typed or pasted (logging in): most often mistyped
                return HubAuthError(f"This Hugging Face token was rejected while {action}: it may be mistyped, "
                                    "revoked or expired.", detail,
                                    fix=f"To fix: check that you copied all of it, or create a new one at "
                                        f"{url}/settings/tokens.")
            fix = ("To fix: set HF_TOKEN to a valid token, or unset it (the token in use comes from that environment "
                   "variable)." if source == FROM_ENVIRONMENT else "To fix: log in again with a valid token.")
            return HubAuthError(f"Your Hugging Face token was rejected while {action} (it may have been revoked or "
                                "expired).", detail, fix=fix)
        if status == 403:
            what = f"You cannot push to {repo_id}" if repo_id else f"The Hub refused {action}"
            reason = server_text or "your token has no write access there"
            return HubPermissionError(f"{what}: {reason}.", detail,
                                      fix="To fix: push to your own namespace (leave the repository empty for <your "
                                          "user>/<run name>), or use a token with write access to it.")
        if status == 404:
            target = f"the repository {repo_id}" if repo_id else "what was asked for"
            return HubError(f"The Hub could not find {target} while {action}, or your token cannot see it.", detail,
                            fix=("To fix: check the owner and name as written, or log in with a token that can see "
                                 "it." if repo_id else "To fix: check what was asked for, then try again."))
        if status == 429:
            return HubServerError(f"The Hub is limiting requests (HTTP 429) while {action}.", detail,
                                  fix="To fix: wait a minute, then try again.")
        if status >= 500:
            return HubServerError(f"The Hub had a server error (HTTP {status}) while {action}.{unchanged}", detail,
                                  fix="To fix: try again in a moment.")
        # Any other refusal (400, 413, 422...): the Hub's reason is the one thing that says what to change. It was
        # said with no way forward ("The Hub refused creating alice/_x (HTTP 400): Invalid repository name: '_x'.").
        reason = f": {server_text}" if server_text else ""
        again = "push again" if repo_id else "try again"
        if server_text and repo_id and action.startswith("creating"):  # a name the Hub will not take, say
            fix = ("To fix: change what the Hub's reason names (a name it will not take: choose another, in the "
                   f"push dialog's Repository field or finetune-studio push --repo), then {again}.")
        elif server_text:
            fix = f"To fix: change what the Hub's reason names, then {again}."
        else:
            fix = f"To fix: {again} in a moment" + ("; if the Hub refuses again, push to another repository name."
                                                    if repo_id else ".")
        return HubError(f"The Hub refused {action} (HTTP {status}){reason}.", detail, fix=fix)
    if isinstance(exc, OfflineModeIsEnabled):
        return HubConnectionError("Cannot reach the Hugging Face Hub: offline mode is on (HF_HUB_OFFLINE is set).",
                                  detail, fix="To fix: unset HF_HUB_OFFLINE to use the Hub.")
    # By class name: huggingface_hub 2.x speaks httpx2 and 1.x httpx, whose exception classes share names.
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & {"ConnectError", "ConnectTimeout", "ProxyError"}:
        return HubConnectionError(f"Cannot reach the Hugging Face Hub ({url}) while {action}.", detail,
                                  fix="To fix: check your network connection or proxy (or HF_ENDPOINT), then try "
                                      "again.")
    if names & {"ReadTimeout", "WriteTimeout", "PoolTimeout"}:  # _limit_request's limits
        return HubConnectionError(f"The Hugging Face Hub ({url}) did not answer within {REQUEST_TIMEOUT_S:g} s while "
                                  f"{action}.{unchanged}", detail,
                                  fix="To fix: check your network connection (a slow or stalled proxy or VPN), or "
                                      "the Hub's status, then try again.")
    if "TransportError" in names:  # the connection dropped
        return HubConnectionError(f"Cannot reach the Hugging Face Hub ({url}): the connection was dropped while "
                                  f"{action}.{unchanged}", detail,
                                  fix="To fix: check your network connection, then try again.")
    if isinstance(exc, LocalTokenNotFoundError):
        return not_logged_in(detail)
    if isinstance(exc, HFValidationError):
        first = redact(str(exc), token).splitlines()[0] if str(exc).strip() else ""
        return HubError(f"{repo_id or 'That'} is not a valid repository id: {first}", detail, kind=BAD_REPO_ID,
                        fix=REPO_ID_FIX)
    if isinstance(exc, ValueError) and "Invalid metadata in README.md" in str(exc):
        return HubError("The Hub rejected the model card's metadata: "
                        f"{redact(str(exc), token).replace(chr(10), ' ')}", detail)
    first = redact(str(exc), token).strip().splitlines()
    return HubError(f"Failed while {action}: {type(exc).__name__}" + (f": {first[0]}" if first else "") + ".",
                    detail)


def _api() -> Any:
    from importlib.metadata import PackageNotFoundError, version

    from huggingface_hub import HfApi

    try:
        app_version = version("finetune-studio")
    except PackageNotFoundError:
        app_version = "dev"
    return HfApi(library_name=LIBRARY_NAME, library_version=app_version)


def _call(action: str, fn: Callable[[], Any], token: str | None, source: str | None = None,
          repo_id: str | None = None) -> Any:
    try:
        with _client_lines(None):  # the library's lines stay off the terminal (a push's progress says retries)
            return fn()
    except HubError:
        raise
    except Exception as exc:  # noqa: BLE001 - every client failure becomes a sentence; the traceback stays out of it
        error = _translate(exc, action, token, source, repo_id)
    log.info("%s: %s", type(error).__name__, error.detail or error)
    raise error


# ---- huggingface_hub's own log lines ----------------------------------------------------------------------
#
# huggingface_hub logs to its own stderr handler: "HTTP Error 503 thrown while requesting POST …", "Retrying in 1s
# [Retry 1/5].", "No files have been modified since last commit. Skipping to prevent empty commit.". They landed in
# the middle of `finetune-studio push`'s output, in the library's words and with its URLs. While the app talks to
# the Hub, the library is quieted with its own control (huggingface_hub.utils.logging.set_verbosity_error, undone
# after); the loggers of those lines are kept, and what they say goes to the app's log (core.hub, at INFO) and, for
# a retry (the user is waiting, and why), to the push's progress in the app's words. A user who asked for the
# library's lines (HF_HUB_VERBOSITY=info or debug) keeps them as the library prints them.

_CLIENT_LOGGERS = ("huggingface_hub.utils._http", "huggingface_hub.hf_api")
_RETRY_RE = re.compile(r"Retrying in (?P<wait>[\d.]+)s \[Retry (?P<n>\d+)/(?P<of>\d+)\]")
_RATE_LIMITED_RE = re.compile(r"Rate limited\. Waiting (?P<wait>[\d.]+)s before retry \[Retry (?P<n>\d+)/(?P<of>\d+)\]")
_HTTP_ERROR_RE = re.compile(r"^HTTP Error (?P<status>\d+) thrown while requesting")
_THROWN_RE = re.compile(r"^'(?P<error>.*)' thrown while requesting", re.S)


class _ClientLines(logging.Handler):
    """Receives huggingface_hub's warnings while the app talks to the Hub (see _client_lines)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.sinks: dict[int, list[Progress | None]] = {}  # thread -> the progress of what it does with the Hub
        self.causes: dict[int, str] = {}  # thread -> why its last request failed ("answered HTTP 503")
        self._undo: list[Callable[[], None]] = []

    def install(self) -> None:
        from huggingface_hub.utils import logging as hub_logging

        root = hub_logging.get_logger()
        level = root.level
        hub_logging.set_verbosity_error()
        self._undo.append(lambda: hub_logging.set_verbosity(level))
        for name in _CLIENT_LOGGERS:
            logger = hub_logging.get_logger(name)
            saved = (logger.level, logger.propagate)
            logger.setLevel(logging.WARNING)  # above the library's ERROR: these lines reach this handler only
            logger.propagate = False
            logger.addHandler(self)
            self._undo.append(lambda logger=logger, saved=saved: (logger.removeHandler(self),
                                                                   logger.setLevel(saved[0]),
                                                                   setattr(logger, "propagate", saved[1])))

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    def _sink(self, thread: int | None) -> Progress | None:
        said = self.sinks.get(thread or 0)
        if said is None and len(self.sinks) == 1:  # a thread of the push's own (an upload pool)
            said = next(iter(self.sinks.values()))
        return next((sink for sink in reversed(said or []) if sink is not None), None)  # the innermost that listens

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = redact(record.getMessage().strip(), None)
        except Exception:  # noqa: BLE001 - a malformed log call must not break a push
            return
        log.info("huggingface_hub: %s", text)  # the library's own words, for the log
        thread = record.thread or 0
        status, thrown = _HTTP_ERROR_RE.match(text), _THROWN_RE.match(text)
        if status:
            self.causes[thread] = f"answered HTTP {status['status']}"
            return
        if thrown:
            first = (thrown["error"].strip().splitlines() or [""])[0][:120]
            self.causes[thread] = f"did not answer ({first})" if first else "did not answer"
            return
        retry, limited = _RETRY_RE.search(text), _RATE_LIMITED_RE.search(text)
        found = retry or limited
        sink = self._sink(thread)
        if found is None or sink is None:
            return
        wait, n, of = float(found["wait"]), int(found["n"]), int(found["of"])
        if limited:
            message = f"The Hub is limiting requests: waiting {wait:g} s, then trying again (retry {n} of {of})"
        else:
            cause = self.causes.pop(thread, "did not answer")
            message = f"The Hub {cause}: trying again in {wait:g} s (retry {n} of {of})"
        try:
            sink({"event": "push", "phase": "retry", "message": message, "retry": n, "retries": of, "wait_s": wait})
        except Exception:  # a progress display that fails must not fail the push
            log.exception("push progress failed")


# ---- time limits -------------------------------------------------------------------------------------------
#
# huggingface_hub's HTTP client has no time limit (httpx2.Client(timeout=None)), and whoami, create_repo,
# model_info, the preupload and the commit pass none: a Hub (or proxy) that took the connection and never answered
# held a push for ever. The window's push dialog then said "Cancelling…" for ever (a cancel is only looked at
# between steps), its upload could not be cancelled at all, and the dialog, window-modal, kept the whole window
# from being used or closed; the status bar said "Hub: checking…" for ever; `finetune-studio push` hung. Every
# request the app makes to the Hub, in the thread that makes it (inside _client_lines), gets these limits; a limit
# the library sets itself is kept. A request that runs out of time is one of the client's retries, as a dropped
# connection is (said in the push's progress); after the last it is said as "did not answer within …".

CONNECT_TIMEOUT_S = 10.0
REQUEST_TIMEOUT_S = 60.0  # each read and write: the Hub answers its API calls in seconds
_request_limits: ContextVar[dict[str, float] | None] = ContextVar("finetune_studio_hub_limits", default=None)


@dataclass
class _UploadStop:
    """A push's Cancel as its upload's requests see it. The upload is one commit: until the commit request is sent
    (the preupload, the model card's check, LFS uploads' own requests, and each of the client's retries of them),
    a cancel stops it with nothing committed; once sent, the repository gets every file or none, and it runs on.
    A Hub that stalled the preupload kept the push (and the window-modal dialog) for the client's six tries."""

    event: threading.Event
    committing: bool = False


_upload_stop: ContextVar[_UploadStop | None] = ContextVar("finetune_studio_hub_upload_stop", default=None)


@dataclass
class _CreateLoop:
    """A push's create_repo as its requests see it. huggingface_hub sends the create again, at once and with no end,
    for as long as the Hub answers 409 'Cannot create repo: another conflicting operation is in progress' (another
    push or upload of the account's): the push spun without a pause, Cancel unheard, for as long as the Hub said so.
    Here a cancel stops it, and so does REQUEST_TIMEOUT_S of such answers."""

    stop: threading.Event
    repo_id: str
    started: float | None = None


_create_loop: ContextVar[_CreateLoop | None] = ContextVar("finetune_studio_hub_create_loop", default=None)


def _guard_create(loop: _CreateLoop) -> None:
    if loop.stop.is_set():
        raise HubCancelled("Push cancelled.")
    now = time.monotonic()
    if loop.started is None:
        loop.started = now
    elif now - loop.started > REQUEST_TIMEOUT_S:
        raise HubServerError(f"The Hub kept answering that another operation on {loop.repo_id.split('/')[0]}'s "
                             f"repositories is in progress while creating {loop.repo_id}, for {REQUEST_TIMEOUT_S:g} s. "
                             "Nothing was uploaded.",
                             fix="To fix: let the other push or upload of the account end (or wait a few minutes), "
                                 "then push again.")


def _limit_request(request: Any) -> None:
    """The client's request hook (httpx2 calls it before each request is sent, in the thread that sends it)."""
    loop = _create_loop.get()
    if loop is not None:
        _guard_create(loop)
    stop = _upload_stop.get()
    if stop is not None and not stop.committing:
        if stop.event.is_set():
            raise HubCancelled("Push cancelled before its commit was sent.")
        if "/commit/" in request.url.path:
            stop.committing = True
    limits = _request_limits.get()
    if limits is None:
        return
    timeout = dict(request.extensions.get("timeout") or {})
    for key, value in limits.items():
        if timeout.get(key) is None:
            timeout[key] = value
    request.extensions = {**request.extensions, "timeout": timeout}


def _install_limits() -> None:
    """Put _limit_request among the shared client's request hooks (once; again after the client is re-made), and
    let the client's upload threads see the limits (_carry_context)."""
    import huggingface_hub.utils as hub_utils
    from huggingface_hub.utils import get_session

    session = get_session()
    hooks = session.event_hooks
    if _limit_request not in hooks.get("request", []):
        session.event_hooks = {**hooks, "request": [*hooks.get("request", []), _limit_request]}
    thread_map = getattr(hub_utils, "hf_thread_map", None)
    if thread_map is not None and not getattr(thread_map, "_carries_context", False):
        hub_utils.hf_thread_map = _carry_context(thread_map)
    import huggingface_hub._commit_api as commit_api
    import huggingface_hub.hf_api as hf_api

    for module in (hf_api, commit_api):  # the library looks is_xet_available up in these modules as it uploads
        available = getattr(module, "is_xet_available", None)
        if available is not None and not getattr(available, "_lfs_in_pushes", False):
            module.is_xet_available = _lfs_in_pushes(available)
    send = getattr(commit_api, "_send_commit", None)  # create_commit imports it from there as it commits
    if send is not None and not getattr(send, "_retried_in_pushes", False):
        commit_api._send_commit = _retried_in_pushes(send)


def _retried_in_pushes(send_commit: Callable[..., Any]) -> Callable[..., Any]:
    """huggingface_hub's _send_commit, retried by the client's own back-off (retry_on_error) in a push's upload, as
    its Xet pipeline retries the commits it sends: a push that goes through create_commit instead (_lfs_in_pushes)
    kept the pipeline's retry of a commit the Hub answered 503 or dropped once. Safe for the same reason the
    library gives there: the commit goes to an explicit branch and never opens a pull request (a push never does),
    so a retry after an answer lost can only make the same commit again."""

    def retried(*args: Any, **kwargs: Any) -> Any:
        if _upload_stop.get() is not None and not kwargs.get("create_pr"):
            kwargs["retry_on_error"] = True
        return send_commit(*args, **kwargs)

    retried._retried_in_pushes = True  # type: ignore[attr-defined]
    retried.__wrapped__ = send_commit  # type: ignore[attr-defined]
    return retried


def _lfs_in_pushes(is_xet_available: Callable[[], bool]) -> Callable[[], bool]:
    """huggingface_hub's is_xet_available, answering False in a push's upload (_upload_stop is set in its context):
    the push's large files go up through the LFS protocol, not hf_xet.

    With hf_xet installed (it is in the app's environment: transformers pulls it in), upload_folder hands the whole
    upload to its Xet pipeline (huggingface_hub._upload_pipeline), and create_commit the large files to hf_xet.
    Neither is reached by what this module gives a push: hf_xet uploads through its own HTTP stack, in Rust, so no
    request hook sets a time limit or sees a Cancel there (a store that stalls held the push for ever, as the LFS
    threads did before _carry_context), and the pipeline commits from a thread of its own, with none of the push's
    context, in as many commits as it sees fit (the push says 'the upload is one commit: every file or none'). A
    time limit around the hf_xet call could only abandon it still running (it offers no way to stop one upload
    from another thread but its process-wide abort_xet_session). So a push goes through the LFS protocol, which the
    Hub takes for any repository, Xet-backed ones included: each PUT gets the push's limits and Cancel, and a file
    the Hub holds already is still skipped (the LFS batch answers no action for it); its one commit is retried as
    the pipeline's was (_retried_in_pushes). What is given up is hf_xet's chunk deduplication (a changed file goes
    up whole), and the push now behaves the same with hf_xet installed or not. Anything else of the process (a
    download of a model, a push by another program) keeps hf_xet: only the push's own context is answered False."""

    def in_pushes() -> bool:
        if _upload_stop.get() is not None:
            return False
        return is_xet_available()

    in_pushes._lfs_in_pushes = True  # type: ignore[attr-defined]
    in_pushes.__wrapped__ = is_xet_available  # type: ignore[attr-defined]
    return in_pushes


def _carry_context(thread_map: Callable[..., Any]) -> Callable[..., Any]:
    """huggingface_hub's hf_thread_map, with each item run in a copy of the caller's context.

    Without hf_xet (not installed, or HF_HUB_DISABLE_XET=1) a commit's large files go up through the LFS protocol,
    and two or more of them go up in a thread pool (huggingface_hub's _upload_lfs_files → hf_thread_map). A new
    thread starts with an empty context, so those PUTs had none of the limits above and no Cancel: an LFS store
    that took the upload and never answered held the push for ever. The library looks the function up when it
    uploads (`from .utils import hf_thread_map`), so replacing it there is enough; any other caller of it only gets
    its context vars carried into the workers, as asyncio's to_thread does."""

    def in_callers_context(fn: Callable[[Any], Any], iterable: Any, *args: Any, **kwargs: Any) -> Any:
        context = copy_context()
        return thread_map(lambda item: context.copy().run(fn, item), iterable, *args, **kwargs)

    in_callers_context._carries_context = True  # type: ignore[attr-defined]
    in_callers_context.__wrapped__ = thread_map  # type: ignore[attr-defined]
    return in_callers_context


_client_lines_lock = threading.Lock()
_client_lines_handler: _ClientLines | None = None


@contextmanager
def _client_lines(sink: Progress | None) -> Iterator[None]:
    """While the app talks to the Hub in this thread: huggingface_hub's log lines kept off the terminal, said in the
    app's words to `sink` (a retry) and in the library's to the app's log. Calls in several threads share one
    install; the last to end restores the library's logging as it was. Each request gets the time limits above."""
    global _client_lines_handler
    from huggingface_hub.utils import logging as hub_logging

    thread = threading.get_ident()
    limits = _request_limits.set({"connect": CONNECT_TIMEOUT_S, "read": REQUEST_TIMEOUT_S,
                                  "write": REQUEST_TIMEOUT_S, "pool": REQUEST_TIMEOUT_S})
    with _client_lines_lock:
        _install_limits()
        handler = _client_lines_handler
        if handler is None and hub_logging.get_verbosity() >= logging.WARNING:
            handler = _client_lines_handler = _ClientLines()
            handler.install()
        if handler is not None:
            handler.sinks.setdefault(thread, []).append(sink)
    try:
        yield
    finally:
        _request_limits.reset(limits)
        if handler is not None:
            with _client_lines_lock:
                stack = handler.sinks.get(thread, [])
                if stack:
                    stack.pop()
                if not stack:
                    handler.sinks.pop(thread, None)
                    handler.causes.pop(thread, None)
                if not handler.sinks:
                    handler.uninstall()
                    _client_lines_handler = None


# ---- huggingface_hub's progress bars and the HTTP client's warning during an upload ------------------------
#
# Each file huggingface_hub uploads through the LFS protocol drew its own tqdm bar on stderr ("model.safetensors:
# 100%|██████████| 264k/264k [00:00<00:00, 56.9MB/s]", and "Upload 2 LFS files" over them), and httpx2 warned
# "DeprecationWarning: Use 'content=<...>' to upload raw bytes/text content." for each PUT the library makes with
# data=bytes: both landed in `finetune-studio push`'s output and the app's terminal, in the middle of the push's own
# progress (the CLI's lines, the window's dialog). While the app uploads, the library's bars are off (its own
# switch, disable_progress_bars); the last upload to end puts its switches back as they were (a group the user
# turned off stays off). A user who set HF_HUB_DISABLE_PROGRESS_BARS=0 asked for the bars, and keeps them. The
# warning is ignored by its exact words, category and module: it is about the library's call, which no user of
# the app can change; any other warning of httpx2 still shows.

_CLIENT_DEPRECATION = r"Use 'content=<\.\.\.>' to upload raw bytes/text content\."
_quiet_lock = threading.Lock()
_quiet_uploads = 0
_bars_before: dict[str, bool] | None = None  # huggingface_hub's switches as the first upload found them


@contextmanager
def _quiet_upload() -> Iterator[None]:
    """huggingface_hub's progress bars off while the app uploads (several uploads at once share it), and httpx2's
    DeprecationWarning for the library's data=bytes PUTs ignored."""
    global _quiet_uploads, _bars_before
    import importlib
    import warnings

    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars

    bars = importlib.import_module("huggingface_hub.utils.tqdm")  # the module: its switches
    warnings.filterwarnings("ignore", message=_CLIENT_DEPRECATION, category=DeprecationWarning, module=r"httpx")
    with _quiet_lock:
        if _quiet_uploads == 0:
            _bars_before = None
            if bars.HF_HUB_DISABLE_PROGRESS_BARS is not False and not are_progress_bars_disabled():
                _bars_before = dict(bars.progress_bar_states)
                disable_progress_bars()
        _quiet_uploads += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_uploads -= 1
            if _quiet_uploads == 0 and _bars_before is not None:
                bars.progress_bar_states.clear()
                bars.progress_bar_states.update(_bars_before)
                _bars_before = None


# ---- account -----------------------------------------------------------------------------------------------


def _account(info: dict[str, Any], source: str) -> Account:
    access = ((info.get("auth") or {}).get("accessToken") or {})
    env, saved = _env_token(), _saved_token()
    listed = info.get("orgs")
    orgs = [org for org in listed if isinstance(org, dict)] if isinstance(listed, list) else []
    return Account(
        name=str(info.get("name") or ""),
        role=str(access.get("role") or ""),
        token_source=source,
        token_name=access.get("displayName"),
        orgs=tuple(str(org.get("name")) for org in orgs),
        env_overrides_saved=bool(env and saved and env != saved),
        org_roles=(tuple((str(org.get("name")), str(org.get("roleInOrg") or "")) for org in orgs)
                   if isinstance(listed, list) else None),
    )


def whoami(token: str | None = None) -> Account:
    """The account behind `token`, or behind the token the app would use (HF_TOKEN, else the saved login)."""
    token, source = _resolve_token(token)
    info = _call("checking your Hugging Face account", lambda: _api().whoami(token=token), token, source)
    return _account(info, source)


def login(token: str) -> Account:
    """Check `token` with the Hub, then save it as huggingface_hub's active login. A rejected token saves nothing."""
    token = _clean(token) or ""
    if not token:
        raise HubAuthError("Paste a Hugging Face access token to log in (create one at "
                           f"{endpoint()}/settings/tokens).")
    if token.startswith("api_org"):
        raise HubAuthError("That is an organization token; log in with a personal access token.")
    account = whoami(token)  # raises before anything is written

    def save() -> None:
        import huggingface_hub

        huggingface_hub.login(token=token, add_to_git_credential=False, skip_if_logged_in=False)

    _call("saving your login", save, token, FROM_ARGUMENT)
    env = _env_token()
    return Account(account.name, account.role, FROM_SAVED_LOGIN, account.token_name, account.orgs,
                   env_overrides_saved=bool(env and env != token), org_roles=account.org_roles)


def logout() -> None:
    """Forget the saved login (the one `hf auth whoami` shows). Other saved tokens stay for `hf auth switch`.
    HF_TOKEN in the environment is not ours to change: `current_token_source()` still reports it afterwards."""
    saved = _saved_token()
    if saved is None:
        return
    from huggingface_hub import constants
    from huggingface_hub import logout as hf_logout
    from huggingface_hub.utils import get_stored_tokens

    name = next((n for n, value in get_stored_tokens().items() if _clean(value) == saved), None)
    try:
        with _client_lines(None):  # its notes on HF_TOKEN and git credentials: the CLI says its own
            if name:
                hf_logout(token_name=name)
            else:
                Path(constants.HF_TOKEN_PATH).unlink(missing_ok=True)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        # After removing the token, huggingface_hub erases git credentials (needs git installed) and complains
        # when HF_TOKEN is still set; neither undoes the logout, so only a token still on disk is a failure.
        if _saved_token() == saved:
            raise HubError(f"Could not remove the saved Hugging Face login: {redact(str(exc), saved)}") from None
        log.info("Logged out; huggingface_hub added: %s", redact(str(exc), saved))


# ---- what a config may say about the Hub ---------------------------------------------------------------------


def _set(value: Any, default: Any) -> bool:
    """A TrainingArguments value that differs from the installed library's default."""
    default = getattr(default, "value", default)  # HubStrategy.EVERY_SAVE -> "every_save"
    return value is not None and getattr(value, "value", value) != default


def config_problems(config: Any) -> list[Problem]:
    """validate()'s Hub rules: the Trainer's own push is refused with a pointer to the Hub tab, and an access token
    anywhere in the config is refused with a pointer to logging in (save_config leaves it out in any case)."""
    from finetune_studio.core.config import TOKEN_VALUE_RE, is_token_key
    from finetune_studio.core.validation import training_fields

    fields = training_fields()
    defaults = {key: fields[key].default if key in fields else None for key in TRAINER_PUSH_FIELDS}
    problems: list[Problem] = []
    training = config.training if isinstance(config.training, dict) else {}
    for key, instead in TRAINER_PUSH_FIELDS.items():
        if key in training and _set(training[key], defaults[key]):
            what = ("push_to_hub makes the Trainer upload the whole run folder (with local paths and pickled "
                    "settings) and a second copy of the weights, to a public repository unless told otherwise"
                    if key == "push_to_hub"
                    else f"{key} is a setting of the Trainer's own push, which Finetune Studio does not use")
            problems.append(Problem(f"training.{key}",
                                    f"{what}. Reset it (↺) and {instead}."))
    for key, value in training.items():
        if is_token_key(key) and value not in (None, "", False):
            problems.append(Problem(f"training.{key}", f"{key} would put your Hugging Face access token in the config "
                                    "and the run folder; the app never saves or uses a token from a config. Remove "
                                    f"it (↺) and {LOGIN_HINT}."))

    def visit(value: Any, where: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if not (where == "training" and is_token_key(key)):
                    visit(inner, f"{where}.{key}" if where else str(key))
        elif isinstance(value, (list, tuple)):
            for inner in value:
                visit(inner, where)
        elif isinstance(value, str) and TOKEN_VALUE_RE.search(value):
            problems.append(Problem(where, f"{where} holds what looks like a Hugging Face access token, which is "
                                    f"never stored in a config (saving leaves it out). Remove it and {LOGIN_HINT}."))

    visit(config.to_dict(), "")
    return problems


# ---- what a push uploads -----------------------------------------------------------------------------------


def default_repo_id(user: str, run_dir: Path, checkpoint: int | None = None) -> str:
    """<user>/<run name>, the run name made into a valid repository name; <user>/<run name>-checkpoint-N for a
    checkpoint, which went into the final model's repository and replaced its weights there (helper-215)."""
    name = Path(run_dir).name
    try:
        from finetune_studio.core.config import load_config

        name = load_config(RunFolder(Path(run_dir)).config_path)[0].name or name
    except FinetuneError:
        pass
    suffix = f"-checkpoint-{checkpoint}" if checkpoint is not None else ""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name)
    name = re.sub(r"-{2,}", "-", re.sub(r"\.{2,}", ".", name)).strip("-.")[:96 - len(suffix)].strip("-.")
    return f"{user}/{name or 'finetune-studio-run'}{suffix}"


# A path in free text: /a/b… or ~/a/b… (not inside a URL such as https://host/a/b, nor a ratio such as tokens/s),
# file:///a/b…, or C:\\a\\b…; it ends at whitespace or a quote or bracket.
_PATH_CHARS = r"[^\s'\"`()\[\]{}<>,;|]"
_ABSOLUTE_PATH_RE = re.compile(
    rf"(?:\bfile://|(?<![\w:/.~-]))(~?/(?:{_PATH_CHARS}+/)+{_PATH_CHARS}*)"
    rf"|\b([A-Za-z]:\\(?:[^\s'\"`()\[\]{{}}<>,;|\\]+\\)+[^\s'\"`()\[\]{{}}<>,;|\\]*)")


def _local_names(folder: RunFolder) -> list[tuple[str, str]]:
    """(a path on this machine that a run's messages may name, what the upload says instead), longest first: the
    run folder by its name, the dataset and model by their file or folder names (as the model card names them),
    the demo model as builtin:demo, and the home folder as ~."""
    from finetune_studio.core.config import DEMO_MODEL_ID, SAMPLE_DATASET_ID

    names: dict[str, str] = {}

    def add(path: Any, instead: str) -> None:
        if not path:
            return
        for form in {str(path), os.path.abspath(os.path.expanduser(str(path))),
                     os.path.realpath(os.path.expanduser(str(path)))}:
            form = form.rstrip("/\\")
            if len(form) > 1 and (form.startswith(("/", "\\")) or form[1:2] == ":"):
                names.setdefault(form, instead)

    add(folder.path, folder.path.name)
    try:
        from finetune_studio.core.config import load_config

        config = load_config(folder.config_path)[0]
    except FinetuneError:
        config = None
    if config is not None:
        source, model = config.dataset.source, config.model.name_or_path
        if isinstance(source, str) and source and source != SAMPLE_DATASET_ID:
            add(source, Path(os.path.expanduser(source)).name or "dataset")
        if isinstance(model, str) and model and model != DEMO_MODEL_ID:
            add(model, Path(os.path.expanduser(model)).name or "model")
        if config.runs_dir:
            add(config.runs_dir, "runs")
    from finetune_studio.core.data import resolve_source
    from finetune_studio.core.demo import cache_dir, demo_model_path

    add(demo_model_path(build=False), DEMO_MODEL_ID)
    add(resolve_source(SAMPLE_DATASET_ID), Path(resolve_source(SAMPLE_DATASET_ID)).name)
    add(cache_dir(), "finetune-studio-cache")
    add(Path.home(), "~")
    return sorted(names.items(), key=lambda item: len(item[0]), reverse=True)


def scrub_local_paths(text: str, names: list[tuple[str, str]]) -> str:
    """`text` with the paths of this machine replaced: known ones (`names`, see _local_names) by what they are,
    any other absolute path by its last part ("Loading dataset /home/me/data/notes.csv" -> "... notes.csv")."""
    for path, instead in names:
        if path in text:
            text = re.sub(re.escape(path) + r"(?![\w.-])", lambda _m: instead, text)

    def last_part(match: re.Match[str]) -> str:
        path = match.group(1) or match.group(2) or ""
        trail = path[len(path.rstrip("/\\")):]
        return (re.split(r"[/\\]", path.rstrip("/\\"))[-1] or "") + trail

    return _ABSOLUTE_PATH_RE.sub(last_part, text)


def _scrub_value(value: Any, names: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        return scrub_local_paths(value, names)
    if isinstance(value, list):
        return [_scrub_value(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_value(v, names) for k, v in value.items()}
    return value


def _public_metrics(folder: RunFolder) -> bytes | None:
    """metrics.jsonl as uploaded: without earlier pushes and the fields that describe this machine, and with no
    local path left in any value (messages name the dataset file, the model folder, the run folder)."""
    events = folder.read_metrics()
    if not events:
        return None
    names = _local_names(folder)
    lines = []
    for event in events:
        if event.get("phase") == "push" or "push" in event:
            continue  # the progress and outcome of an earlier push: about this machine, not the training
        event = {k: v for k, v in event.items() if k not in PRIVATE_METRICS_KEYS}
        if isinstance(event.get("path"), str):
            event["path"] = Path(event["path"]).name  # checkpoint-N, not where it lies on this machine
        lines.append(json.dumps(_scrub_value(event, names), ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode("utf-8")


# What a push of an adapter run uploads: the adapter as the run saved it (loads with peft on top of its base), or
# the adapter merged into its base model (core.export; loads with transformers alone).
PUSH_ADAPTER, PUSH_MERGED = "adapter", "merged"
PUSH_FORMS = (PUSH_ADAPTER, PUSH_MERGED)


def _public_adapter_config(path: Path) -> bytes | None:
    """adapter_config.json as uploaded: base_model_name_or_path stays a Hub id, but a base model in a folder of
    this machine (a local model, the built-in demo) is named by its folder name, never its path, and one in the
    Hugging Face cache by the Hub id it was downloaded from (its folder name is a commit hash). None: upload the
    file as it is."""
    from finetune_studio.core.sources import cache_repo_id, hub_repo_id

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    base = data.get("base_model_name_or_path") if isinstance(data, dict) else None
    if not isinstance(base, str) or not base or hub_repo_id(base) is not None:
        return None
    data["base_model_name_or_path"] = cache_repo_id(base) or Path(base).name  # a Hub cache folder: its Hub id
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")


GENERATION_CONFIG = "generation_config.json"


def _adapter_generation_config(folder: RunFolder, model_dir: Path | None = None) -> bytes | None:
    """The generation_config.json a chat adapter run's model folder lacks (saved before its saves wrote one,
    02da590), as core.export.adapter_stops makes it for an adapter export: its base's with the template's end of
    turn among the stops, as GenerationConfig.save_pretrained writes it. Pushed without it, the adapter answered
    with its base's stops alone, so model.generate ran on past <|im_end|> to max_new_tokens; and the card had no
    file to load. None for a text run, or where the run's config, tokenizer or base cannot be read here."""
    from finetune_studio.core.export import adapter_stops

    generation = adapter_stops(folder, model_dir or folder.model_dir)
    if generation is None:
        return None
    return generation.to_json_string(use_diff=True, keys_to_pop=["compile_config"]).encode("utf-8")


FINAL_LABEL = "Final model"


@dataclass(frozen=True)
class Choice:
    """One model of a run that the export and push dialogs' Model box offers: its final model (checkpoint None) or
    checkpoint-N."""

    label: str  # "Final model" or "checkpoint-200"
    checkpoint: int | None  # what export_run's and push_run's checkpoint= gets
    path: Path  # its folder (the adapter_config.json a dialog reads the base model from)


def model_choices(run_dir: Path, adapters_only: bool = False) -> list[Choice]:
    """The run's final model first (where it has one), then each complete checkpoint, newest first, as
    core.generate.targets lists them: the reader `export`/`push --checkpoint N` resolve through, and the Try tab's
    model box lists. `adapters_only`: an export's (a full fine-tuning run's models are refused by export). A run
    whose config.yaml cannot be read (targets needs its output_dir) offers its final model alone."""
    from finetune_studio.core.adapters import is_adapter_folder
    from finetune_studio.core.generate import targets

    try:
        found = targets(Path(run_dir))
    except (FinetuneError, OSError):
        model_dir = RunFolder(Path(run_dir)).model_dir
        whole = model_dir.is_dir() and (is_adapter_folder(model_dir) or (
            not adapters_only and (model_dir / "config.json").is_file()))
        return [Choice(FINAL_LABEL, None, model_dir)] if whole else []
    return [Choice(FINAL_LABEL if target.step is None else target.label, target.step, target.path)
            for target in reversed(found) if target.adapter or not adapters_only]


def export_choices(run_dir: Path) -> list[Choice]:
    """What the export dialog's Model box offers: model_choices of an adapter (export is for adapter runs)."""
    return model_choices(run_dir, adapters_only=True)


def _checkpoint_model(run_dir: Path, checkpoint: int) -> Path:
    """The run's complete, undamaged checkpoint-N folder, found as `export --checkpoint N` finds it
    (core.export.whole_checkpoint_dir: core.generate.resolve), or HubError of kind NO_CHECKPOINT (bad input), in its
    words, naming the checkpoints the run has: before anything is sent."""
    from finetune_studio.core.export import ExportError, whole_checkpoint_dir
    from finetune_studio.core.generate import GenerationError

    try:
        return whole_checkpoint_dir(RunFolder(Path(run_dir)), checkpoint)
    except (ExportError, GenerationError) as exc:  # not there or incomplete (ExportError); damaged (resolve's own)
        said, _, fix = str(exc).partition(" To fix: ")
        facts = getattr(exc, "refusal", None)
        if facts is not None:
            facts = dataclasses.replace(facts, nothing="Nothing was sent to the Hub.")
            said = facts.reason
        else:
            said = f"{said.replace(' Nothing was exported.', '').rstrip()} Nothing was sent to the Hub."
        refusal = HubError(said, kind=NO_CHECKPOINT, fix=f"To fix: {fix}" if fix else "", refusal=facts)
        if facts is None:
            refusal.choices = getattr(exc, "choices", ())
        raise refusal from None


def _removed_refusal(run_dir: Path, checkpoint: int, doing: str, nothing_sent: str) -> HubError:
    """HubError of kind CHECKPOINT_REMOVED: the run deleted its checkpoint-N while the push was `doing` it
    (core.export.removed_checkpoint_error's words and choices), with what the Hub holds (`nothing_sent`). It was said
    as the push's staging folder that could not be written ("make /tmp writable"), or as a merge that failed."""
    from finetune_studio.core.export import removed_checkpoint_error

    exc = removed_checkpoint_error(RunFolder(Path(run_dir)), checkpoint, doing, nothing_sent, verb="push")
    said, _, fix = str(exc).partition(" To fix: ")
    return HubError(said, kind=CHECKPOINT_REMOVED, fix=f"To fix: {fix}", refusal=exc.refusal)


def _public_trainer_state(path: Path, names: list[tuple[str, str]]) -> bytes | None:
    """A checkpoint's trainer_state.json as uploaded (it says the step): with no path of this machine in it
    (best_model_checkpoint names a checkpoint folder by its whole path). None: upload it as it is."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return (json.dumps(_scrub_value(data, names), indent=2, sort_keys=True) + "\n").encode("utf-8")


TRAINER_STATE = "trainer_state.json"


def _require_run(run_dir: Path) -> None:
    """core.runs' sentence for a folder that holds no run, as a HubError (what the window's push dialog shows)."""
    from finetune_studio.core.runs import run_folder_problem

    problem = run_folder_problem(run_dir)
    if problem is not None:
        raise HubError(str(problem), kind=NOT_A_RUN_FOLDER)


def _plan(run_dir: Path, repo_id: str | None = None, token: str | None = None, model_dir: Path | None = None,
          form: str | None = None, checked: bool = False, checkpoint: int | None = None) -> list[_Item]:
    """The files a push uploads. `model_dir`: the model folder to upload instead of the run's own (a merged
    export); `form`: what it is, for the card (core.model_card.MODEL or ADAPTER; default: what it holds).
    `checked`: push_run has run shipping_problem on the run (once a push: it reads every weight file's header).
    `checkpoint`: the run's checkpoint-N in place of its final model (_checkpoint_model: refused before anything
    is sent where it is not whole): its model files without what only Resume reads (the optimizer's, scheduler's
    and random generators' state: core.export's RESUME_ONLY_FILES), and a card that says which checkpoint it is."""
    from finetune_studio.core.adapters import ADAPTER_CONFIG_FILE, is_adapter_folder
    from finetune_studio.core.export import RESUME_ONLY_FILES
    from finetune_studio.core.model_card import ADAPTER, LOSS_CURVE_FILE, MODEL, loss_curve_svg, render_model_card

    _require_run(run_dir)
    folder = RunFolder(Path(run_dir))
    # a merged one is in hand (model_dir): its checkpoint, whole when merged, is not read again
    picked = _checkpoint_model(folder.path, checkpoint) if checkpoint is not None and model_dir is None else None
    source_dir = Path(model_dir) if model_dir is not None else picked if picked is not None else folder.model_dir
    model_files = sorted(p for p in source_dir.rglob("*") if p.is_file()) if source_dir.is_dir() else []
    model_files = [p for p in model_files if p.relative_to(source_dir).as_posix() not in EXCLUDED_MODEL_FILES
                   and not any(p.match(pattern) for pattern in RESUME_ONLY_FILES)]
    if not model_files and picked is not None:
        raise HubError(f"checkpoint-{checkpoint} of the run {folder.path.name} holds no model files. Nothing was sent "
                       "to the Hub.", kind=NO_CHECKPOINT, fix="To fix: pick another checkpoint.")
    if not model_files:
        if not checked:  # the dialog's list of a run training for the first time: said as push_run says it
            _refuse_while_training(folder.path)
        raise HubError(no_model_text(folder, "push"), kind=RUN_TRAINING if training_now(folder) else NO_MODEL)
    if model_dir is None and picked is None and not checked:  # the dialog's list: a damaged model is said first
        from finetune_studio.core.export import shipping_problem

        problem = shipping_problem(folder.path, "pushed", busy_check=False)  # damaged: push_run asks about busy
        if problem:
            raise HubError(problem)
    items = []
    names = _local_names(folder) if any(p.name == TRAINER_STATE for p in model_files) else []
    for path in model_files:
        name = path.relative_to(source_dir).as_posix()
        public = _public_adapter_config(path) if name == ADAPTER_CONFIG_FILE else \
            _public_trainer_state(path, names) if name == TRAINER_STATE else None
        items.append(_Item(name, len(public), content=public) if public is not None
                     else _Item(name, path.stat().st_size, source=path))

    def generated(path: str, text: str | bytes | None) -> None:
        if text is None:
            return
        data = redact(text if isinstance(text, str) else text.decode("utf-8"), token).encode("utf-8")
        items.append(_Item(path, len(data), content=data))

    form = form or (ADAPTER if is_adapter_folder(source_dir) else MODEL)
    if form == ADAPTER and model_dir is None and not any(item.path_in_repo == GENERATION_CONFIG for item in items):
        stops = _adapter_generation_config(folder, source_dir)
        if stops is not None:
            items.append(_Item(GENERATION_CONFIG, len(stops), content=stops))
    staged_stops = any(item.path_in_repo == GENERATION_CONFIG for item in items)
    generated(CARD_FILE, render_model_card(folder.path, repo_id=repo_id, form=form, stops=staged_stops,
                                           checkpoint=checkpoint))
    generated(LOSS_CURVE_FILE, loss_curve_svg(folder.path))
    generated(METRICS_FILE, _public_metrics(folder))
    return sorted(items, key=lambda item: item.path_in_repo)


def plan_push(run_dir: Path, repo_id: str | None = None, form: str | None = None,
              dtype: str | None = None, checkpoint: int | None = None) -> list[tuple[str, int]]:
    """(path in the repository, size in bytes) of every file a push of this run uploads, for the dialog's list.
    With `repo_id`, the model card's size is exact (its usage snippet names the repository). `form` PUSH_MERGED
    (an adapter run merged into its base) lists the files core.export's merge writes instead of the run's model
    folder (the weights, in shards when save_pretrained splits them, config.json, generation_config.json, the
    tokenizer: core.export.merged_files, from the base built on the meta device): the merge itself happens only when
    pushing. `dtype`: push_run's (the merged weights' sizes are those of that dtype). `checkpoint`: push_run's
    (the run's checkpoint-N in place of its final model)."""
    _require_run(Path(run_dir))
    model_dir = _checkpoint_model(Path(run_dir), checkpoint) if checkpoint is not None else None
    _dtype_problem(Path(run_dir), form, dtype, model_dir)
    items = [(item.path_in_repo, item.size) for item in _plan(Path(run_dir), repo_id=repo_id,
                                                                  form=_card_form(form), checkpoint=checkpoint)]
    if form != PUSH_MERGED:
        return items
    from finetune_studio.core.export import merged_files, merged_size

    model_dir = model_dir or RunFolder(Path(run_dir)).model_dir
    run_model_files = {p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*") if p.is_file()}
    run_model_files -= EXCLUDED_MODEL_FILES  # never uploaded from the model folder: README.md is the card's
    kept = [(path, size) for path, size in items if path not in run_model_files]
    try:  # a checkpoint's merge writes the files the final model's does (the same base and tokenizer)
        merged = merged_files(Path(run_dir), checked=True, dtype=dtype)  # _plan above checked the run's model
    except Exception as exc:  # noqa: BLE001 - a list before pushing: the push itself merges and reports problems
        # The base cannot be built from its config here (a Hub model not cached offline, code transformers lacks):
        # say so in the list, with the weights' size in that dtype where known (else the local base's weight
        # files), and leave the push to try.
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if checkpoint is not None and not RunFolder(Path(run_dir)).has_saved_model():
            # merged_files reads the final model's adapter; the push itself merges the checkpoint's
            why = "the run has no final model to list them from"
        size = merged_size(Path(run_dir), dtype) or local_base_size(Path(run_dir), model_dir)
        return sorted(kept) + [(f"{MERGED_UNLISTED} ({why})", size)]
    return sorted(kept + merged)


def _dtype_problem(run_dir: Path, form: str | None, dtype: str | None, model_dir: Path | None = None) -> None:
    """A dtype is a merged push's choice (core.export's MERGED_DTYPES: the merged weights are saved in it; "auto",
    or None, the dtype the run trained in). Given to a push that uploads the run's model as saved (the adapter, or
    the whole model of a run that trained every weight), or a name that is no dtype, it is refused before anything
    is sent, in core.export's words for an adapter export with a dtype and for a name that is no dtype.
    `model_dir`: the checkpoint pushed in place of the run's final model."""
    from finetune_studio.core.adapters import is_adapter_folder
    from finetune_studio.core.export import SAME_DTYPE, dtype_refusal

    if dtype in (None, SAME_DTYPE):
        return
    nothing = "Nothing was sent to the Hub."
    refusal = dtype_refusal(dtype, nothing)  # core.export's sentence, said of a push
    if refusal:
        raise HubError(refusal, kind=BAD_DTYPE)
    if form == PUSH_MERGED:
        return
    if is_adapter_folder(model_dir or RunFolder(Path(run_dir)).model_dir):
        raise HubError(f"An adapter push uploads the adapter as the run saved it, so it has no dtype to choose (got "
                       f"{dtype}). {nothing}", kind=BAD_DTYPE,
                       fix="To fix: leave the dtype out, or push the merged model (--merged), whose weights can be "
                           "saved in another dtype.")
    raise HubError(f"A push of the run {Path(run_dir).name}, which fine-tuned every weight, uploads its model as the "
                   f"run saved it, so it has no dtype to choose (got {dtype}). {nothing}", kind=BAD_DTYPE,
                   fix="To fix: leave the dtype out (a merged push, whose weights can be saved in another dtype, is "
                       "for adapter runs: LoRA, QLoRA, DoRA).")


MERGED_UNLISTED = "the merged model's files, named when it is merged"


def local_base_size(run_dir: Path, model_dir: Path | None = None) -> int:
    """The weight files of a local base model folder (0 for a Hub id): what the merged weights take, about.
    `model_dir`: the adapter that names the base (a checkpoint's; default: the run's final model, else its newest
    checkpoint's: core.export.run_adapter_config)."""
    from finetune_studio.core.adapters import read_adapter_config
    from finetune_studio.core.export import run_adapter_config  # it imports this module

    adapter = read_adapter_config(model_dir) if model_dir is not None else run_adapter_config(RunFolder(run_dir))
    base = (adapter or {}).get("base_model_name_or_path")
    folder = Path(str(base)) if base else None
    if folder is None or not folder.is_dir():
        return 0
    return sum(p.stat().st_size for p in folder.iterdir() if p.suffix == ".safetensors")


def _card_form(form: str | None) -> str | None:
    from finetune_studio.core.model_card import MODEL

    if form not in (None, *PUSH_FORMS):
        raise HubError(f"What to push must be {' or '.join(PUSH_FORMS)} (got {form!r}).")
    return MODEL if form == PUSH_MERGED else None


def _link_or_copy(source: Path, target: Path, symlink: bool = True) -> None:
    """Stage a run file without duplicating big weights: symlink, else hard link, else copy (never a move).
    `symlink` False: a hard link, else a copy, which keep the file's contents when the run deletes it meanwhile."""
    target.parent.mkdir(parents=True, exist_ok=True)
    makes = [lambda: os.symlink(source.resolve(), target)] if symlink else []
    for make in (*makes, lambda: os.link(source, target)):
        try:
            make()
            return
        except (OSError, NotImplementedError):
            pass
    shutil.copy2(source, target)


def _stage(items: list[_Item], staging: Path, kept: frozenset[Path] = frozenset()) -> None:
    """`kept`: sources staged as their contents (a hard link or a copy), never as a symlink: a checkpoint's, which a
    run training on deletes when its save_total_limit says so. Staged as links, a checkpoint deleted before the
    upload began left links to nothing, which huggingface_hub's upload_folder skips without a word: the push said
    "Pushed 8 files" of a repository that got the card and configs, and no weights (helper-217)."""
    for item in items:
        target = staging / item.path_in_repo
        if item.source is not None:
            if item.source in kept:
                _link_or_copy(item.source, target, symlink=False)
            else:
                _link_or_copy(item.source, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(item.content or b"")


def size_text(size: int) -> str:
    """A byte count as push messages say it ("270.0 kB"); the push dialog lists file sizes with it too, and export
    its sizes and free disk space. Decimal units up to TB, one decimal; from 1,000 TB on, whole TB with separators,
    as the estimate's gib() does for GiB (a huge size read "1152921504.6 GB"). A figure that rounds to 1000.0 of a
    unit is said in the next ("1.0 MB", not "1000.0 kB")."""
    value = float(size)
    if value < 1000:
        return "1 byte" if value == 1 else f"{value:.0f} bytes"
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if round(value, 1) < 1000:
            return f"{value:.1f} {unit}"
    return f"{value:,.0f} TB"


# ---- push --------------------------------------------------------------------------------------------------


def _merge_problem(run_dir: Path, model_dir: Path | None = None) -> None:
    """A merged push needs an adapter run, and no run training in this process (core.export.merge_refusal): say so
    before anything is sent (the merge itself comes once the login and the repository are checked, before the
    repository is created). `model_dir`: the checkpoint merged in place of the run's final model."""
    from finetune_studio.core.adapters import is_adapter_folder

    folder = RunFolder(Path(run_dir))
    if not is_adapter_folder(model_dir or folder.model_dir):
        raise HubError(f"The run {folder.path.name} fine-tuned every weight: its model is already whole, so there is "
                       "no adapter to merge (a merged push is for adapter runs: LoRA, QLoRA, DoRA). Nothing was sent "
                       "to the Hub.", kind=NOT_AN_ADAPTER_RUN,
                       fix="To fix: push it without --merged, which uploads the whole model as it is.")
    _refuse_merge_while_training(folder.path, "Nothing was sent to the Hub.")


def _refuse_merge_while_training(run_dir: Path, nothing_sent: str) -> None:
    """A merged push's refusal while a run trains in this process (core.export.merge_refusal, in a push's words),
    raised by the one place that builds it: asked before anything is sent (_merge_problem) and again when the merge
    itself refuses (_merged_model: a run began training since). `nothing_sent`: what the Hub holds so far."""
    from finetune_studio.core.export import merge_refusal

    busy = merge_refusal(run_dir.name, "push", nothing_sent)
    if busy:
        raise HubError(busy, kind=TRAINING_HERE) from None  # the merge's own ExportError is no part of it


_ADAPTER_ALONE = "; or push the adapter alone, which needs no merge"  # a merged push's other way forward


def _staging_failed(failed: ExportError, doing: str, staging: Path, nothing_sent: str, also: str = "") -> HubError:
    """A push whose own files could not be written where it stages them (TMPDIR, or the system's temporary folder):
    the merge of a merged push, or the files linked (or copied) for the upload. Said of the staging folder with
    the real cause and the way forward, not as an export (--out) nor as "Failed while ...: OSError". `failed`:
    core.export's account of the failed write (its kind and problem); `doing`: what the push could not do there;
    `also`: another way forward (a merged push can push the adapter alone)."""
    from finetune_studio.core.export import NO_SPACE

    fix = (f"To fix: free some space on the disk that holds {staging}" if failed.kind == NO_SPACE else
           f"To fix: make {staging} writable")
    return HubError(f"Could not {doing} in the push's staging folder in {staging}: {failed.problem}. {nothing_sent}",
                    kind=STAGING_FAILED, fix=f"{fix}, or set TMPDIR to a folder on a disk with room and start the "
                                             f"push (or the app) again{also}.")


def _stage_files(items: list[_Item], nothing_sent: str, also: str = "",
                 kept: frozenset[Path] = frozenset()) -> tempfile.TemporaryDirectory[str]:
    """The push's files, linked (or copied) into a new temporary folder that the caller removes once uploaded. A
    write that fails there (a full disk, a folder that cannot be written) leaves nothing behind and is said by
    _staging_failed. `kept`: _stage's."""
    from finetune_studio.core.export import write_failed

    staging = Path(tempfile.gettempdir())
    folder: tempfile.TemporaryDirectory[str] | None = None
    try:
        folder = tempfile.TemporaryDirectory(prefix=STAGING_PREFIX)
        _stage(items, Path(folder.name), kept)
    except BaseException as exc:
        if folder is not None:
            folder.cleanup()
        if not isinstance(exc, OSError):
            raise
        failed = write_failed(exc, "files to upload", Path(folder.name) if folder else staging, staging)
        raise _staging_failed(failed, "prepare the files to upload", staging, nothing_sent, also) from None
    return folder


def _merged_model(run_dir: Path, out_dir: Path, nothing_sent: str, stop: threading.Event | None = None,
                  dtype: str | None = None, checkpoint: int | None = None) -> Path:
    """core.export's merged model of the run, written into `out_dir` (a temporary folder of the push).
    `nothing_sent`: what the Hub holds of this push so far, as a sentence. An export's own advice (--out DIR,
    "export again") is no help to a push: a failed write is said of the push's staging place (TMPDIR) instead.
    `stop`: the push's cancel (the window's Cancel, Ctrl-C in `finetune-studio push --merged`), looked at between
    the merge's stages as the export dialog's Cancel is (loading the base, merging, writing: none of them can be
    stopped half-way); the merge then keeps nothing (core.export deletes what it wrote, push_run the folder).
    `dtype`: what the merged weights are saved in (core.export's MERGED_DTYPES; None: the dtype the run trained in).
    A float16 the merged weights do not fit is refused by core.export before anything is written. `checkpoint`: the
    adapter of the run's checkpoint-N is merged (export --merged --checkpoint N's)."""
    from finetune_studio.core.errors import FinetuneError
    from finetune_studio.core.export import CANCELLED, DTYPE_OVERFLOW, WRITE_KINDS, ExportError, export_merged

    try:
        # push_run ran shipping_problem
        picked = {} if checkpoint is None else {"checkpoint": checkpoint}
        return export_merged(run_dir, out_dir, checked=True, cancel=stop, dtype=dtype, **picked).out_dir
    except ExportError as exc:
        if exc.kind == CANCELLED:
            raise HubCancelled("Push cancelled while merging the adapter into its base model: nothing of the merge "
                               f"was kept. {nothing_sent}") from None
        if exc.kind == CHECKPOINT_REMOVED and checkpoint is not None:  # the run deleted it while it was merged
            raise _removed_refusal(run_dir, checkpoint, "merged into its base model", nothing_sent) from None
        if exc.kind == TRAINING_HERE:  # a run began training since _merge_problem asked
            _refuse_merge_while_training(run_dir, nothing_sent)
        if exc.kind == DTYPE_OVERFLOW:  # core.export's reason (which weight, how large); the fix is a push's
            raise _overflow_refusal(run_dir, exc.problem, nothing_sent) from None
        if exc.kind not in WRITE_KINDS:
            raise HubError(f"Could not merge the adapter into its base model: {exc} {nothing_sent}") from None
        staging = out_dir.parent.parent  # the temporary folder's own folder: TMPDIR, or the system's
        raise _staging_failed(exc, "merge the adapter into its base model", staging, nothing_sent,
                              _ADAPTER_ALONE) from None
    except FinetuneError as exc:  # a base model that cannot load: nothing was sent
        raise HubError(f"Could not merge the adapter into its base model: {exc} {nothing_sent}") from None


def _overflow_refusal(run_dir: Path, problem: str, nothing_sent: str) -> HubError:
    """A merged push in float16 whose merged weights exceed float16's range (core.export refuses it once merged,
    before anything is written): core.export's problem (ExportError.problem), with what the Hub holds (nothing: the
    merge comes before the repository is created) and a push's fix. Not bad input (exit 1, not 2), as a merged
    export's refusal of the same weights is not: the dtype is a valid one, and only merging found that it cannot
    hold them."""
    from finetune_studio.core.export import trained_dtype

    trained = trained_dtype(run_dir)
    as_trained = f"in {trained}, the dtype the run trained in" if trained else "in the dtype the run trained in"
    return HubError(f"{problem} {nothing_sent}", kind=DTYPE_OVERFLOW,
                    fix=f"To fix: push it in bfloat16 (as small as float16, with float32's range: --dtype bfloat16, "
                        f"or bfloat16 in the push dialog's Weights box), or {as_trained} (--dtype auto, or Same as "
                        "training).")


def push_run(run_dir: Path, repo_id: str | None = None, private: bool = True, commit_message: str | None = None,
             token: str | None = None, progress: Progress | None = None,
             cancel: threading.Event | None = None, form: str | None = None,
             by_its_run: bool = False, dtype: str | None = None, checkpoint: int | None = None) -> PushResult:
    """Upload a finished run's model, model card, metrics and loss curve to a model repository on the Hub.

    `repo_id` defaults to <user>/<run name>; the repository is created (private by default) if needed. A read-only
    token is refused before anything is sent. `progress` gets {"event": "push", "phase", "message", ...} events;
    `cancel` is honoured until the upload's commit is sent (before each request of the upload): the upload is one
    commit, so the repository then receives either every file or none. The run folder is only read: files are
    linked into a temporary staging folder.

    `form` is what an adapter run uploads: PUSH_ADAPTER (the default: the adapter as saved, loaded with peft on top
    of its base) or PUSH_MERGED (merged into its base model first, in a temporary folder: an ordinary model). The
    merge comes before anything is sent, so a merge that fails sends nothing. `dtype`: what a merged push's weights
    are saved in, as a merged export's (core.export.MERGED_DTYPES; None or "auto": the dtype the run trained in);
    any other push uploads the model as the run saved it, and a dtype for it is refused (bad input).

    A run that is training again (a resume) is refused: its model folder holds the previous result. `by_its_run`:
    the run's own process pushes once it has saved its model (push_when_done), under its own lock.

    `checkpoint`: push the run's checkpoint-N (as `export --checkpoint N` exports it) in place of its final model:
    a full fine-tuning run's weights and config, an adapter run's adapter (or with PUSH_MERGED, that adapter merged
    into its base), with the run's card (which names the checkpoint), metrics and loss curve; never the state only
    Resume reads (optimizer.pt, scheduler.pt, rng_state*.pth). One the run does not have whole, or damaged, is
    refused before anything is sent (NO_CHECKPOINT, bad input). A checkpoint is written once, whole, so it is
    pushed whether or not the run trains on (as it is exported), and a stopped run with no final model can push one.
    """
    run_dir = Path(run_dir)
    _require_run(run_dir)
    if checkpoint is not None:
        picked = _checkpoint_model(run_dir, checkpoint)  # not whole or damaged: said before anything else
        _dtype_problem(run_dir, form, dtype, picked)
        if form == PUSH_MERGED:
            _merge_problem(run_dir, picked)
            with tempfile.TemporaryDirectory(prefix=STAGING_PREFIX) as tmp:
                return _push(run_dir, repo_id, private, commit_message, token, progress, cancel,
                             Path(tmp) / "merged", _card_form(form), dtype, checkpoint)
        return _push(run_dir, repo_id, private, commit_message, token, progress, cancel, None, _card_form(form),
                     checkpoint=checkpoint)
    _dtype_problem(run_dir, form, dtype)
    from finetune_studio.core.export import shipping_problem

    # Once a push (it reads every weight file's header); _plan and the merge are told it was done. The run's own
    # process pushes under its lock, so only the damage is asked then.
    if not by_its_run:
        _refuse_while_training(run_dir)
    problem = shipping_problem(run_dir, "pushed", busy_check=False)
    if problem:
        raise HubError(problem)
    if form == PUSH_MERGED:
        _merge_problem(run_dir)
        with tempfile.TemporaryDirectory(prefix=STAGING_PREFIX) as tmp:  # the merge is done in _push_quietly, once
            merge_into = Path(tmp) / "merged"  # the login and the repository are checked, before it is created
            return _push(run_dir, repo_id, private, commit_message, token, progress, cancel, merge_into,
                         _card_form(form), dtype)
    return _push(run_dir, repo_id, private, commit_message, token, progress, cancel, None, _card_form(form))


def _refuse_while_training(run_dir: Path) -> None:
    """A run that some process is training now is not pushed (core.export.training_text says why: its model
    folder is empty, or holds the previous result), with a kind of its own, RUN_TRAINING: the window tells it from
    a damaged model (the other refusal of shipping_problem), whose fix is not to wait."""
    from finetune_studio.core.export import training_text

    training = training_text(RunFolder(run_dir), "pushed")
    if training:
        raise HubError(training, kind=RUN_TRAINING)


REPO_PART_MAX = 96  # the Hub's (and huggingface_hub.utils.validate_repo_id's) limit on an owner and on a name
_REPO_PART_CHARS = re.compile(r"[A-Za-z0-9._-]")


def _shown_repo_id(repo_id: str) -> str:
    """A repository id as written, shortened in the middle when it is too long to read in one line (the dialog's
    message wraps at spaces only: one unbroken 200-character id widened it past the screen)."""
    return repo_id if len(repo_id) <= 60 else f"{repo_id[:32]}…{repo_id[-20:]} ({len(repo_id)} characters)"


def repo_id_problem(repo_id: str) -> str | None:
    """Why `repo_id` (as typed: stripped) is not an owner/name the Hub accepts, in a user's words, or None. The
    rules are huggingface_hub's validate_repo_id, which said them in its own (a 'Use `repo_type` argument' no user
    of the app can follow, and a 126-character id twice)."""
    if re.match(r"(?i)^(https?://|(www\.)?huggingface\.co/|hf\.co/)", repo_id):  # the repository's page, pasted
        parts = [part for part in re.sub(r"(?i)^(https?://)?[^/]+/?", "", repo_id).split("/") if part]
        if parts and parts[0] == "models":
            parts = parts[1:]
        named = (f" (the page's repository is {parts[0]}/{parts[1]})"
                 if len(parts) >= 2 and parts[0] not in ("datasets", "spaces") else "")
        return f"it is a web address, not owner/name{named}"
    slashes = repo_id.count("/")
    if slashes > 1:
        return f"it has {slashes} '/' where a repository id has one, between the owner and the name"
    problems = [] if slashes else ["it has no owner"]
    for what, part in zip(("owner", "name") if slashes else ("name",), repo_id.split("/")):
        if not part:
            problems.append(f"the {what} {'before' if what == 'owner' else 'after'} '/' is missing")
            continue
        bad = sorted({c for c in part if not _REPO_PART_CHARS.fullmatch(c)}, key=part.index)
        if bad:
            shown = ", ".join("' ' (a space)" if c == " " else repr(c) for c in bad)
            problems.append(f"its {what} has characters the Hub does not allow: {shown}")
        if len(part) > REPO_PART_MAX:
            problems.append(f"its {what} is {len(part)} characters long, and the Hub allows at most {REPO_PART_MAX}")
        if part[0] in "-." or part[-1] in "-.":
            problems.append(f"its {what} starts or ends with '-' or '.'")
        for pair in ("--", ".."):
            if pair in part:
                problems.append(f"its {what} has '{pair}' in it")
        if what == "name" and part.endswith(".git"):
            problems.append("its name ends with '.git'")
    return "; ".join(problems) or None


def _check_repo_id(repo_id: str) -> None:
    from huggingface_hub.utils import validate_repo_id

    problem = repo_id_problem(repo_id)
    if problem:
        raise HubError(f"{_shown_repo_id(repo_id)} is not a valid repository id: {problem}.", kind=BAD_REPO_ID,
                       fix=REPO_ID_FIX)
    validate_repo_id(repo_id)  # any rule the client has that the words above miss


def _refuse_someone_elses(repo_id: str, owner: str, account: Account, exists: bool = True) -> None:
    """An existing repository of another user, or of an organization the account is not a member of, cannot take
    this push. The client's create_repo(exist_ok=True) hides the Hub's 403 when the repository is visible (a public
    one), so the push went on: a private push was told to untick 'private' 'to publish the run there', a merged one
    merged for minutes, and only the upload's 403 said no. Said here, before the visibility, the merge or the
    upload. `exists`: False for a repository the Hub does not have (or does not show this account), looked at by a
    merged push before it merges (_existing_repo): creating it in another's namespace would be refused, after the
    merge. An account whose organizations whoami did not list (Account.org_roles None: an older or partial server)
    is not refused here: the Hub itself says no, if it does."""
    mine = {account.name.casefold(), *(org.casefold() for org in account.orgs)}
    if not account.name or owner.casefold() in mine or account.org_roles is None:
        return
    orgs = f" (your organizations: {', '.join(account.orgs)})" if account.orgs else " (a member of no organization)"
    where = f"it belongs to {owner}" if exists else f"its namespace, {owner}, is not yours"
    nothing = (f"Nothing was uploaded; {repo_id} is as it was." if exists else
               f"Nothing was sent to the Hub, and {repo_id} was not created.")
    raise HubPermissionError(
        f"You cannot push to {repo_id}: {where}, and you are logged in as {account.name}{orgs}. {nothing}",
        fix=f"To fix: push to your own namespace (leave the repository empty for {account.name}/<run name>, or "
            f"write {account.name}/<name>), or log in with a token that can write to {owner}'s repositories.")


CREATING_ROLES = ("contributor", "write", "admin")  # the organization roles that may create repositories in it


def _refuse_read_role(repo_id: str, owner: str, account: Account) -> None:
    """A repository that does not exist yet, in an organization where the account's role is "read": the Hub lets a
    read member see the organization's repositories but not create one (contributor, write and admin may; see
    CREATING_ROLES), so its create would answer 403, and a merged push found that only after merging, minutes on a
    big model. Said before the merge, from whoami's roleInOrg. Where whoami gives no role (or no "orgs" list), or a
    role this app does not know, nothing is refused here: the create is left to say no, as it did."""
    if account.org_roles is None or owner.casefold() == account.name.casefold():
        return
    role = next((role for org, role in account.org_roles if org.casefold() == owner.casefold()), "")
    if role.casefold() != "read":
        return
    creating = [org for org, role in account.org_roles if role.casefold() in CREATING_ROLES]
    elsewhere = (f" or an organization where your role lets you create ({', '.join(creating)}: write "
                 f"{creating[0]}/<name>)" if creating else "")
    raise HubPermissionError(
        f"You cannot push to {repo_id}: it does not exist yet, and your role in the organization {owner} is read, "
        f"which lets you see its repositories but not create one (you are logged in as {account.name}). Nothing "
        f"was merged or sent to the Hub, and {repo_id} was not created.",
        fix=f"To fix: push to a namespace you may create repositories in: your own (leave the repository empty for "
            f"{account.name}/<run name>, or write {account.name}/<name>){elsewhere}; or ask an admin of {owner} to "
            f"give you the write or contributor role there, then push again.")


def _refuse_existing(repo_id: str, info: Any, private: bool, account: Account) -> None:
    """An existing repository (model_info's `info`) that cannot take this push as asked: someone else's, or of the
    other visibility. Asked once created, and by a merged push before it merges too (_existing_repo)."""
    _refuse_someone_elses(repo_id, str(getattr(info, "author", None) or repo_id.split("/")[0]), account)
    if private and info.private is False:
        raise HubPermissionError(f"{repo_id} already exists and is public, and you asked for a private push: "
                                 "pushing would publish the run. Nothing was uploaded.",
                                 fix="To fix: to publish it there, push it public (untick 'Private repository' in "
                                     "the push dialog, or add --public to finetune-studio push); else choose another "
                                     "repository name, or make the repository private in its settings on the Hub "
                                     "first.")
    if not private and info.private is True:  # create_repo(exist_ok) leaves an existing repo's visibility as it is
        raise HubPermissionError(f"{repo_id} already exists and is private, and you asked for a public push: pushing "
                                 "would keep it private. Nothing was uploaded.",
                                 fix="To fix: make it public in its settings on the Hub first, push it privately "
                                     "(tick 'Private repository' in the push dialog, or leave --public out of "
                                     "finetune-studio push), or choose another repository name.")


def _existing_repo(api: Any, repo_id: str, token: str) -> Any:
    """model_info of `repo_id`, or None where the Hub has no such repository (or shows none to this token): a
    merged push's look before it merges, which creates nothing. A gated repository's refusal is said as any other
    client failure is."""
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    try:
        return api.model_info(repo_id, token=token)
    except GatedRepoError:
        raise
    except RepositoryNotFoundError:
        return None


def _push(run_dir: Path, repo_id: str | None, private: bool, commit_message: str | None, token: str | None,
          progress: Progress | None, cancel: threading.Event | None, merge_into: Path | None,
          card_form: str | None, dtype: str | None = None, checkpoint: int | None = None) -> PushResult:
    emit = progress or (lambda event: None)
    with _client_lines(emit):  # a retry is said in the push's progress, not in huggingface_hub's log lines
        return _push_quietly(run_dir, repo_id, private, commit_message, token, emit, cancel, merge_into, card_form,
                             dtype, checkpoint)


def _push_quietly(run_dir: Path, repo_id: str | None, private: bool, commit_message: str | None, token: str | None,
                  emit: Progress, cancel: threading.Event | None, merge_into: Path | None,
                  card_form: str | None, dtype: str | None = None, checkpoint: int | None = None) -> PushResult:
    """The push itself. `merge_into`: a merged push's temporary folder, where the adapter is merged into its base
    model after the quick checks (logged in, the repository id, and a look at the repository: someone else's, or of
    the other visibility), as a mistyped token or repository failed only after minutes of loading and merging a big
    model, and before the repository is created: a merge that fails (float16 past its range, a full staging disk, a
    base model that cannot load, Cancel) left an empty repository behind. The merge is written where it always was
    (the push's temporary folder, staged from there), so merging first takes no more disk. A repository to be created
    in an organization where whoami says the account's role is "read" is refused before the merge too
    (_refuse_read_role); what still comes after the merge is a refusal only the create itself can give (a 403 whoami
    could not foresee: no role listed, a fine-grained token's scope; the Hub busy with another operation). `dtype`:
    what the merged weights are saved in (None: the dtype the run trained in). `checkpoint`: the run's checkpoint-N
    in place of its final model."""
    stop = cancel or threading.Event()
    created: list[str] = []
    looked: list[str] = []  # a merged push's look at the repository before it merges: what the Hub holds then
    model_dir: Path | None = None  # the merged model's folder, once merged; until then the run's own is read

    def nothing_sent() -> str:
        if created:
            return f"The repository {created[0]} exists on the Hub, but no files were uploaded to it."
        return f"Nothing was sent to the Hub, and {looked[0]}." if looked else "Nothing was sent to the Hub."

    def phase(name: str, message: str, **extra: Any) -> None:
        emit({"event": "push", "phase": name, "message": message, **extra})
        if stop.is_set():
            said = nothing_sent()
            raise HubCancelled(f"Push cancelled: {said[0].lower()}{said[1:]}")

    plan = lambda **more: _plan(run_dir, model_dir=model_dir, form=card_form, checked=True,  # noqa: E731
                                checkpoint=checkpoint, **more)
    _call("reading the run folder", plan, None)  # a run that cannot be pushed fails first
    # the checkpoint's files, whole now: the run may delete it before they are staged (save_total_limit)
    held = ([p for p in _checkpoint_model(run_dir, checkpoint).rglob("*") if p.is_file()]
            if checkpoint is not None and merge_into is None else [])

    def removed(doing: str = "prepared for upload", sent: str | None = None) -> HubError | None:
        """After a read of the run that failed: _removed_refusal where the checkpoint being pushed is gone now
        (`sent`: what the Hub holds, when not nothing_sent's)."""
        from finetune_studio.core.export import checkpoint_removed

        if held and checkpoint is not None and checkpoint_removed(RunFolder(run_dir), checkpoint, held):
            return _removed_refusal(run_dir, checkpoint, doing, sent or nothing_sent())
        return None
    if (repo_id or "").strip():  # a mistyped --repo is said before the Hub is asked anything
        _call("checking the repository name", lambda: _check_repo_id(repo_id.strip()), None, None, repo_id.strip())
    phase("account", "Checking your Hugging Face account")
    token, source = _resolve_token(token)
    account = _account(_call("checking your Hugging Face account", lambda: _api().whoami(token=token), token,
                             source), source)
    if not account.can_write:
        raise HubPermissionError(
            f"Your Hugging Face token{f' ({account.token_name})' if account.token_name else ''} is read-only, so it "
            "cannot push.", kind=READ_ONLY_TOKEN,
            fix=f"To fix: create a token with write access at {endpoint()}/settings/tokens, then log in again with "
                "it: finetune-studio login, or Hub → Log in… in the app.")
    repo_id = (repo_id or "").strip() or default_repo_id(account.name, run_dir, checkpoint)
    api = _api()

    _call("checking the repository name", lambda: _check_repo_id(repo_id), token, source, repo_id)

    if merge_into is not None:  # merged before the repository is created: a merge that fails leaves nothing there
        phase("repo", f"Checking {repo_id} on the Hub", repo_id=repo_id)
        found = _call(f"checking {repo_id}", lambda: _existing_repo(api, repo_id, token), token, source, repo_id)
        if found is None:  # to be created: in a namespace the account may create in
            _refuse_someone_elses(repo_id, repo_id.split("/")[0], account, exists=False)
            _refuse_read_role(repo_id, repo_id.split("/")[0], account)
        else:
            _refuse_existing(repo_id, found, private, account)
        looked.append(f"{repo_id} is as it was" if found is not None else f"{repo_id} was not created")
        from finetune_studio.core.export import SAME_DTYPE

        saved_in = f", its weights saved in {dtype}" if dtype not in (None, SAME_DTYPE) else ""
        which = "the adapter" if checkpoint is None else f"the adapter of checkpoint-{checkpoint}"
        phase("merge", f"Merging {which} into its base model (peft merge_and_unload){saved_in}")
        model_dir = _merged_model(run_dir, merge_into, nothing_sent(), stop, dtype, checkpoint)

    phase("repo", f"Creating {repo_id} on the Hub", repo_id=repo_id)
    creating = _create_loop.set(_CreateLoop(stop, repo_id))
    try:
        url = _call(f"creating {repo_id}", lambda: api.create_repo(repo_id, private=private, exist_ok=True,
                                                                  repo_type="model", token=token),
                    token, source, repo_id)
    except HubCancelled:
        said = nothing_sent()
        raise HubCancelled(f"Push cancelled: {said[0].lower()}{said[1:]}") from None
    finally:
        _create_loop.reset(creating)
    created.append(repo_id)
    info = _call(f"checking {repo_id}", lambda: api.model_info(repo_id, token=token), token, source, repo_id)
    _refuse_existing(repo_id, info, private, account)

    try:
        items = _call("reading the run folder", lambda: plan(repo_id=repo_id, token=token), token)
    except HubError:
        refusal = removed()
        if refusal is None:
            raise
        raise refusal from None
    total = sum(item.size for item in items)
    phase("prepare", f"Preparing {len(items)} files ({size_text(total)})", files=len(items), bytes=total)

    also = _ADAPTER_ALONE if merge_into is not None else ""
    try:
        staged = _call("preparing the files to upload",
                       lambda: _stage_files(items, nothing_sent(), also, frozenset(held)), token)
    except HubError:
        refusal = removed()
        if refusal is None:
            raise
        raise refusal from None
    with staged as tmp:
        staging = Path(tmp)
        dangling = [item.path_in_repo for item in items if not os.path.exists(staging / item.path_in_repo)]
        if dangling:  # a link to a run file gone since it was staged: upload_folder would skip it without a word
            raise removed() or _moved_during_push(run_dir, dangling, nothing_sent(), "")
        phase("upload", f"Uploading {len(items)} files ({size_text(total)}) to {repo_id}", files=len(items),
              bytes=total, repo_id=repo_id)
        message = commit_message or (f"Upload {run_dir.name} from Finetune Studio" if checkpoint is None else
                                     f"Upload checkpoint-{checkpoint} of {run_dir.name} from Finetune Studio")
        stopping = _upload_stop.set(_UploadStop(stop))  # a cancel is honoured until the commit is sent
        try:
            with _quiet_upload():  # the push's progress is the app's: no bars of the library on stderr
                commit = _call(f"uploading to {repo_id}",
                               lambda: api.upload_folder(repo_id=repo_id, folder_path=staging, commit_message=message,
                                                         token=token, repo_type="model"),
                               token, source, repo_id)
        except HubError as exc:  # the upload is one commit: the repository got all of it or nothing
            where, fix = _after_failed_upload(exc, api, repo_id, token, getattr(info, "sha", None),
                                              [item.path_in_repo for item in items], str(url))
            gone = _gone_since_staged(items)
            if gone and not isinstance(exc, (HubCancelled, HubAuthError, HubPermissionError)):
                # staged as links: a checkpoint the run deleted meanwhile is said as that, not as a folder moved
                raise removed("uploaded", where) or _moved_during_push(run_dir, gone, where, exc.detail) from exc
            raise type(exc)(f"{exc.message} {where}", exc.detail, kind=exc.kind, fix=fix or exc.fix) from exc
        finally:
            _upload_stop.reset(stopping)
    # huggingface_hub skips a commit whose files the repository holds already, and returns its head as it was
    unchanged = bool(getattr(info, "sha", None)) and getattr(commit, "oid", None) == info.sha
    result = PushResult(url=str(url), repo_id=repo_id, files=[item.path_in_repo for item in items],
                        commit_url=str(getattr(commit, "commit_url", "") or ""), unchanged=unchanged)
    said = (f"Nothing new to push: {result.url} holds these {len(items)} files already (no commit was made)"
            if unchanged else f"Pushed {len(items)} files to {result.url}")
    emit({"event": "push", "phase": "done", "message": said, "url": result.url, "repo_id": repo_id})
    log.info("Pushed %s (%d files, %s) to %s", run_dir.name, len(items), size_text(total), result.url)
    return result


def _gone_since_staged(items: list[_Item]) -> list[str]:
    """The run's files of a push (linked into its staging folder) that are no longer where they were read."""
    gone = []
    for item in items:
        if item.source is None:
            continue
        try:
            with open(item.source, "rb"):
                pass
        except OSError:
            gone.append(item.path_in_repo)
    return gone


def _moved_during_push(run_dir: Path, gone: list[str], where: str, detail: str) -> HubError:
    """A push whose run folder was moved, deleted or made unreadable while it uploaded (the staging folder links
    to the run's files): it failed as 'Failed while uploading to alice/x: FileNotFoundError: [Errno 2] No such
    file or directory: '/tmp/finetune-studio-push-x9xiifd6/chat_template.jinja'.', a folder the user never saw, and
    no way forward."""
    named = ", ".join(gone[:3]) + (", …" if len(gone) > 3 else "")
    files = "its file" if len(gone) == 1 else f"{len(gone)} of its files"
    return HubError(f"The run folder {run_dir} changed while it was being pushed: {files} to upload ({named}) can no "
                    f"longer be read there (moved, deleted or made unreadable since the push began). {where}", detail,
                    fix="To fix: put the run folder back as it was (or choose it where it is now, with Choose… in the "
                        "push dialog, or give its new place to finetune-studio push), then push again.")


def _after_failed_upload(error: HubError, api: Any, repo_id: str, token: str, before: str | None,
                         paths: list[str], url: str) -> tuple[str, str]:
    """What the repository holds of a push whose upload failed, as a sentence, and a fix ("" keeps the error's).
    The upload is one commit: all of the files or none. A refusal (401, 403, 4xx) made no commit; but a connection
    dropped, or a server error, while the commit was sent may come after the Hub made it (its answer was lost, and
    the client's retries fail): "none of this push's files reached it" was then said of a repository holding them
    all. Asked of the Hub once: its head against the one before the push."""
    none = f"{repo_id} exists on the Hub, but none of this push's files reached it (the upload is one commit)."
    if not isinstance(error, (HubConnectionError, HubServerError)) or not before:
        return none, ""
    try:
        with _client_lines(None):
            now = api.model_info(repo_id, token=token)
    except Exception:  # noqa: BLE001 - the Hub still cannot be asked: say what is known
        return (f"Whether {repo_id} received this push's files is not known: the Hub could not be asked after the "
                "upload failed. The upload is one commit, so the repository holds all of them or none.",
                f"To fix: once the Hub can be reached, open {url} to see, or push again (files the repository holds "
                "already are not uploaded twice).")
    if getattr(now, "sha", None) == before:
        return none, ""
    held = {getattr(sibling, "rfilename", None) for sibling in getattr(now, "siblings", None) or []}
    missing = [path for path in paths if path not in held]
    if missing:
        return (f"{repo_id} has a new commit since this push began, but it lacks {len(missing)} of this push's "
                f"{len(paths)} files ({', '.join(missing[:3])}{', …' if len(missing) > 3 else ''}): someone else "
                "changed it, and none of this push's files reached it.", "")
    return (f"{repo_id} has a new commit since this push began, and it holds all {len(paths)} of this push's files: "
            "the upload most likely went through before the connection failed.",
            f"To fix: open {url} to check it; pushing again uploads only what differs (nothing, if every file "
            "arrived).")


# ---- "push when training ends" -------------------------------------------------------------------------------


def push_when_done(run_dir: Path, repo_id: str | None, private: bool, emit: Progress,
                   cancel: threading.Event | None = None) -> PushResult | None:
    """The config's `hub.push_when_done`, called by core.training once a run has finished and saved its model.

    This is `push_run` (model, card, metrics, loss curve), not TrainingArguments(push_to_hub=True): the Trainer's
    push uploads its whole output_dir (here the run folder: config.yaml, status.json, metrics with local paths,
    the pickled training_args.bin) plus a second copy of the weights it writes there, and a failed push would
    turn a finished run into a failed one. Here a failure never fails the run: the model is saved, the event
    says what went wrong and how to push again. Progress goes out as `phase` events (phase "push"), the outcome
    as one `notice` (pushed) or `warning` (not pushed) whose `push` field is "done", "failed" or "cancelled", so
    the log panel and the CLI show them with no special case and the GUI can pick out the link. A warning's
    `message` is the whole text; its `problem` (what went wrong) and `fix` (how to push again) are the same text
    in two parts, for a place with room for one line (the status bar).
    """

    def progress(event: Event) -> None:
        if event.get("phase") != "done":
            emit({"event": "phase", "phase": "push", "message": str(event.get("message", ""))})

    again = ("The run itself finished and its model is saved; push it later with Hub → Push run to Hub… or: "
             f"finetune-studio push {shlex.quote(str(run_dir))}")
    try:
        result = push_run(Path(run_dir), repo_id=repo_id or None, private=private, progress=progress,
                          cancel=cancel, by_its_run=True)
    except HubError as exc:
        state = "cancelled" if isinstance(exc, HubCancelled) else "failed"
        problem = f"The model was not pushed to the Hub: {exc}"
        emit({"event": "warning", "source": "hub", "push": state, "error_type": type(exc).__name__,
              "message": f"{problem} {again}", "problem": problem, "fix": again})
        return None
    except Exception as exc:  # a bug here must not turn a finished run into a failed one
        log.exception("push after training failed")
        problem = f"The model was not pushed to the Hub: unexpected {type(exc).__name__}: {redact(str(exc), None)}."
        emit({"event": "warning", "source": "hub", "push": "failed", "error_type": type(exc).__name__,
              "message": f"{problem} {again}", "problem": problem, "fix": again})
        return None
    emit({"event": "notice", "push": "done", "url": result.url, "repo_id": result.repo_id,
          "files": len(result.files), "message": f"Pushed the model to {result.url}"})
    return result
