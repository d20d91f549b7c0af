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


# transformers' AutoTokenizer lists a repository's files (GET /api/models/<repo>/tree/...) to look for extra chat
# templates; tests/hub_server.py does not implement the listing, answers 404, and transformers goes on without it.
TOLERATED = "/tree/main"


@pytest.fixture
def hub():
    """tests.hub_fixtures.hub, tolerating only the tokenizer's file listing among unimplemented requests."""
    from tests.hub_server import HubServer

    with HubServer() as server:
        server.add_token(WRITE, "alice", "write", display_name="studio-write")
        server.add_token(READ, "alice", "read", display_name="studio-read")
        yield server
        others = [r for r in server.unhandled if not (r.method == "GET" and TOLERATED in r.path)]
        assert not others, f"requests the test hub does not implement: {others}"


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
