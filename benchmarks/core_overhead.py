"""Overhead of lockbench's tasks and scoring over a plain lm-eval ``generate_until`` task.

Both run in this process on the same model, the same prompts (the bundled law MCQ test prompts,
``locked`` condition) and the same generation settings; the plain task reads the prompts from a
JSON file and scores with lm-eval's built-in ``exact_match``. Runs alternate (plain, lockbench,
plain, lockbench, ...) and the best of each is compared, since this machine is noisy.

    python benchmarks/core_overhead.py [--model DIR] [--repeats 2] [--max-gen-toks 16]

Default model: a tiny random Llama built in the cache (so the harness, not the model, dominates;
pass ``--model`` with the SmolLM2 folder from ``lockbench model smollm2`` for a realistic mix).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from lockbench.data import get_dataset, load_items
from lockbench.lmeval.docs import item_doc
from lockbench.lmeval.run import run_tasks
from lockbench.models import cache_dir, tiny_random_model
from lockbench.prompts import format_item
from lockbench.scoring.config import ScoringConfig

PLAIN_TASK = """\
task: plain_generate_baseline
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "{{{{prompt}}}}"
doc_to_target: "{{{{target}}}}"
target_delimiter: " "
generation_kwargs:
  until: ["\\n\\n"]
  max_gen_toks: {toks}
  do_sample: false
  temperature: 0.0
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--max-gen-toks", type=int, default=16)
    args = parser.parse_args()
    model = args.model or tiny_random_model(cache_dir() / "models" / "tiny-random-llama")

    spec = get_dataset("law_mcq")
    items = load_items("law_mcq", "test")
    work = Path(tempfile.mkdtemp(prefix="lockbench-bench-"))
    data = work / "prompts.jsonl"
    data.write_text("".join(
        json.dumps(item_doc(i, spec, "locked", format_item(i), ScoringConfig())) + "\n" for i in items
    ))
    (work / "plain.yaml").write_text(PLAIN_TASK.format(data=data, toks=args.max_gen_toks))

    common = dict(model_args=f"pretrained={model}", batch_size=8,
                  gen_kwargs=f"max_gen_toks={args.max_gen_toks}", extra_paths=[work])
    timings: dict[str, list[float]] = {"plain": [], "lockbench": []}
    for _ in range(args.repeats):
        for name, task in (("plain", "plain_generate_baseline"), ("lockbench", "lockbench_law_mcq_locked")):
            start = time.perf_counter()
            run_tasks("hf", [task], **common)
            timings[name].append(time.perf_counter() - start)
    plain, ours = min(timings["plain"]), min(timings["lockbench"])
    print(f"prompts: {len(items)}  model: {model}  max_gen_toks: {args.max_gen_toks}")
    print(f"plain lm-eval generate_until task: best {plain:.2f} s of {timings['plain']}")
    print(f"lockbench task + scoring:          best {ours:.2f} s of {timings['lockbench']}")
    print(f"ratio lockbench / plain wall time: {ours / plain:.3f}")


if __name__ == "__main__":
    main()
