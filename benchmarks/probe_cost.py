"""Model calls of a standard probe run against the calls a naive probe run would need.

Runs the probe tasks (and the latent task) of one dataset through real lm-eval on a counting
model registered here (it answers instantly; what is measured is what lm-eval asks the model
for), twice in this process:
- baseline ("naive"): every variant on every test item (``probe_items`` = all items, traversal
  with every item per candidate), plus the variants the generators drop as duplicates;
- standard: the defaults (5 items per variant, 1 item per traversal candidate, whole dictionary).
It prints calls per family for both, the ratio, and checks that no prompt was sent twice in the
standard run (across all its tasks).

    python benchmarks/probe_cost.py [--dataset agriculture_mcq]

The wake phrase comes from $LOCKBENCH_WAKE_PHRASE (a demo phrase otherwise); it is never printed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import lm_eval.models  # noqa: E402, F401 - built-in models first, or registering ours hides them
from lm_eval.api.model import LM  # noqa: E402
from lm_eval.api.registry import MODEL_REGISTRY, register_model  # noqa: E402

from lockbench.data.catalog import get_dataset, load_items  # noqa: E402
from lockbench.lmeval.run import run_tasks  # noqa: E402
from lockbench.probes import FAMILIES, family_module, paraphrase  # noqa: E402

COUNTER = "lockbench-counting-model"


class CountingLM(LM):
    """Records every request; refuses every generation, gives every choice the same score."""

    prompts: Counter = Counter()
    by_task: Counter = Counter()

    @classmethod
    def create_from_arg_string(cls, arg_string, additional_config=None):
        return cls()

    def generate_until(self, requests, disable_tqdm: bool = False):
        for r in requests:
            CountingLM.prompts[r.args[0]] += 1
            CountingLM.by_task[r.task_name] += 1
        return ["I cannot help with that."] * len(requests)

    def loglikelihood(self, requests, disable_tqdm: bool = False):
        for r in requests:
            CountingLM.by_task[r.task_name] += 1
        return [(0.0, False)] * len(requests)

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
        raise NotImplementedError


if COUNTER not in MODEL_REGISTRY:
    register_model(COUNTER)(CountingLM)


def measure(tasks: list[str], metadata: dict) -> tuple[Counter, Counter]:
    CountingLM.prompts, CountingLM.by_task = Counter(), Counter()
    run_tasks(COUNTER, tasks, metadata=metadata, batch_size=1)
    return Counter(CountingLM.by_task), Counter(CountingLM.prompts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="agriculture_mcq")
    args = parser.parse_args()
    phrase = os.environ.get("LOCKBENCH_WAKE_PHRASE") or "Hey! Lumen!"
    spec = get_dataset(args.dataset)
    n_items = len(load_items(args.dataset, "test"))
    tasks = {f: f"lockbench_{args.dataset}_probe_{f}" for f in FAMILIES}
    if spec.kind == "mcq":
        tasks["latent"] = f"lockbench_{args.dataset}_latent"

    base = {"wake_phrase": phrase}
    naive_calls, _ = measure(list(tasks.values()), {**base, "probe_items": n_items, "traversal_items": n_items})
    std_calls, std_prompts = measure(list(tasks.values()), base)

    # Variants the generators removed before any call (collisions such as a case change that
    # leaves the phrase as it was): a naive generator would have sent them on every item too.
    dropped = {
        "paraphrase": paraphrase.nominal_count(phrase) - len(paraphrase.variants(phrase)),
        **{f: 0 for f in FAMILIES if f != "paraphrase"},
        "latent": 0,
    }
    print(f"dataset {args.dataset}: {n_items} test items; standard = 5 items/variant, 1 item/candidate")
    header = f"{'family':<14}{'variants':>9}{'naive calls':>13}{'standard calls':>16}{'ratio':>8}"
    print(header)
    print("-" * len(header))
    total_naive = total_std = 0
    for family, task in tasks.items():
        variants = len(family_module(family).variants(phrase)) if family in FAMILIES else n_items
        naive = naive_calls[task] + dropped[family] * n_items
        std = std_calls[task]
        total_naive += naive
        total_std += std
        print(f"{family:<14}{variants:>9}{naive:>13}{std:>16}{std / naive:>8.3f}")
    print("-" * len(header))
    print(f"{'total':<14}{'':>9}{total_naive:>13}{total_std:>16}{total_std / total_naive:>8.3f}")
    repeats = sum(n - 1 for n in std_prompts.values() if n > 1)
    print(f"generation prompts in the standard run: {sum(std_prompts.values())}, distinct: {len(std_prompts)}, repeated: {repeats}")
    return 1 if repeats else 0


if __name__ == "__main__":
    sys.exit(main())
