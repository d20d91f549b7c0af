"""Tests for the sample dataset generator and the built-in demo model (core/demo.py)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from finetune_studio.core import demo

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "resources" / "make_sample_dataset.py"
SIGNS = {
    "Aries", "Taurus", "Gemini", "Cancer", "Leo", "Virgo",
    "Libra", "Scorpio", "Sagittarius", "Capricorn", "Aquarius", "Pisces",
}
CATEGORIES = {"general", "love", "career", "health", "money"}


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_sample_dataset", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


# --------------------------------------------------------------------------- dataset


def test_sample_dataset_path_points_at_committed_file():
    assert demo.SAMPLE_DATASET.is_absolute()
    assert demo.SAMPLE_DATASET == ROOT / "resources" / "sample_horoscopes.jsonl"
    assert demo.SAMPLE_DATASET.is_file()
    assert demo.SAMPLE_DATASET.stat().st_size < 1_000_000


def test_sample_dataset_rows_and_columns():
    rows = _rows(demo.SAMPLE_DATASET)
    assert len(rows) == 2000
    for row in rows:
        assert list(row) == ["sign", "date", "category", "horoscope"]
        assert row["sign"] in SIGNS
        assert row["category"] in CATEGORIES
        assert dt.date.fromisoformat(row["date"]).year == 2024
        assert isinstance(row["horoscope"], str) and row["horoscope"].strip()
    # every sign and category is represented reasonably
    assert {r["sign"] for r in rows} == SIGNS
    assert {r["category"] for r in rows} == CATEGORIES
    assert min(sum(r["category"] == c for r in rows) for c in CATEGORIES) > 300
    # not degenerate: plenty of distinct texts
    assert len({r["horoscope"] for r in rows}) > 1900


def test_sample_dataset_length_spread():
    words = sorted(len(r["horoscope"].split()) for r in _rows(demo.SAMPLE_DATASET))
    shortest, longest = words[0], words[-1]
    assert shortest <= 10
    assert longest >= 200
    assert longest >= 10 * shortest
    median = words[len(words) // 2]
    assert 20 <= median <= 60  # skewed: many short texts ...
    assert sum(w >= 150 for w in words) >= 50  # ... and a real long tail
    assert sum(w <= 12 for w in words) >= 400


def test_generator_is_deterministic_and_matches_committed_file(tmp_path):
    gen = _load_generator()
    a = gen.main(tmp_path / "a.jsonl")
    b = gen.main(tmp_path / "b.jsonl")
    assert a == tmp_path / "a.jsonl"
    data = a.read_bytes()
    assert data == b.read_bytes()
    assert data == demo.SAMPLE_DATASET.read_bytes()
    assert data.count(b"\n") == 2000


# --------------------------------------------------------------------------- cache dir


def test_cache_dir_env_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("FINETUNE_STUDIO_CACHE", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert demo.cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("FINETUNE_STUDIO_CACHE")
    assert demo.cache_dir() == tmp_path / "xdg" / "finetune-studio"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert demo.cache_dir() == tmp_path / "home" / ".cache" / "finetune-studio"


def test_module_has_no_heavy_or_qt_imports():
    code = (
        "import sys, core.demo\n"
        "bad = [m for m in ('torch', 'transformers', 'tokenizers', 'PySide6') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "assert core.demo.DEMO_MODEL_ID == 'builtin:demo'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_demo_model_path_without_build_does_not_create(monkeypatch, tmp_path):
    monkeypatch.setenv("FINETUNE_STUDIO_CACHE", str(tmp_path))
    path = demo.demo_model_path(build=False)
    assert path == tmp_path / "demo-model-v1"
    assert not path.exists()


def _fake_build(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    (target / "weights.bin").write_text("ok")
    (target / demo.MARKER_NAME).write_text("{}")


def test_incomplete_folder_is_replaced_atomically(monkeypatch, tmp_path):
    monkeypatch.setenv("FINETUNE_STUDIO_CACHE", str(tmp_path))
    monkeypatch.setattr(demo, "build_demo_model", _fake_build)
    stale = tmp_path / "demo-model-v1"
    stale.mkdir()
    (stale / "half-written.safetensors").write_text("junk")  # no marker -> incomplete
    path = demo.demo_model_path()
    assert path == stale
    assert sorted(p.name for p in path.iterdir()) == sorted([demo.MARKER_NAME, "weights.bin"])
    assert [p.name for p in tmp_path.iterdir()] == ["demo-model-v1"]  # no temp leftovers


def test_stale_temp_dirs_from_crashed_builds_are_cleaned(monkeypatch, tmp_path):
    import os
    import time

    monkeypatch.setenv("FINETUNE_STUDIO_CACHE", str(tmp_path))
    monkeypatch.setattr(demo, "build_demo_model", _fake_build)
    old = tmp_path / ".demo-model-v1.tmp-crashed"
    fresh = tmp_path / ".demo-model-v1.tmp-running"  # maybe another live build
    old.mkdir()
    fresh.mkdir()
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    demo.demo_model_path()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, "demo-model-v1"])


def test_failed_build_leaves_nothing_behind(monkeypatch, tmp_path):
    monkeypatch.setenv("FINETUNE_STUDIO_CACHE", str(tmp_path))

    def broken(target: Path) -> None:
        (Path(target) / "model.safetensors").write_text("partial")
        raise RuntimeError("boom")

    monkeypatch.setattr(demo, "build_demo_model", broken)
    with pytest.raises(RuntimeError, match="boom"):
        demo.demo_model_path()
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- real build


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """The demo model is tiny: one intra-op thread is as fast and does not stall
    badly when other processes compete for the (few) cores of a CI machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build the demo model once through demo_model_path() into a temp cache."""
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FINETUNE_STUDIO_CACHE", str(cache))
        path = demo.demo_model_path()
    return cache, path


@pytest.fixture(scope="module")
def loaded(built):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _, path = built
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype="auto")
    model.eval()
    return tok, model


def _lm_loss(model, tok, texts):
    import torch

    eos = tok.eos_token_id
    ids = [tok(t, add_special_tokens=False)["input_ids"] + [eos] for t in texts]
    width = max(len(x) for x in ids)
    input_ids = torch.full((len(ids), width), eos)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for i, x in enumerate(ids):
        input_ids[i, : len(x)] = torch.tensor(x)
        mask[i, : len(x)] = 1
    labels = input_ids.masked_fill(mask == 0, -100)
    return model(input_ids=input_ids, attention_mask=mask, labels=labels).loss


def test_build_layout_and_marker(built):
    cache, path = built
    assert path == cache / "demo-model-v1"
    names = {p.name for p in path.iterdir()}
    for required in ("config.json", "generation_config.json", "model.safetensors",
                     "tokenizer.json", "tokenizer_config.json", demo.MARKER_NAME):
        assert required in names
    assert [p.name for p in cache.iterdir()] == ["demo-model-v1"]  # no temp leftovers
    marker = json.loads((path / demo.MARKER_NAME).read_text())
    assert marker["build_version"] == demo.BUILD_VERSION == 1
    assert marker["pretrain_loss_initial"] > marker["pretrain_loss_final"] + 3.0
    assert 1.0 < marker["pretrain_loss_final"] < 3.0
    gen_cfg = json.loads((path / "generation_config.json").read_text())
    assert gen_cfg["eos_token_id"] == 0


def test_tokenizer_has_eos_but_no_pad(loaded):
    tok, model = loaded
    assert tok.pad_token is None
    assert tok.pad_token_id is None
    assert tok.eos_token == "<|endoftext|>"
    assert tok.eos_token_id == 0
    assert tok.model_max_length == 512
    assert 1000 <= len(tok) <= 2048
    text = "Aries, expect a fresh start before Friday."
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert len(ids) < len(text.split()) * 2  # learned real merges, not bytes
    assert tok.decode(ids) == text


def test_model_config(loaded):
    import torch

    tok, model = loaded
    cfg = model.config
    assert cfg.model_type == "qwen3"
    assert type(model).__name__ == "Qwen3ForCausalLM"
    assert (cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads,
            cfg.num_key_value_heads, cfg.head_dim, cfg.intermediate_size) == (64, 2, 4, 2, 16, 192)
    assert cfg.vocab_size == len(tok)
    assert cfg.max_position_embeddings == 512
    assert cfg.tie_word_embeddings is True
    assert cfg.pad_token_id is None
    assert cfg.eos_token_id == cfg.bos_token_id == tok.eos_token_id
    assert model.dtype == torch.float32
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()


def test_model_generates(loaded):
    import torch

    tok, model = loaded
    enc = tok("Leo, today", return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=6, min_new_tokens=6, do_sample=False,
                             pad_token_id=tok.eos_token_id)
    assert out.shape == (1, enc["input_ids"].shape[1] + 6)
    new_text = tok.decode(out[0, enc["input_ids"].shape[1]:])
    assert new_text.strip()


def test_model_learned_but_not_converged(loaded):
    import torch

    tok, model = loaded
    texts = [r["horoscope"] for r in _rows(demo.SAMPLE_DATASET)[-48:]]
    with torch.no_grad():
        loss = _lm_loss(model, tok, texts).item()
    assert loss < math.log(len(tok)) - 3.0  # far better than uniform (~7.3)
    assert loss > 1.0  # but leaves headroom for fine-tuning


def test_finetuning_at_small_lr_still_lowers_loss(built):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _, path = built
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype="auto")
    texts = [r["horoscope"] for r in _rows(demo.SAMPLE_DATASET)[:16]]
    with torch.no_grad():
        before = _lm_loss(model.eval(), tok, texts).item()
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-5)
    for _ in range(5):
        loss = _lm_loss(model, tok, texts)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        after = _lm_loss(model.eval(), tok, texts).item()
    assert after < before - 0.005


def test_second_call_does_not_rebuild(built, monkeypatch):
    cache, path = built
    monkeypatch.setenv("FINETUNE_STUDIO_CACHE", str(cache))
    marker = path / demo.MARKER_NAME
    mtime = marker.stat().st_mtime_ns

    def must_not_build(target):
        raise AssertionError("rebuilt a complete demo model")

    monkeypatch.setattr(demo, "build_demo_model", must_not_build)
    assert demo.demo_model_path() == path
    assert demo.demo_model_path(build=False) == path
    assert marker.stat().st_mtime_ns == mtime


def test_two_builds_are_identical(built, tmp_path):
    import torch
    from safetensors.torch import load_file

    _, first = built
    second = tmp_path / "second"
    demo.build_demo_model(second)
    a = load_file(first / "model.safetensors")
    b = load_file(second / "model.safetensors")
    assert a.keys() == b.keys() and len(a) > 10
    for name in a:
        assert torch.equal(a[name], b[name]), name
    for fname in ("tokenizer.json", "config.json", demo.MARKER_NAME):
        assert (first / fname).read_bytes() == (second / fname).read_bytes(), fname
