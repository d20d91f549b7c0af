"""The README.md a pushed run gets on the Hub, and its loss curve as a plain SVG file.

Everything comes from the run folder (config.yaml, status.json, metrics.jsonl, model/config.json), so a card can
be rendered for any finished run, including one trained by another process. No Qt and no plotting library: the
SVG is written as text, which the Hub renders like any image.
"""

from __future__ import annotations

import json
import math
import platform
import re
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from finetune_studio.core.config import (
    CHAT_DATASET_ID,
    DEMO_MODEL_ID,
    SAMPLE_DATASET_ID,
    TOKEN_VALUE_RE,
    RunConfig,
    is_token_key,
    load_config,
    precision_of,
)
from finetune_studio.core.errors import ConfigError
from finetune_studio.core.metrics import (  # the same curve (and resume rule) as the chart and the Runs tab
    loss_points,
    train_loss_note,
)
from finetune_studio.core.runs import RunFolder
from finetune_studio.core.sources import cache_repo_id, hub_repo_id

LOSS_CURVE_FILE = "loss_curve.svg"
CARD_TAGS = ["finetune-studio", "text-generation"]
# Training fields that are local to this machine, or secret, and say nothing about the model.
PRIVATE_TRAINING_KEYS = {"output_dir", "hub_token", "push_to_hub_token", "hub_model_id",
                         "resume_from_checkpoint"}
# TrainingArguments fields a reader of a card looks for (what the Trainer's own cards list): shown with their
# default when the run's config leaves them out, since the run trained with that default.
DEFAULT_SHOWN_KEYS = ("seed", "optim", "lr_scheduler_type", "warmup_steps", "weight_decay", "max_grad_norm")
EVAL_DEFAULT_KEYS = ("per_device_eval_batch_size",)


def scrub(text: str) -> str:
    """Hide anything shaped like a Hugging Face token."""
    return TOKEN_VALUE_RE.sub("<redacted>", text)


# ---- what the run was trained from -------------------------------------------------------------------------


def _hub_model_id(name: str) -> str | None:
    """The Hub id of the base model: as written, or that of a folder of the Hugging Face cache it was picked from
    (…/models--OWNER--NAME/snapshots/REVISION, core.sources.cache_repo_id)."""
    return hub_repo_id(name) or cache_repo_id(name)


def _is_hub_dataset(source: str) -> bool:
    return hub_repo_id(source) is not None


def _base_model_text(config: RunConfig) -> str:
    name = config.model.name_or_path
    if name == DEMO_MODEL_ID:
        return "the builtin demo model of Finetune Studio (a tiny Qwen3-style model built offline; not on the Hub)"
    repo = _hub_model_id(name)
    if repo:
        cached = repo != hub_repo_id(name)  # a Hub cache folder: its snapshot folder is the revision it holds
        revision = Path(name.strip()).name if cached else config.model.revision
        return f"[{repo}](https://huggingface.co/{repo})" + (f" at revision `{revision}`" if revision else "")
    return f"a local model folder (`{Path(name).name}`)"


# The builtin demo model is Finetune Studio's own: built by its code (core.demo) from its synthetic sample data,
# under the app's license (pyproject.toml).
DEMO_MODEL_LICENSE = "apache-2.0"
# A license id as the Hub's `license:` field takes them (apache-2.0, llama3.1, cc-by-nc-4.0, openrail++, other):
# a value of another shape ("MIT License") is not carried over, since the Hub would refuse the card's metadata.
LICENSE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9.+-]*$")
LICENSE_KEYS = ("license", "license_name", "license_link")  # license_name/_link go with `license: other`


