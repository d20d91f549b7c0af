"""`finetune-studio generate --system`: a system prompt too long for the model was blamed on the user's prompt
("the prompt is 1405 tokens long … shorten the prompt") though the prompt was one word. Now the error says which
part takes how many tokens; a system prompt that alone fills the model's context is said once, not per prompt."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.generate import CHATML
from tests.core.test_generate_cli import cli, no_loading  # noqa: F401 - fixture
from tests.helpers import demo_model_copy, update_json


@pytest.fixture(scope="module")
def chat_dir(demo_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo model as a chat model folder: its tokenizer carries a chat template (512 tokens of context)."""
    folder = demo_model_copy(tmp_path_factory.mktemp("chat") / "chat-model")
    update_json(folder / "tokenizer_config.json", chat_template=CHATML)
    return folder


def _error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error: ")]


def test_a_system_prompt_that_fills_the_context_is_blamed_once(chat_dir: Path, tmp_path: Path, no_loading,
                                                               capsys) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Aries\nLeo\n", encoding="utf-8")
    code, out, err = cli(capsys, str(chat_dir), "--prompts", str(prompts), "--system", "word " * 700)
    assert (code, out) == (2, "")
    [line] = _error_lines(err)
    tokens = int(line.split("--system is ")[1].split(" ")[0])
    assert tokens > 512
    assert line == (f"error: --system is {tokens} tokens long and this model reads at most 512 tokens (system prompt, "
                    "prompt and answer together), so no prompt leaves room for an answer. To fix: shorten --system "
                    "to well under 512 tokens, or leave it out.")


def test_a_prompt_too_long_with_the_system_prompt_says_how_many_tokens_each_takes(chat_dir: Path, no_loading,
                                                                                    capsys) -> None:
    code, out, err = cli(capsys, str(chat_dir), "--prompt", "Aries " * 150, "--system", "word " * 150)
    assert (code, out) == (2, "")
    [line] = _error_lines(err)
    assert line.startswith("error: the prompt is ") and " tokens long with the system prompt (--system takes " in line
    total = int(line.split("error: the prompt is ")[1].split(" ")[0])
    system = int(line.split("--system takes ")[1].split(" ")[0])
    own = int(line.split("the prompt itself ")[1].split(")")[0])
    assert total == system + own and total >= 512 and 150 <= system < 512 and 150 <= own < 512  # neither alone
    assert line.endswith("and this model reads at most 512 tokens (system prompt, prompt and answer together), so no "
                         "room is left for an answer. To fix: shorten --system or the prompt so together they stay "
                         "well under 512 tokens; the answer gets the room left, up to --max-new-tokens.")


def test_without_a_system_prompt_the_prompt_alone_is_named(chat_dir: Path, no_loading, capsys) -> None:
    code, _, err = cli(capsys, str(chat_dir), "--prompt", "Aries " * 600)
    [line] = _error_lines(err)
    assert code == 2 and "system" not in line and line.startswith("error: the prompt is ")
