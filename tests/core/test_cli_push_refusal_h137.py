"""`finetune-studio push` shares the push dialog's code (core.hub.push_run): a refusal of the Hub that is neither
401, 403, 404, 429 nor 5xx is said with what to do next there too (helper-137), and the push after it works."""

from __future__ import annotations

from pathlib import Path

from tests.hub_fixtures import WRITE, HubClient, client, hub, run_dir, tree_digest
from tests.hub_server import HubServer


def test_cli_push_to_a_name_the_hub_refuses_says_to_choose_another(client: HubClient, hub: HubServer,
                                                                    run_dir: Path) -> None:
    client.env["HF_TOKEN"] = WRITE
    before = tree_digest(run_dir)
    refused = client.finetune("push", str(run_dir), "--repo", "alice/_x")
    assert refused.returncode == 1, refused.stderr
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        "error: The Hub refused creating alice/_x (HTTP 400): Invalid repository name: '_x'. To fix: change what the "
        "Hub's reason names (a name it will not take: choose another, in the push dialog's Repository field or "
        "finetune-studio push --repo), then push again."]
    assert hub.repos == {} and tree_digest(run_dir) == before
    pushed = client.finetune("push", str(run_dir), "--repo", "alice/x")
    assert pushed.returncode == 0, pushed.stderr
    assert len(hub.repos["alice/x"].commits) == 1 and tree_digest(run_dir) == before
    assert not any(WRITE in output for output in client.outputs)
