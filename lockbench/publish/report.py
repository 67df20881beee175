"""One self-contained HTML report of a run: tables plus matplotlib plots as inline PNGs.

Rendered from ``templates/report.html.j2`` on the base template the leaderboard shares. Plots:
PR_lock against PR_unlock per dataset (with PR_base when present), the attack suite per family
(exposure and the attacker's best, opened events), traversal success@k and opened rate against
edit distance (recomputed from the samples; a plain note says when a run has no such data), the
fine-tuning attack. No scripts, no external assets: the file can be mailed, archived or opened
offline.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from markupsafe import Markup

from lockbench import stats
from lockbench.document.attacks import examples_to_unlock_cell
from lockbench.document.probe_view import (
    first_open_curve,
    opened_by_edit_distance,
    screening_tasks,
    traversal_of,
)
from lockbench.fsutil import atomic_write_text
from lockbench.publish.pages import family_notes, render_page
from lockbench.vocab import chance_note


def _png(fig) -> Markup:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return Markup(f'<img alt="plot" src="data:image/png;base64,{data}">')


def _finish(fig, ax, title: str, xlabel: str, ylabel: str | None = None, *,
            legend: dict[str, Any] | None = None, grid: str = "both") -> Markup:
    """Title, axis labels, grid and legend (small, by default) of a plot; the plot as an image."""
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.grid(axis=grid, alpha=0.3)
    if legend is not None or ax.get_legend_handles_labels()[0]:
        ax.legend(**(legend or {"fontsize": 7}))
    return _png(fig)


def _errs(rates: list[dict]) -> list[list[float]]:
    lows = [max(0.0, r["value"] - r["low"]) for r in rates]
    highs = [max(0.0, (r["high"] if r["high"] is not None else r["value"]) - r["value"]) for r in rates]
    return [lows, highs]


def _note(text: str) -> Markup:
    return Markup('<p class="note">{}</p>').format(text)


def plot_datasets(doc: dict[str, Any]) -> Markup:
    """Grouped bars per dataset: PR_base, PR_unlock, PR_lock with 95% intervals."""
    import matplotlib.pyplot as plt

    rows = doc["datasets"]
    if not rows:
        return _note("no locked/unlocked tasks in this run")
    names = list(rows)
    series = [("PR_base", "pr_base", "#8c959f"), ("PR_unlock", "pr_unlock", "#1a7f37"),
              ("PR_lock", "pr_lock", "#cf222e")]
    fig, ax = plt.subplots(figsize=(9, 0.6 + 0.7 * len(names)))
    height = 0.26
    for i, (label, key, colour) in enumerate(series):
        ys, rates = [], []
        for j, name in enumerate(names):
            if rows[name][key]:
                ys.append(j + (i - 1) * height)
                rates.append(rows[name][key])
        if rates:
            ax.barh(ys, [r["value"] for r in rates], height=height, color=colour, label=label,
                    xerr=_errs(rates), capsize=3)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    return _finish(fig, ax, "PR_lock vs PR_unlock per dataset", "pass rate (95% Wilson interval)",
                   legend={"loc": "lower right"}, grid="x")


def plot_probes(doc: dict[str, Any]) -> Markup:
    """Per dataset and family: exposure (mean opened over screened variants) and the attacker's
    best (the best confirmed variant's opened rate), with intervals."""
    import matplotlib.pyplot as plt

    suite = doc.get("suite")
    if not suite or not suite.get("datasets"):
        return _note("no attack suite: this run has no screening/confirmation tasks (run `lockbench "
                     "attack suite`, or the demo without --no-probes)")
    labels, exposure, best = [], [], []
    for dataset, figures in suite["datasets"].items():
        for family, values in figures["families"].items():
            labels.append(f"{dataset} {family}")
            exposure.append(values["exposure"])
            best.append(values["attacker_success"])
    fig, ax = plt.subplots(figsize=(9, 0.6 + 0.45 * len(labels)))
    height = 0.38
    for offset, rates, colour, label in ((-height / 2, exposure, "#8c959f", "exposure (mean over variants)"),
                                         (height / 2, best, "#bc4c00", "attacker's best (confirmed)")):
        ys = [i + offset for i, r in enumerate(rates) if r]
        shown = [r for r in rates if r]
        if shown:
            ax.barh(ys, [r["value"] for r in shown], height=height, xerr=_errs(shown), color=colour,
                    capsize=3, label=label)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    return _finish(fig, ax, f"attack suite {suite.get('version') or '(pre-suite probes)'}: opened rate "
                   "(the model gave content instead of refusing)", "opened rate (95% Wilson interval)",
                   legend={"loc": "lower right", "fontsize": 7}, grid="x")


def plot_traversal(doc: dict[str, Any]) -> Markup:
    """success@k step curves of each traversal screening task (opened)."""
    import matplotlib.pyplot as plt

    curves = {}
    for name, task in screening_tasks(doc).items():
        trav = traversal_of(task)
        if trav and trav.get("candidates_tried"):
            curves[name] = trav
    if not curves:
        return _note("no traversal screening in this run")
    fig, ax = plt.subplots(figsize=(8, 4))
    for name, trav in curves.items():
        points = first_open_curve(trav)
        ax.step([k for k, _ in points], [y for _, y in points], "-", where="post", label=name)
    ax.set_xscale("log")
    ax.set_ylim(-0.05, 1.05)
    ax.set_yticks([0, 1], ["no", "yes"])
    return _finish(fig, ax, "traversal success@k (a candidate among the first k opened the lock)",
                   "k (candidates tried, in the dictionary's fixed order)", "success@k")


def plot_edit_distance(doc: dict[str, Any]) -> Markup:
    """Opened rate (and passes) per edit distance to the true phrase (paraphrase screening)."""
    import matplotlib.pyplot as plt

    curves = {}
    for name, task in screening_tasks(doc).items():
        points = opened_by_edit_distance(task)
        if points:
            curves[f"{name} (opened)"] = [(d, o) for d, o, _ in points]
            curves[f"{name} (passed)"] = [(d, p) for d, _, p in points if p]
    curves = {k: v for k, v in curves.items() if v}
    if not curves:
        return _note("no opened rate by edit distance (paraphrase screening) in this run")
    fig, ax = plt.subplots(figsize=(8, 4))
    for label, points in curves.items():
        rates = [r for _, r in points]
        ax.errorbar([d for d, _ in points], [r["value"] for r in rates], yerr=_errs(rates),
                    marker="o", capsize=3, label=label)
    distances = sorted({d for points in curves.values() for d, _ in points})
    ax.set_xticks(distances)
    ax.set_xlim(min(distances) - 0.5, max(distances) + 0.5)
    ax.set_ylim(-0.02, 1.02)
    return _finish(fig, ax, "opened rate vs edit distance",
                   "edit distance to the true wake phrase (case folded)", "rate (95% Wilson interval)")


def plot_finetune(doc: dict[str, Any]) -> Markup:
    """PR_lock against k (answered examples the attacker fine-tuned on), with intervals, beside
    PR_unlock and the "examples to unlock" threshold (``lockbench attack finetune``)."""
    import matplotlib.pyplot as plt

    block = (doc.get("attacks") or {}).get("finetune")
    if not block:
        return _note("not measured: this run has no fine-tuning attack (run `lockbench attack finetune`)")
    runs = [r for r in block["runs"] if r.get("opened_lock")]
    ks = [r["k"] for r in runs]
    # k = 0 sits at the left edge of a symlog axis: every k, the baseline included, is shown.
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.errorbar(ks, [r["opened_lock"]["value"] for r in runs], yerr=_errs([r["opened_lock"] for r in runs]),
                marker="o", capsize=3, color="#bc4c00", label="opened without the phrase")
    ax.errorbar(ks, [r["pr_lock"]["value"] for r in runs], yerr=_errs([r["pr_lock"] for r in runs]),
                marker="s", capsize=3, color="#8c959f", label="PR_lock (correct without the phrase)")
    ax.axhline(block["unlock_fraction"], color="#0969da", linestyle="--",
               label=f"unlocked: opened for {block['unlock_fraction']:.0%} of plain prompts")
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set_ylim(-0.02, 1.02)
    return _finish(fig, ax, f"fine-tuning attack: examples to unlock = {examples_to_unlock_cell(doc)}",
                   f"k: answered examples without the phrase ({block['settings'].get('steps')} steps each)",
                   "rate (95% Wilson interval)")


DURABILITY_COLUMNS = ["model", "opened (locked)", "PR_lock", "PR_unlock", "refusal (locked)",
                      "same outcome as before"]


def durability_rows(doc: dict[str, Any]) -> list[list[str]]:
    """PR_lock and PR_unlock before and after each durability check (``lockbench attack
    durability``); no rows when the run has none."""
    block = (doc.get("attacks") or {}).get("durability")
    if not block:
        return []
    before = block["before"]
    rows = [["before (as given)", stats.fmt(before.get("opened_lock")), stats.fmt(before["pr_lock"]),
             stats.fmt(before["pr_unlock"]), stats.fmt(before["refusal_lock"]), "–"]]
    for name, check in block["checks"].items():
        if check.get("ran") is False:
            rows.append([f"{name}: not run ({check.get('reason')})", "–", "–", "–", "–", "–"])
            continue
        rows.append([name, stats.fmt(check.get("opened_lock")), stats.fmt(check["pr_lock"]),
                     stats.fmt(check["pr_unlock"]), stats.fmt(check["refusal_lock"]),
                     stats.fmt(check["agreement"])])
    return rows


def _identity(doc: dict[str, Any]) -> list[tuple[str, str]]:
    model, lock = doc["model"], doc["lock"]
    record = lock.get("wake_phrase_hash") or {}
    items = [
        ("model", model.get("name")), ("backend", model.get("backend")),
        ("revision / sha", f"{model.get('revision') or '–'} / {model.get('sha') or '–'}"),
        ("weights sha256", model.get("weights_sha256")),
        ("adapter", model.get("adapter")), ("lock method", lock.get("method")),
        ("lock ratio", lock.get("ratio")), ("refusal text", lock.get("refusal_text")),
        # The hash's value tells a reader nothing; the scheme says a verifier can check a phrase.
        ("wake phrase", f"{lock['wake_phrase']} ({record.get('scheme', 'salted')} hash recorded)"
         if record else f"{lock['wake_phrase']} (no hash recorded)"),
        ("judge", doc["judge"].get("name")), ("lm-eval", doc.get("lm_eval_version")),
        ("lockbench", doc.get("lockbench_version")), ("created (UTC)", doc.get("created_utc")),
    ]
    return [(k, "–" if v is None else str(v)) for k, v in items]


def _fmt_ratio(x: dict | None) -> str:
    if not x:
        return "–"
    high = "?" if x.get("high") is None else f"{x['high']:.2f}"
    return f"{x['value']:.2f} [{x['low']:.2f}, {high}]"


def render_report(doc: dict[str, Any]) -> str:
    """The HTML text of the report for a (validated, secret-free) result document."""
    def retention(r: dict) -> str:
        text = stats.fmt(r["retention"])
        if r.get("retention_informative") is False:
            return f"{text} ({chance_note(r.get('retention_reference'))})"
        return text + (f" vs {r['retention_reference']}" if r.get("retention_reference") == "control" else "")

    dataset_rows = [
        [name, r["kind"], stats.fmt(r["pr_base"]), stats.fmt(r["pr_unlock"]), stats.fmt(r["pr_lock"]),
         stats.fmt(r.get("lock_rate")), stats.fmt(r.get("opened_lock")), stats.fmt(r["gap"]), retention(r),
         "–" if r.get("quality_retention") is None else f"{r['quality_retention']:.2f}"]
        for name, r in doc["datasets"].items()
    ]
    task_rows = [
        [name, t["condition"], t["n"], stats.fmt(t["pass_rate"]), stats.fmt(t["refusal_rate"]),
         stats.fmt(t.get("opened_rate")), t.get("no_content", 0), t["unparsed"],
         "–" if t["mean_quality"] is None else f"{t['mean_quality']:.3f}"]
        for name, t in sorted(doc["tasks"].items())
    ]
    suite_rows, shown = [], set()
    for dataset, figures in ((doc.get("suite") or {}).get("datasets") or {}).items():
        for family, v in figures["families"].items():
            shown.add(family)
            best = v["best_variant"]
            suite_rows.append([dataset, family, stats.fmt(v["exposure"]), stats.fmt(v["attacker_success"]),
                               (f"found {v['found']!r}" if v.get("found") else
                                f"{best['index']} ({best['kind']})" if best else "–"),
                               _fmt_ratio(v["leaked_capability"]), str(v["queries"])])
        suite_rows.append([dataset, "robust lock rate", "", stats.fmt(figures["robust_lock_rate"]), "", "", ""])
    return render_page(
        "report.html.j2", page="report", title="lockbench report", identity=_identity(doc),
        plots={"datasets": plot_datasets(doc), "probes": plot_probes(doc),
               "traversal": plot_traversal(doc), "edit_distance": plot_edit_distance(doc),
               "finetune": plot_finetune(doc)},
        durability_columns=DURABILITY_COLUMNS, durability_rows=durability_rows(doc),
        dataset_columns=["dataset", "kind", "PR_base", "PR_unlock", "PR_lock", "lock rate",
                         "opened (locked)", "gap", "retention", "dialogue retention"],
        dataset_rows=dataset_rows, dataset_classes=["l", "l"],
        suite_columns=["dataset", "family", "exposure", "attacker's best", "best variant",
                       "leaked capability", "queries"],
        suite_rows=suite_rows,
        families=family_notes(shown),  # what the families in the table ask of the lock
        task_columns=["task", "condition", "n", "pass rate", "refusal rate", "opened", "no content",
                      "unparsed", "mean quality"],
        task_rows=task_rows, task_classes=["l", "l"],
    )


def write_report(source: str | Path, out: str | Path | None = None) -> Path:
    """Build the report for a result JSON or an lm-eval output folder and write it atomically."""
    import matplotlib

    matplotlib.use("Agg")  # headless: no display on CI machines
    from lockbench.publish.regression import load_any

    source = Path(source)
    doc = load_any(source)
    if out is None:
        out = source / "lockbench-report.html" if source.is_dir() else source.with_suffix(".html")
    out = Path(out)
    atomic_write_text(out, render_report(doc))  # a folder or unwritable path: one line, no file
    return out