def _card_metadata(path: Path) -> dict[str, Any] | None:
    """The YAML front matter of a model card (README.md) on disk, or None: no file, no front matter, or not YAML."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        return None
    end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == "---"), None)
    if end is None:
        return None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError:
        return None
    return meta if isinstance(meta, dict) else None


def _base_card_path(config: RunConfig) -> Path | None:
    """Where the base model's own README.md is on this computer, never downloaded: in its local folder (a snapshot
    of the Hugging Face cache included), or, for a Hub id, in the cache's snapshot of its revision."""
    from finetune_studio.core.sources import SourceKind, source_kind

    name = config.model.name_or_path
    if not isinstance(name, str):
        return None
    kind = source_kind(name.strip())
    if kind is SourceKind.LOCAL:
        return Path(name.strip()).expanduser() / "README.md"
    if kind is SourceKind.HUB and hub_repo_id(name):
        from finetune_studio.core.model import cached_hub_file

        return cached_hub_file(hub_repo_id(name), "README.md", config.model.revision)
    return None


def base_license(config: RunConfig) -> tuple[dict[str, Any], str]:
    """The base model's license as card metadata ({"license": "apache-2.0"}, with license_name and license_link for
    `other`), and where it was read, or ({}, why it is not known). Read offline only: the builtin demo model's, the
    `license:` of the base's README.md front matter in its local folder or the Hugging Face cache."""
    if config.model.name_or_path == DEMO_MODEL_ID:
        return {"license": DEMO_MODEL_LICENSE}, ("as the builtin demo model it is fine-tuned from is Finetune Studio's "
                                                  "own (built from the app's synthetic sample data), under the "
                                                  "app's license")
    path = _base_card_path(config)
    if path is None:
        return {}, "the base model's card (README.md) is not on this computer"
    meta = _card_metadata(path)
    if meta is None:
        return {}, ("the base model's card (README.md) is not on this computer" if not path.is_file()
                    else "the base model's card (README.md) has no YAML metadata")
    value = meta.get("license")
    if value is None:
        return {}, "the base model's card (README.md) names no license"
    if not isinstance(value, str) or not LICENSE_ID_RE.match(value.strip()):
        return {}, (f"the base model's card (README.md) gives its license as {json.dumps(value)}, which is no "
                    "license id the Hub takes")
    found = {"license": value.strip()}
    if found["license"] == "other":
        found.update({k: meta[k].strip() for k in LICENSE_KEYS[1:] if isinstance(meta.get(k), str) and meta[k].strip()})
    return found, "the license the card of the base model it is fine-tuned from gives (the `license:` of its README.md)"


def _license_lines(config: RunConfig) -> list[str]:
    """The card's License section: the base model's license and where it was read, or that it is not known."""
    found, source = base_license(config)
    if not found:
        return ["## License", "", f"The license is not known: {source}, so this card's metadata names none. To fix: "
                "set the license on the Hub (the `license:` field of this card's metadata) to the base model's, as "
                "its terms say.", ""]
    name = found["license"]
    if name == "other":
        label = found.get("license_name", "other")
        name = f"other ([{label}]({found['license_link']}))" if found.get("license_link") else f"other ({label})"
    else:
        name = f"`{name}`"
    return ["## License", "", f"{name}, {source}.", ""]


def _chat_data(events: list[dict[str, Any]]) -> tuple[str, str]:
    """What a chat run's log said of its rows (their format, and which tokens the loss is on) and of its chat
    template, as the run found them (core.chat: 'auto' is decided from the data): ("", "") for a plain-text run."""
    said = [str(e.get("message", "")) for e in events if e.get("event") == "notice"]
    rows = next((text for text in said if text.startswith("Rows are ")), "")
    template = next((text for text in said if text.startswith(("Chat template: ", "No chat template: "))), "")
    return rows, template.rstrip(".") + "." if template else ""


def _dataset_text(config: RunConfig) -> str:
    source = config.dataset.source
    if source == SAMPLE_DATASET_ID:
        return "the builtin sample horoscope dataset of Finetune Studio"
    if source == CHAT_DATASET_ID:
        return "the builtin sample chat dataset of Finetune Studio (conversations; not on the Hub)"
    if _is_hub_dataset(source):
        subset = f" (subset `{config.dataset.name}`)" if config.dataset.name else ""
        return f"[{source}](https://huggingface.co/datasets/{source}){subset}"
    return f"a local dataset (`{Path(source).name}`)"


