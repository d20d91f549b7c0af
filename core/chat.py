"""Instruction and chat rows: which format they are in, how they render with a chat template, which tokens train.

One code path for the Dataset Inspector and for training: `render_and_label` is what both call on a row, so what
the Inspector colours as trained is exactly what the loss sees. The label rule is TRL's SFTTrainer's
(trl/trainer/sft_trainer.py, `tokenize_fn` and `build_labels`): a conversation is rendered with
`apply_chat_template(..., return_assistant_tokens_mask=True)` and only assistant tokens keep their label
(`assistant_only_loss`); a prompt/completion row is the prompt's tokens followed by the rest of the rendered or
concatenated row, and only the part after the common prefix keeps its label (`completion_only_loss`). Rows are
converted into TRL's shapes (`messages`, or `prompt` + `completion`) and TRL's own helpers do the rest
(`is_conversational`, `maybe_convert_to_chatml`, `common_prefix_length`, `get_training_chat_template`,
`is_chat_template_stop_token_trained`). What TRL does not do is ours: reading ShareGPT role aliases
(human, gpt, …; TRL's conversion keeps them as they are, and templates then drop or reject those turns), alpaca
rows as a conversation, naming the bad row, and token roles for display.

Heavy imports (transformers, trl) stay inside functions; nothing here imports Qt.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

from finetune_studio.core.chat_templates import (
    NAMED_TEMPLATES,
    control_tokens,
    has_generation_markers,
    is_template_text,
    named_template,
)
from finetune_studio.core.config import CHAT_FORMATS, TRAIN_ON, ChatConfig, RunConfig, as_written, kind_of
from finetune_studio.core.errors import WARNING, FinetuneError, Problem

# The parts each format is made of, and the column names that play each part when nothing is mapped
# (case-insensitive). Optional parts may be missing.
FORMAT_PARTS: dict[str, dict[str, tuple[str, ...]]] = {
    "messages": {"messages": ("messages", "conversation", "conversations", "dialog", "chat")},
    "sharegpt": {"conversations": ("conversations", "conversation", "messages", "dialog", "chat")},
    "alpaca": {"instruction": ("instruction", "instructions"), "input": ("input", "context"),
               "output": ("output", "response"), "system": ("system", "system_prompt")},
    "prompt_completion": {"prompt": ("prompt", "question", "query"),
                          "completion": ("completion", "answer", "response", "chosen")},
    "text": {"text": ("text",)},
}
OPTIONAL_PARTS = {"alpaca": ("input", "system")}
# A part beside the format's own in the rows read as turns: the column of a row's tool definitions (TRL's
# SFTTrainer reads "tools"), passed to the chat template as tools=. Optional; chat.columns may map it
# ({tools: functions}). It is not in FORMAT_PARTS: one part of three formats, which say the format by their parts.
TOOLS_PART = "tools"
TOOLS_FORMATS = ("messages", "sharegpt", "prompt_completion")
FORMAT_NAMES = {"text": "plain text", "prompt_completion": "prompt/completion", "alpaca": "alpaca",
                "messages": "messages (role/content)", "sharegpt": "ShareGPT (from/value)"}

# ShareGPT and other exports name roles their own way; case does not matter.
ROLE_ALIASES = {"human": "user", "user": "user", "prompter": "user", "gpt": "assistant", "assistant": "assistant",
                "bot": "assistant", "model": "assistant", "chatgpt": "assistant", "system": "system",
                "tool": "tool", "function": "tool", "observation": "tool"}
ROLES = ("trained", "prompt", "system", "special", "cut")
CHATML_NOTE = "ChatML: the tokenizer has no template"


@dataclass
class Detection:
    format: str  # one of CHAT_FORMATS but "auto"
    columns: dict[str, str]  # part -> the data's column, e.g. {"messages": "dialog"}
    reason: str  # what it was told by, in words
    problem: str | None = None  # why the rows cannot be read in any format (chat.columns names several)
    # The columns whose objects the dataset stores as one Arrow struct type for all rows (datasets' from_list,
    # Parquet, Hub datasets): a conversation column whose calls' arguments are a struct, a tools column of structs.
    # Each row's object then has every name any row's has, the ones it lacks as null (merged_columns).
    merged: frozenset[str] = frozenset()


@dataclass
class TokenRoles:
    """One row as the model sees it. input_ids holds every token of the rendered row, those beyond max_length too
    (their role is "cut"); a run trains on input_ids[:kept] with labels[:kept]."""

    input_ids: list[int]
    labels: list[int]  # -100 where not trained (and everywhere in the cut part)
    roles: list[str]  # per token: trained, prompt, system, special or cut
    text: str  # the rendered text
    template_name: str
    problems: list[str] = field(default_factory=list)
    kept: int = 0  # tokens within max_length
    cut_trained: int = 0  # tokens that would be trained but lie beyond max_length
    train_on: str = "all"  # what was trained: assistant, completion or all
    format: str = "text"
    tools_tokens: int = 0  # of a row max_length cuts: the tokens its template writes for the row's tools

    @property
    def trained(self) -> int:
        return sum(1 for label in self.labels if label != -100)


class ChatDataError(ValueError):
    """A row that cannot be rendered as its format says: the message names what is wrong."""


# ---- formats --------------------------------------------------------------------------------------------------


def _find(names: list[str], candidates: tuple[str, ...]) -> str | None:
    lowered = {name.strip().lower(): name for name in names if isinstance(name, str)}
    return next((lowered[c] for c in candidates if c in lowered), None)


def _message_list(value: Any) -> str | None:
    """'messages' or 'sharegpt' for a list of chat turns, else None."""
    if not isinstance(value, list) or not value or not isinstance(value[0], dict):
        return None
    keys = {str(k).lower() for k in value[0]}
    if "from" in keys and "value" in keys:
        return "sharegpt"
    if "role" in keys and "content" in keys:
        return "messages"
    return None


def _row_format(row: dict[str, Any], columns: list[str]) -> tuple[str, dict[str, str], str]:
    return _values_format([row], columns)


def _values_format(rows: list[dict[str, Any]], columns: list[str]) -> tuple[str, dict[str, str], str]:
    """The format the columns of these rows make: a column counts when any of the rows holds a value in it, so one
    row that lacks its completion (a null, a missing key) does not turn prompt/completion data into plain text."""
    present = [c for c in columns if any(row.get(c) is not None for row in rows)]
    prompt = _find(present, FORMAT_PARTS["prompt_completion"]["prompt"])
    completion = _find(present, FORMAT_PARTS["prompt_completion"]["completion"])
    for column in present:
        kind = next((k for k in (_message_list(row.get(column)) for row in rows) if k is not None), None)
        if kind is not None and prompt and completion and column in (prompt, completion):
            # TRL's conversational prompt/completion ({"prompt": [turns], "completion": [turns]}): both columns are
            # the row, not a conversation in one of them with the other left out.
            return "prompt_completion", {"prompt": prompt, "completion": completion}, \
                f"columns '{prompt}' and '{completion}' hold lists of turns"
        if kind is not None:
            keys = "from/value" if kind == "sharegpt" else "role/content"
            return kind, {"messages" if kind == "messages" else "conversations": column}, \
                f"column '{column}' holds a list of turns with {keys}"
    instruction = _find(present, FORMAT_PARTS["alpaca"]["instruction"])
    output = _find(present, FORMAT_PARTS["alpaca"]["output"])
    if instruction and output:
        mapping = {"instruction": instruction, "output": output}
        for part in OPTIONAL_PARTS["alpaca"]:
            found = _find(columns, FORMAT_PARTS["alpaca"][part])
            if found:
                mapping[part] = found
        return "alpaca", mapping, f"columns '{instruction}' and '{output}' (alpaca)"
    if prompt and completion:
        return "prompt_completion", {"prompt": prompt, "completion": completion}, \
            f"columns '{prompt}' and '{completion}'"
    return "text", {}, "no message list, alpaca or prompt/completion columns: one text column"


def detect_format(rows: list[dict], columns: list[str]) -> Detection:
    """The format of a dataset from its first rows, told by the columns that hold values in any of them (not by
    the first row alone: a first row without its completion is a bad row, named by to_example, not plain text).
    Rows of another format (one alpaca, one messages) give a reason that names the first row that differs;
    `source_problems` turns that into a problem. A row that reads as plain text is a row of the format that lacks
    values, not another format."""
    columns = list(columns) or (list(rows[0]) if rows else [])
    if not rows:
        fmt, mapping, reason = _row_format(dict.fromkeys(columns, ""), columns)
        return Detection(fmt, mapping, reason)
    fmt, mapping, reason = _values_format(rows, columns)
    for index, row in enumerate(rows, 1):
        other, _, other_reason = _row_format(row, columns)
        if other not in (fmt, "text"):
            return Detection(fmt, mapping, f"{reason}; but row {index} looks like {FORMAT_NAMES[other]} "
                                           f"({other_reason}): mixed formats")
    return Detection(fmt, mapping, reason)


def resolve_format(chat: ChatConfig, rows: list[dict], columns: list[str],
                   text_column: str | None = None) -> Detection:
    """The format and column mapping a run uses: the configured format (or the detected one for 'auto'), with
    chat.columns overriding the default names."""
    detected = detect_format(rows, columns)
    fmt = detected.format if chat.format == "auto" else chat.format
    if chat.format == "auto":
        named = columns_formats(chat.columns)
        if len(named) > 1 and detected.format not in named:
            return Detection(named[0], {}, "chat.columns", problem=_mixed_parts(chat.columns, named))
        if named and detected.format not in named:  # the parts the user mapped say the format
            fmt = named[0]
            mapped = ", ".join(f"'{part}'" for part in chat.columns if part in FORMAT_PARTS[fmt])
            detected = Detection(fmt, {}, f"chat.columns maps {mapped}, parts of {FORMAT_NAMES[fmt]} rows")
    if chat.format == "auto" and fmt == "text":
        named = _conversation_column(chat, rows, columns, text_column)
        if named is not None:  # its rows are not lists of turns: to_example says what they hold instead
            return Detection("messages", {"messages": named}, f"column '{named}' is named as a conversation")
    if fmt == "text":
        column = (chat.columns or {}).get("text") or text_column
        return Detection("text", {"text": column} if column else {}, detected.reason if chat.format == "auto"
                         else "set in chat.format")
    mapping = dict(detected.columns) if detected.format == fmt else {}
    for part, candidates in FORMAT_PARTS[fmt].items():
        if part not in mapping:
            found = _find(columns, candidates)
            if found:
                mapping[part] = found
    mapping.update({k: v for k, v in (chat.columns or {}).items() if k in FORMAT_PARTS[fmt]})
    if fmt in TOOLS_FORMATS:
        tools = (chat.columns or {}).get(TOOLS_PART) if isinstance(chat.columns, dict) else None
        tools = tools if isinstance(tools, str) else _find(columns, TOOLS_COLUMNS)
        if tools is not None:
            mapping[TOOLS_PART] = tools
    reason = detected.reason if chat.format == "auto" else "set in chat.format"
    return Detection(fmt, mapping, reason)


def part_names() -> list[str]:
    """Every format part name chat.columns may map, in the order of FORMAT_PARTS (TOOLS_PART aside)."""
    return list(dict.fromkeys(part for parts in FORMAT_PARTS.values() for part in parts))


def parts_said() -> str:
    """The parts chat.columns may map, for a message about a key that is none of them: the formats' parts, then
    tools with the formats that read it ('... completion, text; and tools, the rows' tool definitions, for
    messages, sharegpt or prompt_completion rows')."""
    return (f"{', '.join(part_names())}; and {TOOLS_PART}, the rows' tool definitions, for "
            f"{', '.join(TOOLS_FORMATS[:-1])} or {TOOLS_FORMATS[-1]} rows")


def columns_formats(columns: Any) -> list[str]:
    """The formats other than plain text whose parts chat.columns maps ({prompt: title} -> [prompt_completion]): what
    'auto' reads the rows as when the data alone would say otherwise."""
    if not isinstance(columns, dict):
        return []
    return [fmt for fmt, parts in FORMAT_PARTS.items() if fmt != "text" and any(part in parts for part in columns)]


def unused_parts_note(chat: ChatConfig, fmt: str) -> str | None:
    """The note for chat.columns parts that belong to formats other than `fmt`, the one the rows are read in (set in
    chat.format, or what 'auto' decided): resolve_format keeps only `fmt`'s parts, so these are left unused, and a
    user who mapped them expects them used. A note, not a refusal: the Dataset tab keeps each format's mappings when
    the format is switched, so a saved config may hold them on purpose. None when every mapped part is used."""
    if not isinstance(chat.columns, dict):
        return None
    unused = [(other, [part for part in chat.columns if part in parts]) for other, parts in FORMAT_PARTS.items()
              if other != fmt]
    unused = [(other, parts) for other, parts in unused if parts]
    tools = None
    if TOOLS_PART in chat.columns and fmt in FORMAT_NAMES and fmt not in TOOLS_FORMATS:
        tools = (f"chat.columns maps '{TOOLS_PART}' (the rows' tool definitions), but {FORMAT_NAMES[fmt]} rows are "
                 "not conversations, so the run does not use it. To fix: remove it from chat.columns, or set "
                 f"chat.format to {', '.join(TOOLS_FORMATS[:-1])} or {TOOLS_FORMATS[-1]}.")
    if not unused:
        return tools
    said = "; ".join(f"{', '.join(repr(p) for p in parts)} ({'parts' if len(parts) > 1 else 'a part'} of "
                     f"{FORMAT_NAMES[other]} rows)" for other, parts in unused)
    them = "them" if len(unused) > 1 or len(unused[0][1]) > 1 else "it"
    in_use = (f"chat.format is '{fmt}'" if chat.format == fmt
              else f"chat.format 'auto' reads the rows as {FORMAT_NAMES[fmt]}")
    choices = " or ".join(f"chat.format: {other}" for other, _ in unused)
    return (f"chat.columns maps {said}, but {in_use}, so the run does not use {them}. To fix: remove {them} from "
            f"chat.columns, or set {choices}." + (f" {tools}" if tools else ""))


def columns_in_use(columns: dict[str, str], fmt: str) -> dict[str, str]:
    """chat.columns without the parts of formats other than `fmt`, for a form that keeps every format's mappings
    while the user switches formats (so switching back restores them) but saves only what the run reads: saved,
    they were the unused_parts_note a window user could not act on (the Columns field shows `fmt`'s parts only).
    Under 'auto' (or a format validate refuses) every mapping is kept: the rows decide, or validate names it."""
    if not isinstance(fmt, str) or fmt not in FORMAT_PARTS:
        return dict(columns)
    others = {part for other, parts in FORMAT_PARTS.items() if other != fmt for part in parts}
    return {part: column for part, column in columns.items() if part not in others}


def _mixed_parts(columns: dict[str, str], formats: list[str]) -> str:
    said = "; ".join(f"{', '.join(p for p in columns if p in FORMAT_PARTS[fmt])} of {FORMAT_NAMES[fmt]}"
                     for fmt in formats)
    return (f"chat.columns maps parts of different formats ({said}), so chat.format 'auto' cannot tell which to "
            "train. To fix: keep the parts of one format in chat.columns, or set chat.format")


def _conversation_column(chat: ChatConfig, rows: list[dict], columns: list[str],
                         text_column: str | None) -> str | None:
    """A column named as a conversation ('messages', 'conversations', …) in data with no text column to train
    instead, whose rows hold lists or JSON text of a list: chats that are malformed (a JSON string, an empty list),
    not plain text."""
    column = (chat.columns or {}).get("text") or text_column
    names = list(columns) or (list(rows[0]) if rows else [])
    if isinstance(column, str) and any(isinstance(n, str) and n.strip() == column.strip() for n in names):
        return None
    found = _find(names, FORMAT_PARTS["messages"]["messages"])
    if found is None or not any(isinstance(row.get(found), list) or (isinstance(row.get(found), str)
                                                                      and row[found].lstrip().startswith("["))
                                for row in rows):
        return None
    return found


def mapping_problems(detection: Detection, columns: list[str]) -> list[str]:
    """Parts of the format that no column plays, or that name a column the data lacks."""
    if detection.problem:
        return [detection.problem]
    problems = []
    fmt = detection.format
    if fmt == "text":
        column = detection.columns.get("text")
        if column and columns and column not in columns:
            problems.append(f"the text column '{column}' is not in the data (columns: {', '.join(columns)})")
        return problems
    for part in FORMAT_PARTS[fmt]:
        column = detection.columns.get(part)
        if column is None:
            if part not in OPTIONAL_PARTS.get(fmt, ()):
                problems.append(f"no column plays '{part}' for {FORMAT_NAMES[fmt]} data (columns: "
                                f"{', '.join(columns)}). To fix: map it in chat.columns, e.g. {{{part}: NAME}}")
        elif columns and column not in columns:
            problems.append(f"chat.columns maps '{part}' to '{column}', which is not a column of the data "
                            f"(columns: {', '.join(columns)})")
    tools = detection.columns.get(TOOLS_PART)
    if tools is not None and columns and tools not in columns:
        problems.append(f"chat.columns maps '{TOOLS_PART}' to '{tools}', which is not a column of the data "
                        f"(columns: {', '.join(columns)}). To fix: map it to the column that holds the rows' tool "
                        f"definitions, or remove '{TOOLS_PART}' from chat.columns")
    return problems


def is_conversational(example: dict[str, Any]) -> bool:
    """TRL's test (trl.data_utils.is_conversational): messages, or prompt/completion given as turns."""
    from trl.data_utils import is_conversational as conversational

    return conversational(example)


def uses_template(detection: Detection, row: dict[str, Any] | None) -> bool:
    """Whether a run renders rows of this format with a chat template (and so may add its control tokens): the
    conversational ones, as TRL tells them (`is_conversational` of the first row). A row that cannot be read (named
    by the run's own checks) counts by its format: prompt/completion as plain text, the others as chats. `row`
    None (no row seen yet): by the format alone."""
    if detection.format == "text":
        return False
    if row is None:
        return detection.format != "prompt_completion"
    try:
        return is_conversational(to_example(row, detection))
    except ChatDataError:
        return detection.format != "prompt_completion"


@dataclass
class ChatRows:
    """A run's chat settings with the first rows of its data (the Dataset tab's preview): enough to tell whether
    the run renders a chat template (`template_chat`), without the dataset."""

    chat: ChatConfig
    rows: list[dict]
    columns: list[str]
    text_column: str | None = None


def template_chat(sample: ChatRows) -> ChatConfig | None:
    """The chat settings when a run reads these rows as chats rendered with a template, None for plain text: what
    prepare_dataset decides, for callers that hold a preview of the rows rather than the dataset (the Model tab's
    figures count the embedding rows a template's added tokens grow). Imports TRL: call it off the GUI thread."""
    detection = resolve_format(sample.chat, sample.rows, sample.columns, sample.text_column)
    return sample.chat if uses_template(detection, sample.rows[0] if sample.rows else None) else None


def resolve_train_on(chat: ChatConfig, fmt: str) -> str:
    if chat.train_on != "auto":
        return chat.train_on
    return {"messages": "assistant", "sharegpt": "assistant", "alpaca": "completion",
            "prompt_completion": "completion"}.get(fmt, "all")


def _kind(value: Any) -> str:
    """What a value is, in a user's words ("a whole number (3)", "a list"): core.data's words for a cell."""
    from finetune_studio.core.data import brief, one_kind

    if value is None:
        return "no value"
    if isinstance(value, (list, dict)):
        return one_kind(value)
    return f"{one_kind(value)} ({brief(value)})"


def _text(value: Any, where: str) -> str:
    if value is None:
        raise ChatDataError(f"{where} has no value")
    if not isinstance(value, str):
        raise ChatDataError(f"{where} holds {_kind(value)}, not text")
    return value


def _good_message(fmt: str) -> str:
    """A well-formed message of the format, shown in messages about a bad one."""
    return '{"from": "human", "value": "Hi"}' if fmt == "sharegpt" else '{"role": "user", "content": "Hi"}'


def _turns(value: Any, fmt: str, where: str, arguments: CallArguments | None = None) -> list[dict[str, str]]:
    """A list of {role, content} with roles mapped from their aliases; ChatDataError says which message of the
    column is wrong, what it lacks and what a good one looks like (the caller adds the row). `arguments` says how
    the calls' arguments given as objects are read (CallArguments)."""
    good = _good_message(fmt)
    if isinstance(value, str):
        written = " (a list written as JSON text: store the list itself)" if value.lstrip().startswith("[") else ""
        raise ChatDataError(f"column '{where}' holds text, not a list of messages such as [{good}, …]{written}")
    if value is None:
        raise ChatDataError(f"column '{where}' has no value; it needs a list of messages such as [{good}, …]")
    if not isinstance(value, list):
        raise ChatDataError(f"column '{where}' holds {_kind(value)}, not a list of messages such as [{good}, …]")
    if not value:
        raise ChatDataError(f"column '{where}' holds an empty list: the conversation has no messages")
    role_key, content_key = ("from", "value") if fmt == "sharegpt" else ("role", "content")
    turns = []
    for number, turn in enumerate(value, 1):
        message = f"message {number} of column '{where}'"
        if not isinstance(turn, dict):
            raise ChatDataError(f"{message} is {_kind(turn)}, not a message like {good}")
        keys = {str(k).lower(): k for k in turn}
        calls_key = next((keys[k] for k in CALL_KEYS if k in keys and turn[keys[k]] not in (None, [])), None)
        lacks = [f"'{key}'" for key in (role_key, content_key) if key not in keys
                 and not (key == content_key and calls_key is not None)]  # a tool call may be all a reply says
        if lacks:
            has = ", ".join(f"'{k}'" for k in turn)
            raise ChatDataError(f"{message} has no {' and no '.join(lacks)} ("
                                + (f"it has only {has}" if has else "it is empty")
                                + f"); a message looks like {good}")
        raw_role = turn[keys[role_key]]
        role = ROLE_ALIASES.get(str(raw_role).strip().lower()) if isinstance(raw_role, str) else None
        if role is None:
            raise ChatDataError(f"{message} has the unknown role {raw_role!r}; known roles: "
                                f"{', '.join(sorted(set(ROLE_ALIASES)))}")
        content = turn.get(keys.get(content_key, content_key))
        message = f"message {number} ({role}) of column '{where}'"
        calls = None
        if calls_key is not None:
            if role != "assistant":
                raise ChatDataError(f"{message} has '{calls_key}', but only the assistant's turns call tools. To fix: "
                                    f"move the calls to the assistant turn that makes them, or remove '{calls_key}'")
            calls = _tool_calls(turn[calls_key], str(calls_key), message, arguments)
        content = _content_text(content, message, content_key, good, calls is not None, role)
        turn_out: dict[str, Any] = {"role": role, "content": content}
        if calls is not None:
            turn_out["tool_calls"] = calls
        for key in PASSED_KEYS:  # keys a template may render (qwen3 writes reasoning_content in a <think> block)
            extra = turn.get(keys.get(key, key))
            if extra is None:
                continue
            if not isinstance(extra, str):
                raise ChatDataError(f"{message} has {_kind(extra)} as its '{key}', not text. To fix: write it as "
                                    "text, or remove it")
            turn_out[key] = extra
        turns.append(turn_out)
    return turns


# Message keys beside role and content that go to the chat template as written (a template that does not read one
# leaves it out of the text: template_ignores says so once in the run log).
PASSED_KEYS = ("reasoning_content", "name", "tool_call_id")
# A reply's tool calls: OpenAI's list (tool_calls), or its older single call (function_call).
CALL_KEYS = ("tool_calls", "function_call")
GOOD_CALL = '{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}'
GOOD_TOOL = ('{"type": "function", "function": {"name": "get_weather", "description": "…", "parameters": '
             '{"type": "object", "properties": {"city": {"type": "string"}}}}}')
TOOLS_COLUMNS = ("tools",)  # the column of a row's tool definitions (TRL's SFTTrainer reads "tools")


def _content_text(content: Any, message: str, key: str, good: str, calls: bool, role: str = "") -> str:
    """A message's content as one text: text as written; a list of text parts (as multimodal exports write it,
    [{"type": "text", "text": …}]) joined, as Qwen-VL's templates write them; no value or a blank one for a reply
    that calls tools ('' then: OpenAI's form of a reply that is only a call). A tool's result given as a JSON value
    (an object, a list that is not parts, a number) is written as JSON text, as a tool's answer reaches the model:
    chat templates write a turn's content as text."""
    if content is None and calls:
        return ""
    if role == "tool" and _json_result(content):
        import json

        return json.dumps(content, ensure_ascii=False)
    if isinstance(content, list) and content and all(isinstance(part, dict) for part in content):
        texts = []
        for number, part in enumerate(content, 1):
            kind = part.get("type")
            if kind != "text":
                said = f"of type {kind!r}" if isinstance(kind, str) else "with no 'type'"
                what = f"the {kind} parts" if isinstance(kind, str) else "that part"
                raise ChatDataError(f"{message} has a part {said} in its '{key}' (part {number} of {len(content)}); "
                                    f"this app trains on text only. To fix: remove {what} (or the rows that need "
                                    f"them), keeping the text parts such as {{\"type\": \"text\", \"text\": \"Hi\"}}")
            text = part.get("text")
            if not isinstance(text, str):
                raise ChatDataError(f"{message} has a text part (part {number} of its '{key}') with {_kind(text)} as "
                                    "its 'text', not text. To fix: write the part's text as a string, or remove the "
                                    "part")
            texts.append(text)
        content = "".join(texts)
    if not isinstance(content, str):
        raise ChatDataError(f"{message} has {_kind(content)} as its '{key}', not text; a message looks like {good}")
    if not content.strip() and not calls:
        raise ChatDataError(f"{message} is empty (its '{key}' is blank)")
    return content


# The types of a message's content parts (OpenAI's and transformers' multimodal messages).
PART_TYPES = ("text", "image", "image_url", "input_image", "audio", "input_audio", "video", "video_url", "file")


def _json_result(content: Any) -> bool:
    """Whether a tool turn's content is a JSON value to write as JSON text: an object, a number, true/false, or a list
    that is not content parts (a list whose items are all objects with a part's 'type', such as {"type": "text",
    …}: text parts are joined, others refused, as in any turn)."""
    if isinstance(content, (dict, int, float)):  # bool is an int
        return True
    return isinstance(content, list) and not (content and all(isinstance(part, dict) and part.get("type")
                                                              in PART_TYPES for part in content))


@dataclass
class CallArguments:
    """How a row's calls' arguments given as objects (not JSON text, which is read as written) are read. datasets
    stores the objects of every row in one Arrow struct type (Dataset.from_list, Parquet, Hub datasets), so a call's
    arguments hold every name any call in the column uses, those of other functions as null: the template would
    write them ("units": null) and the model learn nulls no row has. A null is left out when the row's tools say
    its function has no such parameter, or, where they do not say, when the arguments are such a struct
    (`merged`); nested objects of a struct lose their nulls too. What was left out is listed in `dropped`."""

    merged: bool = False
    parameters: dict[str, frozenset[str] | None] = field(default_factory=dict)  # function -> its parameters' names
    dropped: list[str] = field(default_factory=list)

    def read(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        known = self.parameters.get(name)
        if known is None and not self.merged:
            return arguments
        left = [key for key, value in arguments.items()
                if value is None and (key not in known if known is not None else True)]
        kept = {key: value for key, value in arguments.items() if key not in left}
        if self.merged:
            kept = {key: _without_nulls(value) for key, value in kept.items()}
        if left:
            self.dropped.append(f"{name}'s arguments {', '.join(repr(k) for k in left)}")
        return kept


def _without_nulls(value: Any) -> Any:
    """An Arrow struct's value without the null names the struct type gave it (in objects, at every depth; a null
    in a list is the list's own)."""
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def _parameters(tools: list[dict[str, Any]] | None) -> dict[str, frozenset[str] | None]:
    """Each tool's function name -> the names of its parameters (JSON schema properties), None where the schema
    does not list them or allows others (additionalProperties)."""
    found: dict[str, frozenset[str] | None] = {}
    for tool in tools or []:
        function = tool.get("function") if tool.get("function") is not None else tool
        schema = function.get("parameters") if isinstance(function, dict) else None
        properties = schema.get("properties") if isinstance(schema, dict) else None
        if not isinstance(properties, dict) or schema.get("additionalProperties") not in (None, False):
            found[function["name"]] = None
        else:
            found[function["name"]] = frozenset(k for k, v in properties.items() if v is not None)
    return found


def _tool_calls(value: Any, key: str, message: str, reading: CallArguments | None = None) -> list[dict[str, Any]]:
    """A reply's tool calls in OpenAI's form, [{"type": "function", "function": {"name", "arguments"}}], the form
    chat templates read: a flat {"name", "arguments"} (and function_call's single call) is put in it, and arguments
    written as JSON text are read into the object (a template that writes `arguments | tojson` would otherwise write
    the text as one quoted string). ChatDataError names the call that is wrong and how to write it."""
    if key.lower() == "function_call":
        value = [value]
    if not isinstance(value, list):
        raise ChatDataError(f"{message} has {_kind(value)} as its '{key}', not a list of calls. To fix: write "
                            f"'{key}' as a list such as [{GOOD_CALL}]")
    calls = []
    for number, call in enumerate(value, 1):
        said = f"tool call {number} of {message}"
        if not isinstance(call, dict):
            raise ChatDataError(f"{said} is {_kind(call)}, not a call. To fix: write each call as {GOOD_CALL}")
        function = call.get("function") if call.get("function") is not None else call
        if not isinstance(function, dict):
            raise ChatDataError(f"{said} has {_kind(function)} as its 'function'. To fix: write each call as "
                                f"{GOOD_CALL}")
        kind = call.get("type")
        if kind is not None and kind != "function":
            raise ChatDataError(f"{said} has the type {kind!r}; a call's type is 'function'. To fix: set it to "
                                "'function', or remove it")
        name = function.get("name")
        if not isinstance(name, str) or not name.strip():
            has = "no name" if name is None else f"{_kind(name)} as its name"
            raise ChatDataError(f"{said} has {has}, so the model would not learn which function it calls. To fix: "
                                f"give each call the name of its function, as in {GOOD_CALL}")
        arguments = function.get("arguments")
        if arguments is None:
            arguments = {}  # a call with no arguments (TRL's _validate_tool_calls reads it so too)
        elif isinstance(arguments, str):
            import json

            try:
                arguments = json.loads(arguments) if arguments.strip() else {}
            except ValueError as exc:
                raise ChatDataError(f"{said} ({name}) has arguments that are not JSON ({exc}): "
                                    f"{_kind(function['arguments'])}. To fix: write them as a JSON object, such as "
                                    '{"city": "Oslo"}') from None
        elif isinstance(arguments, dict) and reading is not None:  # objects: nulls a struct type gave them go
            arguments = reading.read(name, arguments)
        if not isinstance(arguments, dict):
            raise ChatDataError(f"{said} ({name}) has {_kind(arguments)} as its arguments, not an object of named "
                                'values. To fix: write them as an object, such as {"city": "Oslo"}')
        out: dict[str, Any] = {"type": "function", "function": {"name": name, "arguments": arguments}}
        if isinstance(call.get("id"), str):
            out["id"] = call["id"]
        calls.append(out)
    return calls


def _tools(row: dict[str, Any], column: str | None,
           merged: bool = False) -> tuple[str, list[dict[str, Any]]] | None:
    """The row's tool definitions (its tools column: 'tools' or the column chat.columns maps the part to, a list of
    JSON-schema function dicts or JSON text of one, as TRL's SFTTrainer reads it) and the column's name; None when
    the row has none. `merged`: the column is an Arrow struct type (Detection.merged), whose nulls are names other
    rows' tools have: left out. ChatDataError says what is wrong."""
    value = row.get(column) if column is not None else None
    if merged and isinstance(value, list):
        value = _without_nulls(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ChatDataError(f"column '{column}' holds text that is not JSON ({exc}). To fix: write the tools "
                                f"as a list of function schemas such as [{GOOD_TOOL}], or as JSON text of one") \
                from None
    if not isinstance(value, list):
        raise ChatDataError(f"column '{column}' holds {_kind(value)}, not a list of tools. To fix: write it as a "
                            f"list of function schemas such as [{GOOD_TOOL}]")
    for number, tool in enumerate(value, 1):
        said = f"tool {number} of column '{column}'"
        if not isinstance(tool, dict):
            raise ChatDataError(f"{said} is {_kind(tool)}, not a function schema. To fix: write each tool as "
                                f"{GOOD_TOOL}")
        function = tool.get("function") if tool.get("function") is not None else tool
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise ChatDataError(f"{said} has no function name, so the model could not call it. To fix: write each "
                                f"tool as {GOOD_TOOL}")
    return (column, value) if value else None


def template_ignores(template: str, examples: list[dict[str, Any]]) -> str | None:
    """The run log's note when the rows carry reasoning_content the chat template never reads (so it is not
    rendered, and not trained); None when the template reads it or no row has it."""
    key = "reasoning_content"
    rows = sum(1 for example in examples
               if any(key in m for part in ("messages", "prompt", "completion") if isinstance(example.get(part), list)
                      for m in example[part]))
    if not rows or key in template:
        return None
    return (f"{rows:,} of the first {len(examples):,} rows have '{key}' in their messages, but the chat template "
            f"never reads '{key}', so that reasoning is not in the rendered text and is not trained. To fix: pick a "
            "template that renders it (qwen3), or write the reasoning into the reply's content")


def merged_nulls_note(examples: list[dict[str, Any]]) -> str | None:
    """The run log's note (once) when rows' calls' arguments or tools lost nulls that are other rows' names (an Arrow
    struct type's, CallArguments); None when no row did."""
    rows = [example[MERGED_NULLS] for example in examples if example.get(MERGED_NULLS)]
    if not rows:
        return None
    return (f"{len(rows):,} of the first {len(examples):,} rows have tool calls whose arguments (or tools) hold "
            f"nulls for names their function does not have ({'; '.join(rows[0][:3])}): the dataset stores every "
            "row's objects as one Arrow struct type (as datasets does for a list of rows, Parquet and Hub datasets), "
            "which gives each the names of all the others, as null. Those nulls are left out of what the model "
            "learns, so it does not learn to write them. To keep a null an argument really has, write the call's "
            "arguments as JSON text (a string), which is read as written")


def merged_columns(schema: Any, detection: Detection) -> frozenset[str]:
    """The columns (of those `detection` maps) whose objects an Arrow schema stores as one struct type for all rows
    (Detection.merged): a conversation whose calls' 'arguments' are a struct, a tools column holding structs. A
    column of JSON values (datasets' Json type: JSON lines) or of JSON text keeps each row's own names."""
    import pyarrow as pa

    def has_struct(kind: Any, name: str | None) -> bool:
        if pa.types.is_struct(kind):
            if name is None:
                return True
            return any((child.name.lower() == name and pa.types.is_struct(child.type)) or has_struct(child.type, name)
                       for child in kind)
        if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
            return has_struct(kind.value_type, name)
        return False

    merged = set()
    for part, column in detection.columns.items():
        try:
            kind = schema.field(column).type
        except (KeyError, TypeError, ValueError):
            continue
        if has_struct(kind, None if part == TOOLS_PART else "arguments"):
            merged.add(column)
    return frozenset(merged)


# The example key that lists the replies (0-based, counted among the assistant turns) a row marks with weight 0.
UNTRAINED_REPLIES = "untrained_replies"
WEIGHTED_PROMPTS = "weighted_prompts"  # and the other turns it marks with weight 1, named as in messages


def _weighted_out(raw: list[Any], messages: list[dict[str, str]], where: str) -> tuple[list[int], list[str]]:
    """The assistant replies a conversation marks not to train (a message's 'weight' of 0: axolotl's ShareGPT and
    chat_template datasets write 0 or 1 on each turn), and the other turns it marks to train (weight 1), which
    train_on 'assistant' cannot honour (render_and_label refuses them then). A weight not 0 or 1 is refused."""
    skipped, weighted_in, reply = [], [], 0
    for number, (turn, message) in enumerate(zip(raw, messages), 1):
        keys = {str(k).lower(): k for k in turn}
        weight = turn[keys["weight"]] if "weight" in keys else None
        said = f"message {number} ({message['role']}) of column '{where}'"
        if weight is not None and (isinstance(weight, str) or weight not in (0, 1)):
            raise ChatDataError(f"{said} has the weight {weight!r}; a turn's weight is 0 (not trained) or 1 "
                                "(trained). To fix: set it to 0 or 1, or remove it")
        if message["role"] == "assistant":
            if weight == 0:
                skipped.append(reply)
            reply += 1
        elif weight == 1:
            weighted_in.append(said)
    return skipped, weighted_in


def to_example(row: dict[str, Any], detection: Detection) -> dict[str, Any]:
    """A row in TRL's shape: {"messages": [...]}, {"prompt": ..., "completion": ...} (text or turns) or
    {"text": ...}. Raises ChatDataError saying what is wrong with the row."""
    fmt, columns = detection.format, detection.columns

    def value(part: str) -> Any:
        column = columns.get(part)
        if column is None:
            raise ChatDataError(f"no column plays '{part}'")
        return row.get(column)  # a key this row lacks (JSON lines) is a value it lacks: mapping_problems names columns

    if fmt in ("messages", "sharegpt"):
        part = "messages" if fmt == "messages" else "conversations"
        raw = value(part)
        if fmt == "sharegpt":
            from trl.data_utils import maybe_convert_to_chatml

            # TRL converts messages with 'from' and 'value' as written; others ('From'/'Value', read
            # case-insensitively as detection reads them, or a message that lacks its 'value') are read, or named
            # as wrong, in ShareGPT's own words rather than as role/content the user never wrote
            kind = _message_list(raw) or "sharegpt"
            if kind == "sharegpt" and all(isinstance(m, dict) and "from" in m and "value" in m for m in raw):
                raw, kind = maybe_convert_to_chatml({"conversations": copy.deepcopy(raw)})["messages"], "messages"
        else:
            kind = fmt
        tools, dropped = _tools_part(row, detection), []
        messages = _turns(raw, kind, columns[part], _reading(detection, part, tools, dropped))
        if not any(m["role"] == "assistant" for m in messages):
            raise ChatDataError(f"the conversation in '{columns[part]}' has no assistant turn, so there is "
                                "nothing to learn from it")
        skipped, weighted_in = _weighted_out(raw, messages, columns[part])
        return {"messages": messages, **tools, **({UNTRAINED_REPLIES: skipped} if skipped else {}),
                **({WEIGHTED_PROMPTS: weighted_in} if weighted_in else {}), **_merged_part(tools, dropped)}
    if fmt == "alpaca":
        instruction = _text(value("instruction"), f"column '{columns['instruction']}'")
        output = _text(value("output"), f"column '{columns['output']}' (the reply to learn)")
        extra = row.get(columns["input"]) if "input" in columns else None
        if extra is not None and not isinstance(extra, str):
            raise ChatDataError(f"column '{columns['input']}' holds {_kind(extra)}, not text")
        system = row.get(columns["system"]) if "system" in columns else None
        if system is not None and not isinstance(system, str):
            raise ChatDataError(f"column '{columns['system']}' holds {_kind(system)}, not text")
        if not instruction.strip():
            raise ChatDataError(f"column '{columns['instruction']}' is blank: there is no instruction")
        if not output.strip():
            raise ChatDataError(f"column '{columns['output']}' is blank: there is no reply to learn")
        user = instruction + (f"\n\n{extra}" if extra and extra.strip() else "")
        prompt = ([{"role": "system", "content": system}] if system and system.strip() else [])
        return {"prompt": prompt + [{"role": "user", "content": user}],
                "completion": [{"role": "assistant", "content": output}]}
    if fmt == "prompt_completion":
        prompt, completion = value("prompt"), value("completion")
        if isinstance(prompt, list) or isinstance(completion, list):
            kind = _message_list(prompt if isinstance(prompt, list) else completion) or "messages"
            for part, other, text in (("prompt", "completion", prompt), ("completion", "prompt", completion)):
                if isinstance(text, str):
                    raise ChatDataError(f"column '{columns[part]}' holds text while '{columns[other]}' holds a list "
                                        f"of messages; a row is both as text or both as lists. To fix: write "
                                        f"'{columns[part]}' as a list such as [{_good_message(kind)}], or "
                                        f"'{columns[other]}' as text")
            tools, dropped = _tools_part(row, detection), []
            turns = _turns(completion, kind, columns["completion"], _reading(detection, "completion", tools, dropped))
            if turns[0]["role"] != "assistant":
                # The prompt is rendered with the generation prompt ("<|im_start|>assistant"), so a completion that
                # opens with another role would train that role's header and text as if the assistant said them.
                raise ChatDataError(f"the completion in '{columns['completion']}' starts with a {turns[0]['role']} "
                                    "turn; a completion is the assistant's reply. To fix: move that turn to the end "
                                    f"of '{columns['prompt']}', so '{columns['completion']}' starts with the "
                                    "assistant's turn")
            return {"prompt": _turns(prompt, kind, columns["prompt"], _reading(detection, "prompt", tools, dropped)),
                    "completion": turns, **tools, **_merged_part(tools, dropped)}
        prompt = _text(prompt, f"column '{columns['prompt']}'")
        completion = _text(completion, f"column '{columns['completion']}' (the completion to learn)")
        if not completion.strip():
            raise ChatDataError(f"column '{columns['completion']}' is blank: there is no completion to learn")
        return {"prompt": prompt, "completion": completion}
    text = _text(value("text"), f"column '{columns.get('text')}'")
    return {"text": text}


def _tools_part(row: dict[str, Any], detection: Detection) -> dict[str, Any]:
    """The example's 'tools' (passed to the chat template as tools=, as TRL's SFTTrainer passes them), with the
    column they were read from, or nothing when the row has none. A tools column of Arrow structs loses the nulls
    the struct type gave its tools (MERGED_NULLS says so)."""
    column = detection.columns.get(TOOLS_PART)
    merged = column is not None and column in detection.merged
    found = _tools(row, column, merged)
    if found is None:
        return {}
    cleaned = merged and isinstance(row.get(column), list) and row[column] != found[1]
    return {"tools": found[1], TOOLS_COLUMN_KEY: found[0],
            **({MERGED_NULLS: [f"the tools in column '{column}'"]} if cleaned else {})}


def _reading(detection: Detection, part: str, tools: dict[str, Any], dropped: list[str]) -> CallArguments:
    """How the calls in the column playing `part` read their arguments (CallArguments), what they leave out added to
    `dropped`."""
    return CallArguments(merged=detection.columns.get(part) in detection.merged,
                         parameters=_parameters(tools.get("tools")), dropped=dropped)


def _merged_part(tools: dict[str, Any], dropped: list[str]) -> dict[str, Any]:
    """The example's MERGED_NULLS: the calls' arguments and tools that lost nulls (CallArguments), if any."""
    said = list(dict.fromkeys(dropped)) + tools.get(MERGED_NULLS, [])
    return {MERGED_NULLS: said} if said else {}


TOOLS_COLUMN_KEY = "tools_column"  # the example key naming the column the tools came from (for messages)
# The example key listing what lost the nulls an Arrow struct type gave it ("get_weather's arguments: 'zone'").
MERGED_NULLS = "merged_nulls"


# ---- templates ------------------------------------------------------------------------------------------------


@dataclass
class TemplatePlan:
    """What a run does with a tokenizer's chat template, decided once per (tokenizer, chat.template)."""

    name: str  # "the model's own", "chatml", "qwen3", …, "custom"
    text: str  # the template rendered for completion/all and saved with the run's tokenizer
    training_text: str | None  # with {% generation %} markers (assistant-only loss); None: none could be had
    note: str  # said in the run log and the Dataset tab
    added_tokens: list[str] = field(default_factory=list)  # control tokens added to the tokenizer
    end_of_turn: list[int] = field(default_factory=list)  # ids that end a reply (generation stops there)
    stop_trained: bool = True  # TRL's check: the end-of-turn token is inside the assistant mask
    problem: str | None = None  # why assistant-only loss cannot work with this template


_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# Plain prompt/completion text is tokenized as it is (TRL's non-conversational path): no template at all.
NO_TEMPLATE = TemplatePlan(name="", text="", training_text=None, note="no chat template (plain text)")


def template_plan(tokenizer: Any, chat: ChatConfig) -> TemplatePlan:
    """The template of a run (cached per tokenizer object). A template's control tokens the tokenizer lacks
    (ChatML's <|im_start|> and <|im_end|> on a base model) are added to the tokenizer as special tokens, as TRL's
    clone_chat_template does, so the end of a reply is one token the model can learn and generation stops at;
    the run then grows the model's embeddings to match (`prepare_model`)."""
    key = chat.template if isinstance(chat.template, str) else "auto"
    try:
        cached = _PLANS.setdefault(tokenizer, {})
    except TypeError:
        cached = {}
    if key in cached:
        return cached[key]
    own = tokenizer.chat_template
    if isinstance(own, dict):
        own = own.get("default")
    if key == "auto" and own:
        name, text, note, tokens = "the model's own", own, "the model's own chat template", ()
    elif key == "auto":
        name, text, note, tokens = "chatml", named_template("chatml"), CHATML_NOTE, control_tokens("chatml")
    elif is_template_text(key):
        name, text, note, tokens = "custom", key, "the chat template given in chat.template", ()
    elif key in NAMED_TEMPLATES:
        name, text, note, tokens = key, named_template(key), f"the {key} chat template", control_tokens(key)
    else:
        raise ChatDataError(_template_message("chat.template", key))
    added = _add_control_tokens(tokenizer, tokens, text)
    plan = TemplatePlan(name=name, text=text, training_text=None, note=note, added_tokens=added)
    if has_generation_markers(text):
        plan.training_text = text
    else:
        plan.training_text, plan.problem = _training_variant(tokenizer, text, name)
    if plan.training_text is not None:
        plan.end_of_turn, plan.stop_trained = end_of_turn(tokenizer, plan.training_text)
        if not plan.stop_trained:
            plan.problem = (f"{_template_words(name)} leaves a reply's end-of-turn token out of the assistant mask, so "
                            "the model would never learn to stop. To fix: pick another template (chatml), or set "
                            "train_on to 'all' or 'completion'")
    cached[key] = plan
    return plan


def _template_words(name: str) -> str:
    """A plan's name in a sentence: "the chatml chat template", "the model's own chat template" (not "the the
    model's own"), "the tokenizer's chat template" for plain text (no name)."""
    if name.startswith("the "):
        return f"{name} chat template"
    return f"the {name} chat template" if name else "the tokenizer's chat template"


def _template_name(template: str) -> str:
    """chat.template as template_plan names it: a named template by its name, Jinja text as "custom"."""
    return "custom" if is_template_text(template) else template


def resolve_template(tokenizer: Any, chat: ChatConfig) -> tuple[str, str, str]:
    """(template text, name, note); the note is "ChatML: the tokenizer has no template" when that happens."""
    plan = template_plan(tokenizer, chat)
    return plan.text, plan.name, plan.note


def _add_control_tokens(tokenizer: Any, tokens: tuple[str, ...], text: str) -> list[str]:
    vocab = tokenizer.get_vocab()
    missing = [t for t in tokens if t not in vocab and t in text]
    if missing:
        from transformers import AddedToken

        tokenizer.add_tokens([AddedToken(t, special=True, normalized=False) for t in missing], special_tokens=True)
    return missing


def _training_variant(tokenizer: Any, text: str, name: str) -> tuple[str | None, str | None]:
    """TRL's training version of a template without generation markers (its SFTTrainer swaps it in for
    assistant_only_loss); None and the reason when TRL has none."""
    from trl.chat_template_utils import get_training_chat_template

    probe = copy.copy(tokenizer)
    probe.chat_template = text
    try:
        found = get_training_chat_template(probe)
    except ValueError:
        return None, (f"{_template_words(name)} has no {{% generation %}} markers and TRL has no training version "
                      "of it, so the assistant's replies cannot be told apart. To fix: pick the chatml template, or "
                      "set train_on to 'all'")
    except Exception as exc:  # noqa: BLE001 - a template that fails TRL's probe renders: say it, do not crash
        return None, (f"{_template_words(name)} failed to render TRL's probe conversation ({type(exc).__name__}: "
                      f"{exc}). To fix: correct the template, pick a named one (chatml), or set train_on to 'all'")
    return (found or text), None


def end_of_turn(tokenizer: Any, template: str) -> tuple[list[int], bool]:
    """The token that ends an assistant reply (the last non-blank token in its mask, as TRL's
    is_chat_template_stop_token_trained finds it) and whether it is trained (an added/special token): what a run
    trains replies to end with, and where core.generate stops a reply rendered with the template."""
    from trl.chat_template_utils import is_chat_template_stop_token_trained

    messages = [{"role": "user", "content": "dummy"}, {"role": "assistant", "content": "dummy"},
                {"role": "user", "content": "dummy"}]
    try:
        out = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True, chat_template=template,
                                            return_assistant_tokens_mask=True)
    except Exception:  # noqa: BLE001 - a template that cannot render the probe has no known end of turn
        return [], False
    masked = [t for t, m in zip(out["input_ids"], out["assistant_masks"]) if m]
    last = next((t for t in reversed(masked) if tokenizer.decode([t]).strip()), None)
    trained = is_chat_template_stop_token_trained(tokenizer, chat_template=template)
    ids = [last] if last is not None and trained else []
    return ids, trained


# ---- one row --------------------------------------------------------------------------------------------------


def render_and_label(tokenizer: Any, row: dict, chat: ChatConfig, max_length: int, *,
                     detection: Detection | None = None, text_column: str | None = None,
                     truncation: bool = True) -> TokenRoles:
    """One row rendered and labelled exactly as a run trains it. `detection` is the dataset's format (from
    resolve_format; detected from this row when None); `text_column` names the column of a plain-text row.
    Never raises for a bad row: what is wrong is in `problems` (and nothing is trained)."""
    if detection is None:
        detection = resolve_format(chat, [row], list(row), text_column)
    fmt = detection.format
    train_on = resolve_train_on(chat, fmt)
    if fmt == "text":
        return _render_text(tokenizer, row, detection, max_length, truncation)
    try:
        example = to_example(row, detection)
    except ChatDataError as exc:
        return _failed("", str(exc), fmt, train_on)
    assistant = train_on == "assistant"
    if train_on == "completion" and "messages" in example:
        return _failed("", "train_on 'completion' needs prompt/completion or alpaca rows; a conversation trains "
                           "'assistant' (its replies) or 'all'", fmt, train_on)
    if not is_conversational(example):  # plain prompt/completion text: no template, as in TRL
        if assistant:
            return _failed("", "train_on 'assistant' needs conversations; these rows are plain prompt/completion "
                               "text. To fix: set train_on to 'completion' or 'all'", fmt, train_on)
        plan = NO_TEMPLATE
    else:
        try:
            plan = template_plan(tokenizer, chat)
        except ChatDataError as exc:
            return _failed("", str(exc), fmt, train_on)
    problems = []
    if assistant and plan.training_text is None:
        return _failed(plan.name, plan.problem or "no assistant mask", fmt, train_on)
    template = plan.training_text if assistant else plan.text or None
    try:
        ids, masks, boundary = _tokenize_example(tokenizer, example, template, assistant)
    except Exception as exc:  # noqa: BLE001 - jinja, a template's raise_exception, a tokenizer error
        other = "chatml or qwen3, which write tool calls" if _calls_tools(example) else "chatml"
        return _failed(plan.name, f"{_template_words(plan.name)} failed to render this row: "
                                  f"{type(exc).__name__}: {exc}. To fix: change the row to what the template "
                                  f"accepts, or pick another template ({other})", fmt, train_on)
    # TRL's build_labels: a token keeps its label only where every applicable mask is 1.
    applicable = [masks[k] for k in (("completion_mask",) if train_on == "completion" else ())
                  + (("assistant_masks",) if assistant else ()) if k in masks]
    if train_on == "completion" and "completion_mask" not in masks:
        problems.append("train_on 'completion' needs prompt/completion or alpaca rows")
    if assistant and "assistant_masks" not in masks:
        problems.append("train_on 'assistant' needs conversations")
    labels = [t if all(bits) else -100 for t, *bits in zip(ids, *applicable)]  # TRL's build_labels
    if assistant and example.get(WEIGHTED_PROMPTS):
        return _failed(plan.name, f"{example[WEIGHTED_PROMPTS][0]} has the weight 1, but train_on 'assistant' trains "
                                  "only the assistant's replies. To fix: set its weight to 0 or remove it, or set "
                                  "train_on to 'all'", fmt, train_on)
    if assistant and example.get(UNTRAINED_REPLIES):
        labels, problem = _unweight(labels, masks.get("assistant_masks", []), example)
        if problem:
            return _failed(plan.name, problem, fmt, train_on)
    text = tokenizer.decode(ids, skip_special_tokens=False) if "text" not in masks else masks["text"]
    left_out = _left_out(plan.name, example, text, template) if plan is not NO_TEMPLATE else None
    if left_out:
        return _failed(plan.name, left_out, fmt, train_on)
    tools = _tools_tokens(tokenizer, example, template, ids) if truncation and len(ids) > max_length else 0
    return _finish(tokenizer, ids, labels, text, plan, example, boundary, max_length, truncation, fmt, train_on,
                   problems, tools)


def _tools_tokens(tokenizer: Any, example: dict[str, Any], template: str | None, ids: list[int]) -> int:
    """How many of a row's tokens its template writes for the row's tools: the row rendered as it trains, less the
    row rendered without its tools (0 for a row without tools). Qwen3's tools block alone is some 300 tokens, so
    it is often what takes a short tool row past max_length; the warnings say so. Read only for rows that are cut."""
    tools = example.get("tools")
    if not tools:
        return 0
    messages = example.get("messages") or (list(example["prompt"]) + list(example["completion"])
                                           if isinstance(example.get("prompt"), list) else [])
    try:
        plain = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                              chat_template=template)["input_ids"]
    except Exception:  # noqa: BLE001 - a template that needs its tools: the size is not known
        return 0
    return max(0, len(ids) - len(plain))


def fitting_max_length(tokens: int) -> int:
    """A max_length a user would type that holds `tokens`: the next multiple of 64."""
    return max(64, -(-tokens // 64) * 64)


def tools_cut_words(tools: Sequence[int], lengths: Sequence[int], one: bool = False) -> str:
    """What the warnings on rows max_length cuts say of the tools (`tools`: tokens each cut row's template writes
    for its tools, _tools_tokens; `lengths`: each one's tokens): that the tools block counts toward max_length and
    how many tokens it took, and the max_length that fits them. '' when no cut row has tools."""
    pairs = [(t, n) for t, n in zip(tools, lengths) if t]
    if not pairs:
        return ""
    longest = max(lengths)
    if one:
        took = f"the row's tool definitions, {pairs[0][0]:,} of its {pairs[0][1]:,} tokens"
    else:
        low, high = min(t for t, _ in pairs), max(t for t, _ in pairs)
        took = f"the rows' tool definitions: {low:,}" + (f" to {high:,}" if high != low else "") + " tokens of each"
    return (f"the tools block the chat template writes ({took}) counts toward max_length. To fix: raise max_length to "
            f"{fitting_max_length(longest):,}, which holds {'the whole row' if one else 'the longest such row'} "
            f"({longest:,} tokens)")


def _unweight(labels: list[int], mask: list[int], example: dict[str, Any]) -> tuple[list[int], str | None]:
    """Labels with the replies of weight 0 set to -100: the assistant mask's spans, one per reply, in order."""
    spans, start = [], None
    for index, bit in enumerate([*mask, 0]):
        if bit and start is None:
            start = index
        elif not bit and start is not None:
            spans.append((start, index))
            start = None
    replies = sum(1 for m in example["messages"] if m["role"] == "assistant")
    if len(spans) != replies:
        return labels, (f"this row marks replies with weight 0, but its chat template gives {len(spans)} trained "
                        f"spans for its {replies} replies, so they cannot be told apart. To fix: pick the chatml "
                        "template, or remove the 'weight' keys")
    labels = list(labels)
    for reply in example[UNTRAINED_REPLIES]:
        begin, end = spans[reply]
        labels[begin:end] = [-100] * (end - begin)
    return labels, None


def _left_out(name: str, example: dict[str, Any], text: str, template: str | None = None) -> str | None:
    """What is wrong when a template renders a row without one of its non-assistant turns (phi3 has no tool role
    and drops tool turns silently; a custom template may skip the system turn): the replies would be learned
    without what they answer. Each turn's content (trimmed, as llama3 trims it) must appear in the rendered text,
    anywhere (Mistral's templates move the system prompt into the last user turn). Assistant turns are not looked
    for: a template may rewrite an earlier reply (qwen3 drops its <think>). But a reply's tool calls are: a template
    that only writes content (llama3's and phi3's training templates) would train an empty reply where the model calls
    a tool; each call's function name and argument names must be in the text. So must the row's tools (a template
    that never reads `tools`, or leaves a tool's name out, teaches calls to functions the model never sees)."""
    messages = example.get("messages") or (list(example["prompt"]) + list(example["completion"])
                                           if isinstance(example.get("prompt"), list) else [])
    for number, message in enumerate(messages, 1):
        if message.get("tool_calls"):
            missing = [call["function"]["name"] for call in message["tool_calls"]
                       if not _call_written(call["function"], text)]
            if missing:
                calls = "calls" if len(message["tool_calls"]) > 1 else "call"
                said = ", ".join(f"'{n}'" for n in dict.fromkeys(missing))
                return (f"{_template_words(name)} leaves out the tool {calls} of message {number} (assistant) of this "
                        f"row ({said}): the template does not write tool calls, so the model would learn an empty "
                        "reply where it should call the tool. To fix: choose a model whose chat template writes "
                        "tool calls, or set chat.template to one that does (chatml or qwen3), or remove those rows")
        elif message["role"] != "assistant" and message["content"].strip() not in text:
            return (f"{_template_words(name)} leaves out message {number} ({message['role']}) of this row, so the "
                    f"model would learn the replies without it. To fix: pick a template that writes "
                    f"{message['role']} turns (chatml), or remove those turns from the rows")
    tools = example.get("tools")
    if tools:
        names = [(tool.get("function") if tool.get("function") is not None else tool)["name"] for tool in tools]
        if (template is not None and "tools" not in template) or not all(_written(n, text) for n in names):
            column = example.get(TOOLS_COLUMN_KEY, "tools")
            return (f"{_template_words(name)} does not write the tools in column '{column}' of this row "
                    f"({', '.join(repr(n) for n in names)}), so the model would learn to call them without seeing "
                    "what they are. To fix: choose a model whose chat template writes tools, or set chat.template "
                    f"to one that does (chatml or qwen3), or remove the '{column}' column")
    return None


def _calls_tools(example: dict[str, Any]) -> bool:
    """Whether a row has tools or a reply that calls one."""
    messages = example.get("messages") or (list(example["prompt"]) + list(example["completion"])
                                           if isinstance(example.get("prompt"), list) else [])
    return bool(example.get("tools")) or any(m.get("tool_calls") for m in messages)


def _call_written(function: dict[str, Any], text: str) -> bool:
    """Whether a rendered text holds a tool call: its function name and its argument names, not their values, which
    templates write in their own ways (JSON, Python-like)."""
    return _written(function["name"], text) and all(_written(key, text) for key in function["arguments"]
                                                    if isinstance(key, str))


def _written(word: str, text: str) -> bool:
    """Whether a name is in a rendered text, as written or as JSON writes it (a template's `tojson`)."""
    import json

    return word in text or json.dumps(word, ensure_ascii=False)[1:-1] in text


def _tokenize_example(tokenizer: Any, example: dict[str, Any], template: str | None,
                      assistant: bool) -> tuple[list[int], dict[str, Any], int]:
    """TRL's tokenize_fn (sft_trainer.py) for one example: ids, masks, and the index where the system turns end."""
    from trl.data_utils import _tokenize, common_prefix_length, is_conversational

    masks: dict[str, Any] = {}
    tools = example.get("tools")
    kwargs = {"chat_template": template, "tools": tools}
    if "prompt" in example:
        if is_conversational(example):
            prompt_ids = _tokenize(tokenizer, example["prompt"], add_generation_prompt=True, **kwargs)["input_ids"]
            full = _tokenize(tokenizer, example["prompt"] + example["completion"],
                             return_assistant_tokens_mask=assistant, **kwargs)
            ids = list(full["input_ids"])
            if "assistant_masks" in full:
                masks["assistant_masks"] = list(full["assistant_masks"])
            masks["text"] = tokenizer.apply_chat_template(example["prompt"] + example["completion"], tokenize=False,
                                                          chat_template=template, tools=tools)
            system = _system_boundary(tokenizer, example["prompt"], template, ids, tools)
        else:
            eos = tokenizer.eos_token or ""
            completion = example["completion"]
            if eos and not completion.endswith(eos):  # TRL's add_eos for non-conversational rows
                completion = completion + eos
            prompt_ids = _tokenize(tokenizer, example["prompt"])["input_ids"]
            ids = list(_tokenize(tokenizer, example["prompt"] + completion)["input_ids"])
            masks["text"] = example["prompt"] + completion
            system = 0
        start = common_prefix_length(prompt_ids, ids)
        masks["completion_mask"] = [0] * start + [1] * (len(ids) - start)
        return ids, masks, system
    full = _tokenize(tokenizer, example["messages"], return_assistant_tokens_mask=assistant, **kwargs)
    ids = list(full["input_ids"])
    if "assistant_masks" in full:
        masks["assistant_masks"] = list(full["assistant_masks"])
    masks["text"] = tokenizer.apply_chat_template(example["messages"], tokenize=False, chat_template=template,
                                                  tools=tools)
    return ids, masks, _system_boundary(tokenizer, example["messages"], template, ids, tools)


def _system_boundary(tokenizer: Any, messages: list[dict[str, Any]], template: str, ids: list[int],
                     tools: list[dict[str, Any]] | None = None) -> int:
    """How many leading tokens belong to the leading system turn(s), for display. A row with tools and no system
    turn of its own may still open with one: Qwen3's template and ChatML write the tools as a system turn, which
    is the system part too (_tools_block)."""
    count = 0
    while count < len(messages) and messages[count]["role"] == "system":
        count += 1
    if count == 0:
        return _tools_block(tokenizer, messages, template, ids, tools) if tools and messages else 0
    try:
        head = tokenizer.apply_chat_template(messages[:count], tokenize=True, return_dict=True,
                                             chat_template=template, tools=tools)["input_ids"]
    except Exception:  # noqa: BLE001 - a template that needs a user turn: no system span shown
        return 0
    from trl.data_utils import common_prefix_length

    return common_prefix_length(list(head), ids)


def _tools_block(tokenizer: Any, messages: list[dict[str, Any]], template: str, ids: list[int],
                 tools: list[dict[str, Any]]) -> int:
    """How many leading tokens of a row with no system turn its template writes for the tools alone: the first turn
    rendered with the tools, less the same turn rendered without them, when what the tools add is a head the row
    starts with (Qwen3's and ChatML's system turn of tools). 0 where the tools go elsewhere (into a user turn, as
    Llama 3.1 writes them) or the template adds a default system prompt either way (Qwen2.5)."""
    try:
        head = tokenizer.apply_chat_template(messages[:1], tokenize=True, return_dict=True, chat_template=template,
                                             tools=tools)["input_ids"]
        plain = tokenizer.apply_chat_template(messages[:1], tokenize=True, return_dict=True,
                                              chat_template=template)["input_ids"]
    except Exception:  # noqa: BLE001 - a template that needs a user turn: no system span shown
        return 0
    head, plain = list(head), list(plain)
    size = len(head) - len(plain)
    if size <= 0 or head[size:] != plain or list(ids[:size]) != head[:size]:
        return 0
    return size


IGNORED_KEY_ROWS = 100  # rows prepare_dataset reads for keys the chat template never renders
WEIGHT_0_ROW = "every reply of this row has the weight 0"


def untrained_cause(roles: TokenRoles) -> str:
    """Why a row with input but no trained token trains nothing: 'cut' (max_length cuts it before the reply),
    'weight' (every reply has the weight 0) or 'other'."""
    if roles.cut_trained:
        return "cut"
    return "weight" if any(p.startswith(WEIGHT_0_ROW) for p in roles.problems) else "other"


def untrained_note(causes: list[str], rows: int, max_length: int, dropped: bool, tools_said: str = "") -> str:
    """The run log's note on the rows that train nothing, counted by cause, each with its own To fix (`tools_said`:
    tools_cut_words of the rows cut before their reply)."""
    parts = _untrained_parts(causes, max_length, dropped, tools_said)
    if dropped:
        return (f"Dropped {len(causes):,} of {rows:,} rows where nothing is trained, as chat.drop_untrained_rows is "
                "on: " + "; ".join(parts) + ".")
    return f"{len(causes):,} of {rows:,} rows train nothing; they are kept and add no loss: " + "; ".join(parts) + "."


def _untrained_parts(causes: list[str], max_length: int, dropped: bool, tools_said: str = "") -> list[str]:
    count = {cause: causes.count(cause) for cause in ("cut", "weight", "other")}
    parts = []
    if count["cut"] and tools_said:
        parts.append(f"{count['cut']:,} because max_length {max_length} cuts them before the reply ({tools_said}"
                     + (")" if dropped else ", or turn on chat.drop_untrained_rows)"))
    elif count["cut"]:
        parts.append(f"{count['cut']:,} because max_length {max_length} cuts them before the reply (To fix: raise "
                     "max_length" + (")" if dropped else ", or turn on chat.drop_untrained_rows)"))
    if count["weight"]:
        parts.append(f"{count['weight']:,} because every reply in them has the weight 0 (To fix: set the weight of "
                     "the replies to train to 1" + (")" if dropped else ", or turn on chat.drop_untrained_rows)"))
    if count["other"]:
        parts.append(f"{count['other']:,} because they have no token to train (To fix: check train_on and the "
                     "template)")
    return parts


def _finish(tokenizer: Any, ids: list[int], labels: list[int], text: str, plan: TemplatePlan,
            example: dict[str, Any], system: int, max_length: int, truncation: bool, fmt: str, train_on: str,
            problems: list[str], tools: int = 0) -> TokenRoles:
    special = _special_ids(tokenizer)
    kept = min(len(ids), max_length) if truncation else len(ids)
    roles = []
    for index, (token, label) in enumerate(zip(ids, labels)):
        if index >= kept:
            roles.append("cut")
        elif label != -100:
            roles.append("trained")
        elif token in special:
            roles.append("special")
        elif index < system:
            roles.append("system")
        else:
            roles.append("prompt")
    cut_trained = sum(1 for label in labels[kept:] if label != -100)
    labels = labels[:kept] + [-100] * (len(ids) - kept)
    trained = sum(1 for label in labels if label != -100)
    tools_said = tools_cut_words([tools], [len(ids)], one=True) if kept < len(ids) else ""
    if trained == 0 and cut_trained and tools_said:
        problems.append(f"max_length {max_length} cuts the row before its reply starts: nothing is trained; "
                        f"{tools_said}, or drop such rows (chat.drop_untrained_rows)")
    elif trained == 0 and cut_trained:
        problems.append(f"max_length {max_length} cuts the row before its reply starts: nothing is trained. To fix: "
                        "raise max_length, or drop such rows (chat.drop_untrained_rows)")
    elif trained == 0 and example.get(UNTRAINED_REPLIES):
        problems.append(f"{WEIGHT_0_ROW}, so nothing in it is trained. To fix: set a reply's "
                        "weight to 1, or drop such rows (chat.drop_untrained_rows)")
    elif trained == 0:
        problems.append("no token of this row is trained. To fix: check train_on and the template")
    elif cut_trained:
        problems.append(f"max_length {max_length} cuts the reply: {cut_trained:,} of {trained + cut_trained:,} trained "
                        "tokens are lost, and so is its end-of-turn token"
                        + (f"; {tools_said}" if tools_said else ". To fix: raise max_length"))
    elif not span_ends(tokenizer).all_ended(ids, roles):
        if train_on == "all":  # every token already trains: the template ends its turns with plain text
            problems.append(f"{_template_words(plan.name)} ends a turn with no special token, so the model would "
                            "not learn to stop. To fix: pick a template that ends each turn with a token (chatml)")
        else:
            problems.append("a reply's end-of-turn token is not trained, so the model would not learn to stop. To "
                            "fix: pick another template (chatml) or set train_on to 'all'")
    return TokenRoles(input_ids=list(ids), labels=labels, roles=roles, text=text, template_name=plan.name,
                      problems=problems, kept=kept, cut_trained=cut_trained, train_on=train_on, format=fmt,
                      tools_tokens=tools)


_SPECIAL: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _special_ids(tokenizer: Any) -> set[int]:
    """Special and added token ids (cached per tokenizer and vocabulary size: reading them costs more than a row)."""
    size = len(tokenizer)
    try:
        cached = _SPECIAL.get(tokenizer)
    except TypeError:
        cached = None
    if cached is None or cached[0] != size:
        cached = (size, set(tokenizer.all_special_ids) | set(tokenizer.get_added_vocab().values()))
        try:
            _SPECIAL[tokenizer] = cached
        except TypeError:
            pass
    return cached[1]


class SpanEnds:
    """Whether each trained span (a reply, a completion) ends on a special token, blank tokens after it aside: TRL's
    rule (is_chat_template_stop_token_trained), the one check behind a row's "end-of-turn token is not trained"
    problem and the Dataset Inspector's whole-dataset count. Decoded single tokens are remembered, so a pass over
    100k rows decodes each id once. Get one per tokenizer with `span_ends`."""

    def __init__(self, tokenizer: Any):
        self.tokenizer = tokenizer
        self.special = _special_ids(tokenizer)
        self._blank: dict[int, bool] = {}

    def blank(self, token: int) -> bool:
        if token not in self._blank:
            self._blank[token] = not self.tokenizer.decode([token]).strip()
        return self._blank[token]

    def count(self, ids: list[int], roles: list[str]) -> tuple[int, int]:
        """(trained spans, spans that end on a special token); `roles` as TokenRoles.roles has them."""
        spans = ended = 0
        for start, end in trained_spans(roles):
            spans += 1
            last = next((ids[i] for i in range(end - 1, start - 1, -1) if not self.blank(ids[i])), None)
            ended += last is not None and last in self.special
        return spans, ended

    def all_ended(self, ids: list[int], roles: list[str]) -> bool:
        spans, ended = self.count(ids, roles)
        return spans == ended


def trained_spans(roles: list[str]) -> list[tuple[int, int]]:
    """(start, end) of each run of consecutive "trained" tokens: one per reply (or completion)."""
    spans, start = [], None
    for i, role in enumerate(roles):
        if role == "trained" and start is None:
            start = i
        elif role != "trained" and start is not None:
            spans.append((start, i))
            start = None
    if start is not None:
        spans.append((start, len(roles)))
    return spans


_SPAN_ENDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def span_ends(tokenizer: Any) -> SpanEnds:
    """The tokenizer's SpanEnds, cached per tokenizer (and made again when tokens were added since)."""
    try:
        cached = _SPAN_ENDS.get(tokenizer)
    except TypeError:
        return SpanEnds(tokenizer)
    if cached is None or cached.special is not _special_ids(tokenizer):
        cached = SpanEnds(tokenizer)
        _SPAN_ENDS[tokenizer] = cached
    return cached


def _render_text(tokenizer: Any, row: dict, detection: Detection, max_length: int, truncation: bool) -> TokenRoles:
    """A plain-text row as the seed trains it: the tokenizer's ids, every token a target except padding (the
    seed's collator masks the pad token, which is EOS on a model without one)."""
    column = detection.columns.get("text")
    value = row.get(column) if column else None
    if not isinstance(value, str):
        if value is None:  # a null in the column says validate's words (core.data: "has no value in column")
            what = "has no value" if column in row else "is missing"
        else:
            what = f"is {_kind(value)}, not text"
        return _failed("", f"the text column '{column}' {what}", "text", "all")
    ids = list(tokenizer(value, truncation=False)["input_ids"])
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    labels = [-100 if t == pad else t for t in ids]
    kept = min(len(ids), max_length) if truncation else len(ids)
    special = set(tokenizer.all_special_ids)
    roles = ["cut" if i >= kept else "trained" if labels[i] != -100 else "special" if t in special else "prompt"
             for i, t in enumerate(ids)]
    cut = sum(1 for label in labels[kept:] if label != -100)
    labels = labels[:kept] + [-100] * (len(ids) - kept)
    problems = [f"max_length {max_length} cuts this row: {cut:,} tokens are not trained"] if cut else []
    if not ids:
        problems.append("the row is empty: it gives no tokens")
    return TokenRoles(input_ids=ids, labels=labels, roles=roles, text=value, template_name="", problems=problems,
                      kept=kept, cut_trained=cut, train_on="all", format="text")


def _failed(template_name: str, message: str, fmt: str, train_on: str) -> TokenRoles:
    return TokenRoles(input_ids=[], labels=[], roles=[], text="", template_name=template_name, problems=[message],
                      train_on=train_on, format=fmt)


def _template_message(key: str, template: Any) -> str:
    """What is wrong with a chat template that is no name the app knows and no Jinja text: core.validation's
    choice_message, as for every setting that is not one of its choices, with Jinja text as the other way out."""
    from finetune_studio.core.validation import choice_message

    return choice_message(key, template, ("auto", *NAMED_TEMPLATES), "a chat template",
                          other="give the template's Jinja text", name="a template name or Jinja text")


def check_config(chat: ChatConfig) -> list[tuple[str, str]]:
    """(field, message) for chat settings that are wrong whatever the data."""
    from finetune_studio.core.validation import choice_message

    problems = []
    if not isinstance(chat.format, str) or chat.format not in CHAT_FORMATS:
        problems.append(("chat.format", choice_message("chat.format", chat.format, CHAT_FORMATS, "a row format")))
    if not isinstance(chat.train_on, str) or chat.train_on not in TRAIN_ON:
        problems.append(("chat.train_on", choice_message("chat.train_on", chat.train_on, TRAIN_ON,
                                                          "a choice of which tokens to train")))
    not_text = _columns_not_text(chat.columns)
    if not_text:
        problems.extend(("chat.columns", message) for message in not_text)
    else:
        problems.extend(("chat.columns", message) for message in _unknown_parts(chat.columns or {}))
        problems.extend(("chat.columns", message) for message in _shared_columns(chat.columns or {}))
    template = chat.template
    if template is None or (isinstance(template, str) and not template.strip()):
        problems.append(("chat.template", "chat.template is empty. To fix: choose auto, "
                                          f"{', '.join(NAMED_TEMPLATES)}, or give the template's Jinja text."))
    elif not isinstance(template, str) or not (template == "auto" or template in NAMED_TEMPLATES
                                                or is_template_text(template)):
        problems.append(("chat.template", _template_message("chat.template", template)))
    elif is_template_text(template):
        problems.extend(("chat.template", message) for message in _template_syntax(template))
    return problems


COLUMNS_EXAMPLE = "columns: {prompt: question, completion: answer}"


def _columns_not_text(columns: Any) -> list[str]:
    """A message for chat.columns when it is no mapping (a list, a text, a number), or for each of its entries whose
    part or column is no text ({prompt: [q, r]}), with the value as the file writes it and what to write instead."""
    from finetune_studio.core.config import nearest

    if columns is None:
        return [f"chat.columns has no value. To fix: map each part to its column, e.g. {COLUMNS_EXAMPLE}, or remove "
                "the key to read the columns by their usual names."]
    if not isinstance(columns, dict):
        return [f"chat.columns must map part names to column names, not {kind_of(columns)} (got "
                f"{as_written(columns)}). To fix: write part: column pairs, e.g. {COLUMNS_EXAMPLE}."]
    known = part_names()
    messages = []
    for part, column in columns.items():
        if not isinstance(part, str):
            hint = nearest(str(part).lower(), known + [TOOLS_PART])
            messages.append(f"chat.columns maps {as_written(part)}, {kind_of(part)}, which is not a part of any "
                            "format" + (f" (did you mean '{hint}'?)" if hint else "")
                            + f". Parts: {parts_said()}. To fix: rename the key to one of them.")
        elif not isinstance(column, str):
            messages.append(f"chat.columns maps '{part}' to {as_written(column)}, {kind_of(column)}, not a column "
                            f"name. To fix: write the name of the one column that holds the {part}, e.g. "
                            f"{part}: {_EXAMPLE_COLUMN.get(part, 'body')}.")
    return messages


# A column name each part's example fix shows (as chat.columns' help text: {prompt: question, completion: answer}).
_EXAMPLE_COLUMN = {"prompt": "question", "completion": "answer", "instruction": "task", "input": "context",
                   "output": "answer", "system": "persona", "messages": "dialog", "conversations": "dialog",
                   TOOLS_PART: "functions"}


def _shared_columns(columns: dict[str, str]) -> list[str]:
    """A message for each column chat.columns maps to two parts or more ({prompt: text, completion: text}): the run
    trained on rows whose prompt and answer were the same text, without a word."""
    parts_of: dict[str, list[str]] = {}
    for part, column in columns.items():
        parts_of.setdefault(column, []).append(part)
    return [f"chat.columns maps column {column!r} to {' and '.join(repr(p) for p in parts)}: each part needs a "
            "column of its own. To fix: map each part to the column that holds it."
            for column, parts in parts_of.items() if len(parts) > 1]


def _template_syntax(template: str) -> list[str]:
    """The Jinja syntax error of a chat template given as text, said at chat.template: it was found only when a row
    was rendered, and then said of dataset.source as a row problem ('Fix or remove these rows'), or not at all for
    plain-text data, which never renders it."""
    import jinja2

    try:
        jinja2.Environment().parse(template)
    except jinja2.TemplateSyntaxError as exc:
        said = str(exc.message).rstrip(".")
        return [f"chat.template's Jinja text has a syntax error at line {exc.lineno}: {said}. To fix: correct the "
                "template, or choose auto or a named template."]
    return []


def warnings_for(config: RunConfig) -> list[Problem]:
    """What the `chat:` section asks that runs but is probably not meant (level WARNING, never blocking, cheap: no
    data read): chat.columns parts of other formats than the one chat.format sets (unused_parts_note). Under 'auto'
    the format depends on the rows, so the run log says it then (prepare_dataset). For core.validation.warnings_for."""
    chat = config.chat
    if check_config(chat) or chat.format == "auto" or chat.format not in FORMAT_PARTS:
        return []  # a bad setting (a list for format, unhashable): validate() says so; 'auto': the rows decide
    note = unused_parts_note(chat, chat.format)
    return [Problem("chat.columns", note, WARNING)] if note else []


def _unknown_parts(columns: dict[str, str]) -> list[str]:
    """A message for each chat.columns key that is no part of any format ({promt: title}): a run would ignore it
    and read the rows another way."""
    from finetune_studio.core.config import nearest

    known = part_names()
    messages = []
    for part in columns:
        if part in known or part == TOOLS_PART:
            continue
        hint = nearest(part, known + [TOOLS_PART])
        messages.append(f"chat.columns maps '{part}', which is not a part of any format"
                        + (f" (did you mean '{hint}'?)" if hint else "")
                        + f". Parts: {parts_said()}. To fix: rename the key to one of them.")
    return messages


Notify = Callable[[str], None]


# ---- a whole dataset, for a run -------------------------------------------------------------------------------

DETECT_ROWS = 20
SHOWN_BAD_ROWS = 5


@dataclass
class ChatData:
    """What a run prepared: the tokenized splits (input_ids and labels) and how they were made."""

    splits: Any  # datasets.DatasetDict with "train" (and "test")
    detection: Detection
    train_on: str
    plan: TemplatePlan | None  # None: plain prompt/completion text, no template


def run_format(ds: Any, chat: ChatConfig, text_column: str | None) -> Detection:
    """The format a run trains a loaded dataset in (its first rows decide 'auto'), with the columns whose objects
    its Arrow schema merges (Detection.merged)."""
    rows = ds.select(range(min(DETECT_ROWS, len(ds)))).to_list()
    detection = resolve_format(chat, rows, list(ds.column_names), text_column)
    try:
        schema = ds.features.arrow_schema
    except AttributeError:  # not a datasets.Dataset
        return detection
    return dataclasses.replace(detection, merged=merged_columns(schema, detection))


def prepare_dataset(ds: Any, tokenizer: Any, chat: ChatConfig, dataset: Any, seed: int,
                    notify: Notify | None = None,
                    phase: Callable[[str, str], None] | None = None) -> ChatData | None:
    """Instruction or chat rows -> tokenized splits with labels, through render_and_label (what the Inspector
    shows). None for plain-text data: the seed's path (core.data.tokenize_and_split) trains it, unchanged.
    Raises DataError naming the rows that cannot be rendered, before any model loads."""
    from finetune_studio.core.data import folder_row, row_named, tokenize_workers
    from finetune_studio.core.errors import DataError

    say = notify or (lambda message: None)
    unknown = _unknown_parts(chat.columns) if isinstance(chat.columns, dict) else []
    if unknown:
        raise DataError(" ".join(unknown))
    detection = run_format(ds, chat, dataset.text_column)
    unused = None if detection.problem else unused_parts_note(chat, detection.format)
    if unused:
        say(unused)
    first = ds.select(range(1)).to_list()[0]
    message = train_on_problem(chat, detection, first)
    if message:
        raise DataError(f"{dataset.source}: {message}.")
    if detection.format == "text":
        return None
    columns = list(ds.column_names)
    problems = mapping_problems(detection, columns)
    if problems:
        raise DataError(f"{dataset.source}: " + "; ".join(problems) + ".")
    train_on = resolve_train_on(chat, detection.format)
    plan = None
    if uses_template(detection, first):
        try:
            plan = template_plan(tokenizer, chat)
        except ChatDataError as exc:
            raise DataError(f"{exc}.") from None
        if train_on == "assistant" and plan.problem:
            raise DataError(f"{plan.problem}.")
    say(f"Rows are {FORMAT_NAMES[detection.format]} ({detection.reason}); the loss is on "
        f"{ {'assistant': 'the assistant replies', 'completion': 'the completion', 'all': 'every token'}[train_on]}.")
    if plan is not None:
        say(f"Chat template: {plan.note}" + (f"; added the control tokens {', '.join(plan.added_tokens)} to the "
                                             "tokenizer (the model's embeddings grow to match)" if plan.added_tokens
                                             else "") + ".")
    else:
        say("No chat template: prompt and completion are plain text, joined as they are, with the EOS token after "
            "the completion (as TRL does).")
    if plan is not None:
        examples = []
        for row in ds.select(range(min(len(ds), IGNORED_KEY_ROWS))).to_list():
            try:
                examples.append(to_example(row, detection))
            except ChatDataError:
                continue  # the encode pass below names it
        ignored = template_ignores(plan.training_text or plan.text, examples)
        if ignored:
            say(ignored + ".")
        merged = merged_nulls_note(examples)
        if merged:
            say(merged + ".")
    max_length, truncation = dataset.max_length, dataset.truncation
    if phase is not None:
        phase("tokenize", f"Rendering and tokenizing {len(ds)} rows"
                          + (f" with the {plan.name} chat template" if plan is not None else ""))

    def encode(batch: dict[str, list[Any]], indices: list[int]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {"input_ids": [], "labels": [], "problem": [], "untrained": [], "cut": [],
                                     "trained": [], "length": [], "cause": [], "tools": [], "cut_length": []}
        for offset, index in enumerate(indices):
            row = {name: batch[name][offset] for name in columns}
            roles = render_and_label(tokenizer, row, chat, max_length, detection=detection, truncation=truncation)
            bad = not roles.input_ids
            out["input_ids"].append(roles.input_ids[:roles.kept])
            out["labels"].append(roles.labels[:roles.kept])
            out["problem"].append(roles.problems[0] if bad else "")
            out["untrained"].append(not bad and roles.trained == 0)
            out["cause"].append(untrained_cause(roles) if not bad and roles.trained == 0 else "")
            cut = roles.cut_trained if roles.trained else 0  # a reply cut short; rows cut before it train nothing
            out["cut"].append(cut)
            out["trained"].append(roles.trained if cut else 0)
            out["length"].append(len(roles.input_ids) if cut else 0)
            out["tools"].append(roles.tools_tokens)
            out["cut_length"].append(len(roles.input_ids) if out["cause"][-1] == "cut" else 0)
        return out

    workers = tokenize_workers(len(ds))
    encoded = ds.map(encode, batched=True, with_indices=True, remove_columns=columns, desc="Rendering chats",
                     num_proc=workers)
    bad = [(index, p) for index, p in enumerate(encoded["problem"]) if p]  # map keeps every row, in order
    if bad:
        shown = "; ".join(f"{row_named(index + 1, folder_row(ds, index))}: {problem}"
                          for index, problem in bad[:SHOWN_BAD_ROWS])
        shown += f"; and {len(bad) - SHOWN_BAD_ROWS:,} more" if len(bad) > SHOWN_BAD_ROWS else ""
        raise DataError(f"{dataset.source}: {len(bad):,} of {len(ds):,} rows cannot be trained as "
                        f"{FORMAT_NAMES[detection.format]}: {shown}. Fix or remove those rows (nothing was trained).")
    untrained = sum(encoded["untrained"])
    causes = [cause for cause in encoded["cause"] if cause]
    tools, cut_lengths = encoded["tools"], encoded["cut_length"]
    tools_said = tools_cut_words([t if n else 0 for t, n in zip(tools, cut_lengths)], cut_lengths)
    if untrained and untrained == len(ds) and not chat.drop_untrained_rows:
        if "weight" in causes:
            raise DataError(f"{dataset.source}: none of its {len(ds):,} rows has a token to train, so the run would "
                            "learn nothing (nothing was trained): "
                            + "; ".join(_untrained_parts(causes, max_length, True, tools_said)) + ".")
        raise DataError(f"{dataset.source}: none of its {len(ds):,} rows has a token to train: max_length "
                        f"{max_length} cuts every one before its reply (or no row has one), so the run would learn "
                        + (f"nothing; {tools_said}, or check train_on (nothing was trained)." if tools_said else
                           "nothing. Raise max_length or check train_on (nothing was trained)."))
    if untrained:
        say(untrained_note(causes, len(ds), max_length, chat.drop_untrained_rows, tools_said))
    if untrained and chat.drop_untrained_rows:
        encoded = encoded.filter(lambda flags: [not f for f in flags], input_columns="untrained", batched=True,
                                 desc="Dropping untrained rows")
    cut_notice = reply_cut_notice(encoded["cut"], encoded["trained"], encoded["length"], len(ds), max_length,
                                  [t if c else 0 for t, c in zip(encoded["tools"], encoded["cut"])])
    if cut_notice:
        say(cut_notice)
    encoded = encoded.remove_columns(["problem", "cut", "trained", "length", "tools", "cut_length"])
    # The template goes with the tokenizer, so every checkpoint and the final model save it (chat_template.jinja)
    # and the exported model renders prompts the way this run trained on them.
    if plan is not None:
        tokenizer.chat_template = plan.text
    if len(encoded) == 0:
        raise DataError(f"{dataset.source}: no row has a token to train. Raise max_length or check train_on.")
    if dataset.test_size <= 0:
        import datasets

        return ChatData(datasets.DatasetDict({"train": encoded.remove_columns(["untrained", "cause"])}), detection,
                        train_on, plan)
    if len(encoded) < 2:
        raise DataError(f"{dataset.source}: {len(encoded)} row is too few to hold out a test split. "
                        "Add rows or set test_size to 0 (and eval_strategy to 'no').")
    splits = encoded.train_test_split(test_size=dataset.test_size, seed=seed)
    if all(splits["test"]["untrained"]):  # its eval loss would be NaN, which reads as a diverged run
        said = untrained_test_split(splits["test"]["cause"], max_length, dataset.source)
        raise DataError(f"{said[:-1]}; nothing was trained.")
    return ChatData(splits.remove_columns(["untrained", "cause"]), detection, train_on, plan)


def reply_cut_notice(cut: list[int], trained: list[int], lengths: list[int], rows: int,
                     max_length: int, tools: list[int] | None = None) -> str | None:
    """The run log's note on rows whose reply max_length cuts short (per row: trained tokens cut, trained tokens
    kept, rendered length; 0 for a row that is not cut). Such a row still trains, so nothing refuses it, but its
    reply's end (and the end-of-turn or EOS token after it) is never a target: a dataset of them teaches a model
    that does not stop. render_and_label says so for one row; this counts them for the run, next to the note on
    rows that train nothing. `tools`: the tokens each cut row's template writes for its tools (tools_cut_words says
    them). None when no reply is cut."""
    count = sum(1 for c in cut if c)
    if not count:
        return None
    lost, kept = sum(cut), sum(trained)
    longest = max(lengths)
    said = (f"{count:,} of {rows:,} rows have their reply cut by max_length {max_length}: {lost:,} of "
            f"{lost + kept:,} trained tokens in them are lost, and so is each cut reply's end-of-turn token, so the "
            "model does not learn to stop after such replies")
    tools_said = tools_cut_words(tools or [], lengths)
    if tools_said:
        return f"{said}; {tools_said}, or shorten the replies or the tools' descriptions."
    return (f"{said}. To fix: raise max_length (the longest of these rows is {longest:,} tokens), or shorten the "
            "replies.")


RESIZE_SEED = 0


def added_token_ids(tokenizer: Any, plan: TemplatePlan | None) -> list[int]:
    """The ids of the control tokens the template added to the tokenizer: their embedding rows are new, so an
    adapter run trains them (core.adapters.new_token_rows)."""
    if plan is None or not plan.added_tokens:
        return []
    return [int(i) for i in tokenizer.convert_tokens_to_ids(list(plan.added_tokens))]


def with_stops(eos_token_id: Any, stops: Sequence[int]) -> Any:
    """A generation_config's eos_token_id (None, an id or a list) with `stops` first (a reply's end of turn), each
    id once; unchanged when nothing is added, so a model's own file is written back as it was."""
    current = [] if eos_token_id is None else [eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id)
    merged = list(stops) + [t for t in current if t not in stops]
    if not merged or merged == current:
        return eos_token_id
    return merged if len(merged) > 1 else merged[0]


# The sampling-only settings transformers' GenerationConfig.validate names when do_sample is not true.
SAMPLING_ONLY = ("temperature", "top_p", "top_k", "min_p", "top_h", "typical_p", "epsilon_cutoff", "eta_cutoff")


def saveable(generation_config: Any) -> list[str]:
    """Make a generation_config one transformers will save once it changes: a base whose generation_config.json
    sets sampling settings without do_sample (Llama-2's temperature 0.6 and top_p 0.9) is only warned about while
    unchanged, but a changed one (the Trainer aligns its pad token with the tokenizer's; a chat run adds its end of
    turn to the stops) its save_pretrained refuses ("GenerationConfig is invalid ... Fix these issues to save the
    configuration"), so a run, the tutorial's recipe too, failed at its first checkpoint. generate ignores those
    settings without do_sample (it decodes greedily), so they are unset: the model generates as before. Returns
    what was unset ("temperature 0.6"), for the run log; [] when nothing had to be."""
    if getattr(generation_config, "do_sample", None) is True:
        return []
    try:
        generation_config.validate(strict=True)
        return []
    except ValueError:
        pass
    unset = []
    for name in SAMPLING_ONLY:
        value = getattr(generation_config, name, None)
        if value is not None:
            unset.append(f"{name} {value}")
            setattr(generation_config, name, None)
    return unset


def unset_note(unset: list[str]) -> str:
    """The run log's line for what saveable() unset."""
    them = "it" if len(unset) == 1 else "them"
    return (f"The base model's generation_config sets {', '.join(unset)} without do_sample, so generate ignores "
            f"{them} and decodes greedily; transformers refuses to save such a config once training changes it (its "
            f"special tokens, a chat's end of turn), so the run's is saved without {them} (the model answers as "
            "before). To sample, tick Sample in the Try tab, or pass --sample to finetune-studio generate.")


def prepare_model(model: Any, tokenizer: Any, plan: TemplatePlan | None) -> None:
    """Grow the embeddings for control tokens the template added (transformers' resize_token_embeddings, as TRL's
    clone_chat_template does: new rows drawn around the mean of the old ones) and make generation stop at the end
    of a reply: its token joins generation_config.eos_token_id, as SFTTrainer does for its eos_token. The new rows
    are drawn from a fixed seed, so the same config starts from the same weights in every run (the Trainer seeds
    only after the model exists). The run makes the changed generation_config one transformers saves (saveable)."""
    if len(tokenizer) > model.get_input_embeddings().weight.shape[0]:
        import logging

        import torch

        # Its warning about mean resizing would reach the run log as a warning; the data notice says it already.
        resizing = logging.getLogger("transformers.modeling_utils")
        level = resizing.level
        resizing.setLevel(logging.ERROR)
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(RESIZE_SEED)
                model.resize_token_embeddings(len(tokenizer))
        finally:
            resizing.setLevel(level)
    model.generation_config.eos_token_id = with_stops(model.generation_config.eos_token_id,
                                                      plan.end_of_turn if plan is not None else [])
    if model.generation_config.pad_token_id is None and tokenizer.pad_token_id is not None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id




# ---- the check validate() makes on a source's first rows (no tokenizer, no model) ----------------------------

SHOWN_ROW_PROBLEMS = 3


def source_problems(chat: ChatConfig, dataset: Any, columns: list[str], rows: list[dict[str, Any]],
                    parts: list[tuple[int, str]] | None = None) -> list[tuple[str, str]] | None:
    """(field, message) for what a run would refuse in the rows core.data.check_source read: a column mapping that
    points nowhere, mixed formats, unknown roles, a conversation without an assistant turn, empty or non-string
    content, and a named template that fails to render a row. None for plain-text data (the text column checks
    apply then). `parts` (a folder source): each file's first row and name, so a row is named in its file too."""
    from finetune_studio.core.data import in_part, row_named

    def named(index: int) -> str:  # 1-based
        return row_named(index, in_part(parts, index - 1))

    if not rows and not columns:
        return None
    if check_config(chat):
        return []  # validate() names the bad setting itself; the rows are checked once it is fixed
    detection = resolve_format(chat, rows[:DETECT_ROWS], columns, dataset.text_column)
    if detection.format == "text":
        message = train_on_problem(chat, detection, rows[0] if rows else {})
        return [("chat.train_on", f"{dataset.source}: {message}")] if message else None
    source = dataset.source
    problems = [("chat.columns", f"{source}: {p}.") for p in mapping_problems(detection, columns)]
    if problems:
        return problems
    if chat.format == "auto":
        for index, row in enumerate(rows, 1):
            other, _, reason = _row_format(row, columns)
            # A row that reads as plain text lacks values of the detected format (a null prompt, a messages
            # string): to_example below names what it lacks, which says more than "mixed formats".
            if other != detection.format and other != "text":
                problems.append(("chat.format", f"{source}: mixed formats. Its columns read as "
                                                f"{FORMAT_NAMES[detection.format]} but {named(index)} is "
                                                f"{FORMAT_NAMES[other]} ({reason}). Keep one format per dataset, or "
                                                "set chat.format and chat.columns to the one to train."))
                return problems
    message = train_on_problem(chat, detection, rows[0] if rows else {})
    if message:
        return [("chat.train_on", f"{source}: {message}")]
    template = _checkable_template(chat)
    bad = []
    for index, row in enumerate(rows, 1):
        try:
            example = to_example(row, detection)
            if template is not None:
                left_out = _left_out(_template_name(chat.template), example,
                                     _render_without_tokenizer(template, example), template)
                if left_out:
                    raise ChatDataError(left_out)
        except ChatDataError as exc:
            bad.append(f"{named(index)}: {exc}")
        except Exception as exc:  # noqa: BLE001 - the template's own error, shown with the row
            bad.append(f"{named(index)}: {_template_words(_template_name(chat.template))} fails to render it "
                       f"({type(exc).__name__}: {exc})")
        if len(bad) >= SHOWN_ROW_PROBLEMS:
            break
    if bad:
        problems.append(("dataset.source", f"{source}: " + "; ".join(bad) + ". Fix or remove these rows, or map "
                                           "the columns in chat.columns."))
    return problems


def train_on_problem(chat: ChatConfig, detection: Detection, row: dict[str, Any]) -> str | None:
    """What is wrong with chat.train_on for data in this format (None: nothing)."""
    train_on = resolve_train_on(chat, detection.format)
    if detection.format == "text":
        if train_on in ("assistant", "completion"):
            return (f"train_on '{train_on}' needs instruction or chat data, and this is plain text (one text "
                    "column, every token trained). To fix: set train_on to auto or all, or set chat.format")
        return None
    if train_on == "completion" and detection.format in ("messages", "sharegpt"):
        return ("train_on 'completion' needs prompt/completion or alpaca rows; a conversation trains 'assistant' "
                "(its replies) or 'all'. To fix: set train_on to assistant, all or auto")
    if train_on == "assistant" and detection.format == "prompt_completion":
        prompt = row.get(detection.columns.get("prompt", ""))
        if not isinstance(prompt, list):
            return ("train_on 'assistant' needs conversations; these prompt/completion rows are plain text. To fix: "
                    "set train_on to completion, all or auto")
    return None


def _checkable_template(chat: ChatConfig) -> str | None:
    """A template validate() can render with no tokenizer: a named one or Jinja text ('auto' needs the model's)."""
    if chat.template in NAMED_TEMPLATES:
        return named_template(chat.template)
    if is_template_text(chat.template):
        return chat.template
    return None


def _render_without_tokenizer(template: str, example: dict[str, Any]) -> str:
    from transformers.utils.chat_template_utils import render_jinja_template

    messages = example.get("messages") or (example["prompt"] + example["completion"]
                                           if isinstance(example.get("prompt"), list) else None)
    if messages is None:
        return ""
    rendered, _ = render_jinja_template(conversations=[messages], chat_template=template, bos_token="",
                                        eos_token="", tools=example.get("tools"))
    return rendered[0]


# What the estimate (its rows and logits) and the Try tab (chat or text) ask of a run's data before it loads: the
# run's own decision, from a local dataset's first rows, read once per file version.
_ROWS_KEPT: dict[str, tuple[list[str], list[dict[str, Any]]]] = {}  # dataset settings + file stamps -> first rows
_rows_lock = threading.Lock()


def first_rows(config: RunConfig) -> tuple[list[str], list[dict[str, Any]]] | None:
    """A local dataset's first rows and columns (read once per file version), or None for a Hub dataset (not
    fetched for this) or data that cannot be read (validation names what is wrong with it)."""
    from finetune_studio.core.sources import is_local

    if not isinstance(config.dataset.source, str) or not is_local(config.dataset.source):
        return None
    from finetune_studio.core import data

    key = repr((dataclasses.asdict(config.dataset), data.files_signature(config.dataset.source)))
    with _rows_lock:  # estimates run in the window's worker threads
        if key not in _ROWS_KEPT:
            try:
                preview = data.preview(config.dataset, limit=20)
            except (FinetuneError, OSError):
                return None
            if len(_ROWS_KEPT) >= 16:
                _ROWS_KEPT.pop(next(iter(_ROWS_KEPT)))
            _ROWS_KEPT[key] = (preview.columns, preview.rows)
        return _ROWS_KEPT[key]


def run_template_chat(config: RunConfig) -> Any:
    """The run's chat settings when it renders its rows with a chat template (template_chat, TRL's test
    on the first rows, as the run decides), else None. A template may add control tokens the model lacks (ChatML's
    on a model without a template): the run grows the embeddings to match (core.chat.prepare_model), which widens
    the weights, the head's logits and the loss. Only a local dataset's first rows are read (once per file
    version); a Hub dataset's are not fetched for this, so its run is taken as plain text."""
    if config.chat.format == "text":
        return None
    found = first_rows(config)
    if found is None:
        return None
    columns, rows = found
    text_column = config.dataset.text_column if isinstance(config.dataset.text_column, str) else None
    try:
        return template_chat(ChatRows(config.chat, rows, columns, text_column))
    except ValueError:  # core.chat.ChatDataError: a chat setting validation names at its field
        return None


def renders_as_chat(config: RunConfig) -> bool | None:
    """Whether the run renders its rows as chats, as it decides it (its chat format, or for 'auto' its local data's
    first rows); None when that cannot be told here (a Hub dataset, data that cannot be read now). The Try tab and
    `generate` ask it of a finished run: a text run's tokenizer may still carry its base's chat template (Qwen3's),
    which alone made a plain-text run answer as a chat."""
    if config.chat.format == "text":
        return False
    if config.chat.format != "auto":
        return True
    if first_rows(config) is None:
        return None
    return run_template_chat(config) is not None


# ---- the check validate(render_rows=True) makes with the run's tokenizer, where it is here (no network) ---------

# Rows of the bounded read validate() renders at most: a few ms each, so the check stays well under a second.
TOKEN_CHECK_ROWS = 200
_TOKENIZERS: dict[tuple[Any, ...], Any] = {}  # (where, revision, stamp, chat.template) -> tokenizer
_TOKEN_CHECKS: dict[str, TokenCheck] = {}  # settings + file stamps + tokenizer -> what the check found
_token_lock = threading.Lock()


@dataclass
class TokenCheck:
    """What rendering the first rows with the run's tokenizer found: (field, message) errors the run would fail
    on, and warnings it would say in its log."""

    errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)


def tokenizer_version(model: Any) -> tuple[Any, ...] | None:
    """Where the run's tokenizer loads from without the network, and what names its version: the built-in demo
    model once built, a local model folder (its tokenizer files' times), or a Hub id and revision (the Hugging Face
    cache, asked with local_files_only); None where nothing can be loaded here (a bad name, remote code that
    would run, the demo not built yet: building takes seconds, the run does it)."""
    import os
    from pathlib import Path

    from finetune_studio.core.config import DEMO_MODEL_ID
    from finetune_studio.core.model import model_name_problem
    from finetune_studio.core.sources import is_local

    name = model.name_or_path
    if not isinstance(name, str) or model.trust_remote_code is not False or model_name_problem(name, weights=False):
        return None
    if not is_local(name):
        return (name, model.revision if isinstance(model.revision, str) and model.revision else None, None)
    if name == DEMO_MODEL_ID:
        from finetune_studio.core.demo import demo_model_path

        folder = demo_model_path(build=False)
    else:
        folder = Path(os.path.expanduser(name))
    try:
        stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.iterdir()
                             if p.name.startswith(("tokenizer", "special_tokens", "vocab", "merges", "chat_"))))
    except OSError:
        return None
    return (str(folder), None, stamp) if stamp else None


def local_tokenizer(model: Any) -> Any | None:
    """The run's tokenizer where it loads without the network (tokenizer_version), set up as
    core.model.load_tokenizer sets it up (its eos token pads when it has no pad token); None where it cannot be
    loaded here: the Hub is never asked (local_files_only), and the run says what is wrong."""
    version = tokenizer_version(model)
    if version is None:
        return None
    where, revision, _ = version
    try:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(where, local_files_only=True, revision=revision,
                                                  trust_remote_code=False)
    except Exception:  # noqa: BLE001 - not in the cache, not a tokenizer folder, …
        return None
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            return None  # the run names this (core.model.load_tokenizer)
        tokenizer.pad_token = tokenizer.eos_token
    # A row longer than the model's context is what max_length is for: transformers' once-per-tokenizer log line
    # about it would only be noise in `validate`'s output (the run's log keeps it).
    getattr(tokenizer, "deprecation_warnings", {})["sequence-length-is-longer-than-the-specified-maximum"] = True
    return tokenizer


def _head_rows(dataset: Any) -> tuple[list[str], list[dict[str, Any]], bool, list[tuple[int, str]]] | None:
    """The columns and first rows of a local source, whether they are all of it, and a folder's files (their first
    rows): core.data's bounded read (CHECK_BYTES, cached), the one validate() checks the rows with."""
    from finetune_studio.core.data import head_rows

    try:
        return head_rows(dataset)
    except (FinetuneError, OSError, ValueError):
        return None


def token_check(config: RunConfig) -> TokenCheck:
    """The first rows of a local instruction or chat dataset rendered and labelled as the run does it
    (render_and_label), with the run's tokenizer where it is on this machine: the rows that cannot be rendered, a
    dataset none of whose rows trains a token, a test split that would hold no trained token (the whole file read
    only), and replies max_length cuts (a warning, reply_cut_notice's words). Judged on the rows core.data's
    bounded read holds, at most TOKEN_CHECK_ROWS, and said so when the file is larger. Nothing (an empty
    TokenCheck) for plain text, a Hub dataset, or a tokenizer that is not here. Cached per settings, file version
    and tokenizer version: validate's call and the warnings `finetune-studio validate` prints after it render the
    rows once."""
    from finetune_studio.core import data
    from finetune_studio.core.sources import is_local

    ds, chat = config.dataset, config.chat
    if (chat.format == "text" or not isinstance(ds.source, str) or not is_local(ds.source)
            or not isinstance(ds.max_length, int) or isinstance(ds.max_length, bool) or ds.max_length < 1):
        return TokenCheck()
    stamps = data.files_signature(ds.source)
    version = tokenizer_version(config.model)
    if stamps is None or version is None:
        return TokenCheck()
    settings = repr((dataclasses.asdict(ds), dataclasses.asdict(chat), version, config.training.get("seed", 42),
                     stamps))
    with _token_lock:  # validate may run in worker threads
        if settings in _TOKEN_CHECKS:
            return _TOKEN_CHECKS[settings]
        found = _token_check(config, version)
        if len(_TOKEN_CHECKS) >= 16:
            _TOKEN_CHECKS.pop(next(iter(_TOKEN_CHECKS)))
        _TOKEN_CHECKS[settings] = found
        return found


def _token_check(config: RunConfig, version: tuple[Any, ...]) -> TokenCheck:
    from finetune_studio.core.data import in_part, row_named

    ds, chat = config.dataset, config.chat
    head = _head_rows(ds)
    if head is None or not head[1]:
        return TokenCheck()
    columns, rows, complete, parts = head
    text_column = ds.text_column if isinstance(ds.text_column, str) else None
    try:
        detection = resolve_format(chat, rows[:DETECT_ROWS], columns, text_column)
    except ChatDataError:
        return TokenCheck()  # a chat setting validate() names at its field
    schema = _parquet_schema(ds.source)
    if schema is not None:  # its rows are read from Arrow, as a run reads them
        detection = dataclasses.replace(detection, merged=merged_columns(schema, detection))
    if detection.format == "text" or mapping_problems(detection, columns):
        return TokenCheck()
    tokenizer = _cached_tokenizer(config, version)
    if tokenizer is None:
        return TokenCheck()
    check = TokenCheck()
    plan = None
    if uses_template(detection, rows[0]):
        try:
            plan = template_plan(tokenizer, chat)
        except ChatDataError:
            return check  # validate() names a chat.template it does not know at its field
        if resolve_train_on(chat, detection.format) == "assistant" and plan.problem:
            # the template's, not the rows': said once, as prepare_dataset refuses it
            check.errors.append(("chat.template", f"{plan.problem}."))
            return check
    shown = rows[:TOKEN_CHECK_ROWS]
    whole = complete and len(shown) == len(rows)
    judged = "" if whole else f" (judged on its first {len(shown):,} rows; the run reads them all)"
    source, max_length = ds.source, ds.max_length
    bad, untrained, cut, trained, lengths, causes, tools, cut_lengths = [], [], [], [], [], [], [], []
    for index, row in enumerate(shown):
        roles = render_and_label(tokenizer, row, chat, max_length, detection=detection,
                                 truncation=bool(ds.truncation))
        if not roles.input_ids:
            bad.append(f"{row_named(index + 1, in_part(parts, index))}: {roles.problems[0]}")
            continue
        untrained.append(roles.trained == 0)
        causes.append(untrained_cause(roles) if roles.trained == 0 else "")
        reply_cut = roles.cut_trained if roles.trained else 0  # as prepare_dataset counts it
        cut.append(reply_cut)
        trained.append(roles.trained if reply_cut else 0)
        lengths.append(len(roles.input_ids) if reply_cut else 0)
        tools.append(roles.tools_tokens)
        cut_lengths.append(len(roles.input_ids) if causes[-1] == "cut" else 0)
    tools_said = tools_cut_words([t if n else 0 for t, n in zip(tools, cut_lengths)], cut_lengths)
    if bad:  # prepare_dataset's refusal, in its words
        listed = "; ".join(bad[:SHOWN_BAD_ROWS]) + (f"; and {len(bad) - SHOWN_BAD_ROWS:,} more"
                                                    if len(bad) > SHOWN_BAD_ROWS else "")
        check.errors.append(("dataset.source", f"{source}: {len(bad):,} of {'its' if whole else 'the first'} "
                                               f"{len(shown):,} rows cannot be trained as "
                                               f"{FORMAT_NAMES[detection.format]}: {listed}. Fix or remove those "
                                               "rows."))
        return check
    if all(untrained) and "weight" in causes:  # prepare_dataset's refusal, counted by cause
        rows_said = f"its {len(shown):,} rows" if whole else f"its first {len(shown):,} rows"
        check.errors.append(("dataset.max_length" if "cut" in causes else "dataset.source",
                             f"{source}: none of {rows_said} has a token to train, so the run would learn nothing"
                             f"{'' if whole else ' (judged on the rows this check reads of a larger file)'}: "
                             + "; ".join(_untrained_parts(causes, max_length, True, tools_said)) + "."))
        return check
    if all(untrained):
        rows_said = f"its {len(shown):,} rows" if whole else f"its first {len(shown):,} rows"
        check.errors.append(("dataset.max_length",
                             f"{source}: none of {rows_said} has a token to train: max_length {max_length} cuts "
                             "every one before its reply (or no row has one), so the run would learn nothing"
                             f"{'' if whole else ' (judged on the rows this check reads of a larger file)'}"
                             + (f"; {tools_said}, or check train_on." if tools_said else
                                ". Raise max_length or check train_on.")))
        return check
    if plan is not None:  # as prepare_dataset says it in the run log
        examples = []
        for row in shown[:IGNORED_KEY_ROWS]:
            try:
                examples.append(to_example(row, detection))
            except ChatDataError:
                continue
        ignored = template_ignores(plan.training_text or plan.text, examples)
        if ignored:
            check.warnings.append(("chat.template", ignored + "."))
        merged = merged_nulls_note(examples)
        if merged:
            check.warnings.append(("dataset.source", merged + "."))
    test_size = ds.test_size
    if (whole and any(untrained) and not chat.drop_untrained_rows and isinstance(test_size, (int, float))
            and not isinstance(test_size, bool) and test_size > 0):
        problem = _untrained_test_split(causes, test_size, int(config.training.get("seed", 42)), max_length,
                                        source)
        if problem:
            check.errors.append(("dataset.test_size", problem))
    notice = reply_cut_notice(cut, trained, lengths, len(shown), max_length,
                              [t if c else 0 for t, c in zip(tools, cut)])
    if notice:
        check.warnings.append(("dataset.max_length", notice[:-1] + judged + "." if judged else notice))
    return check


def _parquet_schema(source: str) -> Any:
    """The Arrow schema of a local Parquet source's first file (its metadata only), or None for other files."""
    from finetune_studio.core import data

    try:
        fmt, files = data.local_files(source)
        if fmt != "parquet" or not files:
            return None
        import pyarrow.parquet as pq

        return pq.read_schema(files[0])
    except Exception:  # noqa: BLE001 - a damaged file: check_source names it
        return None


def _cached_tokenizer(config: RunConfig, version: tuple[Any, ...]) -> Any:
    """local_tokenizer, loaded once per tokenizer version and chat template (template_plan adds the template's
    control tokens to the tokenizer it is given, so each template has a tokenizer of its own)."""
    key = (*version, repr(config.chat.template))
    if key not in _TOKENIZERS:
        tokenizer = local_tokenizer(config.model)
        if tokenizer is None:
            return None
        if len(_TOKENIZERS) >= 4:
            _TOKENIZERS.pop(next(iter(_TOKENIZERS)))
        _TOKENIZERS[key] = tokenizer
    return _TOKENIZERS[key]


def _untrained_test_split(causes: list[str], test_size: float, seed: int, max_length: int,
                          source: str) -> str | None:
    """prepare_dataset's test-split refusal, judged on the whole file's rows (`causes`: untrained_cause of each
    row that trains nothing, "" for one that trains) with the run's own split (datasets' train_test_split, the
    same seed)."""
    import datasets

    try:
        splits = datasets.Dataset.from_dict({"cause": causes}).train_test_split(test_size=test_size, seed=seed)
    except ValueError:
        return None  # too few rows for this test_size: the run says so
    test = splits["test"]["cause"]
    if not all(test):
        return None
    return untrained_test_split(test, max_length, source)


def untrained_test_split(causes: list[str], max_length: int, source: str) -> str:
    """Why a test split of rows that all train nothing (`causes`: untrained_cause of each) is refused: max_length
    alone, in the words the run has always used, or counted by cause, each with its own To fix."""
    if "weight" not in causes:
        return (f"{source}: none of the {len(causes):,} rows of the test split has a token to train (max_length "
                f"{max_length} cuts them before the reply), so evaluation would have no loss. Raise max_length, turn "
                "on chat.drop_untrained_rows, or set test_size to 0 (and eval_strategy to 'no').")
    return (f"{source}: none of the {len(causes):,} rows of the test split has a token to train, so evaluation "
            "would have no loss: " + "; ".join(_untrained_parts(causes, max_length, False)) + ". Or set test_size "
            "to 0 (and eval_strategy to 'no') to hold out no test split.")
