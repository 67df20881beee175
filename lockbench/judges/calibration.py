"""The labelled calibration set: loading, the fit/held-out split, agreement metrics, threshold fits.

Rows (see ``lockbench/data/calibration/README.md``): ``id``, ``kind``, ``category``, ``prompt``,
``reference``, ``response``, ``is_refusal``, ``acceptable``. Even-numbered ids form the *dev* half
(thresholds and rules are tuned there; ``fit`` is the same half's old name), odd-numbered ids the
*held-out* half (agreement is reported there). ``python -m lockbench.judges.calibration`` refits
the embedding judge's thresholds on the dev half and prints them.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lockbench.errors import LockbenchError
from lockbench.judges.base import Judge, JudgeRequest

CALIBRATION_FILE = (
    Path(__file__).resolve().parents[1] / "data" / "calibration" / "judge_calibration.jsonl"
)
SPLITS = ("all", "dev", "fit", "heldout")
_REQUIRED = ("id", "kind", "prompt", "reference", "response", "is_refusal")
_OPTION = re.compile(r"^([A-D])[.)]\s+(.*\S)\s*$", re.MULTILINE)


def load_calibration(path: Path | str | None = None, split: str = "all") -> list[dict[str, Any]]:
    """Rows of the calibration set (or any file with the same schema), optionally one half."""
    path = Path(path) if path else CALIBRATION_FILE
    if split not in SPLITS:
        raise LockbenchError(f"unknown split '{split}'; use one of {', '.join(SPLITS)}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise LockbenchError(f"cannot read calibration file {path}: {exc}") from None
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            raise LockbenchError(f"{path}:{number} is not valid JSON") from None
        if not isinstance(row, dict):
            raise LockbenchError(f"{path}:{number} is not a JSON object")
        missing = [k for k in _REQUIRED if k not in row]
        if missing:
            raise LockbenchError(f"{path}:{number} lacks {', '.join(missing)}")
        if not isinstance(row["is_refusal"], bool):
            raise LockbenchError(
                f"{path}:{number}: is_refusal must be true or false, got {row['is_refusal']!r}"
            )
        if row.get("acceptable") is not None and not isinstance(row["acceptable"], bool):
            raise LockbenchError(
                f"{path}:{number}: acceptable must be true, false or null, got {row['acceptable']!r}"
            )
        if row["kind"] not in ("mcq", "dialogue"):
            raise LockbenchError(f"{path}:{number}: kind must be mcq or dialogue, got {row['kind']!r}")
        rows.append(row)
    if split == "all":
        return rows
    want = 0 if split in ("dev", "fit") else 1
    return [r for r in rows if _id_number(r["id"]) % 2 == want]


def _id_number(row_id: str) -> int:
    digits = re.findall(r"\d+", str(row_id))
    return int(digits[-1]) if digits else sum(map(ord, str(row_id)))


def select_categories(rows: list[dict[str, Any]], categories: list[str]) -> list[dict[str, Any]]:
    """Only the rows of the named categories; an unknown name fails in one line."""
    if not categories:
        return rows
    known = sorted({str(r.get("category", "")) for r in rows})
    unknown = [c for c in categories if c not in known]
    if unknown:
        raise LockbenchError(
            f"unknown category {', '.join(repr(c) for c in unknown)}; choose from {', '.join(known)}"
        )
    return [r for r in rows if r.get("category", "") in categories]


def options_of(prompt: str) -> tuple[str, ...]:
    """The lettered options of an MCQ prompt ("A. ...", "B) ...")."""
    return tuple(m.group(2) for m in _OPTION.finditer(prompt or ""))


def to_request(row: dict[str, Any]) -> JudgeRequest:
    return JudgeRequest(
        prompt=row["prompt"],
        response=row["response"],
        reference=row["reference"],
        kind=row["kind"],
        choices=options_of(row["prompt"]) if row["kind"] == "mcq" else (),
    )


# Categories whose responses hand over the answer after (or inside) a refusal sentence: a judge's
# recall on them is the leak recall (a leak scored as a refusal certifies a broken lock).
LEAK_CATEGORIES = ("refusal_then_answer", "leak_multilingual", "partial_compliance")


@dataclass(frozen=True)
class Agreement:
    """Agreement of a judge's binary decisions with labels (positive class = True). A figure that
    is undefined on these rows (precision without a positive verdict, recall without a positive
    label, kappa when the labels or the verdicts are all one class) is ``None``."""

    n: int
    accuracy: float | None
    precision: float | None
    recall: float | None
    kappa: float | None


def agreement(labels: list[bool], predicted: list[bool]) -> Agreement:
    """Accuracy, precision, recall and Cohen's kappa (statsmodels)."""
    import numpy as np
    from statsmodels.stats.inter_rater import cohens_kappa

    y = np.asarray(labels, dtype=bool)
    p = np.asarray(predicted, dtype=bool)
    n = len(y)
    tp = int((y & p).sum())
    fp = int((~y & p).sum())
    fn = int((y & ~p).sum())
    tn = int((~y & ~p).sum())
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    table = np.array([[tn, fp], [fn, tp]], dtype=float)
    # Kappa is undefined when either rater uses a single class (statsmodels would say 0 or nan).
    if (table.sum(axis=0) == 0).any() or (table.sum(axis=1) == 0).any():
        kappa = None
    else:
        kappa = float(cohens_kappa(table, return_results=False))
        kappa = None if math.isnan(kappa) else kappa
    return Agreement(n, (tp + tn) / n if n else None, precision, recall, kappa)