# ---- results -----------------------------------------------------------------------------------------------


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _final_losses(status: dict[str, Any], events: list[dict[str, Any]]) -> tuple[float | None, float | None]:
    train, evals = loss_points(events)
    train_loss = _finite(status.get("train_loss"))
    eval_loss = _finite(status.get("eval_loss"))
    if train_loss is None and train:
        train_loss = train[-1][1]
    if eval_loss is None and evals:
        eval_loss = evals[-1][1]
    return train_loss, eval_loss


def _train_loss_text(status: dict[str, Any], events: list[dict[str, Any]], value: float | None) -> str:
    """The card's final train loss (`value`, from _final_losses), saying where it is not the loss at the run's last
    step in the words the Runs tab and `finetune-studio runs` use (core.metrics.train_loss_note)."""
    if value is None:
        return "n/a"
    step = status.get("step")
    final = step if isinstance(step, int) and not isinstance(step, bool) else None
    note = train_loss_note(events, value, final)
    return f"{value:.4f} ({note})" if note else f"{value:.4f}"


def _rows(events: list[dict[str, Any]]) -> tuple[int, int] | None:
    """(train rows, eval rows) of the run's split, as its last data event logged them; None if none did."""
    for event in reversed(events):
        if event.get("event") == "data":
            train, held = event.get("train_rows"), event.get("eval_rows")
            if all(isinstance(v, int) and not isinstance(v, bool) for v in (train, held)):
                return train, held
            return None
    return None


def _no_eval_text(config: RunConfig, rows: tuple[int, int] | None) -> str:
    """Why the card has no eval loss: no split, or a split that no evaluation used (eval_strategy 'no', or the
    run ended before its first evaluation)."""
    if rows is not None and rows[1] > 0:
        return f"n/a (no evaluation ran, though {rows[1]} rows were held out for it)"
    if rows is None and config.dataset.test_size > 0:
        return "n/a (no evaluation ran)"
    return "n/a (no evaluation split)"


def _epochs(events: list[dict[str, Any]]) -> float | None:
    """How many epochs the run trained: the epoch of its last step in the log (max_steps, a stop or extra epochs
    on resume make it differ from num_train_epochs)."""
    for event in reversed(events):
        if event.get("event") in ("step", "log", "summary"):
            epoch = _finite(event.get("epoch"))
            if epoch is not None:
                return epoch
    return None


