"""Where a dataset or model comes from: one rule that tells a local path from a Hugging Face Hub id.

The dataset and model fields take the same kind of text (a path, an `owner/name` id, the built-in id, or a web
address someone pasted), so one function decides for both, for core (validation, loading, the model card's
links) and for the forms' hints alike. It is its own module, not part of core.data or core.model, because the
forms call it on every keystroke and must not import those (they pull in pyarrow and huggingface_hub): this
module imports only the standard library and core.config's constants.

The rule, in order (tests/core/test_sources.py pins it case by case):
1. The built-in ids (`builtin:sample`, `builtin:demo`) are BUILTIN: files the app ships or builds, always local.
2. http://, https:// and hf:// are a URL: neither a file here nor an id; the caller says which id it names.
3. Anything that exists on disk is LOCAL, even `org/name`: a folder of that name wins, as in transformers.
4. Text written the way only a path is written is LOCAL, so a typo says "not found", not "not on the Hub":
   it starts with `.`, `/`, `~` or a backslash, has a drive letter (`C:`), has more than one `/` (a Hub id has
   at most one), or ends in a data file's or an archive's suffix (`data.csv`, `data.zip`, in any case; no Hub
   repository is named like that).
5. Everything else is meant as a HUB id. Whether it is a *valid* one is a separate question
   (core.model.hub_id_problem asks huggingface_hub's own rules).

A value that is no text (a YAML list or mapping the config file wrote and the forms keep as written, a number) is
none of the four: source_kind refuses it with NotOneName, whose message says what it is and what to write instead,
and not_one_model says so beforehand for a model name, where a section would rather show nothing than look it up.
"""

from __future__ import annotations

import enum
import os
import re
from pathlib import Path
from typing import Any

from finetune_studio.core.config import CHAT_DATASET_ID, DEMO_MODEL_ID, SAMPLE_DATASET_ID, as_written, kind_of
from finetune_studio.core.errors import FinetuneError

BUILTIN_IDS = (SAMPLE_DATASET_ID, CHAT_DATASET_ID, DEMO_MODEL_ID)
URL_PREFIXES = ("http://", "https://", "hf://")
PATH_PREFIXES = (".", "/", "~", "\\")
# File types a dataset is read from (core.data.FORMATS holds how each is read).
DATA_SUFFIXES = (".csv", ".tsv", ".json", ".jsonl", ".parquet", ".txt")
# Compressions a data file may carry over its type (core.data reads them): rows.jsonl.gz is a file name too.
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zst")
# Archives holding one data file are read too (core.data.READ_ARCHIVES): data.zip, data.tar.gz are file names.
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tgz")
# owner/name as a link on the Hub can show it (the model card links only these); validity is huggingface_hub's.
HUB_REPO_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
# What to do about a model name that is not one model (not_one_model); a form adds where the field is.
ONE_MODEL_FIX = "To fix: give one model name or folder in name_or_path"


class NotOneName(FinetuneError):
    """A model name or dataset source that is no text (a list, a mapping, a number): it names nothing to read."""


def not_one_model(name: Any) -> str | None:
    """None when name_or_path is one model's name or folder as text, which a lookup can try; otherwise what it is
    instead, in the user's words, for a section that shows nothing rather than look up a model named "[a, b]" (a
    YAML list kept as written, core.config.as_written) or "" (nothing chosen)."""
    if isinstance(name, str):
        return None if name.strip() else "No model is chosen"
    if name is None:
        return "No model is chosen"
    return f"name_or_path holds {kind_of(name)} ({as_written(name)}), not one model"


def _not_text(value: Any) -> NotOneName:
    """The refusal of a name that is no text, for the functions below that read one (was: AttributeError, 'list'
    object has no attribute 'strip'). They serve models and datasets alike, so both fixes are named."""
    shown = f"{kind_of(value)[0].upper()}{kind_of(value)[1:]} ({as_written(value)})"
    return NotOneName(f"{shown} is not one model or dataset: a name or path is one piece of text. {ONE_MODEL_FIX} "
                      "(or one file, folder or Hub id in dataset.source).")


class SourceKind(str, enum.Enum):
    BUILTIN = "builtin"
    LOCAL = "local"
    URL = "url"
    HUB = "hub"

    @property
    def on_disk(self) -> bool:
        """Read from this computer (BUILTIN or LOCAL), never asked of the Hub."""
        return self in (SourceKind.BUILTIN, SourceKind.LOCAL)


def is_url(text: str) -> bool:
    """A web address (http, https or hf://): users paste the Hub page's address instead of its id."""
    return isinstance(text, str) and text.strip().lower().startswith(URL_PREFIXES)


def starts_like_path(text: str) -> bool:
    """Starts the way only a path does (/, ./, ../, ~, a backslash or a drive letter): the user meant a path."""
    if not isinstance(text, str):
        return False  # a list or mapping is no path either (source_kind says what it is)
    text = text.strip()
    return text.startswith(PATH_PREFIXES) or (len(text) > 1 and text[1] == ":")


def written_as_path(text: str) -> bool:
    """Written the way only a path is written (rule 4), whether or not it exists; never a Hub id. Unlike
    starts_like_path, `a/b/c` and `data.csv` count too: they could be a mistyped id, but not a valid one."""
    if not isinstance(text, str):
        return False
    stem, suffix = os.path.splitext(text.strip().lower())
    if suffix in COMPRESSED_SUFFIXES:
        suffix = os.path.splitext(stem)[1]
    return starts_like_path(text) or text.count("/") > 1 or suffix in DATA_SUFFIXES + ARCHIVE_SUFFIXES


def source_kind(text: str) -> SourceKind:
    """Which of the four a dataset source or model name is; see the module docstring for the rule. A value that is no
    text is none of them: NotOneName, saying what it is and what to write."""
    if not isinstance(text, str):
        raise _not_text(text)
    text = text.strip()
    if text in BUILTIN_IDS:
        return SourceKind.BUILTIN
    if is_url(text):
        return SourceKind.URL
    if (text and os.path.exists(os.path.expanduser(text))) or written_as_path(text):
        return SourceKind.LOCAL
    return SourceKind.HUB


def is_local(text: str) -> bool:
    """A file or folder on this computer (a built-in one included): read from disk, never asked of the Hub."""
    return source_kind(text).on_disk


def cache_repo_id(path: str) -> str | None:
    """The Hub id OWNER/NAME of a model folder in the Hugging Face cache, which huggingface_hub lays out as
    …/models--OWNER--NAME/snapshots/REVISION (a base picked there with Open folder…); None for any other path. A
    push named such a base by its last folder, the snapshot's commit hash, so the adapter pushed with it could not
    be loaded from the Hub (helper-119's finding)."""
    if not isinstance(path, str):
        return None
    parts = Path(path.strip()).expanduser().parts
    for folder, snapshots in zip(parts, parts[1:-1]):
        if folder.startswith("models--") and snapshots == "snapshots":
            words = folder[len("models--"):].split("--")  # the cache writes '/' as '--'; no id holds '--' itself
            if 1 <= len(words) <= 2 and all(words):
                return "/".join(words)
    return None


def hub_repo_id(text: str) -> str | None:
    """The `owner/name` id text names on the Hub (what a model card can link to), else None (a list names none)."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if source_kind(text) is SourceKind.HUB and HUB_REPO_ID_RE.match(text):
        return text
    return None
