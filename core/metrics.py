"""A run's metrics.jsonl, written and read in one place: its events, its curves, and the figures of its summary.

Every view of a run reads it through this module, so they cannot disagree: the live chart and the compared runs
(gui/chart.py builds its curves with `RunCurves` over its numpy series), the Runs tab and `finetune-studio runs`
(core.runs.summarize folds the events into a `MetricsTally`, which keeps its losses in a `RunCurves`), and the
model card's loss curve (`loss_points`).

The resume rule lives in `RunCurves.add_event` and nowhere else: a resumed run starts at its checkpoint's step
(its `train_begin` says `start_step`), so whatever was logged past that step belongs to the attempt that was cut
short and is dropped; a step logged again replaces the points from that step on. A whole metrics.jsonl with
several segments (run_start … end, run_start (resume) …) therefore becomes one clean curve.

This is its own module, not part of core/runs.py, because the chart needs the curves without the run folders'
locks and listings, and because the format of one file is a fact of its own (core/events.py declares the events).
"""

from __future__ import annotations

import json
import math
import os
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol

from finetune_studio.core.events import Event, EventKind

METRICS_FILE = "metrics.jsonl"


# ---------------------------------------------------------------------------------------------- the file


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


def read_metrics(path: Path, start: int = 0) -> tuple[list[Event], int]:
    """Events from byte offset `start`, and the offset to continue from.

    A torn last line (a writer killed mid-write, or one still writing) is left for the next read rather than
    failing, so a follower can poll this while another process appends. Lines end at "\\n" only: a damaged line
    holding a bare carriage return is one line to skip, not the end of what can be read (splitlines() ended the
    read there, so nothing after it was ever read, and a follower stayed at that line for good).
    """
    try:
        with open(path, "rb") as handle:
            handle.seek(start)
            data = handle.read()
    except FileNotFoundError:
        return [], start
    complete = data.rfind(b"\n") + 1  # the lines a newline ends; what follows is torn, or still being written
    return _events_in(data[:complete]), start + complete


def log_identity(path: Path) -> tuple[int, int] | None:
    """The file's device and inode (None if it cannot be read): a file put in its place has other ones."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def log_restarted(path: Path, offset: int, identity: tuple[int, int] | None) -> bool:
    """Whether a metrics.jsonl read up to `offset` (just past a line's end) is no longer the file that was read:
    shorter than that, another file (`identity`, see log_identity), or with no line ending at that offset. A file
    that cannot be read now is not said to be replaced (a follower reads nothing from it, and tries again). Whoever
    reads a log on from an offset (the Runs tab's follower, core.runs.summarize's tally) reads it again from its
    start when this says so: read on, past the end of a shorter file it read nothing for good, and inside another
    one it read from the middle of a line."""
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if info.st_size < offset or (identity is not None and (info.st_dev, info.st_ino) != identity):
                return True
            if offset <= 0:
                return False
            handle.seek(offset - 1)
            return handle.read(1) != b"\n"
    except OSError:
        return False


READ_CHUNK = 1 << 14  # bytes per piece in read_metrics_chunks (see there)


def read_metrics_chunks(path: Path, start: int = 0, end: int | None = None,
                        size: int = READ_CHUNK) -> Iterator[tuple[list[Event], int]]:
    """read_metrics(path, start) in pieces of about `size` bytes, each split at a line's end: (events, offset to
    continue from) per piece, the same events in all as read_metrics reads, stopping at byte `end` when given.

    For reading a long log in a worker thread: one decode or split of a 50 MB file holds the GIL for ~0.1 s, and
    with it the GUI thread; a piece of 16 KiB (~60 lines) for well under a millisecond, and a reader that yields
    the GIL between pieces (gui.main_window.read_recorded) lets the GUI thread in that often. Its events are folded
    and dropped before the next piece is parsed, so few are alive when the collector runs: a 200k-line log read in
    1 MiB pieces had thousands promoted to the oldest generation, and full collections (~0.2 s each, the GUI
    thread stopped too) followed. A missing file yields nothing.
    """
    offset = start
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return
    with handle:
        handle.seek(start)
        # What follows the last line end read, in pieces: joined once a line end comes. Joined to every block read
        # (carry + block), a long stretch with no line end (a crash's zero-filled tail, a garbled log) was copied
        # and searched again per piece: 32 MB of NUL bytes took 32 s (now 0.03 s), and the Runs tab's listing,
        # one pass at a time, showed no change meanwhile.
        carry: list[bytes] = []
        carried = 0
        while end is None or offset + carried < end:
            want = size if end is None else min(size, end - offset - carried)
            block = handle.read(want)
            if not block:
                break
            complete = block.rfind(b"\n") + 1
            if not complete:
                carry.append(block)
                carried += len(block)
                continue
            data = b"".join([*carry, block[:complete]]) if carry else block[:complete]
            carry = [block[complete:]] if complete < len(block) else []
            carried = len(block) - complete
            offset += len(data)
            yield _events_in(data), offset


def _events_in(data: bytes) -> list[Event]:
    """The events of `data`, whole lines each ending in "\\n"; lines that are no event are skipped."""
    events: list[Event] = []
    try:
        lines = data.decode("utf-8").split("\n")
    except UnicodeDecodeError:  # a damaged line: decode line by line, and skip the lines that are not UTF-8
        lines = [_utf8(line) for line in data.split(b"\n")]
    append = events.append
    for line in lines:
        text = line.strip(_BLANK)
        if not text:
            continue
        if text[0] == "\ufeff":  # a byte order mark (a log saved by an editor), as json.loads reads bytes
            text = text[1:]
        try:
            event, end = _decode(text)
        except (ValueError, RecursionError):  # not JSON (a torn line followed by a newer complete one), or nested
            continue  # past the parser's depth: skip it, keep the rest
        if end == len(text) and type(event) is dict:  # a list, a number, two values on a line: no event either
            append(event)
    return events


_BLANK = " \t\r\x0b\x0c"  # what bytes.strip() took off a line
_decode = json.JSONDecoder().raw_decode  # one scan per line: json.loads' checks cost more than the parse


def _utf8(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return ""


# ---------------------------------------------------------------------------------------------- curves


def number(value: Any) -> float | None:
    """A logged figure as a float: numbers, and the text "nan"/"inf" that core.training writes for non-finite
    values (as float nan/inf); None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