def _best_eval(folder: RunFolder, config: RunConfig, evals: list[tuple[float, float]]) -> tuple[int, float] | None:
    """(step, eval loss) of the checkpoint whose weights the model folder holds when load_best_model_at_end
    restored the best one as training ended (core.training saves that one too when it completes a cut-off final
    save), or None when the run saves its last weights. The step is the Trainer's own (best_global_step in the
    latest checkpoint's trainer_state.json); with no checkpoint left to say it, the lowest eval loss when the
    metric is the loss (Trainer keeps the first of equal ones)."""
    if not config.training.get("load_best_model_at_end") or not evals:
        return None
    losses = {int(x): y for x, y in evals}
    output = config.training.get("output_dir")
    checkpoints = folder.checkpoints(Path(output) if isinstance(output, str) and output else None)
    if checkpoints:
        try:
            state = json.loads((checkpoints[-1] / "trainer_state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            state = None
        best = state.get("best_global_step") if isinstance(state, dict) else None
        if isinstance(best, int) and not isinstance(best, bool) and best in losses:
            return best, losses[best]
    if str(config.training.get("metric_for_best_model") or "loss").removeprefix("eval_") != "loss":
        return None
    pick = max if config.training.get("greater_is_better") else min
    x, y = pick(evals, key=lambda point: point[1])
    return int(x), y


PRECISIONS = ("fp32", "bf16", "fp16")


def _trained_precisions(events: list[dict[str, Any]]) -> list[str]:
    """What the run trained in, as its train_begin events recorded it (core.training.trained_precision), each once
    in order (a resume on other hardware may have chosen another); [] for a run from before they recorded it."""
    found: list[str] = []
    for event in events:
        value = event.get("precision") if event.get("event") == "train_begin" else None
        if value in PRECISIONS and value not in found:
            found.append(value)
    return found


def _nice_ticks(low: float, high: float, count: int = 5, integer: bool = False) -> list[float]:
    """Round tick values that cover [low, high]: the first at or below low, the last at or above high."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if integer:
        step = max(1, math.ceil(step))
    first, last = math.floor(low / step), math.ceil(high / step)
    return [round(i * step, 10) for i in range(first, last + 1)]


def _format_tick(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e5 else f"{value:.0e}"


def render_loss_svg(events: list[dict[str, Any]], title: str = "Loss") -> str | None:
    """A line chart of train and eval loss against the optimizer step, or None if the run logged no loss."""
    train, evals = loss_points(events)
    if not train and not evals:
        return None
    width, height = 640, 360
    left, right, top, bottom = 64, 20, 40, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    points = train + evals
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x_ticks = _nice_ticks(min(xs), max(xs), integer=True)
    y_ticks = _nice_ticks(min(ys), max(ys))
    x0, x1 = x_ticks[0], x_ticks[-1]
    y0, y1 = y_ticks[0], y_ticks[-1]

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * plot_w

    def sy(y: float) -> float:
        return top + (1 - (y - y0) / (y1 - y0)) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2:.1f}" y="22" text-anchor="middle" font-size="15">{escape(title)}</text>',
    ]
    for y in y_ticks:
        out.append(f'<line x1="{left}" y1="{sy(y):.1f}" x2="{width - right}" y2="{sy(y):.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{left - 6}" y="{sy(y) + 4:.1f}" text-anchor="end" fill="#444">'
                   f'{escape(_format_tick(y))}</text>')
    for x in x_ticks:
        out.append(f'<line x1="{sx(x):.1f}" y1="{top + plot_h}" x2="{sx(x):.1f}" y2="{top + plot_h + 4}" '
                   'stroke="#444"/>')
        out.append(f'<text x="{sx(x):.1f}" y="{top + plot_h + 18}" text-anchor="middle" fill="#444">'
                   f'{escape(_format_tick(x))}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#444"/>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 10}" text-anchor="middle">step</text>')
    out.append(f'<text x="16" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
               f'transform="rotate(-90 16 {top + plot_h / 2:.1f})">loss</text>')
    legend_y = top + 14
    for label, series, color in (("train loss", train, "#1f77b4"), ("eval loss", evals, "#ff7f0e")):
        if not series:
            continue
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in series)
        if len(series) > 1:
            out.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2"/>')
        for x, y in series if len(series) <= 40 else series[-1:]:
            out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{color}"/>')
        legend_x = width - right - 110
        out.append(f'<line x1="{legend_x}" y1="{legend_y - 4}" x2="{legend_x + 20}" y2="{legend_y - 4}" '
                   f'stroke="{color}" stroke-width="2"/>')
        out.append(f'<text x="{legend_x + 26}" y="{legend_y}">{label}</text>')
        legend_y += 16
    out.append("</svg>")
    return "\n".join(out) + "\n"


def loss_curve_svg(run_dir: Path) -> str | None:
    folder = RunFolder(Path(run_dir))
    return render_loss_svg(folder.read_metrics(), title=f"Loss of {_run_name(folder)}")


# ---- the card ----------------------------------------------------------------------------------------------


def _run_name(folder: RunFolder, config: RunConfig | None = None) -> str:
    return (config.name if config and config.name else "") or folder.path.name


_MARKDOWN_MARKUP_RE = re.compile(r"([\\`*_\[\]<>~&])")


def _heading_text(name: str) -> str:
    """`name` as the text of one markdown heading: on one line (a name edited to hold newlines made a heading of
    its own), every character that is markup backslash-escaped (CommonMark escapes any ASCII punctuation), so
    '*x*' is not italic, '<draft>' not an HTML tag the Hub drops, '[a](b)' not a link, and a closing '#' stays."""
    text = _MARKDOWN_MARKUP_RE.sub(r"\\\1", " ".join(str(name).split()))
    return text[:-1] + "\\#" if text.endswith("#") else text


def _cell(value: Any) -> str:
    from finetune_studio.core.hub import scrub_local_paths

    text = json.dumps(value) if isinstance(value, (dict, list, bool)) or value is None else str(value)
    return scrub_local_paths(scrub(text), []).replace("|", "\\|").replace("\n", " ")  # a path: its last part


def trainer_defaults(arguments: type) -> dict[str, Any]:
    """{field: default} of DEFAULT_SHOWN_KEYS and EVAL_DEFAULT_KEYS in a TrainingArguments class, as plain JSON
    values (an enum, such as optim's or lr_scheduler_type's: its name). core.training records them in the
    train_begin event (`trainer_defaults`), so a card is rendered without importing transformers (~6 s cold, in the
    push dialog's plan and in `finetune-studio push`), with the defaults of the version the run trained with."""
    import dataclasses

    defaults = {f.name: f.default for f in dataclasses.fields(arguments)}
    found: dict[str, Any] = {}
    for key in DEFAULT_SHOWN_KEYS + EVAL_DEFAULT_KEYS:
        value = defaults.get(key, dataclasses.MISSING)
        if value is not dataclasses.MISSING:
            value = getattr(value, "value", value)
            found[key] = value if value is None or isinstance(value, (bool, int, float, str)) else str(value)
    return found


def _recorded_defaults(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The TrainingArguments defaults the run's latest train_begin recorded (trainer_defaults), or None for a run
    from before the record."""
    for event in reversed(events):
        if event.get("event") == "train_begin" and isinstance(event.get("trainer_defaults"), dict):
            return event["trainer_defaults"]
    return None


def _defaults_that_ran(training: dict[str, Any], evaluated: bool,
                       recorded: dict[str, Any] | None = None) -> list[tuple[str, Any]]:
    """(field, default) of DEFAULT_SHOWN_KEYS (and EVAL_DEFAULT_KEYS when the run evaluated) that `training` leaves
    out: the TrainingArguments defaults the run trained with (core.training passes the training section as it is),
    as the run `recorded` them (trainer_defaults), or, for a run from before the record, the installed version's."""
    if recorded is None:
        try:
            from transformers import TrainingArguments
        except ImportError:
            return []
        recorded = trainer_defaults(TrainingArguments)
    keys = DEFAULT_SHOWN_KEYS + (EVAL_DEFAULT_KEYS if evaluated else ())
    return [(key, recorded[key]) for key in keys if key not in training and key in recorded]


def _versions(model_dir: Path, peft: bool = False) -> list[tuple[str, str]]:
    from importlib.metadata import PackageNotFoundError, version

    saved = {}
    try:
        saved = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    rows = []
    libraries = [("Transformers", "transformers"), ("PyTorch", "torch"), ("Datasets", "datasets"),
                 ("huggingface_hub", "huggingface_hub")] + ([("PEFT", "peft")] if peft else [])
    for label, dist in libraries:
        if dist == "transformers" and isinstance(saved, dict) and saved.get("transformers_version"):
            rows.append((label, str(saved["transformers_version"])))
            continue
        try:
            rows.append((label, version(dist)))
        except PackageNotFoundError:
            rows.append((label, "not installed"))
    rows.append(("Python", platform.python_version()))
    return rows


def _load_run_config(folder: RunFolder) -> RunConfig:
    try:
        return load_config(folder.config_path)[0]
    except ConfigError:
        from finetune_studio.core.config import default_config

        config = default_config()
        config.name = folder.path.name
        return config


# What a pushed folder holds: a whole model ("model": full fine-tuning, or an adapter merged into its base) or an
# adapter that loads on top of its base with peft ("adapter").
MODEL, ADAPTER = "model", "adapter"


def model_form(run_dir: Path) -> str:
    """ADAPTER when the run's saved model is an adapter (its folder holds adapter_config.json), else MODEL."""
    from finetune_studio.core.adapters import is_adapter_folder

    return ADAPTER if is_adapter_folder(RunFolder(Path(run_dir)).model_dir) else MODEL


def front_matter(config: RunConfig, form: str = MODEL) -> dict[str, Any]:
    """The card's YAML header. An adapter is `library_name: peft` (the Hub then shows how to load it with peft);
    a whole model, merged or not, is `transformers`. base_model names the base when it is a Hub id."""
    from finetune_studio.core.adapters import is_adapter_method

    meta: dict[str, Any] = {"library_name": "peft" if form == ADAPTER else "transformers"}
    meta.update(base_license(config)[0])  # the base model's, where it is known offline; else none (the text says)
    base = _hub_model_id(config.model.name_or_path)
    if base:
        meta["base_model"] = base
    if _is_hub_dataset(config.dataset.source):
        meta["datasets"] = [config.dataset.source]
    meta["tags"] = list(CARD_TAGS)
    if is_adapter_method(config.adapter.method):
        meta["tags"] += [config.adapter.method] + (["peft"] if form == ADAPTER else ["merged"])
    meta["pipeline_tag"] = "text-generation"
    return meta


def _method_lines(config: RunConfig, form: str) -> list[str]:
    """The method section: which one and every setting it trained with (none for full fine-tuning)."""
    from finetune_studio.core.adapters import METHOD_NAMES, alpha_scale, is_adapter_method

    adapter = config.adapter
    if not is_adapter_method(adapter.method):
        return ["## Method", "", "- Method: full fine-tuning (every weight trained)", ""]
    scale = alpha_scale(adapter)
    rule = "alpha / sqrt(r), rslora" if adapter.rslora else "alpha / r"
    lines = ["## Method", "", f"- Method: {METHOD_NAMES[adapter.method]} (PEFT)", f"- Rank r: {adapter.r}",
             f"- Alpha: {adapter.alpha:g}" + (f" (updates scaled by {scale:g} = {rule})" if scale else ""),
             f"- Dropout: {adapter.dropout:g}", f"- Target modules: {', '.join(adapter.target_modules)}"]
    if adapter.modules_to_save:
        lines.append(f"- Trained in full and saved with the adapter: {', '.join(adapter.modules_to_save)}")
    if adapter.method == "qlora":
        lines.append("- Base weights: 4-bit NF4 with double quantization (bitsandbytes), compute dtype "
                     f"{adapter.compute_dtype}")
    if form == ADAPTER:
        lines.append("- This repository holds the adapter only; it loads on top of the base model with peft.")
    else:
        lines.append("- The adapter is merged into the base model (peft's merge_and_unload): this repository is an "
                     "ordinary model that loads without peft.")
    return lines + [""]


def _adapter_use_lines(repo_id: str, chat: bool, stops: bool) -> list[str]:
    """The usage snippet of an adapter: peft loads it on its base. A chat adapter's snippet answers messages, and
    with the pushed generation_config.json: peft answers with its base's, whose only stop is the base's EOS, so
    replies ran on past the template's end of turn (<|im_end|>) to max_new_tokens."""
    lines = ["## Use it", "", "```python", "from peft import AutoPeftModelForCausalLM",
             "from transformers import AutoTokenizer" + (", GenerationConfig" if chat and stops else ""), "",
             f'model = AutoPeftModelForCausalLM.from_pretrained("{repo_id}")  # loads the base model too',
             f'tokenizer = AutoTokenizer.from_pretrained("{repo_id}")']
    if chat:
        if stops:
            lines.append(f'model.generation_config = GenerationConfig.from_pretrained("{repo_id}")  # stops at the '
                         "end of a reply")
        lines += ['messages = [{"role": "user", "content": "Hello!"}]',
                  "inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, "
                  'return_tensors="pt", return_dict=True)',
                  "output = model.generate(**inputs, max_new_tokens=40)",
                  'print(tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True))']
    return lines + ["```", ""]


def render_model_card(run_dir: Path, repo_id: str | None = None, form: str | None = None,
                      stops: bool | None = None, checkpoint: int | None = None) -> str:
    """README.md for the run: YAML metadata the Hub indexes, then what was trained on what, with which method and
    settings, to which loss, and the library versions. `repo_id` adds a usage snippet that loads the pushed model;
    `form` is what is pushed (MODEL or ADAPTER; by default what the run's model folder holds). `stops`: whether the
    pushed adapter holds a generation_config.json for the snippet to load (core.hub stages one for a chat run saved
    without it); by default, whether the run's model folder holds one. `checkpoint`: what is pushed is the run's
    checkpoint-N, not its final model: the card says so (its step of the run's planned steps), and that the losses
    it lists are the run's."""
    import yaml

    folder = RunFolder(Path(run_dir))
    form = form or model_form(folder.path)
    config = _load_run_config(folder)
    status = folder.read_status()
    events = folder.read_metrics()
    name = _run_name(folder, config)
    train_loss, eval_loss = _final_losses(status, events)
    rows, template = _chat_data(events)

    lines = ["---", yaml.safe_dump(front_matter(config, form), sort_keys=False, allow_unicode=True).rstrip(), "---",
             ""]
    lines += [f"# {_heading_text(name)}", ""]
    lines += [f"A fine-tune of {_base_model_text(config)} on {_dataset_text(config)}, trained with Finetune Studio "
              "(the Hugging Face `Trainer` behind a point-and-click front end).", ""]
    if repo_id and form == ADAPTER:
        if stops is None:
            stops = (folder.model_dir / "generation_config.json").is_file()
        lines += _adapter_use_lines(repo_id, chat=bool(rows), stops=stops)
    elif repo_id and rows:  # a chat run answers messages, through its chat template
        lines += ["## Use it", "", "```python", "from transformers import pipeline", "",
                  f'generator = pipeline("text-generation", model="{repo_id}")',
                  'messages = [{"role": "user", "content": "Hello!"}]',
                  'print(generator(messages, max_new_tokens=40)[0]["generated_text"][-1]["content"])', "```", ""]
    elif repo_id:
        lines += ["## Use it", "", "```python", "from transformers import pipeline", "",
                  f'generator = pipeline("text-generation", model="{repo_id}")',
                  'print(generator("Once upon a time", max_new_tokens=40)[0]["generated_text"])', "```", ""]

    if checkpoint is not None:
        planned = status.get("max_steps")
        of = f" of {planned}" if isinstance(planned, int) and planned else ""
        lines += [f"These are the weights of checkpoint-{checkpoint}, saved at step {checkpoint}{of} while the run "
                  "trained, not its final model.", ""]

    lines += ["## Results", ""]
    step, max_steps = status.get("step"), status.get("max_steps")
    if isinstance(step, int) and step:
        epochs = _epochs(events)
        lines.append(f"- Steps: {step}" + (f" of {max_steps}" if isinstance(max_steps, int) and max_steps else "")
                     + (f" ({round(epochs, 2):g} epoch{'' if round(epochs, 2) == 1 else 's'})"
                        if epochs is not None else ""))
    _, evals = loss_points(events)
    best = _best_eval(folder, config, evals) if checkpoint is None else None
    last_eval = evals[-1][0] if evals else None
    if checkpoint is not None:
        lines.append(f"- Weights: those of checkpoint-{checkpoint} (step {checkpoint}"
                     + (f" of {max_steps}" if isinstance(max_steps, int) and max_steps else "")
                     + "); the final losses below are those of the run's last steps, not of these weights")
    elif best is not None and best[0] != last_eval:
        lines.append(f"- Weights: those of step {best[0]}, the checkpoint with the best eval loss ({best[1]:.4f}), "
                     "which load_best_model_at_end restored when training ended; the final losses below are "
                     "those of the last steps, not of these weights")
    else:
        best = None
    lines.append(f"- Final train loss: {_train_loss_text(status, events, train_loss)}")
    split = _rows(events)
    lines.append(f"- Final eval loss: {eval_loss:.4f}" if eval_loss is not None
                 else f"- Final eval loss: {_no_eval_text(config, split)}")
    lines.append("")
    if render_loss_svg(events) is not None:
        lines += [f"![Training and evaluation loss]({LOSS_CURVE_FILE})", ""]
    if evals:
        lines += ["| Step | Eval loss |", "|---:|---:|"]
        shown = evals if len(evals) <= 20 else evals[:: math.ceil(len(evals) / 20)] + [evals[-1]]
        seen = set()
        for x, y in shown:
            if x not in seen:
                seen.add(x)
                these = checkpoint if checkpoint is not None else best[0] if best is not None else None
                mark = " (these weights)" if these is not None and int(x) == these else ""
                lines.append(f"| {x:g} | {y:.4f}{mark} |")
        lines.append("")

    truncation = "on" if config.dataset.truncation else "off"
    data = (f"- Dataset: {_dataset_text(config)}, split `{config.dataset.split}`, text column "
            f"`{config.dataset.text_column}`") if not rows else (
        f"- Dataset: {_dataset_text(config)}, split `{config.dataset.split}`. {rows}")
    lines += ["## Training data", "", f"- Base model: {_base_model_text(config)}", data,
              *([f"- {template}"] if template else []),
              f"- Max length: {config.dataset.max_length} tokens (truncation {truncation})",
              f"- Held out for evaluation: {config.dataset.test_size:g}"
              + (f" ({split[1]} rows; {split[0]} trained on)" if split is not None else ""),
              f"- Batching: {config.dataset.batching}", ""]

    lines += _method_lines(config, form)
    lines += ["## Hyperparameters", "", "| Setting | Value |", "|---|---|"]
    training = {k: v for k, v in config.training.items() if k not in PRIVATE_TRAINING_KEYS and not is_token_key(k)}
    precision = precision_of(config.training)
    for key, value in training.items():
        lines.append(f"| {_cell(key)} | {_cell(value)} |")
    for key, value in _defaults_that_ran(config.training, bool(evals), _recorded_defaults(events)):
        lines.append(f"| {_cell(key)} | {_cell(value)} (default) |")
    if precision == "auto":
        chosen = _trained_precisions(events)  # what "auto" chose: bf16 (auto, …); a run from before: auto (…)
        value = (f"{', then '.join(chosen)} (auto, chosen for the hardware)" if chosen
                 else "auto (chosen for the hardware)")
        lines.append(f"| precision | {value} |")
    lines.append("")

    lines += _license_lines(config)
    lines += ["## Framework versions", ""]
    from finetune_studio.core.adapters import is_adapter_method

    saved = folder.model_dir if checkpoint is None else folder.path / f"checkpoint-{checkpoint}"
    if checkpoint is not None and not saved.is_dir():  # an output_dir outside the run folder
        saved = Path(config.training.get("output_dir") or folder.path) / f"checkpoint-{checkpoint}"
    versions = _versions(saved, peft=is_adapter_method(config.adapter.method))
    lines += [f"- {label}: {value}" for label, value in versions]
    lines.append("")
    return scrub("\n".join(lines))
