"""Export a finished adapter run from the window: the adapter alone, or merged into its base model.

`ExportController` puts an "Export…" button beside the run header's "Open folder" for a finished run that trained
an adapter (its model folder holds adapter_config.json) and opens `ExportDialog`. The work is core.export's
(`export_run`: free disk space checked first, written to a hidden folder renamed into place); it runs in
gui.background's pool, its progress lines come back through a queued signal, and the run folder's own files are
only read. Nothing here imports torch, transformers or peft: core.export imports them inside its functions.
"""

from __future__ import annotations

import html
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QFontMetrics, QGuiApplication, QPalette, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from finetune_studio.core.adapters import METHOD_NAMES, is_adapter_folder, read_adapter_config
from finetune_studio.core.events import RunState
from finetune_studio.core.export import (
    ADAPTER,
    CANCELLED,
    FLOAT16_MAX,
    HELD_LISTED,
    MERGED,
    MERGED_DTYPES,
    SAME_DTYPE,
    destination_refusal,
    merged_size,
    names_text,
    tidy_hidden,
    trained_dtype,
)
from finetune_studio.core.export import held_names as _held_names
from finetune_studio.core.hub import Choice, export_choices  # moved: the push dialog offers them too
from finetune_studio.core.runs import MISSING, RunFolder, damage, lock_alive, read_lock, run_folder_problem
from finetune_studio.core.session import Session
from finetune_studio.gui import background, dialogs
from finetune_studio.gui.hub_dialogs import MESSAGE_STYLE
from finetune_studio.gui.session_signals import SessionSignals

__all__ = ["ADAPTER", "HELD_LISTED", "MERGED", "Choice", "ExportController", "ExportDialog", "export_choices",
           "held_names", "names_text"]
DELETE_COLOR = "#c2410c"  # orange: what ticking "Delete what the folder holds" deletes
# How long after the last keystroke a typed folder is checked (the check Browse makes: _tidy). Checking on every
# keystroke read the folder, its parent and the run's config each time, on the GUI thread, which on a slow disk made
# typing a path stutter.
TYPED_CHECK_MS = 300
# The dialog's least width: narrower, the folder field showed a dozen characters of the path and each hint took
# four lines.
MIN_WIDTH = 440


def is_adapter_run(run_dir: Path | None) -> bool:
    """A run whose saved model is an adapter (what the export choices are for)."""
    return run_dir is not None and is_adapter_folder(RunFolder(Path(run_dir)).model_dir)


def default_out_dir(run_dir: Path, kind: str, checkpoint: int | None = None) -> Path:
    """Where an export goes unless the user picks another folder: core.export's default (a checkpoint's in a folder
    of its own, export-adapter-checkpoint-N)."""
    from finetune_studio.core.export import default_out_dir as core_default

    return core_default(Path(run_dir), kind, checkpoint)


def exportable_run(run_dir: Path | None) -> bool:
    """A run the Export… button opens the dialog for: it saved an adapter, as its final model or a complete
    checkpoint (a stopped run has no final model, and its checkpoints are what the user can export; one that
    another process trains offers its complete checkpoints: exportable_now)."""
    return bool(exportable_now(run_dir))


def training_record(run_dir: Path | None) -> dict[str, Any] | None:
    """The lock record of the process training the run now (core.runs: its flock's record, alive), or None."""
    record = read_lock(Path(run_dir)) if run_dir is not None else None
    return record if record is not None and lock_alive(record) else None


def training_line(run_dir: Path, what: str) -> str | None:
    """What the Export and Push dialogs say above their Model box while another process trains the run (`what`:
    "exported", "pushed"), or None when none does. Its final model is not written until it ends (a resume's
    model folder holds the previous one, which core refuses), so the box lists only the checkpoints it has saved
    whole: a checkpoint is written once, whole, so one can be exported or pushed while the run trains on."""
    record = training_record(run_dir)
    if record is None:
        return None
    pid = record.get("pid")
    status = RunFolder(Path(run_dir)).read_status()
    step, total = status.get("step"), status.get("max_steps")
    at = f", at step {step} of {total}" if isinstance(step, int) and isinstance(total, int) and total else ""
    where = f" (process {pid}{at})" if pid else f" ({at[2:]})" if at else ""
    return (f"The run {Path(run_dir).name} is still training in another process{where}. Its final model is "
            "written only when it ends, so the Model box lists only the "
            f"checkpoints it has saved whole so far: each is written once, whole, and can be {what} while the run "
            "trains on. Open the list again to see newer ones.")


def offered_choices(choices: list[Choice], training: bool) -> list[Choice]:
    """The Model box's choices: `choices` less the final model while the run trains (training_line) and has a
    complete checkpoint to offer instead. One that has none keeps its final model (a resume's: the previous
    result), which core refuses in words until the run ends, and offers again once it has."""
    checkpoints = [choice for choice in choices if choice.checkpoint is not None]
    return checkpoints if training and checkpoints else choices


def exportable_now(run_dir: Path | None) -> list[Choice]:
    """What the Export… button offers for the run now: export_choices, less the final model while another process
    trains it (its complete checkpoints can be exported then)."""
    if run_dir is None or not Path(run_dir).is_dir():
        return []
    return offered_choices(export_choices(Path(run_dir)), training_record(run_dir) is not None)


def damaged_pick_text(run_dir: Path, choices: list[Choice], damaged: set[int], picked: Choice, problem: str,
                      what: str) -> str:
    """What a dialog says when the user picks a checkpoint that is damaged now (core.runs.damage: found without
    loading it), before Export or Push is pressed: which one, why, and the whole ones the Model box lists."""
    steps = sorted(c.checkpoint for c in choices if c.checkpoint is not None and c.checkpoint not in damaged
                   and c.checkpoint != picked.checkpoint)
    ways = ([_named_steps(steps)] if steps else []) + (
        ["the final model"] if any(c.checkpoint is None for c in choices) else [])
    fix = (f"pick a whole one in the Model box: {', or '.join(ways)}." if ways else
           "resume the run until it saves a whole checkpoint, or put this one's files back from a copy.")
    return f"{Path(run_dir).name} · {picked.label} is damaged: {problem}, so it cannot be {what}. To fix: {fix}"


def choice_tip(choices: list[Choice]) -> str:
    """The Model box's tooltip: what it picks, or (disabled) why there is nothing to pick."""
    if not any(choice.checkpoint is not None for choice in choices):
        return "This run kept no complete checkpoint, so its final model is the one to export."
    return ("The final model, or a checkpoint the run saved while training (the Try tab answers with each): a "
            "checkpoint's export goes into a folder of its own, and holds its trainer_state.json, which says its step.")


def relative_text(written: str, run_dir: Path) -> str:
    """Why a folder typed without its whole path is not exported into: it would go into the app's working folder
    (wherever it was started from), which the dialog shows nowhere, and the message named it as typed ("Exported
    … to my-export"), so the user could not find it."""
    return (f"The folder {written} is not a whole path, so the export would go into the folder the app was started "
            f"from ({Path.cwd()}), which you did not choose. Nothing was exported. To fix: write the whole path (for "
            f"example {Path(run_dir) / written}, or one starting with ~/ for your home folder), or choose the folder "
            "with the … button.")


