"""Datasets from the Hub or local files, checked so that a bad file fails with its name, line and column.

The `datasets` library reports a malformed line or a wrong encoding as a pyarrow traceback; users get a sentence
from here instead. Heavy imports stay inside functions.
"""

from __future__ import annotations

import codecs
import csv
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.config import SAMPLE_DATASET_ID, DatasetConfig
from core.errors import DataError

FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet", ".txt": "text"}
TEXT_COLUMN_NAMES = ("text", "content", "horoscope", "document", "body", "sentence", "prompt", "completion")
PREVIEW_ROWS = 20
# Line-by-line checks read through a 4 MiB buffer. With the default 8 KiB one the checking thread releases and
# retakes the GIL for a read() every few lines; CPython then never forces a switch to a waiting thread (the GIL
# "changed hands" each interval), and the GUI thread starved for 100-150 ms at a time while a 100k-row file was
# checked. One read per 4 MiB leaves a plain CPU loop that yields every switch interval.
READ_BUFFER = 4 << 20


def resolve_source(source: str) -> str:
    if source == SAMPLE_DATASET_ID:
        from core.demo import SAMPLE_DATASET

        return str(SAMPLE_DATASET)
    return os.path.expanduser(source)


def is_local(source: str) -> bool:
    """A path that exists, or that is written like a path (so a typo says "file not found", not "Hub id")."""
    resolved = resolve_source(source)
    return (
        os.path.exists(resolved)
        or resolved.startswith((".", "/", "~", "\\"))
        or os.path.splitext(resolved)[1].lower() in FORMATS
        or (len(resolved) > 1 and resolved[1] == ":")
    )


def local_files(source: str) -> tuple[str, list[Path]]:
    """The format ("csv", "json", ...) and the files of a local source; a folder must hold one format."""
    path = Path(resolve_source(source))
    if not path.exists():
        raise DataError(f"Dataset not found: {path}. Check the path, or pick a file with Open file/folder.")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in FORMATS
                       and not any(part.startswith(".") for part in p.relative_to(path).parts))
        if not files:
            raise DataError(f"The folder {path} holds no data files ({', '.join(sorted(FORMATS))}).")
        kinds = {FORMATS[p.suffix.lower()] for p in files}
        if len(kinds) > 1:
            raise DataError(f"The folder {path} mixes formats ({', '.join(sorted(kinds))}); keep one format per "
                            "folder or pick a single file.")
        return kinds.pop(), files
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DataError(f"{path.name}: unknown file type '{path.suffix}'. Use one of {', '.join(sorted(FORMATS))}.")
    return fmt, [path]


