"""A file the Hub stores with Xet was downloaded by hf_xet (installed: transformers pulls it in) even in a Try-tab
load, in Rust, where Stop does not reach: core.generate.stoppable checks the stop at each chunk of an HTTP download
only, and hf_xet's one abort cancels every Xet transfer of the process. Under stoppable() the library is now told
hf_xet is not available, in that thread only, so such a file comes over HTTP, where Stop reaches it.

The local Hub serves no Xet, so the metadata says a file is stored with Xet (parse_xet_file_data_from_response, as
for a real Xet repository's headers) and hf_xet's download is a stand-in that records its calls."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import generate
from tests.core.test_load_stop_download_h188 import hub  # noqa: F401 - the slow Hub serving the demo model
from tests.slow_hub_h188 import REPO


@pytest.fixture
def xet_stored(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every file's metadata says Xet, hf_xet is installed, and its download records the file instead of fetching."""
    from huggingface_hub import file_download
    from huggingface_hub.utils._xet import XetFileData

    monkeypatch.setattr(file_download, "parse_xet_file_data_from_response",
                        lambda *args, **kwargs: XetFileData(file_hash="0" * 64, refresh_route="/api/xet-token"))
    monkeypatch.setattr(file_download, "is_xet_available", lambda: True)
    fetched: list[str] = []

    def xet_get(*, incomplete_path: Path, **kwargs: Any) -> None:
        fetched.append(incomplete_path.name)
        raise RuntimeError("hf_xet's download, out of the stop's reach")

    monkeypatch.setattr(file_download, "xet_get", xet_get)
    return fetched


def test_a_download_under_stoppable_comes_over_http_where_the_stop_reaches(hub: Any, xet_stored: list[str],
                                                                           tmp_path: Path) -> None:
    from huggingface_hub import file_download, hf_hub_download

    with generate.stoppable(threading.Event()):
        path = hf_hub_download(REPO, "config.json", cache_dir=tmp_path / "in-a-load")
        in_the_load = file_download.is_xet_available()
        elsewhere: list[bool] = []
        other = threading.Thread(target=lambda: elsewhere.append(file_download.is_xet_available()))
        other.start()
        other.join()
    assert xet_stored == [] and Path(path).read_bytes() == (hub.repos[REPO].files["config.json"])
    got = [(r.method, r.path) for r in hub.requests if r.path.endswith("/config.json")]
    assert got == [("HEAD", f"/{REPO}/resolve/main/config.json"), ("GET", f"/{REPO}/resolve/main/config.json")]
    assert in_the_load is False and elsewhere == [True]  # another thread (training, a push) keeps hf_xet

    with pytest.raises(RuntimeError, match="hf_xet's download"):  # the control: outside a load, hf_xet is used
        hf_hub_download(REPO, "config.json", cache_dir=tmp_path / "elsewhere")
    assert len(xet_stored) == 1 and file_download.is_xet_available() is True
