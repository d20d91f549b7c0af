"""The push dialog's merged option to a new repository of an organization where the account's role is "read": said
in the dialog before the merge (core.hub reads the role from whoami-v2), nothing created, the merge never entered;
the same dialog then pushes to the account's own namespace. Against the local Hub, the merge a stand-in for
core.export.export_merged that counts its calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import export
from finetune_studio.core import hub as core_hub
from finetune_studio.core.export import ExportResult
from tests.core.test_cli_push_export_input import _adapter_run
from tests.core.test_push_merged_checks import small_merged_model
from tests.core.test_push_org_roles_h194 import FIX, REFUSED
from tests.hub_fixtures import PUSH_WAIT_MS, WRITE, connect_client, hub, push, push_dialog
from tests.hub_server import HubServer


def test_the_dialog_says_a_read_role_refusal_before_merging(hub: HubServer, qtbot: Any, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    merges: list[list[str]] = []

    def merged(run_dir: Path, out_dir: Path, *args: Any, **kwargs: Any) -> ExportResult:
        merges.append(sorted(hub.repos))
        return small_merged_model(Path(out_dir))

    monkeypatch.setattr(export, "export_merged", merged)
    # the dialog's list of files (a merged one reads the base model, which this stand-in run has not): not tested here
    monkeypatch.setattr(core_hub, "plan_push", lambda run_dir, repo_id, form, dtype=None: [("model.safetensors", 1)])
    hub.add_org("acme", {"alice": "read", "bob": "write"})
    hub.add_org("bigco", {"alice": "contributor"})
    connect_client(monkeypatch, hub, tmp_path / "hf_home", token=WRITE)
    run = _adapter_run(tmp_path / "runs")
    with push_dialog(qtbot, run, core_hub.whoami()) as dialog:
        dialog.merged_radio.click()
        qtbot.waitUntil(lambda: "model.safetensors" in dict(dialog.plan), timeout=PUSH_WAIT_MS)
        hub.requests.clear()
        push(qtbot, dialog, "acme/m")
        assert dialog.message.property("kind") == "error"
        assert dialog.message.text() == f"{REFUSED} {FIX}"
        assert merges == [] and hub.repos == {}
        assert [(r.method, r.path.split("?")[0]) for r in hub.requests] == [
            ("GET", "/api/whoami-v2"), ("GET", "/api/models/acme/m")]
        assert dialog.push_button.isEnabled() and dialog.repo_edit.isEnabled()

        push(qtbot, dialog, "bigco/m")  # an organization where alice is a contributor: created and pushed
        assert dialog.message.property("kind") == "success", dialog.message.text()
        assert merges == [[]]
        assert {"config.json", "model.safetensors"} <= set(hub.repos["bigco/m"].files)