def _position(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return line, column


def check_file(path: Path, fmt: str) -> None:
    """Fail with the file, line and column for what `datasets` would report as a pyarrow error."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DataError(f"Cannot read {path}: {exc.strerror}.") from None
    if size == 0:
        raise DataError(f"{path} is empty. Pick a file with data in it.")
    if fmt == "parquet":
        try:
            import pyarrow.parquet as pq

            pq.read_metadata(path)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise DataError(f"{path} is not a readable Parquet file: {exc}") from None
        return
    if fmt == "json" and _is_json_document(path):
        data = path.read_bytes()
        text = _decode(path, data).removeprefix("\ufeff")  # a byte order mark is not part of the JSON
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}, line {exc.lineno}, column {exc.colno}: malformed JSON ({exc.msg}).") from None
        return
    # Line by line, so a large file never holds the GIL for long (the GUI thread keeps drawing meanwhile).
    blank = True
    header: list[str] | None = None
    with open(path, "rb", buffering=READ_BUFFER) as handle:
        for number, raw in enumerate(handle, 1):
            line = _decode(path, raw, number).rstrip("\r\n")
            if number == 1:
                line = line.removeprefix("\ufeff")  # a UTF-8 byte order mark (Windows editors write one)
            if not line.strip():
                continue
            blank = False
            if fmt == "json":
                try:
                    value = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"{path}, line {number}, column {exc.colno}: malformed JSON line ({exc.msg}). "
                                    "Each line must be one JSON object.") from None
                if not isinstance(value, dict):
                    raise DataError(f"{path}, line {number}: expected a JSON object with named columns, got "
                                    f"{type(value).__name__}.")
            elif fmt == "csv" and header is None:
                header = next(csv.reader([line]))
                if not any(name.strip() for name in header):
                    raise DataError(f"{path}, line {number}: the CSV header row has no column names.")
    if blank:
        raise DataError(f"{path} holds only blank space. Pick a file with data in it.")
    if fmt == "csv":
        _check_csv_rows(path)


def _decode(path: Path, data: bytes, line: int | None = None) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if line is None:
            line, column = _position(data, exc.start)
        else:
            column = exc.start + 1
        raise DataError(f"{path}, line {line}, column {column}: byte 0x{data[exc.start]:02x} is not UTF-8 text. "
                        "Save the file as UTF-8 and try again.") from None


def _check_csv_rows(path: Path) -> None:
    """Rows with more or fewer fields than the header (csv tracks quoted newlines, so it reads the file itself)."""
    with open(path, encoding="utf-8", newline="", buffering=READ_BUFFER) as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
            for row in reader:
                if row and len(row) != len(header):
                    raise DataError(f"{path}, line {reader.line_num}: {len(row)} fields where the header has "
                                    f"{len(header)} ({', '.join(header)}). Quote values that contain commas.")
        except csv.Error as exc:
            raise DataError(f"{path}, line {reader.line_num}: malformed CSV ({exc}).") from None


def _is_json_document(path: Path) -> bool:
    """A .json file holding one array or object (not JSON lines)."""
    with open(path, "rb") as handle:
        head = handle.read(4096).removeprefix(codecs.BOM_UTF8).lstrip()
    if head.startswith(b"["):
        return True
    if path.suffix.lower() != ".json" or not head.startswith(b"{"):
        return False
    with open(path, "rb") as handle:
        first = handle.readline().removeprefix(codecs.BOM_UTF8)
        rest = handle.read(1)
    if not rest.strip():
        return True  # one line only: a document either way
    try:
        json.loads(first)
        return False  # the first line is a whole object: JSON lines
    except ValueError:
        return True


def _reader_options(fmt: str, files: list[Path]) -> dict[str, Any]:
    """Options for datasets' readers: a UTF-8 byte order mark is dropped instead of becoming part of the first row
    (text) or tripping the parser (JSON)."""
    if fmt in ("text", "json"):
        for path in files:
            with open(path, "rb") as handle:
                if handle.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8:
                    return {"encoding": "utf-8-sig"}
    return {}


def _hub_guard(source: str) -> None:
    from core.hub_access import require_hub

    require_hub(f"the dataset '{source}'", "Pick a local file, or the built-in sample dataset.")


def load_split(config: DatasetConfig) -> Any:
    """The whole configured split as a `datasets.Dataset`."""
    import datasets

    if is_local(config.source):
        fmt, files = local_files(config.source)
        for path in files:
            check_file(path, fmt)
        try:
            ds = datasets.load_dataset(fmt, data_files=[str(p) for p in files], split="train",
                                       **_reader_options(fmt, files))
        except Exception as exc:  # datasets wraps parse errors in several types
            raise DataError(f"Could not read {files[0] if len(files) == 1 else files[0].parent}: "
                            f"{_first_line(exc)}") from None
    else:
        _hub_guard(config.source)
        try:
            ds = datasets.load_dataset(config.source, config.name, split=config.split)
        except Exception as exc:
            raise DataError(_hub_dataset_message(config, exc)) from None
    if len(ds) == 0:
        raise DataError(f"The dataset {config.source} has no rows. Pick a file with data in it.")
    return ds


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _hub_dataset_message(config: DatasetConfig, exc: BaseException) -> str:
    name = type(exc).__name__
    if "Gated" in name or "gated" in str(exc):
        return (f"The dataset {config.source} is gated: accept its terms on the Hub and log in, then try again.")
    if "NotFound" in name or "doesn't exist" in str(exc):
        return f"The dataset {config.source} was not found on the Hub. Check the id (owner/name)."
    if "split" in str(exc).lower() and config.split:
        return f"The dataset {config.source} has no split '{config.split}': {_first_line(exc)}"
    return f"Could not load the dataset {config.source}: {_first_line(exc)}"


def check_text_column(ds: Any, column: str, source: str) -> None:
    names = list(ds.column_names)
    if column not in names:
        from core.config import nearest

        hint = nearest(column, names)
        tail = f" Did you mean '{hint}'?" if hint else ""
        raise DataError(f"{source}: there is no column '{column}'. Columns: {', '.join(names)}.{tail}")
    feature = ds.features[column]
    dtype = getattr(feature, "dtype", None)
    if dtype not in ("string", "large_string"):
        text_columns = [n for n in names if getattr(ds.features[n], "dtype", None) in ("string", "large_string")]
        kind = dtype or type(feature).__name__
        choose = f" Text columns: {', '.join(text_columns)}." if text_columns else " The dataset has no text column."
        raise DataError(f"{source}: column '{column}' holds {kind} values, not text.{choose}")
    values = ds.data.column(column)  # Arrow: counting nulls never turns 100k strings into Python objects
    if values.null_count:
        import pyarrow.compute as pc

        index = pc.index(pc.is_null(values), True).as_py()
        raise DataError(f"{source}: row {index + 1} has no value in column '{column}'. Fill or remove it.")


def detect_text_column(columns: list[str], rows: list[dict[str, Any]]) -> str | None:
    """A well-known name if there is one, else the string column with the longest text in the preview."""
    text_like = [c for c in columns if rows and all(isinstance(r.get(c), str) or r.get(c) is None for r in rows)
                 and any(isinstance(r.get(c), str) for r in rows)]
    for name in TEXT_COLUMN_NAMES:
        if name in text_like:
            return name
    if not text_like:
        return None
    return max(text_like, key=lambda c: sum(len(r.get(c) or "") for r in rows))


@dataclass
class Preview:
    columns: list[str]
    rows: list[dict[str, Any]]
    text_column: str | None
    files: list[str] = field(default_factory=list)


def preview(config: DatasetConfig, limit: int = PREVIEW_ROWS) -> Preview:
    """First rows and the columns, reading only what it shows (streaming), so a large source opens at once."""
    import datasets

    if is_local(config.source):
        fmt, files = local_files(config.source)
        check_file(files[0], fmt)
        try:
            stream = datasets.load_dataset(fmt, data_files=[str(p) for p in files], split="train", streaming=True,
                                           **_reader_options(fmt, files))
            rows = list(stream.take(limit))
        except Exception as exc:
            raise DataError(f"Could not read {files[0]}: {_first_line(exc)}") from None
        names = [str(p) for p in files]
    else:
        _hub_guard(config.source)
        try:
            stream = datasets.load_dataset(config.source, config.name, split=config.split, streaming=True)
            rows = list(stream.take(limit))
        except Exception as exc:
            raise DataError(_hub_dataset_message(config, exc)) from None
        names = []
    columns = list(rows[0].keys()) if rows else []
    return Preview(columns=columns, rows=rows, text_column=detect_text_column(columns, rows), files=names)


def tokenize_and_split(ds: Any, tokenizer: Any, config: DatasetConfig, seed: int) -> Any:
    """The seed's preparation: batched map with remove_columns, truncation and max_length, then a test split."""
    column, max_length, truncation = config.text_column, config.max_length, config.truncation
    limit = char_limit(tokenizer, max_length) if truncation else None

    def tokenize(batch: dict[str, list[Any]]) -> Any:
        texts = batch[column]
        if limit is not None:  # the kept tokens are the same; a megabyte row no longer takes seconds
            texts = [t[:limit] if isinstance(t, str) and len(t) > limit else t for t in texts]
        return tokenizer(texts, truncation=truncation, max_length=max_length)

    workers = tokenize_workers(len(ds))
    tokenized = ds.map(tokenize, batched=True, remove_columns=ds.column_names, desc="Tokenizing", num_proc=workers)
    tokenized = tokenized.filter(_has_tokens, batched=True, desc="Dropping empty rows", num_proc=workers)
    if len(tokenized) == 0:
        raise DataError(f"{config.source}: every row of '{column}' is empty after tokenizing.")
    if config.test_size <= 0:
        import datasets

        return datasets.DatasetDict({"train": tokenized})
    if len(tokenized) < 2:
        raise DataError(f"{config.source}: {len(tokenized)} row is too few to hold out a test split. "
                        "Add rows or set test_size to 0 (and eval_strategy to 'no').")
    split = tokenized.train_test_split(test_size=config.test_size, seed=seed)
    if len(split["train"]) == 0 or len(split["test"]) == 0:
        raise DataError(f"{config.source}: nothing is left for {'training' if len(split['train']) == 0 else 'evaluation'} "
                        f"after a {config.test_size:g} test split of {len(tokenized)} rows. Add rows or change test_size.")
    return split


def char_limit(tokenizer: Any, max_length: int) -> int:
    """Characters that surely hold more than max_length tokens: no token covers more characters than its longest
    vocabulary entry (doubled for normalizers that fold characters, plus a margin for the word cut at the end).
    Truncation keeps the first max_length tokens, so tokenizing only this much of a longer row gives the same ids
    — and a 5 MB row takes milliseconds instead of seconds."""
    try:
        longest = max((len(token) for token in tokenizer.get_vocab()), default=0)
    except Exception:  # noqa: BLE001 - a tokenizer without a readable vocabulary: assume long tokens
        longest = 0
    return (max_length + 8) * max(longest, 64) * 2 + 4096


# Below this many rows, starting worker processes costs more than it saves.
PARALLEL_TOKENIZE_ROWS = 20_000


def tokenize_workers(rows: int) -> int | None:
    if rows < PARALLEL_TOKENIZE_ROWS:
        return None
    return max(1, min(8, (os.cpu_count() or 1)))


def _has_tokens(batch: dict[str, list[Any]]) -> list[bool]:
    return [len(ids) > 0 for ids in batch["input_ids"]]


@dataclass
class TokenStats:
    rows: int
    sampled: int
    max_length: int
    truncated: int  # estimated over all rows when sampled < rows
    mean: float
    median: float
    p95: float
    longest: int
    bin_edges: list[int]
    counts: list[int]


def token_statistics(ds: Any, tokenizer: Any, column: str, max_length: int, sample: int = 5000,
                     bins: int = 30) -> TokenStats:
    """Token lengths before truncation, on a sample for large sets: enough for a histogram and the cut count."""
    import numpy as np

    rows = len(ds)
    subset = ds.select(range(min(rows, sample))) if rows > sample else ds
    texts = [t or "" for t in subset[column]]
    encoded = tokenizer(texts, truncation=False, add_special_tokens=True)["input_ids"]
    lengths = np.array([len(ids) for ids in encoded], dtype=np.int64)
    counts, edges = np.histogram(lengths, bins=min(bins, max(1, int(lengths.max()) - int(lengths.min()) + 1)))
    over = int((lengths > max_length).sum())
    truncated = round(over * rows / len(lengths)) if len(lengths) else 0
    return TokenStats(rows=rows, sampled=len(lengths), max_length=max_length, truncated=truncated,
                      mean=float(lengths.mean()), median=float(np.median(lengths)),
                      p95=float(np.percentile(lengths, 95)), longest=int(lengths.max()),
                      bin_edges=[int(e) for e in edges], counts=[int(c) for c in counts])

