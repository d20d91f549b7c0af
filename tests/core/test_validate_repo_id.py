"""validate says a repository id the push would refuse, in the push's own words (core.hub.repo_id_problem),
before training: it checked only for more than one '/', so 'me/bad id!' or a pasted page address passed, a run
with push_when_done trained for its whole length, and the push at its end refused the id."""

from __future__ import annotations

import pytest

from finetune_studio.core.hub import REPO_ID_FIX
from tests.helpers import said


@pytest.mark.parametrize("written, why", [
    ("a/b/c", "it has 2 '/' where a repository id has one, between the owner and the name"),
    ("me/bad id!", "its name has characters the Hub does not allow: ' ' (a space), '!'"),
    ("noslash", "it has no owner"),
    ("https://huggingface.co/alice/x", "it is a web address, not owner/name (the page's repository is alice/x)"),
])
def test_an_id_the_push_refuses_is_said_at_validate(written: str, why: str) -> None:
    assert said(f"hub:\n  repo_id: '{written}'\n  push_when_done: false\n", "hub.repo_id") == [
        f"repo_id '{written}' is not a repository id the Hub accepts: {why}. {REPO_ID_FIX}"]


@pytest.mark.parametrize("written", ["me/ok-model", "org.name/my_model.v2", " me/spaced "])
def test_a_good_id_passes(written: str) -> None:
    assert said(f"hub:\n  repo_id: '{written}'\n", "hub.repo_id") == []
