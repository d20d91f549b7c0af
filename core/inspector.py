"""The Dataset Inspector's Qt-free half: rows as they will be tokenized, and whole-dataset checks of what trains.

It needs the tokenizer only, never the model's weights, so it works before any weights are downloaded and while
another run trains. Every row goes through `core.chat.render_and_label`, the function training uses, so what the
Inspector shows is what the loss is on.

The whole-dataset checks (`Inspector.check`) walk every row once, in the calling thread (the GUI runs them in a
worker), report progress to a plain `progress(done, total)` callable, stop at a `threading.Event`, and keep their
per-row counts in a cache keyed by the data's fingerprint, the tokenizer, the chat settings and max_length, so
asking again for the same settings reads a small file instead of tokenizing the dataset again. What a check finds
comes back as `CheckProblem`s, each with the one-click `Fix`es that remove it (raise max_length, drop such rows,
train on everything), as config overrides the GUI applies and the CLI could print.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from finetune_studio.core.config import ChatConfig, DatasetConfig, ModelConfig, RunConfig

if TYPE_CHECKING:  # core.chat's SpanEnds: the one end-of-turn rule, for the rows here and for a run's own check
    from finetune_studio.core.chat import SpanEnds

ROLES = ("trained", "prompt", "system", "special", "cut")
# What each role means, for the legend (the GUI colours them; the CLI could print them).
ROLE_LABELS = {
    "trained": "trained: the loss is on these tokens",
    "prompt": "masked: prompt (user turns, instruction)",
    "system": "masked: system prompt",
    "special": "special token (masked)",
    "cut": "cut off by max_length (never seen)",
}
# 2: the "blank" column; 3: "weight_0"; 4: tool calls and text parts train; 5: JSON tool results; 6: ChatML writes
# tool calls, a tools block with no system turn of the row counts as "system", the "tools" column
CACHE_VERSION = 6
PROGRESS_EVERY = 500  # rows between two progress reports: often enough for a smooth bar, rarely enough to be free
BATCH_ROWS = 1000
EXAMPLE_ROWS = 20  # row numbers kept per problem, for "show me one"
HISTOGRAM_BINS = 30

Progress = Callable[[int, int], None]
Label = Callable[[dict], Any]  # a row -> core.chat.TokenRoles

# Columns of the per-row table kept in the cache (one int per row each).
COUNT_COLUMNS = ("total", "trained", "prompt", "system", "special", "cut", "cut_trained", "first_trained",
                 "spans", "spans_ended", "failed", "blank",  # blank: plain text that gives no tokens (a run drops it)
                 "weight_0",  # weight_0: a row that trains nothing because every reply in it has the weight 0
                 "tools")  # tools: of a row max_length cuts, the tokens its template writes for its tools


@dataclass
class Fix:
    """One click that removes a problem: config overrides by dotted key, e.g. {"dataset.max_length": 1024}."""

    label: str
    overrides: dict[str, Any]


@dataclass
class CheckProblem:
    kind: str  # "failed", "no_trained", "cut_before_reply", "weight_0", "reply_cut", "end_not_trained", "row_problem"
    message: str  # what is wrong and what to do, in words a user understands
    count: int  # rows affected
    rows: list[int]  # the first few of them (0-based row indices)
    fixes: list[Fix] = field(default_factory=list)
    severity: str = "warning"  # "error": nothing trains on these rows; "warning": something is lost


@dataclass
class DatasetChecks:
    """What the whole-dataset pass found, and the per-row counts (numpy arrays) it found it from."""

    rows: int
    max_length: int
    counts: dict[str, Any]  # COUNT_COLUMNS -> numpy int64 array, one value per row
    failures: dict[int, str]  # the first rows that could not be rendered -> why (core.chat's words for it)
    template_name: str
    seconds: float  # of the pass that computed this (not of reading the cache)
    format: str = "messages"  # the row format checked: a plain text row has no turns to end
    from_cache: bool = False

    def _rows(self, mask: Any) -> list[int]:
        import numpy as np

        return [int(i) for i in np.flatnonzero(mask)]

    @property
    def total_trained(self) -> int:
        return int(self.counts["trained"].sum())

    @property
    def total_tokens(self) -> int:
        return int((self.counts["total"] - self.counts["cut"]).sum())

    def failed_rows(self) -> list[int]:
        return self._rows(self.counts["failed"] > 0)

    def blank_rows(self) -> list[int]:
        """Plain-text rows whose text gives no tokens: a run leaves them out (core.data.tokenize_and_split)."""
        return self._rows(self.counts["blank"] > 0)

    @property
    def _rendered(self) -> Any:
        return (self.counts["failed"] == 0) & (self.counts["blank"] == 0)

    def no_trained_rows(self) -> list[int]:
        c = self.counts
        return self._rows(self._rendered & (c["trained"] == 0))

    def cut_before_reply_rows(self) -> list[int]:
        """Rows that would train something, but max_length cuts before the first trained token."""
        c = self.counts
        return self._rows(self._rendered & (c["trained"] == 0) & (c["cut_trained"] > 0))

    def weight_0_rows(self) -> list[int]:
        """Rows that train nothing because every reply in them has the weight 0 (max_length cuts none of them)."""
        c = self.counts
        return self._rows(self._rendered & (c["trained"] == 0) & (c["cut_trained"] == 0) & (c["weight_0"] > 0))

    def reply_cut_rows(self) -> list[int]:
        """Rows that keep some trained tokens but lose part of a reply to max_length."""
        c = self.counts
        return self._rows((c["trained"] > 0) & (c["cut_trained"] > 0))

    def end_not_trained_rows(self) -> list[int]:
        """Rows with a trained reply whose last token is not the end-of-turn / EOS token (the model would not
        learn to stop). A reply cut by max_length counts here too: its end was cut off."""
        c = self.counts
        return self._rows((c["spans"] > 0) & (c["spans_ended"] < c["spans"]))

    @property
    def end_trained(self) -> bool:
        """Whether every trained reply ends with its end-of-turn token (plain text has no turns: True)."""
        return self.format == "text" or (not self.end_not_trained_rows() and bool(self.counts["spans"].any()))

    def histogram(self, bins: int = HISTOGRAM_BINS) -> tuple[list[int], list[int], list[int]]:
        """Shared bin edges and, per bin, the rows whose trained / prompt (prompt + system) token count falls in it."""
        import numpy as np

        c = self.counts
        ok = self._rendered
        trained, prompt = c["trained"][ok], (c["prompt"] + c["system"])[ok]
        top = int(max(1, trained.max(initial=0), prompt.max(initial=0)))
        width = max(1, -(-top // bins))  # whole tokens per bin
        edges = [i * width for i in range(bins + 1)]
        count = lambda values: np.bincount(np.minimum(values // width, bins - 1), minlength=bins)  # noqa: E731
        return edges, [int(x) for x in count(trained)], [int(x) for x in count(prompt)]

    def longest_needed(self) -> int:
        """The max_length that keeps every row whole."""
        return int(self.counts["total"].max(initial=0))

    def problems(self, chat: ChatConfig | None = None) -> list[CheckProblem]:
        """Each finding with what to do about it. `chat` (the settings checked) decides which fixes make sense."""
        chat = chat or ChatConfig()
        found: list[CheckProblem] = []
        raise_to = _round_up(self.longest_needed())
        raise_fix = Fix(f"Raise max_length to {raise_to:,}", {"dataset.max_length": raise_to})
        drop_fix = Fix("Drop such rows from training", {"chat.drop_untrained_rows": True})
        all_fix = Fix("Train on every token", {"chat.train_on": "all"})
        failed = self.failed_rows()
        if failed:
            named = [(row, self.failures.get(row, "it gives no tokens")) for row in failed[:SHOWN_FAILURES]]
            said = "; ".join(f"row {row + 1}: {why}" for row, why in named)
            more = f"; and {len(failed) - len(named):,} more" if len(failed) > len(named) else ""
            found.append(CheckProblem(
                "failed", f"{len(failed):,} of {self.rows:,} row{_s(self.rows)} cannot be trained ({said}{more}), "
                f"and a run refuses the data while {'they are' if len(failed) > 1 else 'it is'} in it. "
                + failure_fix([why for _, why in named], self.format, len(failed)),
                len(failed), failed[:EXAMPLE_ROWS], [], "error"))
        blank = self.blank_rows()
        if blank:
            shown = ", ".join(str(row + 1) for row in blank[:SHOWN_FAILURES])
            more = f" and {len(blank) - SHOWN_FAILURES:,} more" if len(blank) > SHOWN_FAILURES else ""
            one = len(blank) == 1
            it, its = ("it", "its") if one else ("them", "their")
            found.append(CheckProblem(
                "blank", f"{_rows_do(len(blank), 'is', 'are')} blank (row{_s(len(blank))} {shown}{more}): {its} text "
                f"is empty, only spaces, or gives no tokens, so a run leaves {it} out and trains on the rest. To "
                f"fix, if {'it' if one else 'they'} should hold text: fill {it} in, or remove {it} from the data.",
                len(blank), blank[:EXAMPLE_ROWS]))
        cut_before = self.cut_before_reply_rows()
        to_fix = f"To fix: raise max_length to {raise_to:,}"  # where the tools block of cut rows is said
        untrained = self.no_trained_rows()
        weight_0 = self.weight_0_rows()
        other_untrained = sorted(set(untrained) - set(cut_before) - set(weight_0))
        if cut_before:
            fixes = [raise_fix] + ([] if chat.drop_untrained_rows else [drop_fix])
            them = "them" if len(cut_before) > 1 else "it"
            tools = self._tools_said(cut_before)
            fix = (f"chat.drop_untrained_rows is on, so a run leaves {them} out. To fix, to train {them}: raise "
                   f"max_length{f' to {raise_to:,}' if tools else ''}." if chat.drop_untrained_rows else
                   f"{to_fix}, or drop such rows." if tools else "To fix: raise max_length, or drop such rows.")
            found.append(CheckProblem(
                "cut_before_reply", f"{_rows_do(len(cut_before), 'trains', 'train')} nothing: max_length "
                f"({self.max_length:,} tokens) cuts {them} before the reply starts. {tools}{fix}", len(cut_before),
                cut_before[:EXAMPLE_ROWS], fixes, "error" if not chat.drop_untrained_rows else "warning"))
        if weight_0:
            them = "them" if len(weight_0) > 1 else "it"
            fix = (f"chat.drop_untrained_rows is on, so a run leaves {them} out. To fix, to train {them}: set the "
                   "weight of the replies to train to 1 in the data." if chat.drop_untrained_rows else
                   "To fix: set the weight of the replies to train to 1 in the data, or drop such rows.")
            found.append(CheckProblem(
                "weight_0", f"{_rows_do(len(weight_0), 'trains', 'train')} nothing: every reply in {them} has the "
                f"weight 0 in the data, which marks a reply not to train. {fix}", len(weight_0),
                weight_0[:EXAMPLE_ROWS], [] if chat.drop_untrained_rows else [drop_fix],
                "error" if not chat.drop_untrained_rows else "warning"))
        if other_untrained:
            fixes = ([] if chat.drop_untrained_rows else [drop_fix]) + ([] if chat.train_on == "all" else [all_fix])
            them = "them" if len(other_untrained) > 1 else "it"
            fix = (f"chat.drop_untrained_rows is on, so a run leaves {them} out. To fix, to train {them}: switch what "
                   "is trained." if chat.drop_untrained_rows else "To fix: drop such rows, or switch what is trained.")
            found.append(CheckProblem(
                "no_trained", f"{_rows_do(len(other_untrained), 'has', 'have')} no trained token at all "
                f"(nothing in {them} is a reply or completion under the current setting). {fix}",
                len(other_untrained), other_untrained[:EXAMPLE_ROWS], fixes,
                "error" if not chat.drop_untrained_rows else "warning"))
        reply_cut = self.reply_cut_rows()
        if reply_cut and self.format == "text":  # plain text has no replies: its long rows are cut, as the seed cuts
            lost = int(self.counts["cut_trained"][reply_cut].sum())
            found.append(CheckProblem(
                "reply_cut", f"{_rows_do(len(reply_cut), 'is', 'are')} longer than max_length "
                f"({self.max_length:,} tokens): {lost:,} token{_s(lost)} past it "
                f"{'are' if lost > 1 else 'is'} cut off and never trained. To fix: raise max_length, or split long "
                "rows in the data.", len(reply_cut), reply_cut[:EXAMPLE_ROWS], [raise_fix]))
        elif reply_cut:
            tools = self._tools_said(reply_cut)
            found.append(CheckProblem(
                "reply_cut", f"{_rows_do(len(reply_cut), 'loses', 'lose')} part of a reply to max_length "
                f"({self.max_length:,} tokens): the model learns replies that stop mid-sentence and never their end. "
                + (f"{tools}{to_fix}." if tools else "To fix: raise max_length."), len(reply_cut),
                reply_cut[:EXAMPLE_ROWS], [raise_fix]))
        unended = [] if self.format == "text" else sorted(set(self.end_not_trained_rows()) - set(reply_cut))
        if unended:
            fix = ("every token already trains (train_on 'all'): the chat template ends a turn with no special "
                   "token. To fix: pick a chat template that ends each turn with a token (chatml)."
                   if chat.train_on == "all" else
                   "To fix: pick a chat template that ends each turn with a token, or train on every token.")
            found.append(CheckProblem(
                "end_not_trained", f"{_rows_do(len(unended), 'trains', 'train')} a reply without its end-of-turn "
                f"token, so the model would not learn to stop. {fix[0].upper() + fix[1:]}", len(unended),
                unended[:EXAMPLE_ROWS], [] if chat.train_on == "all" else [all_fix]))
        return found

    def _tools_said(self, rows: list[int]) -> str:
        """'The tools block … counts toward max_length. ' when the chat template writes tools into these cut rows
        (Qwen3's tools block alone is some 300 tokens, so short tool rows pass 512), else ''."""
        column = self.counts.get("tools")
        took = [int(column[row]) for row in rows if int(column[row])] if column is not None else []
        if not took:
            return ""
        low, high = min(took), max(took)
        said = f"{low:,}" + (f" to {high:,}" if high != low else "")
        return (f"The tools block the chat template writes counts toward max_length: the tool definitions take {said} "
                f"tokens of {'each such row' if len(rows) > 1 else 'the row'}"
                + (f" ({len(took):,} of these rows have tools)" if len(took) < len(rows) else "") + ". ")

    def untrained_count(self) -> int:
        """Rows on which a run with these settings would train nothing (what Start warns about)."""
        return len(self.no_trained_rows()) + int(self.counts["failed"].sum())


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _rows_do(count: int, one: str, many: str) -> str:
    """'1 row loses' / '3 rows lose': a count of rows and its verb."""
    return f"{count:,} row{_s(count)} {one if count == 1 else many}"


SHOWN_FAILURES = 3  # rows named, with why, in the problem about rows that cannot be trained (a run names as many)


def failure_fix(whys: list[str], fmt: str, count: int = 2) -> str:
    """What to do about rows that cannot be trained (`whys`: core.chat's words for each): the one fix the run's
    refusal gives ('Fix or remove those rows'), with the setting that can also be the cause. Empty when the words
    carry their own fix."""
    if any("To fix:" in why for why in whys):
        return ""
    those = "those rows" if count > 1 else "that row"
    if fmt == "text":
        return f"To fix: fill in or remove {those} in the data, or pick another text column."
    if any("chat template" in why for why in whys):
        return f"To fix: correct or remove {those} in the data, or pick another chat template."
    return f"To fix: correct or remove {those} in the data, or map the columns in chat.columns."


def _round_up(value: int) -> int:
    """A max_length a user would type: the next multiple of 64 (core.chat's rule, which its warnings name)."""
    from finetune_studio.core.chat import fitting_max_length

    return fitting_max_length(value)


# ---- per row

REPLACEMENT = "\ufffd"  # what a token holding part of a character's UTF-8 bytes decodes to on its own
MAX_CHARACTER_TOKENS = 4  # a UTF-8 character has at most 4 bytes, so it lies in at most 4 tokens
AS_WRITTEN_CHARS = 20_000  # of a row shown as the data has it (a row that gives no tokens)


def is_blank(row: dict[str, Any], fmt: str, text_column: Any, has_tokens: bool = False) -> bool:
    """A plain-text row a run leaves out as blank: its text is blank by the run's rule (core.data.is_blank: empty,
    or spaces only), whatever its tokens ("   " gives some with many tokenizers), or it is text that gives no tokens
    (`has_tokens` False: the caller knows). A row without text in its column is refused, not left out."""
    from finetune_studio.core.data import is_blank as blank

    text = row.get(text_column) if isinstance(text_column, str) else None
    return fmt == "text" and isinstance(text, str) and (not has_tokens or blank(text))


def blank_row(index: int) -> str:
    return (f"Row {index + 1} is blank: its text is empty, only spaces, or gives no tokens, so a run leaves it out "
            "(its log says how many). To fix, if it should hold text: fill it in, or remove it from the data.")


def row_failure(index: int, why: str, fmt: str) -> str:
    """What the Inspector says under a row that cannot be trained (`why`: core.chat's words): the row, why, that a
    run refuses it, and what to do, as the whole-dataset problem says it."""
    fix = failure_fix([why], fmt, 1)
    return (f"Row {index + 1} cannot be trained: {why.rstrip('.')}, and a run refuses the data while it is in it."
            + (f" {fix}" if fix else ""))


def row_as_written(row: dict[str, Any], limit: int = AS_WRITTEN_CHARS) -> str:
    """A row as the data holds it, as JSON (its text as written: accents, not escapes), cut at `limit` characters."""
    text = json.dumps(row, ensure_ascii=False, indent=2, default=str)
    more = len(text) - limit
    return text[:limit] + (f"\n… {more:,} more characters" if more > 0 else "")


def row_counts(labeled: Any, ends: SpanEnds) -> dict[str, int]:
    """The per-row numbers the checks need, from render_and_label's result (its input_ids and roles cover the
    whole rendered row, the part beyond max_length too, with role "cut")."""
    from finetune_studio.core.chat import untrained_cause

    roles = list(labeled.roles)
    counts = {role: roles.count(role) for role in ROLES}
    counts["total"] = len(roles)
    counts["cut_trained"] = int(getattr(labeled, "cut_trained", 0) or 0)
    counts["first_trained"] = roles.index("trained") if "trained" in roles else -1
    counts["spans"], counts["spans_ended"] = ends.count(list(labeled.input_ids), roles)
    counts["failed"] = 0
    counts["blank"] = 0
    counts["weight_0"] = int(untrained_cause(labeled) == "weight") if counts["trained"] == 0 else 0
    counts["tools"] = int(getattr(labeled, "tools_tokens", 0) or 0)
    return counts


# ---- data and cache

def rows_of(ds: Any, batch_rows: int = BATCH_ROWS) -> Iterator[dict[str, Any]]:
    """Rows of a datasets.Dataset (or a list of dicts) as plain dicts, read in batches (fast: Arrow to Python)."""
    if isinstance(ds, list):
        yield from ds
        return
    for batch in ds.iter(batch_size=batch_rows):
        names = list(batch)
        for values in zip(*(batch[n] for n in names), strict=True):
            yield dict(zip(names, values, strict=True))


def data_fingerprint(ds: Any) -> str:
    """What identifies the data's content: datasets' own fingerprint (a hash of the files and the steps that
    made the table), or a hash of the rows for a plain list."""
    fingerprint = getattr(ds, "_fingerprint", None)
    if fingerprint:
        return str(fingerprint)
    digest = hashlib.sha256()
    for row in ds:
        digest.update(json.dumps(row, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def tokenizer_identity(tokenizer: Any) -> dict[str, Any]:
    """What about a tokenizer changes tokens or roles: its name, size, special tokens and chat template."""
    template = getattr(tokenizer, "chat_template", None) or ""
    if isinstance(template, dict):
        template = json.dumps(template, sort_keys=True)
    return {"name": str(getattr(tokenizer, "name_or_path", "")), "size": len(tokenizer),
            "class": type(tokenizer).__name__,
            "special": {k: str(v) for k, v in sorted(getattr(tokenizer, "special_tokens_map", {}).items())},
            "template": hashlib.sha256(str(template).encode()).hexdigest()}


def cache_key(fingerprint: str, tokenizer: Any, settings: dict[str, Any], max_length: int) -> str:
    """The cache file's name: a hash of the data's fingerprint, the tokenizer, the chat settings (with the format
    and columns they resolved to) and max_length. Anything else changing means another file."""
    payload = {"version": CACHE_VERSION, "data": fingerprint, "tokenizer": tokenizer_identity(tokenizer),
               "settings": settings, "max_length": max_length}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:32]


def cache_folder() -> Path:
    from finetune_studio.core.demo import cache_dir

    return cache_dir() / "inspector"


def _read_cache(path: Path) -> DatasetChecks | None:
    """The checks kept in `path` (an .npz: one int64 array per count column, the rest as JSON in 'meta'); None
    when it is missing or damaged. Binary arrays, not JSON lists: reading and writing 100k rows' counts then takes
    milliseconds and never holds the GIL long enough to freeze the window."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as stored:
            meta = json.loads(str(stored["meta"]))
            counts = {name: stored[name].astype(np.int64) for name in COUNT_COLUMNS}
        meta["failures"] = {int(k): v for k, v in meta["failures"].items()}
        return DatasetChecks(counts=counts, **meta, from_cache=True)
    except (OSError, ValueError, TypeError, KeyError):
        return None  # compute again


def _write_cache(path: Path, checks: DatasetChecks) -> None:
    import os

    import numpy as np

    meta = {"rows": checks.rows, "max_length": checks.max_length, "failures": checks.failures,
            "template_name": checks.template_name, "seconds": checks.seconds, "format": checks.format}
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with temp.open("wb") as handle:
            np.savez(handle, meta=np.array(json.dumps(meta)),  # int32: half the disk; counts of one row fit
                     **{name: values.astype(np.int32) for name, values in checks.counts.items()})
        os.replace(temp, path)
    except OSError:
        temp.unlink(missing_ok=True)  # a read-only cache only costs the next check its speed


# ---- reading the rows without freezing the window

BUILD_IN_CHILD_BYTES = 8 << 20  # local data this large gets its first table built by a child process
_BUILT: set[tuple] = set()  # local sources this process has had built (path, size, mtime of each file)
_BUILD_SCRIPT = ("import json, sys; from finetune_studio.core.config import DatasetConfig; "
                 "from finetune_studio.core.data import load_split; "
                 "load_split(DatasetConfig(**json.loads(sys.argv[1])))")


def load_rows(dataset: DatasetConfig) -> Any:
    """core.data.load_split, with the first read of a large local file done by a child process.

    The first time `datasets` reads a file it parses it into an Arrow table in its cache; for 100k conversations
    that held the GIL for 0.1-0.2 s at a time, and the window froze while the Inspector loaded. A child process
    builds that cache instead (this thread only waits), and load_split here then opens the cached table. Small
    files, Hub datasets and files this process had built already are read directly. If the child fails, the
    direct read below raises the error the user sees."""
    import subprocess
    import sys

    from finetune_studio.core.data import load_split, local_files
    from finetune_studio.core.sources import is_local

    key: tuple | None = None
    if is_local(dataset.source):
        try:
            _, files = local_files(dataset.source)
            stats = [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
        except Exception:  # noqa: BLE001 - load_split below says what is wrong with the source
            stats = []
        if stats and sum(size for _, size, _ in stats) >= BUILD_IN_CHILD_BYTES:
            key = (tuple(stats), dataset.encoding, dataset.sample_by)
    if key is not None and key not in _BUILT:
        try:
            subprocess.run([sys.executable, "-c", _BUILD_SCRIPT, json.dumps(dataclasses.asdict(dataset))],
                           capture_output=True, check=False, timeout=3600)
        except (OSError, TypeError, ValueError, subprocess.TimeoutExpired):
            pass  # the direct read below does the work (and names any problem)
    ds = load_split(dataset)
    if key is not None:
        _BUILT.add(key)
    return ds


# ---- the whole-dataset pass

def check_rows(rows: Iterable[dict[str, Any]], total: int, label: Label, ends: SpanEnds, max_length: int,
               fmt: str, progress: Progress | None = None, stop: threading.Event | None = None,
               text_column: Any = None) -> DatasetChecks | None:
    """Label every row with `label(row)` (render_and_label with the run's settings); None when `stop` was set
    before the end. A row render_and_label could not render (no tokens, a problem saying why) is a failure, except
    plain text whose `text_column` holds text that gives no tokens: a run drops such a row ("blank")."""
    started = time.perf_counter()
    counts: dict[str, list[int]] = {name: [] for name in COUNT_COLUMNS}
    failures: dict[int, str] = {}
    template_name = ""
    index = -1
    for index, row in enumerate(rows):
        if stop is not None and stop.is_set():
            return None
        labeled = label(row)
        if is_blank(row, fmt, text_column, bool(labeled.roles)):
            for name in COUNT_COLUMNS:
                counts[name].append(1 if name == "blank" else 0)
        elif not labeled.roles:
            if len(failures) < EXAMPLE_ROWS:
                problems = list(getattr(labeled, "problems", None) or [])
                failures[index] = problems[0] if problems else "the row gives no tokens"
            for name in COUNT_COLUMNS:
                counts[name].append(1 if name == "failed" else 0)
        else:
            template_name = template_name or str(getattr(labeled, "template_name", "") or "")
            for name, value in row_counts(labeled, ends).items():
                counts[name].append(value)
        if progress is not None and (index + 1) % PROGRESS_EVERY == 0:
            progress(index + 1, total)
    rows_done = index + 1
    if progress is not None:
        progress(rows_done, total)
    import numpy as np

    arrays = {name: np.asarray(values, dtype=np.int64) for name, values in counts.items()}
    return DatasetChecks(rows=rows_done, max_length=max_length, counts=arrays, failures=failures,
                         template_name=template_name, seconds=time.perf_counter() - started, format=fmt)


class Inspector:
    """The rows of one dataset with one tokenizer and chat settings: what the Inspector window shows.

    `load()` reads the tokenizer and the data (seconds; call it off the GUI thread), `row(i)` renders one row,
    `check(progress, stop)` runs (or reads from the cache) the whole-dataset checks. Holds copies of the config
    sections it was made from, so later edits in the forms never change what an open Inspector shows.
    """

    def __init__(self, config: RunConfig, cache: Path | None = None):
        self.dataset: DatasetConfig = dataclasses.replace(config.dataset)
        self.model: ModelConfig = dataclasses.replace(config.model)
        self.chat: ChatConfig = dataclasses.replace(config.chat, columns=dict(config.chat.columns or {}))
        self.max_length: int = int(config.dataset.max_length)
        self._cache = cache
        self.tokenizer: Any = None
        self.ds: Any = None
        self.detection: Any = None  # core.chat.Detection: the format and columns every row is read with
        self.template_note = ""
        self.template_name = ""
        self.text_column: str = config.dataset.text_column  # as the data spells it (core.data.real_column)
        self.column_note = ""  # said when that differs from the config's (a run says the same in its log)
        self.uses_template = False  # rows rendered with a chat template (not plain text or plain prompt/completion)
        self.refusals: list[tuple[str, str]] = []  # (field, message): what a run refuses in the settings for this data

    # -- loading
    def load(self, tokenizer: Any = None, ds: Any = None) -> Inspector:
        """The tokenizer (only the tokenizer: no weights) and the rows; both can be handed in (tests, benchmark)."""
        from finetune_studio.core.chat import (
            resolve_format,
            resolve_template,
            resolve_train_on,
            run_format,
            uses_template,
        )

        if tokenizer is None:
            from finetune_studio.core.model import load_tokenizer

            tokenizer = load_tokenizer(self.model)
        if ds is None:
            ds = load_rows(self.dataset)
        self.tokenizer, self.ds = tokenizer, ds
        columns = list(ds.column_names) if hasattr(ds, "column_names") else list(ds[0]) if ds else []
        self.text_column, self.column_note = _text_column(columns, self.dataset.text_column)
        if hasattr(ds, "column_names"):  # a datasets.Dataset: decided exactly as a run decides it
            self.detection = run_format(ds, self.chat, self.text_column)
        else:
            head = ds[:20]
            self.detection = resolve_format(self.chat, head, columns, self.text_column)
        if self.detection.format != "text":
            self.column_note = ""  # the text column is not read
        self.train_on = resolve_train_on(self.chat, self.detection.format)
        first = (dict(ds[0]) if len(ds) else None) if self.detection.format != "text" else None
        self.uses_template = uses_template(self.detection, first)  # as a run decides it (core.chat.prepare_dataset)
        if self.uses_template:
            _, self.template_name, self.template_note = resolve_template(tokenizer, self.chat)
        self.refusals = source_refusals(self.dataset, self.chat)
        return self

    def problems(self, checks: DatasetChecks) -> list[CheckProblem]:
        """What the Inspector lists: what a run refuses in the settings for this data (a text column the data lacks,
        a test split it cannot hold, a column mapping that points nowhere: validate's words), then what the checks
        found in the rows. A setting that fails every row is said once, as the setting, not as every row failing."""
        failed = len(checks.failed_rows())
        every_row_fails = bool(checks.rows) and failed == checks.rows
        # The text column's problem is a setting's when no row has text there (or when it is of no row: all of
        # them blank); else it is some rows' (a number in one, a null in another), which the checks name, every
        # row of them, with the fix.
        refusals = [(name, message) for name, message in self.refusals
                    if name != "dataset.text_column" or every_row_fails or not failed]
        found = checks.problems(self.chat)
        if every_row_fails and any(name != "dataset.test_size" for name, _ in refusals):
            found = [problem for problem in found if problem.kind != "failed"]
        return [CheckProblem("refused", message, 0, [], [], "error") for _, message in refusals] + found

    @property
    def format(self) -> str:
        return self.detection.format if self.detection is not None else self.chat.format

    def __len__(self) -> int:
        return len(self.ds) if self.ds is not None else 0

    # -- one row
    def raw_row(self, index: int) -> dict[str, Any]:
        return dict(self.ds[index])

    def label(self, row: dict[str, Any]) -> Any:
        """render_and_label with this inspector's settings: the call training makes on the row."""
        from finetune_studio.core.chat import render_and_label

        return render_and_label(self.tokenizer, row, self.chat, self.max_length, detection=self.detection,
                                text_column=self.text_column, truncation=bool(self.dataset.truncation))

    def row(self, index: int) -> Any:
        """Row `index` rendered and labelled: ids, labels, roles per token (the cut ones too), the text."""
        return self.label(self.raw_row(index))

    def row_message(self, index: int, raw: dict[str, Any], labeled: Any) -> str:
        """What is said under row `index` when it gives no tokens: blank plain text a run leaves out, or a row it
        refuses, why, and what to do."""
        if is_blank(raw, self.format, self.text_column, bool(labeled.roles)):
            return blank_row(index)
        problems = list(getattr(labeled, "problems", None) or [])
        return row_failure(index, problems[0] if problems else "it gives no tokens", self.format)

    def pieces(self, labeled: Any) -> list[tuple[str, str]]:
        """(text, role) per token, in order, for colouring: each token decoded on its own, the tokens beyond
        max_length included (role "cut"). A character whose UTF-8 bytes lie in several tokens ('é' of 'café' in a
        byte-level BPE) decodes to U+FFFD in each of them alone: the token that completes it shows it, the ones
        before keep their whole characters ('caf', 'é'), rather than '��' for an accent the data holds correctly."""
        ids = list(labeled.input_ids)
        texts = [self._decode([token_id]) for token_id in ids]
        index = 0
        while index < len(ids):
            if texts[index].endswith(REPLACEMENT):
                whole = texts[index].rstrip(REPLACEMENT)  # the first token's own whole characters
                for end in range(index + 2, min(len(ids), index + MAX_CHARACTER_TOKENS) + 1):
                    joined = self._decode(ids[index:end])
                    if joined.startswith(whole) and REPLACEMENT not in joined[len(whole):]:  # the character is whole
                        texts[index:end] = [whole] + [""] * (end - index - 2) + [joined[len(whole):]]
                        index = end - 1
                        break
            index += 1
        return list(zip(texts, labeled.roles, strict=True))

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)

    # -- the whole dataset
    def key(self) -> str:
        detection = dataclasses.asdict(self.detection) if self.detection is not None else None
        return cache_key(data_fingerprint(self.ds), self.tokenizer,
                         {"chat": dataclasses.asdict(self.chat), "detection": detection,
                          "text_column": self.text_column, "truncation": bool(self.dataset.truncation)},
                         self.max_length)

    def cache_path(self) -> Path:
        return (self._cache or cache_folder()) / f"{self.key()}.npz"

    def cached(self) -> DatasetChecks | None:
        return _read_cache(self.cache_path())

    def check(self, progress: Progress | None = None, stop: threading.Event | None = None,
              use_cache: bool = True) -> DatasetChecks | None:
        """Whole-dataset checks (from the cache when these settings were checked before); None when stopped."""
        path = self.cache_path()
        if use_cache:
            hit = _read_cache(path)
            if hit is not None:
                if progress is not None:
                    progress(hit.rows, hit.rows)
                return hit
        if len(self):
            self.label(self.raw_row(0))  # the template's control tokens are in the tokenizer from here on
        from finetune_studio.core.chat import span_ends

        checks = check_rows(rows_of(self.ds), len(self), self.label, span_ends(self.tokenizer), self.max_length,
                            self.format, progress, stop, self.text_column)
        if checks is not None:
            _write_cache(path, checks)
        return checks


def _text_column(columns: list[str], configured: Any) -> tuple[Any, str]:
    """The text column as a run reads it (core.data.check_text_column): the configured name, or the one column that
    differs from it only by whitespace at its ends or its Unicode form, with the run's notice of that."""
    from finetune_studio.core.data import column_notice, real_column

    real = real_column(columns, configured) if isinstance(configured, str) else None
    if real is None or real == configured:
        return configured, ""
    return real, column_notice(configured, real)


# What check_source says of a setting, not of rows: the rows themselves are checked here, every one of them.
REFUSED_FIELDS = ("dataset.text_column", "dataset.test_size", "chat.columns", "chat.format", "chat.train_on",
                  "chat.template")


SAYS_WHAT_TO_DO = ("To fix:", "Fix or remove", "Fill or remove", "Pick ")  # check_source's words that say it


def source_refusals(dataset: DatasetConfig, chat: ChatConfig) -> list[tuple[str, str]]:
    """(field, message) for what validate() refuses in these settings for this data, in its words, with a
    "To fix:" where its words have none (core.data.check_source: a bounded read of a local source, cached).
    Nothing for a Hub dataset; the rows' own problems are the checks' (every row, not the first part)."""
    from finetune_studio.core.data import check_source

    try:
        found = check_source(dataset, chat)
    except Exception:  # noqa: BLE001 - what cannot be read was said when the rows were loaded
        return []
    out = []
    for problem in found:
        name, message = str(problem.field), str(problem.message)
        if name not in REFUSED_FIELDS:
            continue
        if name == "dataset.text_column" and not any(said in message for said in SAYS_WHAT_TO_DO):
            message += (" To fix: pick the column that holds the text (Text column in the Dataset tab, or "
                        "dataset.text_column).")
        out.append((name, message))
    return out


def length_stats(checks: DatasetChecks, bins: int = HISTOGRAM_BINS) -> Any:
    """core.data.TokenStats of the rendered rows (template included, before max_length cuts them): the Dataset
    tab's length histogram for chat data, from the checks instead of a second tokenization."""
    import numpy as np

    from finetune_studio.core.data import TokenStats

    lengths = checks.counts["total"][checks._rendered]
    if not len(lengths):
        lengths = np.zeros(1, dtype=np.int64)
    counts, edges = np.histogram(lengths, bins=min(bins, max(1, int(lengths.max()) - int(lengths.min()) + 1)))
    return TokenStats(rows=checks.rows, sampled=checks.rows, max_length=checks.max_length,
                      truncated=int((lengths > checks.max_length).sum()), mean=float(lengths.mean()),
                      median=float(np.median(lengths)), p95=float(np.percentile(lengths, 95)),
                      longest=int(lengths.max()), bin_edges=[int(e) for e in edges], counts=[int(c) for c in counts])


def checks_summary(checks: DatasetChecks) -> str:
    """One line for the Dataset tab: rows, trained tokens, rows that train nothing, and whether replies end."""
    untrained = checks.untrained_count()
    bad = f"; {untrained:,} {'row trains' if untrained == 1 else 'rows train'} nothing" if untrained else ""
    line = f"{checks.rows:,} row{_s(checks.rows)} · {checks.total_trained:,} trained tokens of " \
        f"{checks.total_tokens:,}{bad}"
    if checks.format == "text":
        return line + "."
    unended = set(checks.end_not_trained_rows()) - set(checks.reply_cut_rows())
    if unended:
        return line + (f"; {len(unended):,} {'row trains' if len(unended) == 1 else 'rows train'} a reply without "
                       "its end-of-turn token.")
    return line + "; every reply kept whole trains its end-of-turn token."
