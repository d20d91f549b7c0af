"""How rows become batches. The seed pads every batch to its longest row; on text of varied length much of
each step then computes on padding. Two faster modes keep the loss per token the same:

- group_by_length: the seed's collator, but batches are drawn from rows of similar length (less padding).
- padding_free: rows of a batch are concatenated into one sequence with position ids restarting at each row
  (DataCollatorWithFlattening); attention never crosses a row boundary, so no token is padding.
"""

from __future__ import annotations

from typing import Any

BATCHING_MODES: dict[str, str] = {
    "padded": "Seed-exact: each batch is padded to its longest row (the tutorial's DataCollatorForLanguageModeling).",
    "group_by_length": "Batches of rows with similar length, so far less padding; the order of rows changes.",
    "padding_free": "Rows of a batch are packed into one sequence without padding; attention stays within each "
                    "row. Fastest on text of varied length.",
}

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


def collator(mode: str, tokenizer: Any) -> Any:
    from transformers import DataCollatorForLanguageModeling, DataCollatorWithFlattening

    if mode == "padding_free":
        return DataCollatorWithFlattening(return_position_ids=True)
    return DataCollatorForLanguageModeling(tokenizer, mlm=False)


def prepare_model(mode: str, model: Any) -> None:
    """Packed rows are only told apart when no KV cache is built, so training must not create one."""
    if mode == "padding_free":
        model.config.use_cache = False
