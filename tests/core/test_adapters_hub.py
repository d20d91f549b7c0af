"""A LoRA run pushed to the local Hub-compatible server (tests/hub_server.py) loads back with
AutoPeftModelForCausalLM.from_pretrained(repo) and computes what the run's adapter computes; its card says
library_name: peft, base_model and the method's settings; --merged pushes an ordinary model instead."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT, SAMPLE, small_config
from tests.hub_fixtures import READ, WRITE, HubClient, client

BASE_REPO = "alice/tiny-base"
PROMPT = "Leo: this week"

UPLOAD_BASE = r"""
import sys
from huggingface_hub import HfApi
api = HfApi()
api.create_repo(sys.argv[1], private=False, exist_ok=True)
api.upload_folder(repo_id=sys.argv[1], folder_path=sys.argv[2])
"""

# Load a pushed repository in a fresh process with an empty Hugging Face cache: the adapter and its base model both
# come from the test Hub. Prints the logits of the last token of PROMPT.
LOAD_BACK = r"""
import json, sys
import torch
from transformers import AutoTokenizer
repo, prompt, how = sys.argv[1], sys.argv[2], sys.argv[3]
if how == "peft":
    from peft import AutoPeftModelForCausalLM
    model = AutoPeftModelForCausalLM.from_pretrained(repo)
    kind = type(model).__name__
else:
    sys.modules["peft"] = None  # a merged model needs no peft
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(repo)
    kind = type(model).__name__
tokenizer = AutoTokenizer.from_pretrained(repo)
with torch.no_grad():
    logits = model.eval()(**tokenizer(prompt, return_tensors="pt")).logits[0, -1]
print(json.dumps({"kind": kind, "logits": logits.tolist()}))
"""

# A merged push in small shards (core.export.MAX_SHARD_SIZE), as push_run makes it; prints the files it pushed.
PUSH_SHARDED = r"""
import json, sys
from pathlib import Path
from finetune_studio.core import export, hub
export.MAX_SHARD_SIZE = sys.argv[3]
print(json.dumps(hub.push_run(Path(sys.argv[1]), repo_id=sys.argv[2], form=hub.PUSH_MERGED).files))
"""

# The repository's listing (list_repo_tree, list_repo_files) and the sharded model loaded from it with an empty cache
# (transformers fetches the shards through snapshot_download, which lists the tree first).
LIST_AND_LOAD = r"""
import json, sys
import torch
from huggingface_hub import HfApi
from huggingface_hub.errors import EntryNotFoundError
from transformers import AutoModelForCausalLM, AutoTokenizer
repo, prompt = sys.argv[1], sys.argv[2]
api = HfApi()
top = sorted((type(entry).__name__, entry.path, entry.size) for entry in api.list_repo_tree(repo))
files = sorted(api.list_repo_files(repo))
try:
    list(api.list_repo_tree(repo, path_in_repo="no-such-folder"))
    missing = "listed"
except EntryNotFoundError:
    missing = "EntryNotFoundError"
model = AutoModelForCausalLM.from_pretrained(repo)
tokenizer = AutoTokenizer.from_pretrained(repo)
with torch.no_grad():
    logits = model.eval()(**tokenizer(prompt, return_tensors="pt")).logits[0, -1]
print(json.dumps({"top": top, "files": files, "missing": missing, "logits": logits.tolist()}))
"""


@pytest.fixture
def hub():
    """A local Hub with alice's write and read tokens; fails the test on any endpoint it lacks (transformers'
    AutoTokenizer lists the repository's tree too: served since tests/hub_server.py has the listing)."""
    from tests.hub_server import HubServer

    with HubServer() as server:
        server.add_token(WRITE, "alice", "write", display_name="studio-write")
        server.add_token(READ, "alice", "read", display_name="studio-read")
        yield server
        assert not server.unhandled, f"requests the test hub does not implement: {server.unhandled}"


def child(client: HubClient, script: str, *argv: str, hf_home: Path | None = None) -> subprocess.CompletedProcess:
    env = client.environment()
    if hf_home is not None:
        env["HF_HOME"] = str(hf_home)
    return subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=300)


def adapter_logits(model_dir: Path, base: Path) -> list[float]:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(str(base)), str(model_dir)).eval()
    inputs = AutoTokenizer.from_pretrained(str(model_dir))(PROMPT, return_tensors="pt")
    with torch.no_grad():
        return model(**inputs).logits[0, -1].tolist()


