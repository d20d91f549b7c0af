"""Inspector scale: the Dataset Inspector's whole-dataset checks on 100k generated conversations, off the GUI
thread, as the Inspector window and the Dataset tab run them: how long the first pass takes (printed; no goal), how
long the second takes with the same settings (read from the cache: goal second / first <= 0.1), and how long the
Qt event loop stalls meanwhile (a 1 ms heartbeat timer, measured as in benchmarks/data_prep.py: goal max stall
<= 100 ms). Baselines from the same invocation: the first pass (for the cache ratio) and 2 s of the idle event loop
(for stalls).

Before timing, the script does what the Dataset tab has done by the time the Inspector can be opened on a file
(its preview and its chat-template note: the process's first imports of the JSON reader and of trl). Each pass is
what opening the Inspector does: load the tokenizer (only the tokenizer) and the rows, then check
every row with core.chat.render_and_label (the demo model's tokenizer, ChatML added, assistant-only loss,
max_length 128). The conversations come from resources/make_chat_sample.py's generator (the built-in chat
sample's), each a distinct chat.

    QT_QPA_PLATFORM=offscreen python benchmarks/inspector.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data_prep import IDLE_S, stalls_while  # this folder is on sys.path when run as a script
from goals import report


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = Path(tempfile.mkdtemp())
    os.environ["HF_DATASETS_CACHE"] = str(tmp / "datasets")
    import numpy as np
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from finetune_studio.gui.warmup import warm

    warm()  # as in the app: the training stack imported and gc.freeze()d before the user opens the Inspector
    import datasets

    datasets.disable_progress_bars()
    from finetune_studio.core.config import CHAT_DATASET_ID, PRESETS
    from finetune_studio.core.demo import demo_model_path
    from finetune_studio.core.inspector import checks_summary
    from finetune_studio.gui.inspector import load_inspector
    from finetune_studio.resources.make_chat_sample import make_chats

    demo_model_path()  # built (or found) before timing
    chats = make_chats(args.rows)
    data = tmp / "chats.jsonl"
    data.write_text("".join(json.dumps(chat) + "\n" for chat in chats), encoding="utf-8")
    del chats  # 100k dicts the app never holds: left alive, every full garbage collection would walk them
    gc.collect()
    config = PRESETS["chat-demo"]()
    assert config.dataset.source == CHAT_DATASET_ID
    config.dataset.source = str(data)
    cache = tmp / "inspector-cache"
    results = []
    # What the Dataset tab has done before anyone can open the Inspector on this file, untimed: its preview of
    # the first rows and its chat-template note (the first imports of the JSON reader and of trl, once a process).
    from finetune_studio.gui.forms.dataset_form import load_preview, resolve_chat_template

    load_preview(config.dataset)
    resolve_chat_template(config.model, config.chat)

    inspectors: list = []

    def load() -> None:  # what the Inspector window's jobs do: load (tokenizer and rows), then check every row
        inspectors.append(load_inspector(config, cache=cache))

    def check() -> None:
        results.append(inspectors[-1].check())

    idle_gaps, _ = stalls_while(lambda: time.sleep(IDLE_S), app)  # the baseline: the loop with nothing to do
    phases = {}
    for name in ("first", "second"):
        load_gaps, load_s = stalls_while(load, app)
        check_gaps, check_s = stalls_while(check, app)
        phases[name] = (load_gaps, load_s, check_gaps, check_s)
    first, second = (phases[n][1] + phases[n][3] for n in ("first", "second"))
    first_checks, second_checks = results
    assert not first_checks.from_cache and second_checks.from_cache, "the second pass did not read the cache"
    assert all((second_checks.counts[k] == first_checks.counts[k]).all() for k in first_checks.counts)
    gaps = np.array([g for p in phases.values() for g in p[0] + p[2]])
    print(f"{args.rows:,} conversations, max_length {config.dataset.max_length}: {checks_summary(first_checks)}")
    print(f"first pass (tokenizer, rows, every row rendered and labelled): {first:.1f} s "
          f"({first / args.rows * 1e6:.0f} µs a row); second (same settings, from the cache): {second:.2f} s")
    for name, (load_gaps, load_s, check_gaps, check_s) in phases.items():
        print(f"{name} pass: loading {load_s:.1f} s (max stall {max(load_gaps):.0f} ms), checking {check_s:.1f} s "
              f"(max stall {max(check_gaps):.0f} ms)")
    print(f"event-loop stall p50 {np.percentile(gaps, 50):.1f} ms, p99 {np.percentile(gaps, 99):.1f} ms; idle "
          f"baseline p50 {np.percentile(idle_gaps, 50):.1f} ms, p99 {np.percentile(idle_gaps, 99):.1f} ms")
    print(f"load average while measuring: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    met = report("inspector second pass / first pass time", f"{second / first:.3f}", "<= 0.1: the cache is read",
                 second / first <= 0.1, f"first pass {first:.1f} s on {args.rows:,} conversations")
    met &= report("event-loop max stall while checking rows", f"{gaps.max():.0f} ms", "<= 100 ms", gaps.max() <= 100,
                  f"idle event loop {max(idle_gaps):.0f} ms over {IDLE_S:g} s")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
