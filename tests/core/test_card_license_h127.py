"""The model card carries the base model's license where it is known offline: the builtin demo model's (the app's
own, apache-2.0), or the `license:` of the base model's README.md front matter in its local folder or in the Hugging
Face cache's snapshot. Where it is not known, the metadata names none (no made-up license) and the card's text says
so and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from finetune_studio.core.model_card import render_model_card
from tests.hub_fixtures import make_finished_run


def _meta(card: str) -> dict:
    return yaml.safe_load(card.split("---\n")[1])


def _license_section(card: str) -> str:
    return card.split("## License\n\n")[1].split("\n\n")[0]


def _base(folder: Path, front: str | None) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}", encoding="utf-8")
    if front is not None:
        (folder / "README.md").write_text(f"---\n{front}---\n\n# A base model\n", encoding="utf-8")
    return folder


def test_the_demo_models_license_is_the_apps(tmp_path: Path) -> None:
    card = render_model_card(make_finished_run(tmp_path / "runs"), repo_id="alice/tiny-run")
    assert _meta(card)["license"] == "apache-2.0"
    assert _license_section(card) == ("`apache-2.0`, as the builtin demo model it is fine-tuned from is Finetune "
                                      "Studio's own (built from the app's synthetic sample data), under the app's "
                                      "license.")


def test_a_local_bases_license_is_read_from_its_card(tmp_path: Path) -> None:
    base = _base(tmp_path / "my-base", "license: llama3.1\nlibrary_name: transformers\n")
    card = render_model_card(make_finished_run(tmp_path / "runs", model=str(base)))
    assert _meta(card)["license"] == "llama3.1"
    assert _license_section(card) == ("`llama3.1`, the license the card of the base model it is fine-tuned from "
                                      "gives (the `license:` of its README.md).")


def test_a_cached_hub_bases_license_and_its_name_and_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    cache = tmp_path / "hub"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    repo = cache / "models--acme--base-7b"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0123abc", encoding="utf-8")
    _base(repo / "snapshots" / "0123abc", "license: other\nlicense_name: acme-license\n"
                                          "license_link: https://example.com/LICENSE\n")
    card = render_model_card(make_finished_run(tmp_path / "runs", model="acme/base-7b"))
    meta = _meta(card)
    assert (meta["license"], meta["license_name"], meta["license_link"]) == (
        "other", "acme-license", "https://example.com/LICENSE")
    assert meta["base_model"] == "acme/base-7b"
    assert _license_section(card).startswith("other ([acme-license](https://example.com/LICENSE)), the license ")
    # the same base picked as a folder of the cache (Open folder…): the snapshot's own README.md
    card = render_model_card(make_finished_run(tmp_path / "runs", name="picked",
                                               model=str(repo / "snapshots" / "0123abc")))
    assert _meta(card)["license"] == "other"


@pytest.mark.parametrize(("front", "why"), [
    (None, "the base model's card (README.md) is not on this computer"),
    ("library_name: transformers\n", "the base model's card (README.md) names no license"),
    ("license: MIT License\n", "the base model's card (README.md) gives its license as \"MIT License\", which is no "
                               "license id the Hub takes"),
])
def test_an_unknown_license_is_left_out_and_said(tmp_path: Path, front: str | None, why: str) -> None:
    base = _base(tmp_path / "my-base", front)
    card = render_model_card(make_finished_run(tmp_path / "runs", model=str(base)))
    assert "license" not in _meta(card)
    assert _license_section(card) == (f"The license is not known: {why}, so this card's metadata names none. To fix: "
                                      "set the license on the Hub (the `license:` field of this card's metadata) to "
                                      "the base model's, as its terms say.")


def test_a_hub_base_not_in_the_cache_has_no_license(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    card = render_model_card(make_finished_run(tmp_path / "runs", model="acme/base-7b"))
    assert "license" not in _meta(card)
    assert _license_section(card).startswith("The license is not known: the base model's card (README.md) is not on "
                                             "this computer, so")