def load_command(kind: str, out_dir: Path, files: Any = ()) -> str:
    """The Python line that loads an export, with its whole path: the one in core's message is shown elided in the
    middle when the path is long (FittedLabel), and copying it gave a path that does not exist. An adapter export
    that carries generation_config.json (a chat run's: its end of turn among the stops) loads it too, as core's
    message says to: peft answers with its base's, and a reply from the copied line ran on past <|im_end|>."""
    module, cls = ("transformers", "AutoModelForCausalLM") if kind == MERGED else ("peft", "AutoPeftModelForCausalLM")
    line = f"from {module} import {cls}; model = {cls}.from_pretrained({str(out_dir)!r})"
    if kind != MERGED and "generation_config.json" in files:
        line += ("; from transformers import GenerationConfig; model.generation_config = "
                 f"GenerationConfig.from_pretrained({str(out_dir)!r})")
    return line


def held_names(folder: Path) -> list[str]:
    """core.export.held_names of a whole path: the names a folder holds, sorted (at most HELD_LISTED + 1 read); []
    for a folder that is empty, not there, not a whole path or cannot be read."""
    return _held_names(folder) if folder.is_absolute() else []


def folder_refusal(run_dir: Path, folder: Path | None) -> str | None:
    """core.export's refusal of a whole path as the run's export folder, before Export is pressed
    (destination_refusal: a folder that holds files and no model export, a run's, the base model's, the home
    folder); None for any other (a path not whole is refused when Export is pressed, as relative_text says)."""
    return destination_refusal(run_dir, folder) if folder is not None and folder.is_absolute() else None


# core.export's words for the command line's --out, which a refusal or failure in this dialog said too: "choose a
# folder you can write to (--out DIR)", "or leave --out out for the default (export-adapter or export-merged in the run
# folder)": a flag the window has none of. window_words says them as the dialog's field and its default folder.
OUT_FLAG = " (--out DIR)"
LEAVE_OUT_DEFAULT = "leave --out out for the default (export-adapter or export-merged in the run folder)"


# core.export's words for a checkpoint it cannot export (damaged since the box listed it): the command line's flag.
PICK_CHECKPOINT = "pick another checkpoint (--checkpoint N), or leave --checkpoint out for the final model"


def window_words(text: str, run_dir: Path, kind: str, checkpoint: int | None = None) -> str:
    """core.export's message as the dialog says it: its fixes name the folder field and the run's default export
    folder for this kind (and checkpoint), not the command line's --out, and the Model box, not --checkpoint."""
    return text.replace(LEAVE_OUT_DEFAULT, f"use the default folder, {default_out_dir(run_dir, kind, checkpoint)}"
                        ).replace(OUT_FLAG, "").replace(PICK_CHECKPOINT, "pick another model in the Model box")


def _named_steps(steps: list[int]) -> str:
    """Steps, oldest first, as the Model box names them ("checkpoint-1, checkpoint-2 or checkpoint-3"); more than
    NAMED_STEPS as the newest two and a count (a run with 60 checkpoints named 59)."""
    if len(steps) > NAMED_STEPS:
        return f"checkpoint-{steps[-1]}, checkpoint-{steps[-2]} or one of the {len(steps) - 2} before them"
    named = [f"checkpoint-{step}" for step in steps]
    return f"{', '.join(named[:-1])} or {named[-1]}" if len(named) > 1 else "".join(named)


NAMED_STEPS = 4  # checkpoints a fix names one by one


def refused_pick_text(refusal: Any, offered: Iterable[int | None], nothing: str, none_left: str) -> str:
    """core's refusal of the model the Model box picked (core.generate.CheckpointRefusal, carried by core.export's
    and core.hub's errors: gone since the box listed it, none left, damaged, a link, or deleted by the run while it
    was read), in the Export and Push dialogs' words: the one wording of both. The fix names the Model box and the
    models as it lists them (`offered`: its checkpoints' steps, None for the final model, read again after the
    refusal), where core's names the command line's --checkpoint. Both dialogs rewrote core's message text for it
    (regular expressions over "give one of its checkpoints: 1 or 3", "--checkpoint N"), which a CHECKPOINT_REMOVED
    refusal escaped: it said "To fix: pick a whole one: --checkpoint 2 or 3". `nothing`: what was not done, where core
    did not say; `none_left`: the fix where the box lists none of the run's whole models."""
    from finetune_studio.core.generate import DAMAGED, NONE_LEFT, REMOVED

    what = refusal.what
    if refusal.cause == NONE_LEFT:  # core's words name --checkpoint N
        what = (f"The run {refusal.run} has no complete checkpoint now: checkpoint-{refusal.checkpoint}, which the "
                f"Model box listed, was deleted or moved since" + (f" ({refusal.detail})." if refusal.detail else "."))
    listed = set(offered)
    choices = [choice for choice in refusal.choices if choice in listed]
    steps = [choice for choice in choices if choice is not None]
    ways = ([_named_steps(steps)] if steps else []) + (["the final model"] if None in choices else [])
    if ways:
        how = "pick a whole one in the Model box" if refusal.cause == DAMAGED else "pick another model in the Model box"
        fix = f"{how}: {', or '.join(ways)}." + (f" {refusal.also}" if refusal.also else "")
    else:
        fix = refusal.fallback if refusal.cause == REMOVED and refusal.fallback else none_left
    if refusal.elsewhere is not None:  # a link to another run's checkpoint
        fix += f" Or open the run {refusal.elsewhere.parent} and pick its {refusal.elsewhere.name} there."
    return f"{what} {refusal.nothing or nothing} To fix: {fix}"


def run_gone_text(run_dir: Path) -> str:
    """What the dialog and the Export… button say of a run whose folder went since it was shown: core's "No run folder
    at …" names the command line's fix (give a run's folder; `finetune-studio runs` lists the runs)."""
    return (f"The run {run_dir.name} is no longer in {run_dir.parent} (deleted, moved or renamed since it was shown), "
            "so there is nothing to export there. Nothing was exported. To fix: if it was moved or renamed, open it "
            "from its new place (the Runs tab, or File → Open run folder) and export it from there.")


def nothing_left_text(run_dir: Path) -> str:
    """What the dialog and the Export… button say of a run still there whose final model and checkpoints were all
    deleted since it was shown: core's refusal named --checkpoint and a `finetune-studio train` command line."""
    return (f"The run {run_dir.name} holds no adapter to export now: its final model and checkpoints were deleted "
            "since it was shown. Nothing was exported. To fix: open another run, or train this one again (the Runs "
            "tab, Use its settings, then Start).")


OVERWRITE_TIP = ("What the folder holds now is deleted once the export has been written in its place; only an earlier "
                 "export (a model's config.json or adapter_config.json) or an empty folder is replaced. Unticked, a "
                 "folder that holds files is not exported into.")


def _export(run_dir: Path, kind: str, out_dir: Path, overwrite: bool, progress: Callable[[str], None],
            cancel: Any = None, dtype: str = SAME_DTYPE, checkpoint: int | None = None) -> Any:
    from finetune_studio.core.export import export_run

    return export_run(run_dir, kind, out_dir, overwrite=overwrite, progress=progress, cancel=cancel, dtype=dtype,
                      checkpoint=checkpoint)