LAST_TIMESTAMP = 253_402_300_799.0  # 9999-12-31 23:59:59 UTC: the last time a datetime holds


def timestamp(value: Any) -> float | None:
    """A logged event's time (Unix seconds) as a float, or None where it is no time a clock gave: not a number,
    not finite, before 1970 or past the year 9999. A garbled line's 1e300 or "nan" became the run's start, and
    the Runs tab's Started column raised at every paint (OverflowError: timestamp out of range, ValueError:
    Invalid value NaN) while its Time read 0:00 or 1e20 seconds."""
    result = number(value)
    return result if result is not None and 0.0 <= result <= LAST_TIMESTAMP else None


def finite(value: Any) -> float | None:
    """A logged figure as a float when it is a finite number, else None."""
    result = number(value)
    return result if result is not None and math.isfinite(result) else None


class Series(Protocol):
    """Where a curve keeps its points: `Points` here, numpy buffers in gui/chart.py (same rules)."""

    def append(self, x: float, y: float) -> None: ...  # a point at or before the last replaces those from it on
    def truncate_after(self, x: float) -> None: ...
    def clear(self) -> None: ...


class Points:
    """x/y points (x strictly increasing) in compact arrays: the curves of every listed run stay small."""

    def __init__(self) -> None:
        self.x, self.y = array("d"), array("d")

    def append(self, x: float, y: float) -> None:
        if self.x and x <= self.x[-1]:
            self._cut(self._first_at_or_after(x))
        self.x.append(x)
        self.y.append(y)

    def truncate_after(self, x: float) -> None:
        size = len(self.x)
        while size and self.x[size - 1] > x:
            size -= 1
        self._cut(size)

    def clear(self) -> None:
        self._cut(0)

    def _first_at_or_after(self, x: float) -> int:
        low, high = 0, len(self.x)
        while low < high:
            middle = (low + high) // 2
            if self.x[middle] < x:
                low = middle + 1
            else:
                high = middle
        return low

    def _cut(self, size: int) -> None:
        del self.x[size:]
        del self.y[size:]

    def pairs(self) -> list[tuple[float, float]]:
        return list(zip(self.x, self.y))

    def last(self) -> float | None:
        return self.y[-1] if self.y else None

    def copy(self) -> "Points":
        other = Points()
        other.x, other.y = array("d", self.x), array("d", self.y)
        return other

    def __len__(self) -> int:
        return len(self.x)


