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

# Tool calls are written as Qwen2.5's and Qwen3's own templates write them (Hermes style, trl/chat_templates/
# qwen2_5.jinja): the tools in the system turn inside <tools></tools> (after the row's system prompt, or alone, as
# Qwen3 does: ChatML has no default system prompt), each call of a reply as <tool_call>\n{"name": ..., "arguments":
# ...}\n</tool_call>, and tool results as one user turn of <tool_response> blocks. A reply's calls are inside its
# {% generation %} span, so they train; the tools block and the tool results do not.
CHATML_TOOLS_HEAD = (
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with "
    "function signatures within <tools></tools> XML tags:\n<tools>"
)
CHATML_TOOLS_TAIL = (
    "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
    "<args-json-object>}\n</tool_call>"
)
CHATML_TEMPLATE = (
    "{%- if tools %}"
    "{{- '<|im_start|>system\\n' }}"
    "{%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] + '\\n\\n' }}{%- endif %}"
    "{{- " + repr(CHATML_TOOLS_HEAD) + " }}"
    "{%- for tool in tools %}{{- '\\n' }}{{- tool | tojson }}{%- endfor %}"
    "{{- " + repr(CHATML_TOOLS_TAIL) + " + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{%- if message['role'] == 'system' and loop.first and tools %}"  # written with the tools above
    "{%- elif message['role'] == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- generation %}"
    "{{- message['content'] }}"
    "{%- for tool_call in message.tool_calls or [] %}"
    "{%- if (loop.first and message['content']) or not loop.first %}{{- '\\n' }}{%- endif %}"
    "{%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}"
    "{{- '<tool_call>\\n{\"name\": \"' + tool_call.name + '\", \"arguments\": ' }}"
    "{%- if tool_call.arguments is string %}{{- tool_call.arguments }}{%- else %}{{- tool_call.arguments | tojson }}"
    "{%- endif %}"
    "{{- '}\\n</tool_call>' }}"
    "{%- endfor %}"
    "{{- '<|im_end|>\\n' }}"
    "{%- endgeneration %}"
    "{%- elif message['role'] == 'tool' %}"
    "{%- if loop.first or messages[loop.index0 - 1]['role'] != 'tool' %}{{- '<|im_start|>user' }}{%- endif %}"
    "{{- '\\n<tool_response>\\n' + message['content'] + '\\n</tool_response>' }}"
    "{%- if loop.last or messages[loop.index0 + 1]['role'] != 'tool' %}{{- '<|im_end|>\\n' }}{%- endif %}"
    "{%- else %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

# name -> (what the user reads, TRL's template file or None for ours, the control tokens the template writes). The
# label before its first ':' is its short name; the rest says what it does.
NAMED_TEMPLATES: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "chatml": ("ChatML (<|im_start|> … <|im_end|>): the default for a model without a template; writes tool calls "
               "as <tool_call> blocks (Qwen2.5's style), which train, and the tools into the system turn, masked",
               None, ("<|im_start|>", "<|im_end|>")),
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
