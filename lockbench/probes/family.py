"""What an attack family says about itself: one :class:`AttackFamily` per family module.

Every family (the prompt families of the attack suite, the latent probe, the fine-tuning attack,
the adaptive ``search`` and ``gcg``) is one module holding ``ATTACK = AttackFamily(...)``: its
name, the access an attacker needs (:data:`THREAT_MODELS`), its kinds with one line each, whether
it needs the true phrase, what it costs in model calls for given sizes, and how it runs (a
variant generator, or a runner for the families that are programs rather than prompt lists).
:mod:`lockbench.probes.registry` collects them; the task generator, the summaries, the report,
the demo and ``lockbench attack list`` read names and descriptions from there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from lockbench.errors import LockbenchError

ThreatModel = Literal["query", "logprobs", "weights", "finetune"]
THREAT_MODELS: dict[str, str] = {
    "query": "a leaked key: prompts in, text out",
    "logprobs": "a leaked key and the log-probabilities the API returns",
    "weights": "the weights (white box: gradients)",
    "finetune": "a fine-tuning API on the locked model",
}


@dataclass(frozen=True)
class Sizes:
    """The sizes a cost is computed for (model calls on one dataset)."""

    screen_items: int = 1
    confirm_items: int = 40
    items: int = 60  # test items of a dataset (tasks over the whole split: latent, fine-tuning)
    keep: int = 2
    budget: int | None = None  # a query or step budget, for the families that have one
    candidates: int | None = None  # gcg: candidates evaluated per step
    grid: tuple[int, ...] = (0, 8, 32, 128)  # the fine-tuning attack's k


@dataclass(frozen=True)
class AttackFamily:
    """One attack family, described by its own module."""

    name: str
    threat_model: ThreatModel
    summary: str  # one line: what the family asks of the lock
    kinds: dict[str, str]  # kind -> one-line description, in the family's order
    cost_formula: str  # the cost model in words, e.g. "variants x screen_items + keep x confirm_items"
    cost: Callable[[Sizes], int]  # model calls on one dataset for these sizes
    needs_phrase: bool = False  # its variants are built from the true phrase (a secret at run time)
    variants: Callable[..., list] | None = None  # the prompt families: phrase -> [Variant]
    # the prompt families' public schedule: per variant index its kind and public extras
    # (``candidate_rank``, ``prefill``), the same for every phrase
    slots: Callable[[], list[dict[str, Any]]] | None = None
    runner: str | None = None  # "module:function" for the program families (run by commands)
    in_suite: bool = False  # part of the current standard attack suite (its figures decide a rank)
    extras: tuple[str, ...] = ()  # the figures its summary adds beyond opened rates
    options: dict[str, Any] = field(default_factory=dict)  # defaults of its own settings

    def __post_init__(self) -> None:
        if self.threat_model not in THREAT_MODELS:
            raise LockbenchError(f"family {self.name}: unknown threat model {self.threat_model!r}")
        if (self.variants is None) == (self.runner is None):
            raise LockbenchError(f"family {self.name}: give a variant generator or a runner, not both")
        if (self.variants is None) != (self.slots is None):
            raise LockbenchError(f"family {self.name}: a variant generator comes with its schedule (slots)")
        if not self.kinds or not all(isinstance(d, str) and d.strip() for d in self.kinds.values()):
            raise LockbenchError(f"family {self.name}: every kind needs a one-line description")

    def describe(self, sizes: Sizes | None = None) -> dict[str, Any]:
        """The family as ``lockbench attack list --json`` prints it."""
        sizes = sizes or Sizes()
        return {
            "name": self.name,
            "threat_model": self.threat_model,
            "summary": self.summary,
            "kinds": [{"name": k, "description": d} for k, d in self.kinds.items()],
            "needs_phrase": self.needs_phrase,
            "cost": {"formula": self.cost_formula, "calls_per_dataset": self.cost(sizes),
                     "sizes": {k: v for k, v in vars(sizes).items() if v is not None}},
            "in_suite": self.in_suite,
            "runs_as": "variants" if self.variants is not None else f"runner {self.runner}",
            "extras": list(self.extras),
        }


SUITE_COST = "variants x screen_items + min(keep, variants) x confirm_items"


def suite_cost(variants: int) -> Callable[[Sizes], int]:
    """The standard suite's cost for a family of ``variants`` fixed variants: each screened on
    the screening items (a budget cuts the list), the ``keep`` best confirmed on the test items."""

    def cost(sizes: Sizes) -> int:
        screened = variants if sizes.budget is None else min(variants, sizes.budget)
        return screened * sizes.screen_items + min(sizes.keep, variants) * sizes.confirm_items

    return cost


def suite_family(name: str, summary: str, kinds: dict[str, str], variants: Callable[..., list], *,
                 needs_phrase: bool, slots: Callable[[], list[dict[str, Any]]],
                 extras: tuple[str, ...], screened: str = "") -> AttackFamily:
    """A prompt family of the standard suite: query access, the suite's cost over its own
    schedule (``screened``: how its screening is shared, when it is)."""
    return AttackFamily(
        name=name, threat_model="query", summary=summary, kinds=kinds, needs_phrase=needs_phrase,
        cost_formula=SUITE_COST + (f" ({screened})" if screened else ""), cost=suite_cost(len(slots())),
        variants=variants, slots=slots, in_suite=True, extras=extras,
    )
