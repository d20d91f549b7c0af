"""A chat adapter run whose model folder has no generation_config.json (saved before 02da590 made every save write
one) was pushed to the Hub as an adapter without any: whoever loaded the pushed adapter and called model.generate
ran on past the chat's end of turn (<|im_end|>) to max_new_tokens, and the card's snippet, which said to load the
file only where the run's model folder held it, did not say to. The push now stages the generation config an
adapter export writes for such a run (core.export.adapter_stops: its base's with the template's end of turn among
the stops), and the card's snippet loads it from the repository, as pushed (helper-93's finding, helper-95).
Pushed to the local Hub-compatible server (tests/hub_server.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.core.test_export_old_chat_adapter_stops import old_chat_run  # noqa: F401 - a fixture
from tests.core.test_generate_chat_stops import lora_chat_run  # noqa: F401 - a fixture
from tests.core.test_model_card_chat_adapter import snippet, snippet_reply
from tests.hub_fixtures import WRITE, HubClient, client, hub  # client, hub: fixtures
from tests.hub_server import HubServer

pytestmark = pytest.mark.slow

LOAD_LINE = ('model.generation_config = GenerationConfig.from_pretrained("alice/old-chat")  # stops at the end '
             'of a reply')


def test_an_old_chat_adapter_run_is_pushed_with_its_end_of_turn_and_the_card_loads_it(
        old_chat_run: tuple[Path, dict], hub: HubServer, client: HubClient, tmp_path: Path) -> None:
    from finetune_studio.core.demo import demo_model_path
    from finetune_studio.core.export import export_adapter

    run, held = old_chat_run
    assert (held["eos_token_id"], held["pad_token_id"]) == ([1458, 0], 0)  # <|im_end|>, then the demo's EOS
    plan, push = client.steps(("plan_push", {"run_dir": run, "repo_id": "alice/old-chat"}),
                              ("push_run", {"run_dir": run, "repo_id": "alice/old-chat", "token": WRITE}))
    assert push.ok, push
    files = hub.repos["alice/old-chat"].files
    assert "generation_config.json" in push.value["files"]
    pushed = json.loads(files["generation_config.json"])
    assert (pushed["eos_token_id"], pushed["pad_token_id"]) == ([1458, 0], 0)
    exported = export_adapter(run, tmp_path / "exported").out_dir  # the same file an adapter export writes
    assert files["generation_config.json"] == (exported / "generation_config.json").read_bytes()
    assert dict(plan.value)["generation_config.json"] == len(files["generation_config.json"])  # the dialog's list
    assert not (run / "model" / "generation_config.json").exists()  # the run folder is only read

    card = files["README.md"].decode("utf-8")
    code = snippet(card)
    assert "from transformers import AutoTokenizer, GenerationConfig\n" in code and LOAD_LINE in code

    repo = tmp_path / "downloaded"  # what the repository holds, its base named by the demo's folder as here
    for name, data in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes(data)
    adapter = json.loads((repo / "adapter_config.json").read_text(encoding="utf-8"))
    assert adapter["base_model_name_or_path"] == demo_model_path().name  # no local path is pushed
    adapter["base_model_name_or_path"] = str(demo_model_path())
    (repo / "adapter_config.json").write_text(json.dumps(adapter), encoding="utf-8")
    reply, _end, _model = snippet_reply(code.replace('"alice/old-chat"', repr(str(repo))))  # the files pushed
    assert (len(reply), reply[-1]) == (4, 1458)  # 3 reply tokens, then <|im_end|>: no run-on to 40


def test_an_old_text_adapter_run_is_pushed_as_before_and_its_card_loads_no_file(
        old_chat_run: tuple[Path, dict], hub: HubServer, client: HubClient) -> None:
    """The same run recorded as a text run when training began (status.json chat false): nothing is added, and
    the card's snippet does not name a generation_config.json the repository lacks."""
    run, _held = old_chat_run
    status = json.loads((run / "status.json").read_text(encoding="utf-8"))
    status["chat"] = False
    (run / "status.json").write_text(json.dumps(status), encoding="utf-8")
    push = client.call("push_run", run_dir=run, repo_id="alice/old-chat", token=WRITE)
    assert push.ok, push
    files = hub.repos["alice/old-chat"].files
    assert "generation_config.json" not in files
    assert "GenerationConfig" not in files["README.md"].decode("utf-8")


def test_a_merged_push_of_an_old_chat_run_stops_at_the_end_of_turn(old_chat_run: tuple[Path, dict],
                                                                   hub: HubServer, client: HubClient) -> None:
    """A merged push goes through core.export.export_merged, which adds the stops (4635fdd): checked, unchanged."""
    run, _held = old_chat_run
    push = client.call("push_run", run_dir=run, repo_id="alice/old-chat-merged", token=WRITE, form="merged")
    assert push.ok, push
    files = hub.repos["alice/old-chat-merged"].files
    pushed = json.loads(files["generation_config.json"])
    assert (pushed["eos_token_id"], pushed["pad_token_id"]) == ([1458, 0], 0)
    assert "GenerationConfig" not in files["README.md"].decode("utf-8")  # a whole model loads its own
