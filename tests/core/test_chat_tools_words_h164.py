"""The words for a chat.columns key that is no part (helper-164): they listed the formats' parts only, while 'tools'
(core.chat.TOOLS_PART, the rows' tool definitions) may be mapped too; and chat.columns' help names it."""

from __future__ import annotations

import dataclasses

from finetune_studio.core.chat import check_config
from finetune_studio.core.config import ChatConfig

PARTS = ("Parts: messages, conversations, instruction, input, output, system, prompt, completion, text; and tools, "
         "the rows' tool definitions, for messages, sharegpt or prompt_completion rows. To fix: rename the key to one "
         "of them.")


def test_an_unknown_part_lists_tools_with_the_formats_that_read_it() -> None:
    assert check_config(ChatConfig(columns={"functions": "fns"})) == [(
        "chat.columns", f"chat.columns maps 'functions', which is not a part of any format. {PARTS}")]
    assert check_config(ChatConfig(columns={"toolz": "fns"})) == [(
        "chat.columns", f"chat.columns maps 'toolz', which is not a part of any format (did you mean 'tools'?). "
        f"{PARTS}")]
    assert check_config(ChatConfig(columns={1: "fns"})) == [(
        "chat.columns", f"chat.columns maps 1, a number, which is not a part of any format. {PARTS}")]
    assert check_config(ChatConfig(columns={"tools": "functions"})) == []


def test_the_help_of_chat_columns_names_the_tools_column() -> None:
    help_text = {f.name: f.metadata["help"] for f in dataclasses.fields(ChatConfig)}["columns"]
    assert help_text.endswith("For messages, sharegpt and prompt_completion rows, 'tools' names the optional column "
                              "of each row's tool definitions (function schemas, passed to the chat template; read "
                              "from a column named tools when not mapped), e.g. {tools: functions}.")
