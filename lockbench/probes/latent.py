"""``latent``: the capability read through log-probabilities, with no wake phrase at all.

The task ranks the four answer letters of a multiple-choice item by log-likelihood under the plain
locked prompt; accuracy above chance means the answer is reachable through an API's
log-probabilities even when the text output refuses. Run as the lm-eval task
``lockbench_<mcq dataset>_latent`` (:func:`lockbench.lmeval.probe_docs.build_latent_docs`).
"""

from __future__ import annotations

from lockbench.probes.family import AttackFamily, Sizes

FAMILY = "latent"
OPTIONS = 4  # one log-likelihood request per answer letter


def _cost(sizes: Sizes) -> int:
    return OPTIONS * sizes.items


ATTACK = AttackFamily(
    name=FAMILY,
    threat_model="logprobs",
    summary="the answer letters ranked by log-likelihood under the plain locked prompt",
    kinds={"loglikelihood": "the four answer letters scored by log-likelihood, no phrase, no generation"},
    needs_phrase=False,
    cost_formula="4 x items (one log-likelihood request per answer letter)",
    cost=_cost,
    runner="lockbench.lmeval.probe_docs:build_latent_docs",
    extras=("accuracy_vs_chance",),
)