def dtype_label(dtype: str, trained: str | None) -> str:
    """A choice of the Weights box: "Same as training (bfloat16)" for SAME_DTYPE, else the dtype's name."""
    if dtype != SAME_DTYPE:
        return dtype
    return f"Same as training ({trained})" if trained else "Same as training"


def dtype_note(run_dir: Path, dtype: str) -> str:
    """What the merged model's weights take in `dtype`, where core.export estimates it already (merged_size: a base
    model in a folder of this computer whose config names its dtype), and what float16 cannot hold."""
    from finetune_studio.core.hub import size_text

    trained = trained_dtype(run_dir)
    size = merged_size(run_dir, dtype)
    name = trained if dtype == SAME_DTYPE else dtype
    if size:
        said = f"About {size_text(size)} of weights in {name}" if name else f"About {size_text(size)} of weights"
    elif name:
        said = f"Weights in {name}; their size is known once the base model is loaded"
    else:
        said = "Weights in the base model's own dtype; their size is known once the base model is loaded"
    said += " (as the run trained)." if dtype != SAME_DTYPE and dtype == trained else "."
    if dtype == "float16" and trained != "float16":
        said += (f" float16 holds values up to {FLOAT16_MAX:,.0f}: a model with larger weights is refused "
                 "(bfloat16 is as small, with float32's range).")
    return said


def merged_hint(run_dir: Path, base: str, dtype: str) -> str:
    """The merged choice's grey hint: a standalone model, and its size beside the base model's in `dtype` (core.export's
    merged_size over the base's weight files: bytes per weight in `dtype` times the weights, where the base is a
    folder of this computer whose config names its dtype). It said "as large as BASE" for every dtype: a float32
    base exported in float16 is half of it. Where the base's size is not known, "as large as" is said only of the
    dtype the run trained in over a base loaded in its own dtype (model.dtype auto), which is that base's size."""
    from finetune_studio.core.hub import local_base_size

    loads = " that loads with plain transformers, no PEFT needed."
    size, whole = merged_size(run_dir, dtype), local_base_size(run_dir)
    trained = trained_dtype(run_dir)
    name = trained if dtype == SAME_DTYPE else dtype
    if size and whole:
        if size * 3 < whole * 2:  # 2 bytes a weight where the base keeps 4
            return f"A standalone model half the size of {base} (its weights in {name}){loads}"
        if size * 2 > whole * 3:  # 4 bytes a weight where the base keeps 2
            return f"A standalone model twice the size of {base} (its weights in {name}){loads}"
        return f"A standalone model as large as {base}{loads}"
    if name is None:  # auto over a base not read here: loaded, merged and saved in its own dtype
        return f"A standalone model as large as {base}{loads}"
    return f"A standalone model, {base} with the adapter merged in and saved in {name},{loads}"


def _method_of(run_dir: Path) -> str:
    from finetune_studio.core.adapters import method_of_run

    return method_of_run(run_dir)


def _merged_dtype_text(run_dir: Path) -> str:
    """The dtype a merged export is saved in, as the merge loads the base: the run's model.dtype, or the base model's
    own for "auto". The tooltip said "the base model's dtype" for every run, and a run with model.dtype bfloat16 over
    a float32 base exported a bfloat16 model half the base's size."""
    from finetune_studio.core.config import load_config
    from finetune_studio.core.errors import FinetuneError

    try:
        dtype = str(load_config(RunFolder(run_dir).config_path)[0].model.dtype or "auto")
    except (FinetuneError, OSError, ValueError):
        dtype = "auto"
    if dtype == "auto":
        return "the base model's own dtype (the run's model.dtype is auto)"
    return f"{dtype}, the dtype the run loaded its base model in (model.dtype in its config.yaml)"


def _adapter_method(adapter: dict[str, Any]) -> str:
    """The method an adapter's own adapter_config.json says, for a run whose status.json and config.yaml do not
    (method_of_run's fallback is 'full', which the header said of an adapter run: "Full fine-tuning on …"): DoRA when
    use_dora, LoRA for any other peft LORA adapter (a QLoRA adapter's config is a LoRA one), else its peft_type."""
    from finetune_studio.core.runs import adapter_config_method

    return adapter_config_method(adapter) or str(adapter.get("peft_type") or "") or "adapter"


class FittedLabel(QLabel):
    """A word-wrapped line of plain text that never widens its window: a word too wide for the label (a path with
    no spaces, e.g. a 150-character folder name) is shown elided in the middle to the label's width, and the whole
    text is its tooltip. Word wrap cannot break such a word, so a QLabel's minimum width became the word's and the
    export dialog grew to ~1120 px for such a path, and stayed that wide once the path was shorter. text() is the
    text as set (shown_text() what is drawn, and selected); the label takes the width its layout gives (its own
    width is ignored)."""

    MARGIN = 24  # the message styles' border and padding on both sides, and some room

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self._text = ""
        self._tip = ""  # setToolTip's: shown after the whole text when that is elided
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        policy = self.sizePolicy()
        policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
        self.setSizePolicy(policy)
        self.setText(text)

    def text(self) -> str:  # type: ignore[override]
        return self._text

    def shown_text(self) -> str:
        """What the label draws: text() with its too-wide words elided."""
        return super().text()

    def setText(self, text: str) -> None:  # type: ignore[override]  # noqa: N802 - Qt name
        self._text = str(text)
        self._fit()

    def setToolTip(self, tip: str) -> None:  # type: ignore[override]  # noqa: N802 - Qt name
        """A tooltip of the label's own (plain text), kept with the whole text when that is elided."""
        self._tip = str(tip)
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self._fit()

    def _fit(self) -> None:
        width = self.contentsRect().width() - self.MARGIN
        shown = fit_words(self._text, QFontMetrics(self.font()), width) if self.isVisible() and width > 40 \
            else self._text
        # As rich text, which a tooltip wraps at spaces: a plain one is a single line, wider than the screen for a
        # message of a few hundred characters.
        parts = ([self._text] if shown != self._text else []) + ([self._tip] if self._tip else [])
        QLabel.setToolTip(self, "".join(f"<p>{html.escape(part)}</p>" for part in parts))
        if shown != super().text():
            super().setText(shown)


def fit_words(text: str, metrics: QFontMetrics, width: int) -> str:
    """`text` with each word wider than `width` pixels elided in the middle (spaces and line breaks kept). A path's
    parts count as words: a line may break after its '/', so only a part too wide is elided (/tmp/x…x/mine)."""
    import re

    def fit(match: re.Match[str]) -> str:
        word = match.group(0)
        if metrics.horizontalAdvance(word + "/") <= width:
            return word
        return metrics.elidedText(word, Qt.TextElideMode.ElideMiddle, width - metrics.horizontalAdvance("/"))

    return re.sub(r"[^\s/]+", fit, text)


class _Progress(QObject):
    """Carries core.export's progress lines from the pool thread to the dialog (a queued signal)."""

    line = Signal(str)


