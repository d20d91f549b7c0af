"""chat.columns parts of another format than the one the rows are read in: a run uses only the parts of its format,
so mappings of other formats were dropped without a word. Validate's warnings and the run log now name them, the
format in use, and what to do."""

from __future__ import annotations

from finetune_studio.core import chat
from finetune_studio.core.config import ChatConfig, default_config
from finetune_studio.core.errors import WARNING, Problem

MESSAGES = [{"messages": [{"role": "user", "content": f"Sign {i}?"}, {"role": "assistant", "content": "Leo."}]}
            for i in range(4)]


def _config(**settings: object):
    config = default_config()
    config.chat = ChatConfig(**settings)
    return config


def test_a_part_of_another_format_is_a_warning_that_names_it_and_the_format_in_use() -> None:
    config = _config(format="messages", columns={"messages": "dialog", "instruction": "question"})
    assert chat.warnings_for(config) == [Problem(
        "chat.columns", "chat.columns maps 'instruction' (a part of alpaca rows), but chat.format is 'messages', so "
                        "the run does not use it. To fix: remove it from chat.columns, or set chat.format: alpaca.",
        WARNING)]


def test_parts_of_several_other_formats_are_named_per_format() -> None:
    config = _config(format="messages", columns={"instruction": "q", "output": "a", "prompt": "p"})
    assert [p.message for p in chat.warnings_for(config)] == [
        "chat.columns maps 'instruction', 'output' (parts of alpaca rows); 'prompt' (a part of prompt/completion "
        "rows), but chat.format is 'messages', so the run does not use them. To fix: remove them from chat.columns, "
        "or set chat.format: alpaca or chat.format: prompt_completion."]


def test_validate_prints_it_and_still_says_the_config_runs(tmp_path, capsys) -> None:
    """The warning reaches `finetune-studio validate` (core.validation.warnings_for, which the forms show at their
    field too), as a warning: the config still validates (exit 0)."""
    import json

    from finetune_studio.core.cli import main
    from finetune_studio.core.config import save_config

    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"q": f"Sign {i}?", "a": "Leo."}) + "\n" for i in range(8)), encoding="utf-8")
    config = _config(format="alpaca", columns={"instruction": "q", "output": "a", "prompt": "p"})
    config.dataset.source = str(rows)
    path = tmp_path / "run.yaml"
    save_config(config, path)
    code = main(["validate", str(path)])
    out = capsys.readouterr()
    said = out.out + out.err
    assert code == 0, said
    assert ("chat.columns maps 'prompt' (a part of prompt/completion rows), but chat.format is 'alpaca', so the run "
            "does not use it. To fix: remove it from chat.columns, or set chat.format: prompt_completion.") in said


def test_no_warning_when_every_part_is_used_or_the_rows_decide() -> None:
    assert chat.warnings_for(_config(format="alpaca", columns={"instruction": "q", "output": "a"})) == []
    assert chat.warnings_for(_config(format="auto", columns={"instruction": "q", "prompt": "p"})) == []  # the run's
    assert chat.warnings_for(_config(format="messages", columns={})) == []
    assert chat.warnings_for(_config(format="nonsense", columns={"prompt": "p"})) == []  # validate() names chat.format


def test_the_run_log_says_it_for_plain_text_rows() -> None:
    import datasets


    config = _config(format="text", columns={"prompt": "question", "completion": "answer"})
    said: list[str] = []
    ds = datasets.Dataset.from_list([{"text": "Wear red."}, {"text": "Call home."}])
    assert chat.prepare_dataset(ds, None, config.chat, config.dataset, 42, said.append) is None  # the seed's path
    assert said == ["chat.columns maps 'prompt', 'completion' (parts of prompt/completion rows), but chat.format is "
                    "'text', so the run does not use them. To fix: remove them from chat.columns, or set "
                    "chat.format: prompt_completion."]


def test_the_run_log_says_it_when_auto_reads_the_rows_in_one_of_the_mapped_formats(demo_cache) -> None:
    import datasets

    from finetune_studio.core.model import load_tokenizer

    config = _config(format="auto", columns={"messages": "messages", "prompt": "question"})
    config.dataset.test_size = 0.0
    said: list[str] = []
    tokenizer = load_tokenizer(config.model)
    chat.prepare_dataset(datasets.Dataset.from_list(MESSAGES), tokenizer, config.chat, config.dataset, 42, said.append)
    assert said[0] == ("chat.columns maps 'prompt' (a part of prompt/completion rows), but chat.format 'auto' reads "
                       "the rows as messages (role/content), so the run does not use it. To fix: remove it from "
                       "chat.columns, or set chat.format: prompt_completion.")
    assert chat.unused_parts_note(config.chat, "prompt_completion") == (
        "chat.columns maps 'messages' (a part of messages (role/content) rows), but chat.format 'auto' reads the rows "
        "as prompt/completion, so the run does not use it. To fix: remove it from chat.columns, or set chat.format: "
        "messages.")
