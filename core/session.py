"""What the window is working on, without Qt: one config document and one run, and the rules about runs.

The main window used to be the hub every panel reached into (`window_.runner.running`, `window._maybe_save()`,
`window.run_dir`). Now the window, the Runs tab, the Hub controller and the run header read one `Session` and
subscribe to its changes; `gui/session_signals.py` turns those changes into Qt signals for widgets.

Named `Session`, not "controller": it holds state and decides, but starts nothing. The runner (gui/runner.py)
starts threads and the window's actions call both, so this object stays testable with no thread and no widget
(tests/core/test_session.py).

The rules "can this run be resumed?" and "can it be continued for more epochs?" live here, once, as plain
functions of a run folder: Resume, the Runs tab's button and its "Cannot continue" dialog all ask them.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

from finetune_studio.core.config import RunConfig, flat_settings, load_config, runs_dir_of
from finetune_studio.core.errors import ConfigError
from finetune_studio.core.events import Event, EventKind, RunState
from finetune_studio.core.runs import RunFolder, unknown_state

# A run that ended without finishing; with a complete checkpoint, Resume continues it in the same folder.
RESUMABLE_STATES = (RunState.STOPPED, RunState.INTERRUPTED, RunState.FAILED)
CONTINUE_TIP = "Train the run further, from its latest checkpoint, in the same folder"


def _state(value: Any) -> RunState | None:
    """A status.json or RunSummary state as the enum; None for anything else."""
    try:
        return RunState(value)
    except ValueError:
        return None


def has_checkpoint(run_dir: Path, output_dir: Path | None = None) -> bool:
    """A checkpoint Resume can continue from (core.runs' RunFolder.resumable_checkpoint: complete, its weights
    whole) in the run's folder, or in output_dir when its config moved them. One whose weights were deleted or cut
    short is none: a resume from it cannot load (unresumable says why)."""
    return RunFolder(Path(run_dir)).resumable_checkpoint(output_dir) is not None


def unresumable(run_dir: Path, output_dir: Path | None = None) -> str | None:
    """Why a run that saved checkpoints cannot resume from any of them ("its only checkpoint, checkpoint-4, cannot
    be loaded: …"), or None: when one can be loaded, or when none was saved."""
    return RunFolder(Path(run_dir)).resume_point(output_dir).why_not()


UNLOADABLE_FIX = ("To fix: put the missing or damaged files back from a copy of the run, or start it again with its "
                  "settings (Use its settings, then Start).")


def _unloadable_text(name: str, why: str, verb: str = "resumed") -> str:
    return f"{name} cannot be {verb}: {why}. {UNLOADABLE_FIX}"


def can_resume(state: Any, run_dir: Path | None) -> bool:
    """Resume continues a run that ended without finishing (stopped, interrupted, failed) from a complete
    checkpoint. A finished run is continued for more epochs instead (continue_problem), a running one not at all.
    A run whose status.json is damaged or gone (unknown, broken) but whose config.yaml and checkpoint are intact
    resumes too: the resume writes a new status (a run that still trains is refused then, by its lock). Whatever
    its state, a run resumes only with a config.yaml that reads (config_readable), and never when its status.json
    holds a state this version does not know (core.runs.unknown_state: a newer version's run, which a resume would
    overwrite; core.training.resume refuses it too)."""
    if run_dir is None:
        return False
    if _state(state) not in (RunState.UNKNOWN, RunState.BROKEN, *RESUMABLE_STATES):
        return False
    return has_checkpoint(Path(run_dir)) and config_readable(Path(run_dir)) and unknown_state(Path(run_dir)) is None


def config_readable(run_dir: Path) -> bool:
    """The run's config.yaml is there and reads as settings: a resume loads it, so with it missing, torn or not
    UTF-8 Resume failed at once with the file's error after being offered (the Runs tab's note already said the run
    cannot be resumed: core.runs reads the file once per change, the same way)."""
    from finetune_studio.core.runs import config_problem

    path = RunFolder(run_dir).config_path
    return path.is_file() and config_problem(path) is None


# What a run keeps of its own whatever the form says (its name and folder, the Try tab's saved prompts).
_NOT_SETTINGS = ("name", "runs_dir", "prompts", "training.output_dir")


def resume_differences(form: RunConfig, run_dir: Path, limit: int = 5) -> str:
    """The settings where the form differs from the run's own config.yaml, in words ("learning_rate (form 0.001,
    run 5e-05), …"), "" when none or when the run's config cannot be read. Resume trains with the run's own
    settings; a user who edited the form first would otherwise believe the edits apply."""
    from finetune_studio.core.training import anchored

    try:
        run_config, _ = load_config(RunFolder(Path(run_dir)).config_path)
        mine, theirs = flat_settings(anchored(form.copy()).to_dict()), flat_settings(run_config.to_dict())
    except Exception:  # noqa: BLE001 - a hint only: the resume itself says what is wrong with the run's config
        return ""
    keys = [key for key in dict.fromkeys([*mine, *theirs])
            if mine.get(key) != theirs.get(key) and not key.startswith(_NOT_SETTINGS)]
    said = [f"{key.split('.', 1)[-1] if key.startswith('training.') else key} (form {mine.get(key)!r}, run "
            f"{theirs.get(key)!r})" for key in keys[:limit]]
    more = f" and {len(keys) - limit} more" if len(keys) > limit else ""
    return ", ".join(said) + more


def continue_blocker(state: Any, run_dir: Path) -> str | None:
    """Why "Train N more epochs" (or steps) is not offered for this run at all; None when it is. Cheap (no config is
    read): the Runs tab asks it whenever its selection or listing changes."""
    name = Path(run_dir).name
    if _state(state) is RunState.RUNNING:
        return f"{name} is still training; it can be continued once it has ended."
    if _state(state) is RunState.BROKEN:
        return f"{name} is broken (files missing or unreadable), so it cannot be continued."
    point = RunFolder(Path(run_dir)).resume_point()
    if point.checkpoint is None:
        why = point.why_not()
        if why:  # checkpoints saved, none of them loads: said, not "no checkpoint"
            return _unloadable_text(name, why, "continued")
        return (f"{name} has no checkpoint to continue from. Start it again with its settings (Use its "
                "settings, then Start).")
    return None


def continue_problem(run_dir: Path, state: Any = None, more_steps: bool = False) -> str | None:
    """Why continuing this run for more epochs (`more_steps`: more steps) cannot work, in words; None when it can.
    Everything continue_blocker checks, then its config.yaml: it must load and have a checkpoint where it puts them;
    for more epochs it must not cap the run with max_steps (which overrides the number of epochs: such a run trains
    further by steps, the Runs tab's Train N more steps)."""
    path = Path(run_dir)
    if state is not None:
        blocker = continue_blocker(state, path)
        if blocker:
            return blocker
    folder = RunFolder(path)
    try:
        config, _ = load_config(folder.config_path)
    except ConfigError as exc:
        return f"Its config.yaml cannot be used ({'; '.join(map(str, exc.problems))}). Fix or delete the run."
    point = folder.resume_point(Path(config.training.get("output_dir") or folder.path))
    if point.checkpoint is None:
        why = point.why_not()
        if why:
            return _unloadable_text(path.name, why, "continued")
        return (f"{path.name} has no complete checkpoint to continue from. Start it again with its settings "
                "(Use its settings, then Start).")
    max_steps = config.training.get("max_steps")
    if not more_steps and isinstance(max_steps, int) and not isinstance(max_steps, bool) and max_steps > 0:
        return (f"{path.name} is limited to max_steps = {max_steps} in its config.yaml, which overrides the number "
                f"of epochs, so more epochs would not train any further. To fix: select the run again and press Train "
                f"N more steps (it raises max_steps), or set max_steps to -1 in that file to train by epochs.")
    return None


def folder_gone_text(run_dir: Path) -> str:
    """What the header says for a run whose folder is no longer where it was shown from (core.training's words for
    a folder moved while it trained). What happened comes before the path: the header elides a long text in the
    middle, and a path first left only "good: its folder /tmp/…" in view."""
    path = Path(run_dir)
    return (f"{path.name}: folder gone (renamed, moved or deleted), so nothing is left at {path} to show or resume. "
            "If it was moved or renamed, open it from its new place in the Runs tab; Resume continues it from its "
            "last checkpoint there.")


class Change(Enum):
    """What a subscriber is told changed."""

    DOCUMENT = "document"  # another config replaced the document: show it in every form
    NAME = "name"  # its file, its untitled name or its modified flag (the window title)
    RUN = "run"  # the shown run, its state, or whether this window can train now


Listener = Callable[[Change], None]


class Session:
    """The config document (config, its file, modified or not) and the run the window shows (folder, state,
    whether Resume continues it), plus whether this window is training or could start now.

    Fields may be read freely; change them through the methods, which tell subscribers (`subscribe`). The GUI
    tells the session what happened (a run started, ended, a folder was opened); the session decides what that
    means for Resume, the header text and the Runs tab's Continue.
    """

    def __init__(self, config: RunConfig | None = None, untitled: str = ""):
        self.config = config.copy() if config is not None else RunConfig()
        self.path: Path | None = None
        self.untitled = untitled
        self.modified = False
        self.state = RunState.IDLE
        self.state_text = ""
        self.run_dir: Path | None = None  # the run shown on the right
        self.resumable: Path | None = None  # the run Resume continues
        self.model_dir: Path | None = None  # a finished run's model (Open folder)
        self.running = False  # this window's runner has a run in its thread
        self.stack_ready = False  # the training libraries are imported: a run can start at once
        self._listeners: list[Listener] = []

    # ---- subscribing
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call listener(change) after every change; returns the function that unsubscribes it."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _tell(self, change: Change) -> None:
        for listener in list(self._listeners):
            listener(change)

    # ---- the config document
    @property
    def name(self) -> str:
        """What the title and the save question call the document."""
        return self.path.name if self.path else self.untitled

    @property
    def runs_dir(self) -> Path:
        return runs_dir_of(self.config)

    def set_document(self, config: RunConfig, path: Path | None = None, untitled: str | None = None,
                     modified: bool = False) -> None:
        """A copy of config becomes the document (a file's, a preset's, a run's settings)."""
        self.config = config.copy()
        self.path = Path(path) if path else None
        if untitled:
            self.untitled = untitled
        self.modified = modified
        self._tell(Change.DOCUMENT)
        self._tell(Change.NAME)

    def set_modified(self, modified: bool = True) -> None:
        """The forms changed the config (True), or it now matches its file (False)."""
        if modified != self.modified:
            self.modified = modified
            self._tell(Change.NAME)

    def saved(self, path: Path) -> None:
        """The config was written to path, which is now its file."""
        self.path = Path(path)
        self.modified = False
        self._tell(Change.NAME)

    # ---- the run
    @property
    def can_resume_now(self) -> bool:
        """Resume is offered: a resumable run is shown and this window could train it now."""
        return self.resumable is not None and self.busy_reason() is None

    def busy_reason(self) -> str | None:
        """Why this window cannot start a run (a resume, a continue) right now; None when it can."""
        if self.running:
            return "A run is training in this window; continue another one when it ends."
        if not self.stack_ready:
            return "The training stack is still loading."
        return None

    def continue_offer(self, state: Any, run_dir: Path) -> tuple[bool, str]:
        """(enabled, tooltip) of the Runs tab's Train N more epochs for this run: the run's own reason first, then this
        window's."""
        reason = continue_blocker(state, run_dir) or self.busy_reason()
        return reason is None, reason or CONTINUE_TIP

    def set_state(self, state: RunState, text: str) -> None:
        self.state, self.state_text = state, text
        self._tell(Change.RUN)

    def set_running(self, running: bool) -> None:
        if running != self.running:
            self.running = running
            self._tell(Change.RUN)

    def set_stack_ready(self, ready: bool = True) -> None:
        if ready != self.stack_ready:
            self.stack_ready = ready
            self._tell(Change.RUN)

    def begin(self, text: str) -> None:
        """A new run is on its way (or queued behind the warm-up): nothing shown yet to resume or open."""
        self.run_dir = self.resumable = self.model_dir = None
        self.set_state(RunState.PREPARING, text)

    def resuming(self, run_dir: Path, text: str) -> None:
        """run_dir (already shown) is being resumed or continued: Resume is not offered meanwhile."""
        self.run_dir = Path(run_dir)
        self.resumable = None
        self.set_state(RunState.PREPARING, text)

    def run_started(self, run_dir: Path) -> None:
        """The run's folder is known (its run_start event)."""
        self.run_dir = Path(run_dir)

    def run_event(self, event: Event) -> None:
        """An event of this window's run: its folder, and what the header says while it prepares."""
        kind = event.get("event")
        if kind == EventKind.RUN_START:
            self.run_started(Path(event["run_dir"]))
        elif kind == EventKind.PHASE and self.state is RunState.PREPARING:
            self.set_state(RunState.PREPARING, f"Preparing… {event.get('message', '')}")
        elif kind == EventKind.TRAIN_BEGIN and self.state is RunState.PREPARING:
            self.set_state(RunState.RUNNING, "Training…")

    def run_stopped(self, run_dir: Path, step: int, max_steps: int) -> None:
        self.run_dir = Path(run_dir)
        self.resumable = self.run_dir if can_resume(RunState.STOPPED, self.run_dir) else None
        if self.resumable is None and step <= 0:  # stopped before its first step: Start runs it again
            self.set_state(RunState.IDLE, "Stopped before the first step — nothing was trained")
            return
        of = f" of {max_steps}" if max_steps > 0 else ""  # a resume for more epochs stopped as it began may not know
        if self.resumable is None:  # trained, but no checkpoint Resume can load: not offered, and said why
            why = unresumable(self.run_dir)
            self.set_state(RunState.STOPPED, f"Stopped at step {step}{of} — " + (
                f"Resume is not offered: {why}. {UNLOADABLE_FIX}" if why else
                "no checkpoint was saved, so it cannot resume"))
            return
        self.set_state(RunState.STOPPED, f"Stopped at step {step}{of} — Resume continues from the checkpoint")

    def run_finished(self, run_dir: Path, model_dir: Path | None) -> None:
        self.run_dir = Path(run_dir)
        self.model_dir = Path(model_dir) if model_dir else self.run_dir
        self.set_state(RunState.FINISHED, f"Finished — model saved to {self.model_dir}")

    def run_failed(self, message: str) -> None:
        """The run ended with an error; Resume is offered when it left a checkpoint."""
        self.resumable = self.run_dir if can_resume(RunState.FAILED, self.run_dir) else None
        self.set_state(RunState.FAILED, f"Failed — {message}")

    def show_recorded(self, run_dir: Path) -> None:
        """A run folder opened from disk: its state from status.json (a dead "running" reads as interrupted),
        Resume when it can continue."""
        folder = RunFolder(Path(run_dir))
        if not folder.path.is_dir():  # renamed, moved or deleted while shown (or followed): nothing to read there
            self.run_dir, self.resumable, self.model_dir = folder.path, None, None
            self.set_state(RunState.IDLE, folder_gone_text(folder.path))
            return
        status = folder.read_status()
        state = status.get("state")
        self.run_dir = folder.path
        self.resumable = folder.path if can_resume(state, folder.path) else None
        self.model_dir = folder.model_dir if state == RunState.FINISHED else None
        if state == RunState.FINISHED:
            self.set_state(RunState.FINISHED, f"Finished — model saved to {folder.model_dir}")
        elif state == RunState.RUNNING:
            self.set_state(RunState.RUNNING, f"{folder.path.name}: training in another process (pid "
                                             f"{status.get('pid')}) — its chart follows it live")
        else:
            message = str(status.get("message", state))
            hint = " — Resume continues from the latest checkpoint" if self.resumable else ""
            if _state(state) in (RunState.UNKNOWN, RunState.BROKEN):  # status.json missing or damaged: say so
                from finetune_studio.core.runs import summarize  # the Runs tab's and `runs`' reading of it

                message = summarize(folder.path).message or message
                hint = "" if "Resume" in message else hint  # it says what Resume does already
            elif self.resumable is None and _state(state) in RESUMABLE_STATES:
                why = unresumable(folder.path)  # checkpoints saved, none loads: why Resume is not offered
                hint = f" — Resume is not offered: {why}. {UNLOADABLE_FIX}" if why else hint
            self.set_state(RunState.STOPPED if self.resumable else RunState.IDLE,
                           f"{folder.path.name}: {message}{hint}")

    def forget_run(self) -> None:
        """The shown run's folder was deleted: nothing left to show, resume or open."""
        self.run_dir = self.resumable = self.model_dir = None
        self.set_state(RunState.IDLE, "")
