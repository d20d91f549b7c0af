"""A merged push (`finetune-studio push RUN --merged`, the push dialog's merged option: both core.hub.push_run) to
a repository to be created in an organization where the account's role is "read" was refused only by the Hub's
create, after the adapter had been merged into its base model (minutes on a big model). The push now reads the
role from whoami-v2 ("orgs", each with "roleInOrg") and refuses before the merge, with nothing sent or created.
Where whoami does not say (no role, no "orgs" list: an older server), the push goes on as before and the create
refuses. Against the local test Hub in this process (tests/hub_server.py, which answers whoami with the account's
organizations and roles and refuses a read member's create with 403), asserting the requests it got; the merge is a
stand-in for core.export.export_merged that counts its calls."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core import hub as core_hub
from tests.core.test_cli_push_export_input import _adapter_run, quiet_hub  # noqa: F401 - a fixture
from tests.core.test_push_merge_first_h185 import merges  # noqa: F401 - a fixture: the merge stood in for
from tests.hub_fixtures import BOB, hub
from tests.hub_server import HubServer

WHOAMI, LOOK, CREATE = ("GET", "/api/whoami-v2"), ("GET", "/api/models/acme/m"), ("POST", "/api/repos/create")
REFUSED = ("You cannot push to acme/m: it does not exist yet, and your role in the organization acme is read, which "
           "lets you see its repositories but not create one (you are logged in as alice). Nothing was merged or "
           "sent to the Hub, and acme/m was not created.")
FIX = ("To fix: push to a namespace you may create repositories in: your own (leave the repository empty for "
       "alice/<run name>, or write alice/<name>) or an organization where your role lets you create (bigco: write "
       "bigco/<name>); or ask an admin of acme to give you the write or contributor role there, then push again.")


@pytest.fixture(autouse=True)
def stage(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The push's staging place (TMPDIR), of this test alone: a merge folder left there would show."""
    stage = tmp_path / "stage"
    stage.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(stage))
    return stage


@pytest.fixture
def orgs(quiet_hub: HubServer) -> HubServer:
    """alice reads acme (bob writes there) and is a contributor in bigco."""
    quiet_hub.add_org("acme", {"alice": "read", "bob": "write"})
    quiet_hub.add_org("bigco", {"alice": "contributor"})
    return quiet_hub


def _requests(hub: HubServer) -> list[tuple[str, str]]:
    return [(request.method, request.path.split("?")[0]) for request in hub.requests]


def test_whoami_says_the_roles_the_hub_gives(orgs: HubServer) -> None:
    account = core_hub.whoami()
    assert (account.name, account.orgs, account.org_roles) == ("alice", ("acme", "bigco"),
                                                               (("acme", "read"), ("bigco", "contributor")))


def test_a_read_member_s_push_to_a_new_org_repository_is_refused_before_the_merge(
        orgs: HubServer, merges: list[list[str]], tmp_path: Path) -> None:
    """The push dialog's way: core.hub.push_run with its progress."""
    run = _adapter_run(tmp_path / "runs")
    phases: list[str] = []
    with pytest.raises(core_hub.HubPermissionError) as raised:
        core_hub.push_run(run, repo_id="acme/m", form=core_hub.PUSH_MERGED,
                          progress=lambda event: phases.append(event["phase"]))
    assert raised.value.message == REFUSED
    assert raised.value.fix == FIX
    assert not raised.value.bad_input and not raised.value.needs_login
    assert merges == []  # the merge was never entered
    assert phases == ["account", "repo"]
    assert _requests(orgs) == [WHOAMI, LOOK]  # no create, no upload: only reads
    assert orgs.repos == {}
    staged = [path for path in Path(tempfile.gettempdir()).iterdir() if path.name.startswith(core_hub.STAGING_PREFIX)]
    assert staged == []  # no merge folder was made (torch may leave its own cache folder there)


