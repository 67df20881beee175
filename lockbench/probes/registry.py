"""Every attack family lockbench knows, read from the families' own descriptions.

Prompt families (:data:`PROMPT_FAMILIES`) are imported here. Program families (fine-tuning,
``search``, ``gcg``) are programs that load models; their modules live in :mod:`lockbench.attacks`
and are loaded by name, on demand, like plugins (:data:`PROGRAM_MODULES`): listing them never
imports torch, and no module of this layer imports that package.
Adding a prompt family: one module with ``FAMILY``, ``variants`` and ``ATTACK``, listed here, then
``python tasks/lockbench/_generate_configs.py``; a program family: one module under
``lockbench/attacks/`` with ``ATTACK``, named in :data:`PROGRAM_MODULES`.
"""

from __future__ import annotations

import importlib

from lockbench.errors import LockbenchError
from lockbench.probes import latent, paraphrase, placement, prefill, prefix_attack, traversal
from lockbench.probes.family import AttackFamily

# In the order of the suite's tables.
PROMPT_FAMILIES: tuple[AttackFamily, ...] = (
    paraphrase.ATTACK, placement.ATTACK, prefix_attack.ATTACK, traversal.ATTACK, prefill.ATTACK,
)
OTHER_FAMILIES: tuple[AttackFamily, ...] = (latent.ATTACK,)
PROGRAM_MODULES: tuple[str, ...] = ("lockbench.attacks.finetune", "lockbench.attacks.search",
                                    "lockbench.attacks.gcg")


def program_families() -> tuple[AttackFamily, ...]:
    """The program families, each from its own module (imported now)."""
    found = []
    for name in PROGRAM_MODULES:
        attack = getattr(importlib.import_module(name), "ATTACK", None)
        if not isinstance(attack, AttackFamily):
            raise LockbenchError(f"{name} names no ATTACK = AttackFamily(...): a broken family module")
        found.append(attack)
    return tuple(found)


def all_families() -> dict[str, AttackFamily]:
    """Every family by name: prompt families, the latent probe, the program families."""
    return {f.name: f for f in (*PROMPT_FAMILIES, *OTHER_FAMILIES, *program_families())}


def get_family(name: object) -> AttackFamily:
    """One family by name; an unknown one stops with one line naming the known ones."""
    families = all_families()
    if isinstance(name, str) and name in families:
        return families[name]
    raise LockbenchError(f"unknown attack family {name!r}; use one of {', '.join(families)}")


def markdown() -> str:
    """``docs/attack-families.md``: every family, its threat model, kinds and cost model, written
    from the families' own descriptions (``lockbench attack list --markdown``; a test checks the
    committed file is current)."""
    from lockbench.probes.family import THREAT_MODELS, Sizes

    sizes = Sizes()
    lines = [
        "# Attack families",
        "",
        "Written by `lockbench attack list --markdown` from each family's own description",
        "(`ATTACK` in its module; `lockbench/probes/registry.py` lists the modules). Do not edit by hand.",
        "",
        "| family | threat model | needs the phrase | in the standard suite | model calls per dataset* |",
        "|---|---|---|---|---|",
    ]
    families = all_families()
    for f in families.values():
        lines.append(f"| `{f.name}` | {f.threat_model} | {'yes' if f.needs_phrase else 'no'} | "
                     f"{'yes' if f.in_suite else 'no'} | {f.cost(sizes)} |")
    lines += ["", f"\\* at the defaults: {sizes.screen_items} screening item, {sizes.confirm_items} confirmation items, "
              f"keep {sizes.keep}, {sizes.items} test items, search budget and gcg steps as below.", "",
              "Threat models: " + "; ".join(f"`{k}`: {v}" for k, v in THREAT_MODELS.items()) + ".", ""]
    for f in families.values():
        lines += [f"## `{f.name}`", "", f.summary[:1].upper() + f.summary[1:] + ".", "",
                  f"- threat model: `{f.threat_model}`; needs the phrase: {'yes' if f.needs_phrase else 'no'}",
                  f"- cost: {f.cost_formula}",
                  f"- runs as: {'variants (lm-eval tasks)' if f.variants is not None else f'`{f.runner}`'}"]
        if f.extras:
            lines.append(f"- reports: {', '.join(f.extras)}")
        lines += ["", "| kind | what it sends |", "|---|---|"]
        lines += [f"| `{kind}` | {text} |" for kind, text in f.kinds.items()]
        lines.append("")
    return "\n".join(lines)