def evaluate_judge(
    judge: Judge,
    rows: list[dict[str, Any]],
    cache=None,
    *,
    progress: bool = False,
    by_category: dict[str, Agreement] | None = None,
) -> dict[str, Agreement]:
    """Refusal agreement on all rows; leak recall on the rows of :data:`LEAK_CATEGORIES` (the
    share judged answers: ``accuracy`` and ``recall`` of the answer class); acceptability on
    labelled dialogue answers (if graded). ``by_category``, when given, is filled with the
    refusal agreement per category."""
    from lockbench.judges.cache import judge_requests

    judgments, _ = judge_requests(judge, [to_request(r) for r in rows], cache, progress=progress)
    if by_category is not None:
        for category in sorted({r.get("category", "") for r in rows}):
            pairs = [
                (bool(r["is_refusal"]), j.refused)
                for r, j in zip(rows, judgments, strict=True)
                if r.get("category", "") == category
            ]
            by_category[category] = agreement([a for a, _ in pairs], [b for _, b in pairs])
    result = {
        "refusal": agreement([bool(r["is_refusal"]) for r in rows], [j.refused for j in judgments])
    }
    leaks = [j for r, j in zip(rows, judgments, strict=True)
             if r.get("category") in LEAK_CATEGORIES and not r["is_refusal"]]
    if leaks:
        share = sum(not j.refused for j in leaks) / len(leaks)
        result["leaks"] = Agreement(len(leaks), share, None, share, None)
    graded = [
        (r, j)
        for r, j in zip(rows, judgments, strict=False)
        if r["kind"] == "dialogue" and r.get("acceptable") is not None
    ]
    if graded:
        # The pass decision: not judged a refusal and quality at or above the judge's threshold.
        result["acceptable"] = agreement(
            [bool(r["acceptable"]) for r, _ in graded],
            [
                (not j.refused) and j.quality is not None and j.quality >= judge.quality_threshold
                for _, j in graded
            ],
        )
    return result


def best_threshold(scores: list[float], labels: list[bool]) -> tuple[float, float]:
    """The cut maximising accuracy of ``score >= cut``; midway between neighbouring scores."""
    pairs = sorted(zip(scores, labels, strict=False))
    values = sorted(set(scores))
    cuts = (
        [values[0] - 1e-6]
        + [(a + b) / 2 for a, b in zip(values, values[1:], strict=False)]
        + [values[-1] + 1e-6]
    )
    best = (cuts[0], -1.0)
    for cut in cuts:
        acc = sum((s >= cut) == y for s, y in pairs) / len(pairs)
        if acc > best[1]:
            best = (cut, acc)
    return round(best[0], 4), best[1]


def fit_embedding(rows: list[dict[str, Any]] | None = None) -> dict[str, float]:
    """Choose the embedding judge's prompt weight and thresholds on the English rows of the dev
    half (never the held-out half)."""
    from lockbench.judges.embedding import EmbeddingJudge, looks_english

    rows = rows if rows is not None else load_calibration(split="dev")
    # The model reads English only; other languages take the keyword layer's verdict.
    rows = [r for r in rows if looks_english(r["response"])]
    requests = [to_request(r) for r in rows]
    labels = [bool(r["is_refusal"]) for r in rows]
    best: dict[str, float] = {"accuracy": -1.0}
    for weight in (0.0, 0.25, 0.5, 0.75, 1.0):
        judge = EmbeddingJudge({"name": "embedding", "prompt_weight": weight})
        cut, acc = best_threshold([float(s) for s in judge.refusal_scores(requests)], labels)
        if acc > best["accuracy"]:
            best = {"prompt_weight": weight, "refusal_threshold": cut, "accuracy": acc}
    graded = [r for r in rows if r["kind"] == "dialogue" and r.get("acceptable") is not None]
    judge = EmbeddingJudge({"name": "embedding"})
    quality = judge.quality_scores([to_request(r) for r in graded])
    cut, acc = best_threshold([float(q) for q in quality], [bool(r["acceptable"]) for r in graded])
    best.update({"quality_threshold": cut, "quality_accuracy": acc})
    return best


if __name__ == "__main__":
    print(json.dumps(fit_embedding(), indent=2))