def test_the_cli_says_the_same_refusal_and_exits_1(orgs: HubServer, merges: list[list[str]], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    run = _adapter_run(tmp_path / "runs")
    assert cli.main(["push", str(run), "--repo", "acme/m", "--merged"]) == cli.EXIT_FAILED == 1
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err, err
    assert [line for line in err.splitlines() if line.startswith("error: ")] == [f"error: {REFUSED} {FIX}"], err
    assert "Merging" not in err and "Creating acme/m" not in err
    assert merges == [] and _requests(orgs) == [WHOAMI, LOOK] and orgs.repos == {}


def test_with_no_organization_to_create_in_the_fix_names_only_the_own_namespace(
        quiet_hub: HubServer, merges: list[list[str]], tmp_path: Path) -> None:
    quiet_hub.add_org("acme", {"alice": "read"})
    with pytest.raises(core_hub.HubPermissionError) as raised:
        core_hub.push_run(_adapter_run(tmp_path / "runs"), repo_id="acme/m", form=core_hub.PUSH_MERGED)
    assert raised.value.fix == ("To fix: push to a namespace you may create repositories in: your own (leave the "
                                "repository empty for alice/<run name>, or write alice/<name>); or ask an admin of "
                                "acme to give you the write or contributor role there, then push again.")
    assert merges == [] and _requests(quiet_hub) == [WHOAMI, LOOK] and quiet_hub.repos == {}


def test_another_user_s_namespace_is_still_refused_before_the_merge(orgs: HubServer, merges: list[list[str]],
                                                                    tmp_path: Path) -> None:
    with pytest.raises(core_hub.HubPermissionError) as raised:
        core_hub.push_run(_adapter_run(tmp_path / "runs"), repo_id="bob/new", form=core_hub.PUSH_MERGED)
    assert raised.value.message == ("You cannot push to bob/new: its namespace, bob, is not yours, and you are logged "
                                    "in as alice (your organizations: acme, bigco). Nothing was sent to the Hub, and "
                                    "bob/new was not created.")
    assert merges == [] and _requests(orgs) == [WHOAMI, ("GET", "/api/models/bob/new")] and orgs.repos == {}


@pytest.mark.parametrize("role", ["contributor", "write", "admin"])
def test_a_role_that_may_create_pushes_the_merged_model(role: str, quiet_hub: HubServer, merges: list[list[str]],
                                                        tmp_path: Path) -> None:
    quiet_hub.add_org("acme", {"alice": role})
    result = core_hub.push_run(_adapter_run(tmp_path / "runs"), repo_id="acme/m", form=core_hub.PUSH_MERGED)
    assert merges == [[]]  # merged once, before the repository was created
    assert result.repo_id == "acme/m" and result.url.endswith("/acme/m")
    repo = quiet_hub.repos["acme/m"]
    assert (repo.owner, repo.created_by, repo.private) == ("acme", "alice", True)
    assert {"config.json", "model.safetensors", "README.md"} <= set(repo.files)
    assert repo.files["config.json"] == b'{"model_type": "qwen3"}'  # the stand-in merge's, as written
    assert _requests(quiet_hub)[:3] == [WHOAMI, LOOK, CREATE]


def test_an_existing_org_repository_the_account_may_write_to_still_takes_the_push(
        quiet_hub: HubServer, merges: list[list[str]], tmp_path: Path) -> None:
    from huggingface_hub import HfApi

    quiet_hub.add_org("acme", {"alice": "write", "bob": "admin"})
    HfApi(endpoint=quiet_hub.url).create_repo("acme/m", private=True, token=BOB)  # bob's, private: alice sees it
    core_hub.push_run(_adapter_run(tmp_path / "runs"), repo_id="acme/m", private=True, form=core_hub.PUSH_MERGED)
    assert merges == [["acme/m"]]
    repo = quiet_hub.repos["acme/m"]
    assert repo.created_by == "bob" and {"config.json", "model.safetensors"} <= set(repo.files)
    assert len(repo.commits) == 1


@pytest.mark.parametrize("left_out", ["roleInOrg", "orgs"])
def test_when_whoami_does_not_say_the_role_the_create_refuses_as_before(
        left_out: str, orgs: HubServer, merges: list[list[str]], tmp_path: Path) -> None:
    """An older server's whoami (no roleInOrg, or no orgs at all): not refused before the merge; the Hub's create
    says no (403) and nothing is uploaded."""
    orgs.whoami_leaves_out = {left_out}
    assert core_hub.whoami().org_roles == ((("acme", ""), ("bigco", "")) if left_out == "roleInOrg" else None)
    orgs.requests.clear()
    with pytest.raises(core_hub.HubPermissionError) as raised:
        core_hub.push_run(_adapter_run(tmp_path / "runs"), repo_id="acme/m", form=core_hub.PUSH_MERGED)
    assert raised.value.message == ("You cannot push to acme/m: You don't have the rights to create a model under "
                                    "the namespace \"acme\".")
    assert raised.value.fix.startswith("To fix: ")
    assert merges == [[]]  # merged, as the push did before: only the create could tell
    assert _requests(orgs) == [WHOAMI, LOOK, CREATE, LOOK]  # the client's exist_ok look after a 403; no upload
    assert orgs.repos == {}