class _NoPoints:
    """A curve nobody asked for (the summary needs no learning rate): takes points and keeps none."""

    def append(self, x: float, y: float) -> None:
        pass

    def truncate_after(self, x: float) -> None:
        pass

    def clear(self) -> None:
        pass


# log event key -> curve attribute
LOG_CURVES = (("loss", "train"), ("learning_rate", "lr"), ("grad_norm", "grad"))
# The kinds as plain strings, for the loops that fold 100k-line logs.
_LOG, _EVAL, _TRAIN_BEGIN = EventKind.LOG.value, EventKind.EVAL.value, EventKind.TRAIN_BEGIN.value
# Looked up with `in`: lists, not sets, so an "event" that is a list or an object in a damaged line is simply not
# one of them (a set raised TypeError: unhashable type, and the chart, the Runs tab and `finetune-studio runs` with
# it); a list of three or six strings is as fast to search as a set.
_CURVE_KINDS = [_LOG, _EVAL, _TRAIN_BEGIN]
_STEP_KINDS = [kind.value for kind in (EventKind.STEP, EventKind.LOG, EventKind.EVAL, EventKind.TRAIN_BEGIN,
                                       EventKind.END, EventKind.CHECKPOINT)]


class _FollowsLog:
    """What every set of curves built from a run's events does: apply a batch of events, or what was appended to
    the run's metrics.jsonl since the last read (`offset`), each through the class's own add_event."""

    offset: int

    def add_event(self, event: Any) -> bool:
        raise NotImplementedError

    def add_events(self, events: Iterable[Any]) -> bool:
        changed = False
        for event in events:
            changed = self.add_event(event) or changed
        return changed

    def read_more(self, path: Path) -> bool:
        """Apply what was appended to the run's metrics.jsonl since the last read; True if a curve changed."""
        events, self.offset = read_metrics(Path(path), self.offset)
        return self.add_events(events)


class RunCurves(_FollowsLog):
    """A run's curves built from its events: train loss, eval loss, learning rate and gradient norm by step.

    Non-finite losses (a diverged run logs "nan") are not drawn: they are kept apart, in `skipped`, under the same
    rules (a step logged again replaces what was logged from that step on, finite or not; the resume rule drops
    what was logged past the checkpoint), so `last_loss` can say a run diverged and the chart can say what it did
    not draw.
    """

    def __init__(self, series: Callable[[], Series] = Points, lower: bool = True) -> None:
        """series: makes one curve's storage; lower: keep learning rate and gradient norm (the chart's lower
        plot) too, not only the losses."""
        extra: Callable[[], Series] = series if lower else _NoPoints
        self.train, self.evals, self.lr, self.grad = series(), series(), extra(), extra()
        self.offset = 0  # how far its metrics.jsonl was read (for followers)
        self.max_steps: float | None = None  # the run's length, from its latest train_begin
        # "train"/"evals" -> the (step, nan/inf) losses not drawn. Points whatever `series` is: usually none or one.
        self.skipped: dict[str, Points] = {"train": Points(), "evals": Points()}

    @property
    def all(self) -> tuple[Series, ...]:
        return self.train, self.evals, self.lr, self.grad

    def add_event(self, event: Any) -> bool:
        """Apply one event; True if any curve changed."""
        if not isinstance(event, dict):
            return False
        kind = event.get("event")
        if kind not in _CURVE_KINDS:  # most lines are step events: leave them at one lookup
            return False
        step = finite(event.get("step"))
        if kind == _LOG and step is not None:
            return any([self._add(name, step, event[key]) for key, name in LOG_CURVES if key in event])
        if kind == _EVAL and step is not None and "eval_loss" in event:
            return self._add("evals", step, event["eval_loss"])
        if kind == _TRAIN_BEGIN:
            total = finite(event.get("max_steps"))
            self.max_steps = total if total is not None and total > 0 else self.max_steps
            start = finite(event.get("start_step", event.get("step")))
            if start is None:
                return False
            # The resume rule: what was logged past the checkpoint belongs to the attempt that was cut short (an
            # eval logged after the checkpoint would otherwise linger until the run got there again).
            for series in (*self.all, *self.skipped.values()):
                series.truncate_after(start)
            return True
        return False

    def _add(self, name: str, step: float, raw: Any) -> bool:
        value = number(raw)
        if value is None:
            return False
        skipped = self.skipped.get(name)
        if not math.isfinite(value):
            if skipped is None:  # a learning rate or gradient norm: not drawn, and nothing says it
                return False
            getattr(self, name).truncate_after(math.nextafter(step, -math.inf))  # logged again from this step on
            skipped.append(step, value)
            return True
        if skipped and skipped.x[-1] >= step:
            skipped.truncate_after(math.nextafter(step, -math.inf))
        getattr(self, name).append(step, value)
        return True

    def last_loss(self, name: str = "train") -> float | None:
        """The latest logged value of the train ("train") or eval ("evals") loss, non-finite included."""
        series, skipped = getattr(self, name), self.skipped[name]
        drawn = series.last() if isinstance(series, Points) else None
        # Each kind of value replaces the other from its step on, so the one that reaches further was logged last.
        if skipped and (drawn is None or skipped.x[-1] > series.x[-1]):
            return skipped.y[-1]
        return drawn

    def clear(self) -> None:
        for series in self.all:
            series.clear()
        self.offset = 0
        self.max_steps = None
        for skipped in self.skipped.values():
            skipped.clear()

    def copy(self) -> "RunCurves":
        """An independent copy (of curves kept in `Points`)."""
        other = RunCurves.__new__(RunCurves)
        other.train, other.evals = (s.copy() if isinstance(s, Points) else s for s in (self.train, self.evals))
        other.lr, other.grad = (s.copy() if isinstance(s, Points) else s for s in (self.lr, self.grad))
        other.offset, other.max_steps = self.offset, self.max_steps
        other.skipped = {name: skipped.copy() for name, skipped in self.skipped.items()}
        return other