@pytest.mark.slow
def test_a_pushed_adapter_loads_back_with_auto_peft_model(hub, client: HubClient, demo_cache: Path,
                                                          tmp_path: Path) -> None:
    import torch

    from finetune_studio.core.config import save_config
    from finetune_studio.core.demo import demo_model_path

    client.env["HF_TOKEN"] = WRITE
    # The base model on the Hub, and in the training process's cache (as after a first download).
    made = child(client, UPLOAD_BASE, BASE_REPO, str(demo_model_path()))
    assert made.returncode == 0, made.stderr[-2000:]
    names = ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]
    fetched = client.call("download", repo_id=BASE_REPO, files=names)
    assert fetched.ok, fetched

    dataset = tmp_path / "rows.jsonl"
    dataset.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:80]) + "\n", encoding="utf-8")
    config = small_config(dataset, tmp_path / "runs", max_steps=3, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False, learning_rate=1e-2)
    config.name, config.model.name_or_path = "hub-lora", BASE_REPO
    config.adapter.method, config.adapter.r = "lora", 4
    path = tmp_path / "hub-lora.yaml"
    save_config(config, path)
    trained = client.finetune("train", str(path), "--quiet")
    assert trained.returncode == 0, trained.stderr[-3000:]
    run_dir = tmp_path / "runs" / "hub-lora"
    saved = json.loads((run_dir / "model" / "adapter_config.json").read_text())
    assert saved["base_model_name_or_path"] == BASE_REPO  # the Hub id, as the user chose it

    pushed = client.finetune("push", str(run_dir), "--repo", "alice/tiny-lora")
    assert pushed.returncode == 0, pushed.stderr[-3000:]
    card = client.call("download", repo_id="alice/tiny-lora", files=["README.md", "adapter_config.json"])
    assert card.ok, card
    text = Path(card.value["README.md"]).read_text(encoding="utf-8")
    meta = yaml.safe_load(text.split("---\n")[1])
    assert meta["library_name"] == "peft" and meta["base_model"] == BASE_REPO and "lora" in meta["tags"]
    assert "- Method: LoRA (PEFT)" in text and "- Rank r: 4" in text and "- Alpha: 32 (updates scaled by 8" in text
    assert 'AutoPeftModelForCausalLM.from_pretrained("alice/tiny-lora")' in text

    loaded = child(client, LOAD_BACK, "alice/tiny-lora", PROMPT, "peft", hf_home=tmp_path / "fresh-home")
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    result = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert result["kind"] == "PeftModelForCausalLM"
    expected = torch.tensor(adapter_logits(run_dir / "model", demo_model_path()))
    assert torch.allclose(torch.tensor(result["logits"]), expected, atol=1e-5)

    # The same run merged into its base: an ordinary model, loaded without peft, computing the same.
    merged = client.finetune("push", str(run_dir), "--repo", "alice/tiny-merged", "--merged")
    assert merged.returncode == 0, merged.stderr[-3000:]
    files = client.call("download", repo_id="alice/tiny-merged", files=["README.md", "model.safetensors"])
    assert files.ok, files
    meta = yaml.safe_load(Path(files.value["README.md"]).read_text(encoding="utf-8").split("---\n")[1])
    assert meta["library_name"] == "transformers" and meta["base_model"] == BASE_REPO
    loaded = child(client, LOAD_BACK, "alice/tiny-merged", PROMPT, "transformers", hf_home=tmp_path / "home-2")
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    result = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert result["kind"] == "Qwen3ForCausalLM"
    assert torch.allclose(torch.tensor(result["logits"]), expected, atol=1e-4)


@pytest.mark.slow
def test_a_sharded_merged_push_lists_and_loads_back_from_the_hub(hub, client: HubClient, demo_cache: Path,
                                                                tmp_path: Path) -> None:
    """A merged model big enough to be saved in shards: the Hub's tree lists every pushed file with its size, and
    from_pretrained(repo) fetches the shards (through the tree listing) and computes what the run's adapter does."""
    import torch

    from finetune_studio.core.demo import demo_model_path
    from finetune_studio.core.training import run

    dataset = tmp_path / "rows.jsonl"
    dataset.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:80]) + "\n", encoding="utf-8")
    config = small_config(dataset, tmp_path / "runs", max_steps=3, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False, learning_rate=1e-2)
    config.name, config.adapter.method, config.adapter.r = "sharded", "lora", 4
    result = run(config)
    assert result.state == "finished"

    client.env["HF_TOKEN"] = WRITE
    pushed = child(client, PUSH_SHARDED, str(result.run_dir), "alice/sharded", "100KB")
    assert pushed.returncode == 0, pushed.stderr[-3000:]
    files = sorted(json.loads(pushed.stdout.strip().splitlines()[-1]))
    shards = [name for name in files if name.startswith("model-")]
    assert len(shards) >= 2 and "model.safetensors.index.json" in files and "model.safetensors" not in files

    listed = child(client, LIST_AND_LOAD, "alice/sharded", PROMPT, hf_home=tmp_path / "fresh-home")
    assert listed.returncode == 0, listed.stderr[-3000:]
    answer = json.loads(listed.stdout.strip().splitlines()[-1])
    stored = hub.repos["alice/sharded"].files
    assert answer["files"] == files == sorted(stored)
    assert answer["top"] == [["RepoFile", name, len(stored[name])] for name in files]
    assert answer["missing"] == "EntryNotFoundError"
    assert any("/tree/" in path and "recursive=true" in path.lower() for path in hub.paths("GET"))
    expected = torch.tensor(adapter_logits(result.model_dir, demo_model_path()))
    assert torch.allclose(torch.tensor(answer["logits"]), expected, atol=1e-4)
