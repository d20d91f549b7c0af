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


def require_hub(what: str, alternative: str) -> None:
    """Raise HubUnreachable, before anything waits on the network, when `what` (a Hub id not in the local cache)
    cannot be loaded: offline mode is on, or the endpoint does not answer. `alternative`: what works without the
    Hub, said as the first way out in the message's "To fix:"."""
    if offline_mode():
        raise HubUnreachable(f"Cannot load {what}: offline mode is on (HF_HUB_OFFLINE) and it is not in the local "
                             "cache, so it cannot be downloaded. "
                             + _fix(alternative, "unset HF_HUB_OFFLINE with a network connection to download it once "
                                                 "(it is then read from the cache)"))
    if not hub_reachable():
        raise HubUnreachable(f"Cannot reach the Hugging Face Hub ({endpoint()}) to load {what}: it is not in the "
                             "local cache, so it must be downloaded. "
                             + _fix(alternative, "check your network connection or proxy (or HF_ENDPOINT) and try "
                                                 "again"))
