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
    FAMILY, "logprobs", "the answer letters ranked by log-likelihood under the plain locked prompt",
    {"loglikelihood": "the four answer letters scored by log-likelihood, no phrase, no generation"},
    "4 x items (one log-likelihood request per answer letter)", _cost,
    runner="lockbench.lmeval.probe_docs:build_latent_docs", extras=("accuracy_vs_chance",),
)
