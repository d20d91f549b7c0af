"""Config files are read by libyaml's parser (CSafeLoader) when PyYAML has it, ~4x faster than PyYAML's pure-Python
one (a run's config.yaml 4.8 -> 1.1 ms here; the Try tab reads two per run it lists, on the GUI thread), under the
very same rules: 2e-5 a number, no/yes text, a text field's plain value kept as written, a key given twice refused.
A file that does not parse is read again by PyYAML's parser, whose message (line, column, snippet) the user sees."""

from __future__ import annotations

import pytest
import yaml

from finetune_studio.core import config as cfg
from finetune_studio.core.config import default_config, from_yaml, to_yaml, yaml_load
from finetune_studio.core.errors import ConfigError

pytestmark = pytest.mark.skipif(not getattr(yaml, "__with_libyaml__", False), reason="PyYAML built without libyaml")

VALUES = ["1e2", "2e-5", "no", "yes", "on", "off", "0x10", "12:30", "true", "False", "~", "", "[a, b]", "{a: 1}",
          "'1e2'", "1_000", ".5", "-.inf", ".nan", "1.0e2", "!!float 1e2", "2026-12-04", "null", "0o17", "+1", "1e400"]


def _load(text: str, loader: type) -> object:
    return yaml.load(text, Loader=loader)  # noqa: S506 - core.config's SafeLoader / CSafeLoader subclasses


def _variants() -> list[str]:
    lines = to_yaml(default_config()).splitlines()
    texts = []
    for i, line in enumerate(lines):
        if ":" in line and not line.rstrip().endswith(":") and i % 3 == 0:  # a third of the keys: seconds, not 15
            key = line.split(":")[0]
            texts += ["\n".join([*lines[:i], f"{key}: {value}", *lines[i + 1:]]) + "\n" for value in VALUES]
    return texts


@pytest.mark.parametrize("config_file", [True, False])
def test_libyaml_reads_every_value_as_the_python_parser_does(config_file: bool) -> None:
    texts = _variants()
    assert len(texts) > 300
    slow, fast = cfg._yaml_loader(config_file), cfg._yaml_loader(config_file, fast=True)
    assert issubclass(fast, yaml.CSafeLoader) and not issubclass(slow, yaml.CSafeLoader)
    differ = [text for text in texts if repr(_load(text, slow)) != repr(_load(text, fast))]
    assert differ == []
    value = _load("name: 1e2\ntraining:\n  learning_rate: 2e-5\n  eval_strategy: no\n  max_steps: 1e2\n", fast)
    kept = "1e2" if config_file else 100  # a config file's text field keeps its text as written
    assert value == {"name": kept, "training": {"learning_rate": 2e-5, "eval_strategy": "no", "max_steps": 100}}


def test_config_files_are_read_by_libyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[type] = []
    real = yaml.load

    def spy(text: str, Loader: type) -> object:
        used.append(Loader)
        return real(text, Loader=Loader)

    monkeypatch.setattr(yaml, "load", spy)
    config, _ = from_yaml("name: first\ntraining:\n  learning_rate: 2e-5\n")
    assert (config.name, config.training["learning_rate"]) == ("first", 2e-5)
    assert [issubclass(loader, yaml.CSafeLoader) for loader in used] == [True]


def test_a_broken_file_gets_the_python_parser_message(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "name: first\ntraining:\n\tlearning_rate: 2e-5\n"
    with pytest.raises(ConfigError) as raised:
        from_yaml(text)
    message = raised.value.problems[0].message
    assert message.startswith("config is not valid YAML at line 3, column 1: found character '\\t' that cannot start "
                              "any token; YAML indents with spaces, not tabs")
    with pytest.raises(yaml.constructor.ConstructorError) as twice:
        yaml_load("name: a\nname: b\n", config_file=True)
    assert "'name' is given twice in the same section" in str(twice.value)
    assert "line 2, column 1" in str(twice.value)  # PyYAML's mark, with its line of the file


@pytest.mark.parametrize("text", [
    "training:\n  learning_rate:\t1e-4\n",  # libyaml takes the tab as a space
    "training:\n  report_to: [none,\tx]\n",
    "name: run\n\ufeff",  # a byte-order mark past the start: libyaml skips it
], ids=["tab-after-key", "tab-in-flow", "late-bom"])
def test_text_libyaml_reads_more_leniently_is_read_by_pyyaml(text: str) -> None:
    """helper-99's finding: libyaml accepted these where PyYAML refuses them, so the same config file loaded on a
    machine with libyaml and was refused on one without (every machine of a multi-machine run reads it)."""
    with pytest.raises(ConfigError) as raised:
        from_yaml(text)
    assert "is not valid YAML" in raised.value.problems[0].message
    with pytest.raises(yaml.YAMLError):
        _load(text, cfg._yaml_loader(True))  # PyYAML's own verdict, which yaml_load now gives


def test_a_lone_surrogate_from_the_command_line_stays_text() -> None:
    """A non-UTF-8 byte on the command line reaches Python as a lone surrogate: libyaml raised UnicodeEncodeError,
    which `--set training.run_name=$'a\\xffb'` turned into 'Training failed'; PyYAML reads it as the text typed."""
    from finetune_studio.core.config import RunConfig, apply_overrides

    config, _ = apply_overrides(RunConfig(), ["training.run_name=a\udcffb"])
    assert config.training["run_name"] == "a\udcffb"


def test_yaml_load_agrees_with_pyyaml_on_mangled_configs() -> None:
    """Configs with one to three odd characters put anywhere (tabs, NUL, control characters, a BOM, surrogates,
    YAML's indicators): yaml_load's value, or its kind of error, is PyYAML's own, for 3,000 such texts."""
    import random

    rng = random.Random(7)
    base = to_yaml(default_config())
    chars = ["\t", "\x00", "\x01", "\x7f", "\x85", "\u2028", "\ufeff", "\udcff", "\r", " ", ":", "#", "'", '"', "[",
             "{", "-", "&a", "*a", "!!str ", "%", "@", "`", "|", ">", "\\", "\u00a0", "\U0001f600", "\x0b"]

    def outcome(load: object) -> tuple[str, str]:
        try:
            return "value", repr(load())  # type: ignore[operator]
        except Exception as exc:  # noqa: BLE001 - the kind of error is what is compared
            return "error", type(exc).__name__

    slow = cfg._yaml_loader(True)
    differ = []
    for _ in range(3000):
        text = list(base)
        for _ in range(rng.randint(1, 3)):
            text.insert(rng.randrange(len(text) + 1), rng.choice(chars))
        mangled = "".join(text)
        if outcome(lambda t=mangled: _load(t, slow)) != outcome(lambda t=mangled: yaml_load(t, config_file=True)):
            differ.append(mangled)
    assert differ == []