def read_curves(path: Path) -> RunCurves:
    """The curves of the run whose metrics.jsonl is `path`."""
    curves = RunCurves()
    curves.read_more(path)
    return curves


def loss_points(events: Iterable[Any]) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(step, train loss) and (step, eval loss) after the resume rule, finite values only: the model card's curve,
    the same points the chart draws."""
    curves = RunCurves(lower=False)
    curves.add_events(events)
    return curves.train.pairs(), curves.evals.pairs()


# ---------------------------------------------------------------------------------------------- the summary


_RUN_START, _END, _DATA = EventKind.RUN_START.value, EventKind.END.value, EventKind.DATA.value
_SUMMARY = EventKind.SUMMARY.value


@dataclass
class MetricsTally:
    """What a run's summary (the Runs tab, `finetune-studio runs`) needs from metrics.jsonl, folded event by event.

    It remembers the byte offset it has read up to, so summarizing a growing log (a run still training) reads
    only the new lines instead of re-parsing a file that can reach 100k lines. Its losses come from the same
    `RunCurves` the chart draws, so the last loss in the table is the last point of the curve.
    """

    offset: int = 0
    identity: tuple[int, int] | None = field(default=None, compare=False)  # the log read (log_identity)
    events: int = 0
    step: int | None = None
    max_steps: int | None = None
    first_time: float | None = None
    last_time: float | None = None
    closed_s: float = 0.0  # time spent in earlier segments (a stopped run resumed later starts a new one)
    segment_start: float | None = None
    end_state: str | None = None
    end_message: str | None = None
    end_train_loss: float | None = None  # what the last end event reported, for runs that logged no loss
    end_eval_loss: float | None = None
    begin_step: int = 0  # the latest train_begin's start_step: 0 unless resumed
    # The step of the latest logging window that logged no loss (it trained no token), after the resume rule.
    lossless_step: float | None = None
    # The Trainer's summary train_loss -> the step its stretch began at (the latest summary that reported it).
    summary_starts: dict[float, int] = field(default_factory=dict, repr=False, compare=False)
    # The run's first data event: what it began training on, which a resume compares its data with.
    first_data: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    curves: RunCurves = field(default_factory=lambda: RunCurves(lower=False), repr=False, compare=False)

    def add(self, event: Any) -> None:
        if not isinstance(event, dict):
            return  # a line that is valid JSON but not an event (hand-edited or corrupted)
        self.events += 1
        self.curves.add_event(event)
        kind = event.get("event")
        when = timestamp(event.get("time"))
        if when is not None:
            if kind == _RUN_START:
                if self.segment_start is not None and self.last_time is not None:
                    self.closed_s += max(0.0, self.last_time - self.segment_start)
                self.segment_start = when
                self.end_state = self.end_message = None
            elif self.segment_start is None:
                self.segment_start = when
            if self.first_time is None:
                self.first_time = when
            self.last_time = when
        step = integer(event.get("step"))
        if step is not None and step >= 0 and kind in _STEP_KINDS:  # a garbled -3 listed as "-3 / 10"
            self.step = step
        max_steps = integer(event.get("max_steps"))
        if max_steps and max_steps > 0:  # and a -5 as "3 / -5"
            self.max_steps = max_steps
        if kind == _DATA and self.first_data is None:
            self.first_data = dict(event)
        if kind == _TRAIN_BEGIN:
            self.begin_step = integer(event.get("start_step")) or 0
            start = finite(event.get("start_step", event.get("step")))
            if start is not None and self.lossless_step is not None and self.lossless_step > start:
                self.lossless_step = None  # logged by the attempt cut short past the checkpoint (the resume rule)
        elif kind == _LOG and "loss" not in event:
            logged = finite(event.get("step"))
            if logged is not None:
                self.lossless_step = logged
        elif kind == _SUMMARY:
            loss = finite(event.get("train_loss"))
            if loss is not None:
                self.summary_starts[loss] = self.begin_step
        if kind == _END:
            self.end_state = event.get("state") if isinstance(event.get("state"), str) else None
            self.end_message = event.get("message") if isinstance(event.get("message"), str) else None
            self.end_train_loss = number(event.get("train_loss"))
            self.end_eval_loss = number(event.get("eval_loss"))

    @property
    def train_loss(self) -> float | None:
        """The last logged training loss (as the curve has it after a resume), else what the end event said."""
        loss = self.curves.last_loss("train")
        return loss if loss is not None else self.end_train_loss

    def train_loss_note(self, value: float | None, step: int | None) -> str:
        """What the final train loss `value` of a run that ended at `step` is, where it is not the loss at that
        step ("" where it is, or where nothing says otherwise): the model card, the Runs tab and `finetune-studio
        runs` say it in these words, by this one rule.

        - The last loss logged, when no loss was logged in the steps after it, for a resumed run (whose steps after
          the resume logged none) or where logging windows after it ended with no loss (they trained no token):
          "the last loss logged, at step 4; none was logged in the 2 steps after it". Not for a run never resumed
          that stopped between two logging steps: its loss trails by less than a logging window, as a live run's
          does, and nothing else is behind it (the Runs tab left it unmarked since 9931b81; the card said it).
        - The Trainer's mean over the steps trained after a resume alone, when the run logged no loss step by step
          (logging_strategy no): the figure is that stretch's, not the whole run's as an uninterrupted run's is.
        """
        if value is None or not math.isfinite(value) or step is None:
            return ""
        train = self.curves.train
        logged = None
        if isinstance(train, Points):
            logged = next((x for x, y in zip(reversed(train.x), reversed(train.y)) if y == value), None)
        if logged is not None:
            windows_without_loss = self.lossless_step is not None and self.lossless_step > logged
            if logged < step and (self.begin_step > 0 or windows_without_loss):
                after = step - int(logged)
                return f"the last loss logged, at step {count_text(logged)}; none was logged in the " \
                       f"{count_text(after)} step{'' if after == 1 else 's'} after it"
            return ""
        start = self.summary_starts.get(value)
        if start and step > start:
            span = f"step {count_text(step)}" if step - start == 1 else \
                f"steps {count_text(start + 1)} to {count_text(step)}"
            return (f"the mean over {span} alone: the run was resumed from step {count_text(start)}, and it logged no "
                    "loss step by step, so the steps before are not in it")
        return ""

    @property
    def eval_loss(self) -> float | None:
        loss = self.curves.last_loss("evals")
        return loss if loss is not None else self.end_eval_loss

    @property
    def duration_s(self) -> float | None:
        """Time spent running, summed over segments: the days a stopped run sat waiting do not count."""
        if self.segment_start is None or self.last_time is None:
            return None
        return self.closed_s + max(0.0, self.last_time - self.segment_start)

    def copy(self) -> "MetricsTally":
        """An independent copy, to continue reading from where this one stopped."""
        from dataclasses import replace

        return replace(self, curves=self.curves.copy(), summary_starts=dict(self.summary_starts))


def train_loss_note(events: Iterable[Any], value: float | None, step: int | None) -> str:
    """MetricsTally.train_loss_note for a run's whole list of events (the model card's reading)."""
    tally = MetricsTally()
    for event in events:
        tally.add(event)
    return tally.train_loss_note(value, step)


LOSS_DIGITS_BOUND = 1e5  # from here on loss_text writes a loss in short


def loss_text(value: float) -> str:
    """A logged loss for a table: four decimals, from LOSS_DIGITS_BOUND on in short (four figures: 3.403e+38), and a
    non-finite one as it is (nan, inf). A diverging float32 run logs losses up to 3.4e38 before inf, which four
    decimals wrote in 44 characters: the Runs tab's Loss column took the width of every other column's text."""
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4f}" if abs(value) < LOSS_DIGITS_BOUND else f"{value:.4g}"


COUNT_DIGITS_BOUND = 10**9  # from here on count_text writes a count in short


def count_text(value: Any) -> str:
    """A step count in words for people: 1,234,567 with separators, and from COUNT_DIGITS_BOUND on in short, three
    figures at most (1e18, 1.23e12), for `finetune-studio runs` too (core.cli.step_count calls it); anything
    not a whole number as it is. The loss note wrote a float's %g ('at step 1.23457e+06', six figures of 1234567)
    and a whole count in full ('in the 999999999999999998 steps after it', a broken run's step of 1e18)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return str(value)
    if abs(value) < COUNT_DIGITS_BOUND:
        return f"{value:,}"
    from decimal import Decimal  # exact for any int: float() overflows past about 1.8e308

    mantissa, exponent = format(Decimal(value), ".2e").split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def integer(value: Any) -> int | None:
    """A logged count (a step, a pid) as an int; None for anything that is not one (JSON's Infinity too: int()
    raises OverflowError for it, and `finetune-studio runs` ended with "Training failed: OverflowError")."""
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


# ---------------------------------------------------------------------------------------------- resources


_STEP = EventKind.STEP.value


class ResourceCurves(_FollowsLog):
    """Memory and GPU use by step, from a run's step events: `memory` is each step's memory_mb (the process's
    resident memory on the CPU, torch's peak allocation on a GPU); `gpu_memory[i]` and `gpu_util[i]` are the i-th
    GPU of the run (gpu_memory_mb, gpu_util: NVML samples, at most every 2 s). The resume rule as in RunCurves: a
    train_begin drops what was recorded past its start_step."""

    def __init__(self) -> None:
        self.memory = Points()
        self.gpu_memory: list[Points] = []
        self.gpu_util: list[Points] = []
        self.offset = 0

    def add_event(self, event: Any) -> bool:
        """Apply one event; True if a curve changed."""
        if not isinstance(event, dict):
            return False
        kind = event.get("event")
        if kind == _TRAIN_BEGIN:
            start = finite(event.get("start_step", event.get("step")))
            if start is None:
                return False
            for series in (self.memory, *self.gpu_memory, *self.gpu_util):
                series.truncate_after(start)
            return True
        if kind != _STEP:
            return False
        step = finite(event.get("step"))
        if step is None:
            return False
        changed = False
        memory = finite(event.get("memory_mb"))
        if memory is not None:
            self.memory.append(step, memory)
            changed = True
        for key, curves in (("gpu_memory_mb", self.gpu_memory), ("gpu_util", self.gpu_util)):
            values = event.get(key)
            if not isinstance(values, list):
                continue
            while len(curves) < len(values):
                curves.append(Points())
            for curve, value in zip(curves, values):
                number_ = finite(value)
                if number_ is not None:
                    curve.append(step, number_)
                    changed = True
        return changed

    def clear(self) -> None:
        for series in (self.memory, *self.gpu_memory, *self.gpu_util):
            series.clear()
        self.gpu_memory, self.gpu_util = [], []
        self.offset = 0