def weights_row(name: str, tip: str) -> tuple[QComboBox, FittedLabel, QWidget]:
    """The merged model's "Weights in" box (empty: the caller adds MERGED_DTYPES with dtype_label), the note under
    it (dtype_note) and the row that holds the box, indented under the merged choice: one for the export dialog and
    the push dialog, which offer the same choice (core.export's dtypes). `name`: the box's object name, the note's
    with "_note"."""
    box = QComboBox()
    box.setObjectName(name)
    box.setToolTip(tip)
    note = FittedLabel()
    note.setObjectName(f"{name}_note")
    note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    note.setContentsMargins(22, 0, 0, 0)
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(22, 0, 0, 0)
    layout.setSpacing(6)
    label = QLabel("Weights in")
    label.setBuddy(box)
    layout.addWidget(label)
    layout.addWidget(box)
    layout.addStretch(1)
    return box, note, row


class ExportDialog(QDialog):
    """Pick the model (the final one or a checkpoint), adapter-only or merged, the folder, then export in the
    background with a busy bar and core's progress lines; the outcome (or core's message when it cannot be done) is
    shown in the dialog, which stays open."""

    exported = Signal(object)  # core.export.ExportResult

    def __init__(self, run_dir: Path, parent: QWidget | None = None, kind: str = ADAPTER):
        super().__init__(parent)
        self.setObjectName("export_dialog")
        self.setWindowTitle("Export the trained model")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.run_dir = Path(run_dir)
        self.result: Any = None
        self._carried: list[str] = []  # the dialog's notes of the folder being exported into (_tidy's)
        self._auto_out = ""  # the folder the dialog proposed itself: it follows the choice until the user types
        self._relay = _Progress(self)
        self._relay.line.connect(self._on_progress)
        self.task = background.BackgroundTask(self)
        self.task.result.connect(self._done)
        self.task.error.connect(self._failed)

        # The final model and each complete checkpoint (export_choices). A stopped run has no final model: its
        # newest checkpoint is the first choice, and the base model is read from its adapter_config.json. One that
        # another process trains offers its complete checkpoints alone, and says so (training_line).
        self._training: str | None = None
        self.choices = self._read_choices()
        adapter = read_adapter_config(self.choices[0].path if self.choices else RunFolder(self.run_dir).model_dir) or {}
        base = str(adapter.get("base_model_name_or_path") or "its base model")
        method = _method_of(self.run_dir)
        if method not in METHOD_NAMES or method == "full":  # this dialog's runs hold an adapter (is_adapter_run)
            method = _adapter_method(adapter)
        self.run_label = QLabel()
        self.run_label.setObjectName("export_run")
        self.run_label.setTextFormat(Qt.TextFormat.RichText)
        self.run_label.setWordWrap(True)
        folder = QFontMetrics(self.run_label.font()).elidedText(base, Qt.TextElideMode.ElideMiddle, 360)
        bold = self.run_label.font()
        bold.setBold(True)
        name = QFontMetrics(bold).elidedText(self.run_dir.name, Qt.TextElideMode.ElideMiddle, 300)
        self.run_label.setText(f"Run <b>{html.escape(name)}</b>: {METHOD_NAMES.get(method, method)} "
                               f"on {html.escape(folder)}")
        self.run_label.setToolTip(f"{self.run_dir}\nBase model: {base}")

        self.training_label = FittedLabel()
        self.training_label.setObjectName("export_training")
        self.training_label.setStyleSheet(MESSAGE_STYLE["warning"])
        self.training_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.training_label.hide()

        self.what_box = dialogs.ModelBox()
        self.what_box.setObjectName("export_what")
        # As wide as its longest label, "checkpoint-59 (damaged)" included once an export finds it so (the box kept
        # its first width, and cut it to "checkpoint-59").
        self.what_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._damaged: set[int] = set()  # checkpoints an export found damaged: "(damaged)" after their name
        self._gone: str | None = None  # why nothing is left to export (the run's folder went): Export disabled
        self._fill_choices()
        self.what_box.opening.connect(self._refresh_choices)  # the labels follow the files (a repaired checkpoint)
        self.what_box.activated.connect(self._picked)
        self.what_row = QWidget()
        what_layout = QHBoxLayout(self.what_row)
        what_layout.setContentsMargins(0, 0, 0, 0)
        what_layout.setSpacing(6)
        what_label = QLabel("Model")
        what_label.setBuddy(self.what_box)
        what_layout.addWidget(what_label)
        what_layout.addWidget(self.what_box)
        what_layout.addStretch(1)

        self.adapter_radio = QRadioButton("Adapter only")
        self.adapter_radio.setObjectName("export_adapter")
        self.merged_radio = QRadioButton("Merged model")
        self.merged_radio.setObjectName("export_merged")
        self.kinds = QButtonGroup(self)
        self.kinds.addButton(self.adapter_radio)
        self.kinds.addButton(self.merged_radio)
        # Each kind's grey hint says what the user gets; the files and classes are its tooltip (and the button's).
        known = base != "its base model"
        self.adapter_hint = FittedLabel("Small: the adapter's weights and the tokenizer. Runs only on top of its base "
                                        + (f"model, {base}" if known else "model") + " (loads with PEFT).")
        adapter_tip = ("adapter_model.safetensors and adapter_config.json (which names the base model"
                       + (f", {base}" if known else "") + ") with the tokenizer. peft's "
                       "AutoPeftModelForCausalLM.from_pretrained(folder) loads the base model and puts the adapter on "
                       "it.")
        self._base = base
        self._qlora_note = ""
        self.merged_hint = FittedLabel(merged_hint(self.run_dir, base, SAME_DTYPE))  # follows the Weights box
        merged_tip = ("The adapter merged into the base model's weights (peft's merge_and_unload), saved in "
                      f"{_merged_dtype_text(self.run_dir)}: an ordinary model folder that "
                      "AutoModelForCausalLM.from_pretrained(folder) and pipeline('text-generation') load without peft. "
                      "Exporting it loads the whole base model.")
        if method == "qlora":
            self._qlora_note = (" This run trained on 4-bit weights: the adapter is merged into the base's original "
                                "weights, since 4-bit ones cannot hold the merged values.")
            self.merged_hint.setText(self.merged_hint.text() + self._qlora_note)
        for radio, hint, tip in ((self.adapter_radio, self.adapter_hint, adapter_tip),
                                 (self.merged_radio, self.merged_hint, merged_tip)):
            radio.setToolTip(f"<p>{html.escape(tip)}</p>")
            hint.setToolTip(tip)
            hint.setObjectName(f"{radio.objectName()}_hint")
            hint.setContentsMargins(22, 0, 0, 4)
            hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # a secondary line, as the forms' hints

        # What a merged model's weights are saved in: the dtype the run trained in, or another (core.export's
        # MERGED_DTYPES); with the size it comes to where core.export knows it. An adapter is copied as saved.
        trained = trained_dtype(self.run_dir)
        self.dtype_box, self.dtype_note, self.dtype_row = weights_row(
            "export_dtype", "<p>The dtype the merged model's weights are saved in (config.json's dtype and torch_dtype "
            "say it). float16 and bfloat16 take half the bytes of float32; the adapter is merged before the weights "
            "are converted.</p>")
        for dtype in MERGED_DTYPES:
            self.dtype_box.addItem(dtype_label(dtype, trained), dtype)
        self.dtype_note.setContentsMargins(22, 0, 0, 4)  # under the box, as the hints are under their choices
        self._merged_tip = merged_tip
        self.dtype_box.currentIndexChanged.connect(self._dtype_changed)

        self.out_edit = QLineEdit()
        self.out_edit.setObjectName("export_folder")
        self.out_edit.setClearButtonEnabled(True)
        self.choose_button = QToolButton()
        self.choose_button.setText("…")
        self.choose_button.setToolTip("Choose the folder to export into")
        self.choose_button.clicked.connect(self._choose_folder)
        out_row = QHBoxLayout()
        out_row.setSpacing(4)
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(self.choose_button)
        self.overwrite_check = QCheckBox("Delete what the folder holds, then export")
        self.overwrite_check.setObjectName("export_overwrite")
        self.overwrite_check.setToolTip(OVERWRITE_TIP)
        # core.export's refusal of the folder in the field (files and no model export), shown before Export is
        # pressed: the box and Export are disabled meanwhile. _refused is the folder it refuses: once the field names
        # another, the refusal goes at once (_forget_other_folder), before the new folder's check.
        self._refusal: str | None = None
        self._refused: Path | None = None
        self._said_of: Path | None = None  # the folder the message line's note is of (_show)
        # Says which files the tick deletes, in orange, while it is ticked and the folder holds any.
        self.delete_warning = FittedLabel()
        self.delete_warning.setObjectName("export_delete_warning")
        self.delete_warning.setStyleSheet(f"QLabel {{ color: {DELETE_COLOR}; }}")
        self.delete_warning.hide()
        self.overwrite_check.toggled.connect(self._update_folder_state)
        self.out_edit.textChanged.connect(self._text_changed)
        # A folder typed is checked as a browsed one is (_tidy), once typing pauses or the field is left; until then
        # it has no note and no refusal (those of the folder before it went as the text changed), and Export checks
        # it first (start_export).
        self._stale = False  # the field was typed in since _update_folder_state last checked it
        self._tidied: str | None = None  # the field's text when _tidy checked it, until it changes
        self._notes: tuple[str, list[str]] = ("", [])  # _tidy's notes and the text they are of, said with the export
        self.typed_timer = QTimer(self)
        self.typed_timer.setSingleShot(True)
        self.typed_timer.setInterval(TYPED_CHECK_MS)
        self.typed_timer.timeout.connect(self._check_typed)
        self.out_edit.editingFinished.connect(self._check_typed)

        self.phase_label = FittedLabel()  # progress lines name folders ("Loading the base model /…")
        self.phase_label.setObjectName("export_phase")
        self.phase_label.setWordWrap(True)
        self.phase_label.hide()
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(10)
        self.busy.hide()
        self.message = FittedLabel()  # its messages name folders, as long as the user's
        self.message.setObjectName("export_message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        # The load command with its whole path, shown after a success: a one-line field scrolls a long path instead of
        # widening the dialog, and Copy puts all of it on the clipboard.
        self.load_edit = QLineEdit()
        self.load_edit.setObjectName("export_load_command")
        self.load_edit.setReadOnly(True)
        self.load_edit.setToolTip("The Python line that loads the export (select it, or press Copy)")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setObjectName("export_copy")
        self.copy_button.setAutoDefault(False)
        self.copy_button.setToolTip("Copy the load command to the clipboard")
        self.copy_button.clicked.connect(self._copy_load_command)
        self.load_row = QWidget()
        load_layout = QHBoxLayout(self.load_row)
        load_layout.setContentsMargins(0, 0, 0, 0)
        load_layout.setSpacing(4)
        load_layout.addWidget(QLabel("Load it:"))
        load_layout.addWidget(self.load_edit, 1)
        load_layout.addWidget(self.copy_button)
        self.load_row.hide()

        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setObjectName("export_button")
        self.export_button.setDefault(True)
        self.open_button = self.buttons.addButton("Open folder", QDialogButtonBox.ButtonRole.ActionRole)
        self.open_button.hide()
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        # Shown while an export runs: it stops at the export's next stage (loading the base model, merging, writing
        # cannot be stopped half-way), and nothing of it is kept. Close stays disabled until it has stopped.
        self.cancel_button = self.buttons.addButton("Cancel export", QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button.setObjectName("export_cancel")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.hide()
        self._cancel: threading.Event | None = None
        self._exporting_checkpoint: int | None = None  # the Model box's pick when Export was pressed
        self.export_button.clicked.connect(self.start_export)
        self.open_button.clicked.connect(self._open_folder)
        self.close_button.clicked.connect(self.reject)
        self.cancel_button.clicked.connect(self.cancel_export)

        # Word-wrapped lines straight in the dialog's column: a QFormLayout row does not ask them for their height
        # at the dialog's width, and squeezes them into each other.
        layout = QVBoxLayout(self)
        layout.setSpacing(6)
        layout.addWidget(self.run_label)
        layout.addWidget(self.training_label)
        layout.addWidget(self.what_row)
        for widget in (self.adapter_radio, self.adapter_hint, self.merged_radio, self.merged_hint, self.dtype_row,
                       self.dtype_note):
            layout.addWidget(widget)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.addRow("Into", out_row)
        form.addRow("", self.overwrite_check)
        layout.addSpacing(4)
        layout.addLayout(form)
        layout.addWidget(self.delete_warning)
        layout.addWidget(self.phase_label)
        layout.addWidget(self.busy)
        layout.addWidget(self.message)
        layout.addWidget(self.load_row)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.resize(600, 440)
        self.setMinimumWidth(MIN_WIDTH)

        (self.merged_radio if kind == MERGED else self.adapter_radio).setChecked(True)
        self.kinds.buttonToggled.connect(self._kind_changed)
        self.what_box.currentIndexChanged.connect(self._kind_changed)
        self.out_edit.textEdited.connect(self._folder_edited)
        self._kind_changed()  # the proposal set: checked (_text_changed)
        self._dtype_changed()
        self._check_typed()

    def event(self, event: QEvent) -> bool:
        """Each layout request (a line shown or hidden, a message set, the dialog resized) fits the dialog's least
        height to its lines at its width (gui.dialogs.fit_least_height)."""
        handled = super().event(event)
        if event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Resize):
            dialogs.fit_least_height(self)
        return handled

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        """The delete warning starts under the checkbox's text (it is a line of the dialog's column, not of the
        form, where a word-wrapped label is squeezed)."""
        super().showEvent(event)
        style = self.overwrite_check.style()
        metric = QStyle.PixelMetric
        indent = (self.overwrite_check.x() + style.pixelMetric(metric.PM_IndicatorWidth)
                  + style.pixelMetric(metric.PM_CheckBoxLabelSpacing) - self.layout().contentsMargins().left())
        self.delete_warning.setContentsMargins(max(0, indent), 0, 0, 0)

    # ---- state
    def _fill_choices(self) -> None:
        """The Model box lists self.choices (a damaged one said so), and its tooltip says what it picks."""
        for choice in self.choices:
            damaged = choice.checkpoint is not None and choice.checkpoint in self._damaged
            self.what_box.addItem(choice.label + (" (damaged)" if damaged else ""), choice.checkpoint)
        self._has_checkpoints = any(choice.checkpoint is not None for choice in self.choices)
        self.what_box.setToolTip(f"<p>{html.escape(choice_tip(self.choices))}</p>")
        self.training_label.setText(self._training or "")
        self.training_label.setVisible(bool(self._training))

    def _read_choices(self) -> list[Choice]:
        """The run's models as its folder holds them now (export_choices), less the final model while another
        process trains the run and has saved a complete checkpoint (offered_choices; training_line, kept in
        self._training). Reads no weight file."""
        training = training_line(self.run_dir, "exported")
        choices = offered_choices(export_choices(self.run_dir), training is not None)
        self._training = training if any(choice.checkpoint is not None for choice in choices) else None
        return choices

    def _refresh_choices(self, damaged: int | None = None) -> None:
        """The Model box as the run's folder is now, after an export refused what it picked, and each time its list
        is opened: a checkpoint deleted since the box listed it is no longer offered (it was, and picking it again
        failed again), a damaged one is named so, one named so and repaired since is not, a run that another process
        trains now (or no longer) offers its complete checkpoints alone (or its final model again), and a run whose
        folder went (deleted, moved or renamed), or that holds no adapter any more, offers nothing, with Export
        disabled and its message (run_gone_text, nothing_left_text) as Export's tooltip. The pick stays where it is
        still listed, else the box's first (newest) model is picked, its folder proposed (unless the user typed
        one). Reads what export_choices reads, and the weights' headers of the checkpoints named damaged alone."""
        if damaged is not None:
            self._damaged.add(damaged)
        problem = run_folder_problem(self.run_dir)
        self._gone = run_gone_text(self.run_dir) if problem is not None and problem.kind == MISSING else None
        was_training = self._training
        choices = [] if self._gone else self._read_choices()
        if self._gone:
            self._training = None
        if not choices and self.choices and not self._gone:  # the box went empty: Export exported "the final model"
            self._gone = nothing_left_text(self.run_dir)
        repaired = {choice.checkpoint for choice in choices if choice.checkpoint in self._damaged
                    and choice.checkpoint != damaged and damage(choice.path) is None}
        self._damaged -= repaired
        if choices == self.choices and damaged is None and not repaired and self._training == was_training:
            self._update_buttons()
            return
        picked = self.checkpoint if self.what_box.count() else None
        self.choices = choices
        self.what_box.blockSignals(True)  # one _kind_changed below, with the new pick
        self.what_box.clear()
        self._fill_choices()
        rows = [row for row, choice in enumerate(choices) if choice.checkpoint == picked]
        self.what_box.setCurrentIndex(rows[0] if rows else 0 if choices else -1)
        self.what_box.blockSignals(False)
        self._kind_changed()

    def _picked(self, row: int) -> None:
        """The user picked a model in the box: the box is read again (the pick's label follows its files), and a
        checkpoint that is damaged now is named so at once, with the whole ones to pick (damaged_pick_text); Export
        would refuse it with core's words. Reads the picked checkpoint's weights' header alone."""
        if self.exporting:
            return
        self._refresh_choices()  # one deleted since is no longer offered; a repaired one loses "(damaged)"
        index = self.what_box.currentIndex()
        picked = self.choices[index] if 0 <= index < len(self.choices) else None
        problem = damage(picked.path) if picked is not None and picked.checkpoint is not None else None
        if picked is not None and problem is not None:
            self._refresh_choices(picked.checkpoint)
            self._show("error", damaged_pick_text(self.run_dir, self.choices, self._damaged, picked, problem,
                                                  "exported"))
        elif self.message.property("kind") == "error" and " is damaged: " in self.message.text():
            self._show("info", "")  # what was said of the pick before

    @property
    def kind(self) -> str:
        return MERGED if self.merged_radio.isChecked() else ADAPTER

    @property
    def checkpoint(self) -> int | None:
        """The checkpoint the Model box picks (export_run's checkpoint=), None for the final model."""
        step = self.what_box.currentData()
        return None if step is None else int(step)

    @property
    def exporting(self) -> bool:
        return self.task.busy

    @property
    def dtype(self) -> str:
        """What a merged export's weights are saved in (core.export.MERGED_DTYPES)."""
        return str(self.dtype_box.currentData() or SAME_DTYPE)

    def _dtype_changed(self, *_: Any) -> None:
        """The note beside the box (the size in that dtype, where known), the merged choice's hint (that size beside
        the base model's) and its tooltip follow it."""
        dtype = self.dtype
        self.dtype_note.setText(dtype_note(self.run_dir, dtype))
        self.merged_hint.setText(merged_hint(self.run_dir, self._base, dtype) + self._qlora_note)
        tip = self._merged_tip
        if dtype != SAME_DTYPE:
            tip = tip.replace(f"saved in {_merged_dtype_text(self.run_dir)}", f"saved in {dtype} (chosen below)")
        self.merged_radio.setToolTip(f"<p>{html.escape(tip)}</p>")
        self.merged_hint.setToolTip(tip)

    def _kind_changed(self, *_: Any) -> None:
        """The proposed folder follows the choices of kind and model (export-adapter, export-merged,
        export-adapter-checkpoint-N in the run folder: core.export.default_out_dir), unless the user typed one."""
        current = self.out_edit.text().strip()
        if not current or current == self._auto_out:
            self._auto_out = str(default_out_dir(self.run_dir, self.kind, self.checkpoint))
            self.out_edit.setText(self._auto_out)
        elif self._refusal is not None:
            self._update_folder_state()  # its fix names this kind's default folder (window_words)
        self._set_default(self.export_button)
        self._update_buttons()

    def _folder(self) -> Path | None:
        written = self.out_edit.text().strip()
        return Path(written).expanduser() if written else None

    def _text_changed(self, *_: Any) -> None:
        """The note and refusal of a folder the field no longer names go at once (_forget_other_folder). A folder set
        by the dialog (the proposed one, one chosen with …, one a caller sets) is checked at once (_tidy); one being
        typed (the field modified by the user) once typing pauses (_check_typed). Meanwhile the orange line, which
        names what the previous folder holds, is hidden."""
        if self.out_edit.text() != self._tidied:
            self._tidied = None  # another folder: checked again, even one typed back to
        self._forget_other_folder()
        if not self.out_edit.isModified():
            self._tidy()
            return
        self._stale = True
        self.delete_warning.hide()
        self.typed_timer.start()

    def _forget_other_folder(self) -> None:
        """What the dialog said of a folder the field no longer names goes as the text changes: the message line's
        note (its refusal, what _tidy put back beside it, that it is not a whole path, that its export failed) and
        its refusal, which disabled Export and the box. Kept for the same folder written another way (a '/' added,
        ~ for the home folder); a finished export's message is kept too, as the outcome (with Open folder)."""
        folder = self._folder()
        if self.message.text() and self.message.property("kind") != "success" and self._said_of != folder:
            self._show("info", "")
        if self._refusal is not None and self._refused != folder:
            self._refusal = self._refused = None
            self.overwrite_check.setToolTip(OVERWRITE_TIP)
            self._update_buttons()

    def _check_typed(self) -> None:
        """The folder in the field checked as a chosen one is (_tidy), unless it was since it was last changed."""
        self.typed_timer.stop()
        if self.out_edit.text() != self._tidied:
            self._tidy()

    def _update_folder_state(self, *_: Any) -> None:
        """What the folder in the field allows: one that holds files and no model export is refused at once (core's
        words in the message line, the box unticked and disabled, Export disabled), since exporting there could
        only fail or, with the box ticked, delete what it holds (a folder of documents picked by mistake); for any
        other, the orange line names what the ticked box deletes."""
        if self.exporting:
            return
        self._stale = False
        folder = self._folder()
        refusal = folder_refusal(self.run_dir, folder)
        refusal = window_words(refusal, self.run_dir, self.kind, self.checkpoint) if refusal else refusal
        if refusal != self._refusal:
            if self._refusal is not None and self.message.text().endswith(self._refusal):  # _tidy's notes first
                self._show("info", "")
            self._refusal = refusal
            self._refused = folder if refusal else None
            if refusal:
                self._show("error", refusal)
        if refusal and self.overwrite_check.isChecked():
            self.overwrite_check.setChecked(False)  # toggled: comes back here, with nothing left to change
        self.overwrite_check.setToolTip(refusal or OVERWRITE_TIP)
        names = held_names(folder) if folder is not None and self.overwrite_check.isChecked() else []
        self.delete_warning.setText(f"Exporting will delete what this folder holds now: {names_text(names)}."
                                    if names else "")
        self.delete_warning.setVisible(bool(names))
        self._update_buttons()

    def _set_default(self, button: QPushButton) -> None:
        """The button Enter presses: Export, and Open folder after a success (Export again went into the folder it
        had just filled, and failed), until the user changes the folder or the kind."""
        for other in (self.export_button, self.open_button):
            other.setDefault(other is button)

    def _folder_edited(self, *_: Any) -> None:
        self._set_default(self.export_button)
        self._update_buttons()

    def _update_buttons(self, *_: Any) -> None:
        busy = self.exporting
        for widget in (self.adapter_radio, self.merged_radio, self.out_edit, self.choose_button):
            widget.setEnabled(not busy)
        self.what_box.setEnabled(not busy and self._has_checkpoints)  # its tooltip says why not, with none
        if self._gone:
            self.what_box.setToolTip(f"<p>{html.escape(self._gone)}</p>")
        for widget in (self.dtype_row, self.dtype_note):  # an adapter is copied as the run saved it
            widget.setEnabled(not busy and self.kind == MERGED)
        self.overwrite_check.setEnabled(not busy and not self._refusal)
        self.export_button.setEnabled(not busy and bool(self.out_edit.text().strip()) and not self._refusal
                                      and not self._gone)
        self.export_button.setToolTip(self._gone or self._refusal or "")
        self.close_button.setEnabled(not busy)
        self.cancel_button.setVisible(busy)
        self.cancel_button.setEnabled(busy and not (self._cancel is not None and self._cancel.is_set()))
        self.close_button.setToolTip("The export finishes first: a half-written model is never left behind."
                                     if busy else "")

    def _show(self, kind: str, text: str) -> None:
        """`text` in the message line, said of the folder the field names now (_forget_other_folder)."""
        self._said_of = self._folder()
        self.message.setStyleSheet(MESSAGE_STYLE.get(kind, ""))
        self.message.setProperty("kind", kind)
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _choose_folder(self) -> None:
        path = dialogs.choose_folder(self, "Export into which folder?", str(Path(self.out_edit.text()).parent))
        if path:
            if path == self.out_edit.text():
                self._tidy()  # checked again: what it holds may have changed
            else:
                self.out_edit.setText(path)  # checked (_text_changed)
            self._folder_edited()

    def _tidy(self) -> None:
        """The check of the folder in the field as the dialog opens on it, proposes it (the kind changed), it is
        chosen, typed (once typing pauses, or the field is left) or exported into: what an export stopped while
        replacing it left (core.export.tidy_hidden) is cleared up, not only at the next export: an earlier export it
        had moved aside is put back (the folder seemed to have lost it), or named with that it can be deleted. Said in
        the message line, before the folder's refusal when it is refused; then what the folder allows
        (_update_folder_state)."""
        self.typed_timer.stop()
        if self.exporting:
            return
        written = self.out_edit.text()
        folder = self._folder()
        notes: list[str] = []
        if folder is not None and folder.is_absolute():
            try:
                notes = tidy_hidden(folder)
            except OSError:  # a folder that cannot be read: the export says what is wrong with it
                pass
        self._tidied = written
        self._notes = (written, notes)
        self._update_folder_state()
        if notes:
            self._show("error" if self._refusal else "info", " ".join([*notes, *filter(None, [self._refusal])]))

    # ---- the export
    @Slot()
    def start_export(self) -> None:
        if self.exporting:
            return
        # A folder typed a moment ago (or set by a caller) is checked first, as a chosen one is: its refusal stands,
        # and with the box ticked, the orange line names what it deletes before a second press deletes it.
        unseen = self._stale
        self._check_typed()
        if not self.out_edit.text().strip() or self._refusal:
            return
        if unseen and self.overwrite_check.isChecked() and self.delete_warning.isVisible():
            return
        written = self.out_edit.text()
        self._carried = self._notes[1] if self._notes[0] == written else []  # said by the dialog, not by core
        self._notes = ("", [])
        relay = self._relay

        def progress(line: str) -> None:  # pool thread
            if shiboken6.isValid(relay):
                relay.line.emit(str(line))

        self.result = None
        self.open_button.hide()
        self._set_default(self.export_button)
        self.load_row.hide()
        self._show("info", "")
        written = written.strip()
        out_dir = Path(written).expanduser()
        if not out_dir.is_absolute():
            self._show("error", relative_text(written, self.run_dir))
            return
        self._cancel = threading.Event()
        self._exporting_checkpoint = checkpoint = self.checkpoint
        picked = {} if checkpoint is None else {"checkpoint": checkpoint}  # the final model's call is as it was
        self.task.submit(_export, self.run_dir, self.kind, out_dir, self.overwrite_check.isChecked(), progress,
                         self._cancel, self.dtype if self.kind == MERGED else SAME_DTYPE, **picked)
        if self.kind == MERGED:
            phase = "Merging… (loads the base model)" if checkpoint is None else \
                f"Merging checkpoint-{checkpoint}… (loads the base model)"
        else:
            phase = "Copying the adapter…" if checkpoint is None else f"Copying the adapter of checkpoint-{checkpoint}…"
        self.phase_label.setText(phase)
        self.phase_label.show()
        self.busy.show()
        self._update_buttons()

    @Slot()
    def cancel_export(self) -> None:
        """Stop the export at its next stage; it ends in _failed with core's CANCELLED refusal."""
        if not self.exporting or self._cancel is None:
            return
        self._cancel.set()
        self.phase_label.setText("Cancelling… (the step under way finishes first; nothing of the export is kept)")
        self._update_buttons()

    @Slot(str)
    def _on_progress(self, line: str) -> None:
        if self.exporting and not (self._cancel is not None and self._cancel.is_set()):
            self.phase_label.setText(f"{line}…")

    def _finish(self) -> None:
        self.busy.hide()
        self.phase_label.hide()
        self._update_folder_state()  # the folder holds something else now

    @Slot(object)
    def _done(self, result: Any) -> None:
        self._finish()
        self.result = result
        self.overwrite_check.setChecked(False)  # deleting is asked for each time: not the export just written
        self._show("success", " ".join([result.message, *self._carried]))  # core says its own notes there too
        self.load_edit.setText(load_command(result.kind, result.out_dir, result.files))
        self.load_edit.setCursorPosition(0)
        self.load_row.show()
        self.open_button.show()
        self._set_default(self.open_button)
        self.open_button.setFocus()  # a focused button takes Enter itself, whichever is the default
        self.exported.emit(result)

    @Slot(object)
    def _failed(self, error: BaseException) -> None:
        from finetune_studio.core.errors import FinetuneError
        from finetune_studio.core.generate import DAMAGED

        self._finish()
        text = window_words(str(error), self.run_dir, self.kind, self._exporting_checkpoint) \
            if isinstance(error, FinetuneError) else \
            f"The export failed: {type(error).__name__}: {(str(error).strip().splitlines() or [''])[0]}"
        if getattr(error, "kind", None) == CANCELLED:
            self._show("info", text)
            return
        picked = self._exporting_checkpoint
        refusal = getattr(error, "refusal", None)
        if picked is not None and refusal is not None:
            # The checkpoint went, is damaged, or the run deleted it while it was exported (core's CheckpointRefusal):
            # said as the Model box, which now lists the run's models as they are.
            self._refresh_choices(picked if refusal.cause == DAMAGED else None)
            text = refused_pick_text(refusal, [choice.checkpoint for choice in self.choices], "Nothing was exported.",
                                     "open another run, or resume this one until it saves a whole checkpoint.")
        else:  # the run's folder, or its final model, may have gone too: the box lists what is left
            had_final = any(choice.checkpoint is None for choice in self.choices)
            self._refresh_choices()
            if picked is None and had_final and not self._gone and self.checkpoint is not None:
                text += (" Or export one of its checkpoints: the Model box now picks the newest, "
                         f"{self.what_box.currentText()}.")
        if self._gone:
            text = self._gone
        self._show("error", " ".join([*self._carried, self._not_empty_text(error) or text]))  # as core says its own

    def _not_empty_text(self, error: BaseException) -> str | None:
        """core.export's refusal of a folder that holds files names the command line's fixes ("choose another
        folder (--out DIR), or delete it first"); here the fix is also the checkbox under the field, and the user
        sees which files it would replace before ticking it."""
        from finetune_studio.core.export import NOT_EMPTY, earlier_export_text

        if getattr(error, "problem", None) != NOT_EMPTY or self.overwrite_check.isChecked():
            return None
        out_dir = Path(self.out_edit.text().strip()).expanduser()
        names = held_names(out_dir)
        if not names:
            return None
        notes = "".join(f"{note} " for note in getattr(error, "notes", ()))  # an earlier export put back, first
        earlier = earlier_export_text(out_dir, self.run_dir)  # which, as the command line says it (helper-217)
        return (f"{notes}{out_dir} exists already and holds {names_text(names)}. It is {earlier}. Nothing was written. "
                "To fix: tick “"
                f"{self.overwrite_check.text()}” if you no longer need what it holds, or choose another folder.")

    def _copy_load_command(self) -> None:
        QGuiApplication.clipboard().setText(self.load_edit.text())

    def _open_folder(self) -> None:
        if self.result is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.result.out_dir)))

    def reject(self) -> None:
        if self.exporting:
            return  # a merge cannot be interrupted half-way; Close is disabled meanwhile
        super().reject()


