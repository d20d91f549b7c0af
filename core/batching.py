"""How rows become batches. The seed pads every batch to its longest row; on text of varied length much of
each step then computes on padding. Three faster modes keep the loss per token the same:

- group_by_length: the seed's collator, but batches are drawn from rows of similar length (less padding).
- padding_free: rows of a batch are concatenated into one sequence with position ids restarting at each row
  (DataCollatorWithFlattening); attention never crosses a row boundary, so no token is padding.
- packed: rows are first packed into blocks of up to max_length tokens (position ids restart at each row), and a
  batch is per_device_train_batch_size blocks flattened the same way. A step then holds several times the rows of
  a seed step, which pays off where per-step overhead dominates (short rows, small models, CPUs); it is the
  packing TRL's SFTTrainer and LLaMA-Factory offer. Each row's first token is never a target, as in the seed,
  so the loss per token is unchanged; what changes is rows per step (fewer, fuller steps per epoch).
"""

from __future__ import annotations

from typing import Any

BATCHING_MODES: dict[str, str] = {
    "padded": "Seed-exact: each batch is padded to its longest row (the tutorial's DataCollatorForLanguageModeling).",
    "group_by_length": "Batches of rows with similar length, so far less padding; the order of rows changes.",
    "padding_free": "Rows of a batch are packed into one sequence without padding; attention stays within each "
                    "row. Same rows per step as the seed.",
    "packed": "Rows are packed into max_length-token blocks without padding; attention stays within each row. "
              "Fastest on short rows, but each step holds more rows, so an epoch has fewer steps.",
}
# Modes that concatenate rows into one sequence and rely on position ids to keep them apart.
FLATTENING_MODES = ("padding_free", "packed")

# Attention implementations whose masks honour packed position ids (transformers' masking_utils detects the
# restarts when no attention mask and no cache is passed; flash attention takes the sequence boundaries).
PACKING_ATTENTION = ("sdpa", "eager", "flash_attention_2", "flash_attention_3", "flex_attention")


def padding_free_problem(model: Any) -> str | None:
    """None if the model can train on packed rows with correct attention, else the reason it cannot."""
    implementation = getattr(model.config, "_attn_implementation", None) or "eager"
    if implementation not in PACKING_ATTENTION:
        return (f"padding-free batches need an attention implementation that respects row boundaries "
                f"({', '.join(PACKING_ATTENTION)}); this model uses '{implementation}'. Choose 'padded' or "
                "'group_by_length'.")
    module = type(model).__module__
    if not module.startswith("transformers.models."):
        return ("padding-free batches are only checked for models built into transformers; this model runs its "
                "own code (trust_remote_code), which may let rows attend to each other. Choose 'padded' or "
                "'group_by_length'.")
    import importlib
    import inspect

    source = inspect.getsource(importlib.import_module(module))
    if "create_causal_mask" not in source and "flash" not in implementation:
        return (f"padding-free batches need transformers' packed-sequence masks, which {type(model).__name__} does "
                "not use. Choose 'padded' or 'group_by_length'.")
    return None


def collator(mode: str, tokenizer: Any, labelled: bool = False) -> Any:
    """The collator of a batching mode. `labelled`: rows carry their own labels (instruction and chat data, where
    only some tokens train), which every mode keeps; transformers' DataCollatorForLanguageModeling would rebuild
    them from input_ids, so padded rows use TRL's collator instead (SFTTrainer's: labels padded with -100)."""
    from transformers import DataCollatorForLanguageModeling, DataCollatorWithFlattening

    if mode == "padding_free":
        return DataCollatorWithFlattening(return_position_ids=True)  # keeps given labels, masks each row's first
    if mode == "packed":
        return PackedCollator()
    if labelled:
        from trl.trainer.sft_trainer import DataCollatorForLanguageModeling as LabelledCollator

        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        return LabelledCollator(pad_token_id=pad)
    return DataCollatorForLanguageModeling(tokenizer, mlm=False)


def prepare_model(mode: str, model: Any) -> None:
    """Packed rows are only told apart when no KV cache is built, so training must not create one."""
    if mode in FLATTENING_MODES:
        model.config.use_cache = False


def pack(ds: Any, max_length: int) -> Any:
    """Tokenized rows -> blocks of at most max_length tokens with `position_ids` restarting at each row.

    Greedy in dataset order (the train split is already shuffled), within map batches of 1,000 rows, so packing is
    one pass the datasets cache keeps. A block wastes at most one row's worth of room; rows are never split, so a
    row's tokens keep their own context and nothing is cut beyond what truncation already cut."""

    labelled = "labels" in ds.column_names  # chat rows: their labels travel with their tokens

    def blocks(batch: dict[str, list[Any]]) -> dict[str, list[list[int]]]:
        ids: list[list[int]] = []
        positions: list[list[int]] = []
        labels: list[list[int]] = []
        for number, row in enumerate(batch["input_ids"]):
            if ids and len(ids[-1]) + len(row) <= max_length:
                ids[-1].extend(row)
                positions[-1].extend(range(len(row)))
                if labelled:
                    labels[-1].extend(batch["labels"][number])
            else:
                ids.append(list(row))
                positions.append(list(range(len(row))))
                if labelled:
                    labels.append(list(batch["labels"][number]))
        return {"input_ids": ids, "position_ids": positions, **({"labels": labels} if labelled else {})}

    return ds.map(blocks, batched=True, batch_size=1000, remove_columns=ds.column_names, desc="Packing rows")


class PackedCollator:
    """Flattens packed blocks (or plain rows, as in the eval split) into one sequence, like
    DataCollatorWithFlattening, but keeps the row boundaries `pack` recorded in `position_ids`: every token whose
    position is 0 starts a row and is not a target (-100), as a row's first token is not one in the seed. Rows with
    their own labels (chat data) keep them; the rest of a plain row's tokens are targets."""

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        ids: list[int] = []
        positions: list[int] = []
        targets: list[int] = []
        for feature in features:
            row = list(feature["input_ids"])
            ids.extend(row)
            positions.extend(feature["position_ids"] if "position_ids" in feature else range(len(row)))
            targets.extend(feature["labels"] if "labels" in feature else row)
        if not ids:
            raise ValueError("PackedCollator received a batch where every row is empty.")
        labels = [-100 if position == 0 else target for target, position in zip(targets, positions)]
        return {"input_ids": torch.tensor([ids]), "labels": torch.tensor([labels]),
                "position_ids": torch.tensor([positions])}
