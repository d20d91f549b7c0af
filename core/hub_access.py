"""Fail fast when the Hugging Face Hub cannot be reached.

Without this, loading a Hub id with no network retries for about 50 s before failing with a stack of connection
errors. One short probe (cached for a while) turns that into a sentence within a few seconds.
"""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request

from finetune_studio.core.errors import FinetuneError

PROBE_TIMEOUT_S = 3.0
_CACHE: dict[str, tuple[float, bool]] = {}
_CACHE_S = 30.0


class HubUnreachable(FinetuneError):
    pass


def endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def offline_mode() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def hub_reachable(timeout: float = PROBE_TIMEOUT_S) -> bool:
    """True if the endpoint answers HTTP at all (any status); False on DNS failure, refusal or timeout."""
    url = endpoint()
    cached = _CACHE.get(url)
    if cached and time.monotonic() - cached[0] < _CACHE_S:
        return cached[1]
    try:
        request = urllib.request.Request(url + "/api/whoami-v2", method="HEAD")
        urllib.request.urlopen(request, timeout=timeout).close()
        ok = True
    except urllib.error.HTTPError:
        ok = True  # the server answered, even if with 401
    except (urllib.error.URLError, OSError, ValueError):
        ok = False
    _CACHE[url] = (time.monotonic(), ok)
    return ok


def _fix(alternative: str, also: str) -> str:
    """"To fix: …" from a caller's alternative ("Pick a local model folder or the built-in demo model.") and what
    else makes the Hub reachable (`also`): the alternative first, as it works with no network at all."""
    text = alternative.strip().removeprefix("To fix:").strip().rstrip(".")
    return f"To fix: {text[:1].lower()}{text[1:]}, or {also}." if text else f"To fix: {also}."


def cached_revisions(repo_id: str) -> list[str]:
    """The revisions of a Hub model the local Hub cache holds, in huggingface_hub's layout: the names under
    models--OWNER--NAME/refs (main, v1, refs/pr/1 as pr/1 …), else the commits under snapshots/; [] when the model is
    not cached at all (or its folder cannot be read). Nothing is downloaded and no Hub client is imported."""
    from finetune_studio.core.doctor import hf_cache_dir

    folder = hf_cache_dir() / f"models--{repo_id.replace('/', '--')}"
    try:
        refs = sorted(str(p.relative_to(folder / "refs")) for p in (folder / "refs").rglob("*") if p.is_file())
        if refs:
            return sorted(refs, key=lambda ref: ref != "main")  # main first, the rest by name
        snapshots = folder / "snapshots"
        return sorted(p.name for p in snapshots.iterdir() if p.is_dir()) if snapshots.is_dir() else []
    except (OSError, ValueError):
        return []


def _revision_cause(repo_id: str | None, revision: str | None) -> tuple[str, str] | None:
    """(why, fix) when `repo_id` is in the local cache but not at `revision`: the revision and the cached ones named,
    and the way to a revision the cache has; None otherwise (not cached at all, or no revision asked for)."""
    if not repo_id or not revision:
        return None
    cached = cached_revisions(repo_id)
    if not cached or revision in cached:
        return None
    why = f"revision {revision} of {repo_id} is not in the local cache, which has: {', '.join(cached)}"
    fix = ("clear Revision (the cached main is used)" if "main" in cached else
           f"set Revision to one the cache has ({cached[0]})")
    return why, fix


def require_hub(what: str, alternative: str, repo_id: str | None = None, revision: str | None = None) -> None:
    """Raise HubUnreachable, before anything waits on the network, when `what` (a Hub id not in the local cache)
    cannot be loaded: offline mode is on, or the endpoint does not answer. `alternative`: what works without the
    Hub, said as the first way out in the message's "To fix:". `repo_id` and `revision`: when the cache holds that
    model at other revisions only, the message names the revision asked for and the cached ones, and its first way
    out is a cached revision."""
    why = "it is not in the local cache"
    by_revision = _revision_cause(repo_id, revision)
    if by_revision:
        why, alternative = by_revision
    if offline_mode():
        cause = f"{why}, so it cannot be downloaded"
        raise HubUnreachable(f"Cannot load {what}: offline mode is on (HF_HUB_OFFLINE) and {cause}. "
                             + _fix(alternative, "unset HF_HUB_OFFLINE with a network connection to download it once "
                                                 "(it is then read from the cache)"))
    if not hub_reachable():
        cause = f"{why}, so it must be downloaded"
        raise HubUnreachable(f"Cannot reach the Hugging Face Hub ({endpoint()}) to load {what}: {cause}. "
                             + _fix(alternative, "check your network connection or proxy (or HF_ENDPOINT) and try "
                                                 "again"))