# The states in which the run shown is being trained (here, or in another process): its models are still being
# written, and the Export… button waits until it ends; for a run another process trains, it offers the complete
# checkpoints saved so far (trained_elsewhere).
TRAINING_STATES = (RunState.PREPARING, RunState.RUNNING, RunState.STOPPING)
# How often the button looks again at a run another process trains, for its first complete checkpoint.
ELSEWHERE_POLL_MS = 5000


def trained_elsewhere(session: Session) -> bool:
    """The run the window shows is being trained by another process (the window follows it: state RUNNING, read
    from its status.json, while this window trains nothing and the run's lock is alive)."""
    return (session.state is RunState.RUNNING and not session.running and session.run_dir is not None
            and training_record(session.run_dir) is not None)


class ExportController(QObject):
    """The "Export…" button beside the run header's "Open folder": shown for an adapter run that is not training and
    saved an adapter (a finished run's final model, or a stopped or failed run's checkpoints: exportable_run), and
    for one another process trains that has saved a complete checkpoint (the dialog offers those), it opens the
    ExportDialog for the run the window shows. Reads the session; holds no window."""

    def __init__(self, session: Session, show_message: Callable[[str, int], None], parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self._show_message = show_message
        self.dialog: ExportDialog | None = None
        self.button = QPushButton("Export…")
        self.button.setObjectName("export_model")
        self._tip = ("Export this run's adapter (its final model or a checkpoint) alone, or merged into its base model "
                     "as an ordinary model")
        self.button.setToolTip(self._tip)
        self.button.clicked.connect(lambda: self.open_export())
        self.button.hide()
        # While another process trains the shown run, its first complete checkpoint (or the end of its lock) is
        # looked for now and then: nothing in the session changes when it saves one.
        self.poll = QTimer(self)
        self.poll.setInterval(ELSEWHERE_POLL_MS)
        self.poll.timeout.connect(self.show_run_state)
        SessionSignals(session, self).run_changed.connect(self.show_run_state)
        self.show_run_state()

    def place(self, header: Any) -> None:
        """Beside "Open folder" in the run header (gui.run_header.RunHeader.add_actions)."""
        header.add_actions(self.button)

    @Slot()
    def show_run_state(self) -> None:
        idle = self.session.state not in TRAINING_STATES and not self.session.running  # checked first: no disk read
        elsewhere = not idle and trained_elsewhere(self.session)
        self.button.setVisible(exportable_run(self.session.run_dir) if idle else elsewhere and any(
            choice.checkpoint is not None for choice in exportable_now(self.session.run_dir)))
        self.button.setToolTip(self._tip if not elsewhere else f"{self._tip}. The run is still training in another "
                               "process: its complete checkpoints can be exported now, its final model once it ends")
        if elsewhere and not self.poll.isActive():
            self.poll.start()
        elif not elsewhere:
            self.poll.stop()

    def open_export(self, kind: str = ADAPTER) -> ExportDialog | None:
        """The export dialog for the run the window shows (window-modal, not blocking the caller)."""
        run_dir = self.session.run_dir
        if not exportable_run(run_dir):
            # Deleted, moved or renamed (or its adapters deleted) since the button was shown: pressing it did
            # nothing, and it stayed. Said in the status bar; the button goes.
            if run_dir is not None:
                problem = run_folder_problem(run_dir)
                self._show_message(run_gone_text(Path(run_dir)) if problem is not None and problem.kind == MISSING
                                   else nothing_left_text(Path(run_dir)), 15_000)
            self.button.hide()
            return None
        if self.dialog is not None and shiboken6.isValid(self.dialog) and self.dialog.isVisible():
            self.dialog.raise_()
            return self.dialog
        dialog = ExportDialog(Path(run_dir), self.button.window(), kind=kind)
        dialog.exported.connect(lambda result: self._show_message(result.message, 15_000))
        self.dialog = dialog
        dialog.open()
        return dialog
