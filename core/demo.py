"""Built-in offline demo model ("builtin:demo").

A tiny Qwen3-architecture causal LM plus a byte-level BPE tokenizer, both
built locally from the bundled sample horoscope dataset, so the whole
fine-tuning workflow can be tried without network access or a big download.

The model gets a short deterministic "pre-training" so it behaves like a
(very small) pretrained base model rather than random noise, but it is
deliberately stopped long before convergence so that fine-tuning still has
clear headroom to lower the loss.

The tokenizer intentionally has NO pad token, like many real base models;
the training core is expected to set ``pad = eos`` and say so.

No Qt imports here, and the heavy libraries (torch, transformers,
tokenizers) are only imported inside the functions that need them.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from importlib.resources import files
from pathlib import Path

log = logging.getLogger(__name__)

# Package data (finetune_studio.resources): the checkout's resources/ folder, or the installed wheel's copy.
SAMPLE_DATASET: Path = Path(str(files("finetune_studio.resources") / "sample_horoscopes.jsonl"))
# The conversational sample ('builtin:chat', made by resources/make_chat_sample.py): chat fine-tuning offline.
SAMPLE_CHATS: Path = Path(str(files("finetune_studio.resources") / "sample_chats.jsonl"))
from finetune_studio.core.config import DEMO_MODEL_ID  # noqa: E402 (re-exported: the id configs use)
from finetune_studio.core.threads import this_thread_threads  # noqa: E402

#: Bump when the build recipe changes; it names the cache folder.
BUILD_VERSION = 1
MARKER_NAME = "finetune_studio_demo.json"
EOS_TOKEN = "<|endoftext|>"

#: Target BPE vocabulary size. The sample corpus is templated, so training
#: runs out of merges earlier (~1.5k tokens); the model uses the real size.
VOCAB_SIZE = 2048
MODEL_MAX_LENGTH = 512
PRETRAIN_SEED = 0
PRETRAIN_STEPS = 120  # ~6 s on 2 CPU cores; eval loss ~7.3 -> ~1.7, still falling fast
PRETRAIN_BATCH = 16
PRETRAIN_LR = 3e-3
PRETRAIN_THREADS = 1
EVAL_TEXTS = 64  # fixed texts used to report the loss before/after pre-training


def cache_dir() -> Path:
    """Where Finetune Studio caches things (the demo model among them)."""
    env = os.environ.get("FINETUNE_STUDIO_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "finetune-studio"


def _is_complete(path: Path) -> bool:
    return (path / MARKER_NAME).is_file()


def demo_model_path(build: bool = True) -> Path:
    """Return the demo model folder, building it first if needed (and *build*).

    The build happens in a temporary sibling folder which is renamed into
    place only once complete, so a crash never leaves a folder that looks
    complete; two processes racing both succeed (the loser discards its copy).
    """
    target = cache_dir() / f"demo-model-v{BUILD_VERSION}"
    if _is_complete(target) or not build:
        return target

    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temp_dirs(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        build_demo_model(tmp)
        for _ in range(3):
            if _is_complete(target):  # someone else finished first
                break
            if target.exists():  # leftover incomplete folder (not made by us)
                shutil.rmtree(target, ignore_errors=True)
            try:
                os.replace(tmp, target)
                break
            except OSError:
                continue  # raced with another process; re-check
        else:
            if not _is_complete(target):
                raise OSError(f"could not move demo model into place at {target}")
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _remove_stale_temp_dirs(target: Path, max_age_s: float = 3600.0) -> None:
    """Delete temp build folders left behind by builds that crashed long ago."""
    now = time.time()
    for leftover in target.parent.glob(f".{target.name}.tmp-*"):
        try:
            if now - leftover.stat().st_mtime > max_age_s:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            pass


def _load_sample_texts() -> list[str]:
    if not SAMPLE_DATASET.is_file():
        raise FileNotFoundError(
            f"sample dataset missing: {SAMPLE_DATASET} "
            "(regenerate it with `python resources/make_sample_dataset.py`)"
        )
    texts = []
    with SAMPLE_DATASET.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                texts.append(json.loads(line)["horoscope"])
    return texts


def _train_tokenizer(texts: list[str]):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=[EOS_TOKEN],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    # eos doubles as bos (GPT-2 style); byte-level BPE never needs an unk.
    # Deliberately no pad token.
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token=EOS_TOKEN,
        bos_token=EOS_TOKEN,
        model_max_length=MODEL_MAX_LENGTH,
    )


def _batch(token_ids: list[list[int]], eos_id: int):
    """Append eos, right-pad with eos, and mask the padding out of the labels."""
    import torch

    ids = [x[: MODEL_MAX_LENGTH - 1] + [eos_id] for x in token_ids]
    width = max(len(x) for x in ids)
    input_ids = torch.full((len(ids), width), eos_id, dtype=torch.long)
    attention = torch.zeros((len(ids), width), dtype=torch.long)
    for i, x in enumerate(ids):
        input_ids[i, : len(x)] = torch.tensor(x, dtype=torch.long)
        attention[i, : len(x)] = 1
    labels = input_ids.masked_fill(attention == 0, -100)
    return input_ids, attention, labels


def _length_grouped_batches(
    lengths: list[int], order: list[int], seed: int
) -> list[list[int]]:
    """Batches of similar-length texts (little padding -> fast), in shuffled order.

    Only the internal pre-training uses this; it keeps the build within a few
    seconds on a laptop CPU. Deterministic for a given *seed*.
    """
    import random

    by_len = sorted(order, key=lambda i: (lengths[i], i))
    batches = [
        by_len[k : k + PRETRAIN_BATCH]
        for k in range(0, len(by_len) - PRETRAIN_BATCH + 1, PRETRAIN_BATCH)
    ]
    random.Random(seed + 1).shuffle(batches)
    return batches


def build_demo_model(target: Path) -> None:
    """Build the demo tokenizer + model into *target* (deterministically).

    The marker file is written last, so "complete" means the marker exists.
    """
    import random

    import torch
    from transformers import GenerationConfig, Qwen3Config, Qwen3ForCausalLM

    started = time.perf_counter()
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    texts = _load_sample_texts()

    # (a) tokenizer
    tokenizer = _train_tokenizer(texts)
    eos_id = tokenizer.convert_tokens_to_ids(EOS_TOKEN)
    tokenizer.save_pretrained(target)
    encoded = tokenizer(texts, add_special_tokens=False)["input_ids"]

    # (b) tiny Qwen3 model
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=192,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        max_position_embeddings=MODEL_MAX_LENGTH,
        tie_word_embeddings=True,
        bos_token_id=eos_id,
        eos_token_id=eos_id,
        pad_token_id=None,
        dtype="float32",
    )
    rng_state = torch.random.get_rng_state()
    try:
        # One intra-op thread: the tensors are tiny, so this is about as fast,
        # it does not stall when other processes compete for the cores, and the
        # float reductions (hence the weights) do not depend on the core count.
        # This thread's own count (core.threads): torch.set_num_threads would
        # also set it for a run whose thread starts meanwhile (the Try tab can
        # build the demo while Start is pressed), and two builds at once could
        # leave the process on one thread for good.
        with this_thread_threads(PRETRAIN_THREADS, required=True):
            torch.manual_seed(PRETRAIN_SEED)
            model = Qwen3ForCausalLM(config).to(torch.float32)

            # Short deterministic pre-training on the sample texts.
            order = list(range(len(texts)))
            random.Random(PRETRAIN_SEED).shuffle(order)
            eval_batch = _batch([encoded[i] for i in order[:EVAL_TEXTS]], eos_id)

            def eval_loss() -> float:
                model.eval()
                with torch.no_grad():
                    ids, att, lab = eval_batch
                    return float(model(input_ids=ids, attention_mask=att, labels=lab).loss)

            loss_before = eval_loss()
            batches = _length_grouped_batches(
                [len(x) for x in encoded], order[EVAL_TEXTS:], PRETRAIN_SEED
            )
            optim = torch.optim.AdamW(model.parameters(), lr=PRETRAIN_LR)
            model.train()
            last_losses: list[float] = []
            for _step in range(PRETRAIN_STEPS):
                batch_idx = batches[_step % len(batches)]
                ids, att, lab = _batch([encoded[i] for i in batch_idx], eos_id)
                loss = model(input_ids=ids, attention_mask=att, labels=lab, use_cache=False).loss
                optim.zero_grad(set_to_none=True)
                loss.backward()
                optim.step()
                last_losses.append(loss.item())
                if (_step + 1) % 25 == 0:
                    log.debug("demo pretrain step %d: loss %.3f", _step + 1, last_losses[-1])
            loss_after = eval_loss()
    finally:
        torch.random.set_rng_state(rng_state)

    model.generation_config = GenerationConfig(
        bos_token_id=eos_id, eos_token_id=eos_id, pad_token_id=None
    )
    model.save_pretrained(target, safe_serialization=True)

    elapsed = time.perf_counter() - started
    log.info(
        "built demo model in %.1fs: eval loss %.3f -> %.3f (%d steps)",
        elapsed, loss_before, loss_after, PRETRAIN_STEPS,
    )
    marker = {
        "model_id": DEMO_MODEL_ID,
        "build_version": BUILD_VERSION,
        "vocab_size": len(tokenizer),
        "pretrain_steps": PRETRAIN_STEPS,
        "pretrain_batch_size": PRETRAIN_BATCH,
        "pretrain_lr": PRETRAIN_LR,
        "pretrain_loss_initial": round(loss_before, 4),
        "pretrain_loss_final": round(loss_after, 4),
        "pretrain_train_loss_last": round(last_losses[-1], 4) if last_losses else None,
    }
    # Written last: its presence marks the folder as complete.
    (target / MARKER_NAME).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
