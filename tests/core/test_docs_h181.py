"""README and docs/gui-contract.md say what this session's features do, in the figures and names the code uses
(helper-181): archives read as their one data file (99186cf), the dtypes of a merged export (c4c1f64, 2fc389f),
the TRL keys validation points elsewhere (a0819e5) and its limits (6a98a01), the push's time limit (5ee1de2),
`runs --runs-dir` and `supervise --resume --restart` as commands the CLI's parser takes (b02d853, 648292e), and
collection on the GUI thread (3427e43). A figure or name changed in the code and not in the docs fails here."""

from __future__ import annotations

import re
import shlex

from finetune_studio.core import cli, config, data, export, hub, validation
from tests.helpers import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
CONTRACT = (ROOT / "docs" / "gui-contract.md").read_text(encoding="utf-8")


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_first_two_commands_stay_run_and_test() -> None:
    block = README.split("```bash\n", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in block.splitlines()] == ["packaging/dev run", "packaging/dev test"]


def test_the_archives_readme_names_are_the_ones_core_reads() -> None:
    sentence = flat(README).split("or an archive (", 1)[1].split(")", 1)[0]
    assert re.findall(r"`(\.[a-z.0-9]+)`", sentence) == list(data.READ_ARCHIVES)
    compressed = flat(README).split("A data file compressed whole (", 1)[1].split(")", 1)[0]
    assert re.findall(r"`(\.[a-z0-9]+)`", compressed) == list(data.READ_COMPRESSED)


def test_the_merged_export_dtypes_readme_offers_are_core_exports() -> None:
    said = flat(README).split("merged into its base with its weights in the run's dtype or in ", 1)[1].split(" (", 1)[0]
    assert said == "float16, bfloat16 or float32"
    assert set(export.MERGED_DTYPES) == {"auto", "float16", "bfloat16", "float32"}


def test_the_trl_keys_readme_points_elsewhere_go_where_validation_says() -> None:
    text = flat(README)
    for key in ("max_seq_length", "dataset_text_field"):
        target = re.search(rf"`{key}` → `([a-z_.]+)`", text).group(1)
        assert target == config.ELSEWHERE_TRAINING_KEYS[key][0]
    assert "`packing: true` → `dataset.batching: packed`" in text
    assert config.ELSEWHERE_TRAINING_KEYS["packing"][:2] == ("dataset.batching", "packed")
    assert config.ELSEWHERE_TRAINING_KEYS["group_by_length"][0] == "dataset.batching"
    assert "`warmup_ratio` → `warmup_steps`" in text
    assert config.FOLDED_TRAINING_KEYS["warmup_ratio"][0] == "warmup_steps"
    assert "`gradient_accumulation_steps` above 10,000 is refused" in text
    assert validation.MAX_ACCUMULATION_STEPS == 10_000


def test_the_push_time_limit_readme_gives_is_the_hubs() -> None:
    assert "time limits (60 s a request)" in flat(README)
    assert hub.REQUEST_TIMEOUT_S == 60.0


def test_the_runs_dir_line_and_the_restart_command_parse() -> None:
    runs = [line for line in README.splitlines() if line.startswith("finetune-studio runs --runs-dir")]
    assert len(runs) == 1
    args = cli._parser().parse_args(shlex.split(runs[0].split("#", 1)[0])[1:])
    assert (args.command, args.runs_dir) == ("runs", "/data/runs")
    restart = re.search(r"`finetune-studio (supervise <run> --resume --restart)`", flat(README)).group(1)
    args = cli._parser().parse_args(shlex.split(restart.replace("<run>", "runs/x")))
    assert (args.command, args.run_dir, args.resume, args.restart) == ("supervise", "runs/x", True, True)


def test_the_contract_gives_the_collectors_figures() -> None:
    from finetune_studio.core import collection

    text = flat(CONTRACT)
    assert "Garbage collection runs on the GUI thread only" in text
    assert "a 1 s timer" in text and "waits up to 2 s" in text
    assert collection.REQUEST_WAIT_S == 2.0
    collector = (ROOT / "gui" / "collector.py").read_text(encoding="utf-8")  # gui/ is not imported by core tests
    assert re.search(r"^TICK_MS = 1000\b", collector, flags=re.M)
