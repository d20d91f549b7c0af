"""The short list of chat templates a user can pick by name, and the control tokens each one needs.

ChatML is ours (a base model has no template, and ChatML is the one most chat data and tools expect); the others
are TRL's *training* variants (trl/chat_templates/*_training.jinja): the model family's template with
`{% generation %}` markers around each assistant reply, which transformers' `return_assistant_tokens_mask` needs
and which TRL's SFTTrainer swaps in for `assistant_only_loss`. They render the same text as the originals for
chat data without tools. Nothing here imports torch or transformers.
"""

from __future__ import annotations

import re
from pathlib import Path

CHATML_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' }}"
    "{%- if message['role'] == 'assistant' %}"
    "{%- generation %}{{- message['content'] + '<|im_end|>' + '\\n' }}{%- endgeneration %}"
    "{%- else %}"
    "{{- message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

# name -> (what the user reads, TRL's template file or None for ours, the control tokens the template writes)
NAMED_TEMPLATES: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "chatml": ("ChatML (<|im_start|> … <|im_end|>): the default for a model without a template", None,
               ("<|im_start|>", "<|im_end|>")),
    "qwen3": ("Qwen3 (ChatML with a <think> block)", "qwen3_training.jinja",
              ("<|im_start|>", "<|im_end|>", "<think>", "</think>")),
    "llama3": ("Llama 3 (<|start_header_id|> … <|eot_id|>)", "llama3_training.jinja",
               ("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")),
    "phi3": ("Phi-3 (<|user|> … <|end|>)", "phi3_training.jinja",
             ("<|system|>", "<|user|>", "<|assistant|>", "<|end|>")),
    "gemma": ("Gemma (<start_of_turn> … <end_of_turn>)", "gemma_training.jinja",
              ("<bos>", "<start_of_turn>", "<end_of_turn>")),
}
TEMPLATE_CHOICES = ("auto", *NAMED_TEMPLATES)


def named_template(name: str) -> str:
    """The Jinja text of a named template (KeyError for an unknown name)."""
    _, filename, _ = NAMED_TEMPLATES[name]
    if filename is None:
        return CHATML_TEMPLATE
    import trl

    return (Path(trl.__file__).parent / "chat_templates" / filename).read_text(encoding="utf-8")


def control_tokens(name: str) -> tuple[str, ...]:
    return NAMED_TEMPLATES[name][2] if name in NAMED_TEMPLATES else ()


def is_template_text(value: str) -> bool:
    """A chat.template value that is Jinja text itself rather than a name."""
    return isinstance(value, str) and ("{%" in value or "{{" in value)


def has_generation_markers(template: str) -> bool:
    """TRL's test (trl.chat_template_utils.has_generation_markers), without importing TRL for a string check."""
    return re.search(r"\{%-?\s*generation\s*-?%\}", template) is not None
