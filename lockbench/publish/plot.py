"""The leaderboard's plot as SVG geometry: what separates locks, labels that never collide.

x: the attacker's best opened rate (the worst family's best confirmed variant; lower is better),
y: utility retention (PR_unlock over the reference), both with their 95% intervals as whiskers.
A point whose retention is not informative (MCQ reference at chance) is drawn hollow. Each point
is labelled by its rank (letters for unranked rows) and the labels are placed greedily: the first
of a ring of positions around the point that overlaps no other label, marker or the frame;
failing that, a leader line to a free slot in the right margin. The names are in a legend below.
"""

from __future__ import annotations

import string
from typing import Any

from lockbench import stats

FRAME = {"width": 640, "height": 460, "left": 64, "right": 520, "top": 20, "bottom": 400}
CHAR_W, LABEL_H, MARKER_R = 7.0, 12.0, 4.0
# Offsets (dx, dy) of a label's centre from its point, nearest first.
RING = [(d * dx, d * dy) for d in (1, 2, 3) for dx, dy in
        ((12, -10), (12, 10), (-12, -10), (-12, 10), (0, -16), (0, 16), (18, 0), (-18, 0))]


def _y_max(rows: list[Any]) -> float:
    highs = [r.retention["high"] or r.retention["value"] for r in rows if r.retention]
    return max([1.5, *[min(h, 3.0) for h in highs]])


def _box(cx: float, cy: float, text: str) -> tuple[float, float, float, float]:
    w = CHAR_W * len(text) + 4
    return (cx - w / 2, cy - LABEL_H / 2, cx + w / 2, cy + LABEL_H / 2)


def _overlaps(a: tuple, b: tuple) -> bool:
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


def place_labels(points: list[dict[str, Any]]) -> None:
    """Give each point ``label_x``/``label_y`` (text centre) and, when it had to move to the
    margin, ``leader`` (a line back to the point). Deterministic: points in the given order."""
    taken = [(p["x"] - MARKER_R, p["y"] - MARKER_R, p["x"] + MARKER_R, p["y"] + MARKER_R) for p in points]
    inside = (FRAME["left"], FRAME["top"], FRAME["width"] - 2, FRAME["bottom"])
    margin_y = FRAME["top"] + LABEL_H
    for p in points:
        chosen = None
        p["leader"] = None
        for dx, dy in RING:
            box = _box(p["x"] + dx, p["y"] + dy, p["label"])
            within = box[0] >= inside[0] and box[1] >= inside[1] and box[2] <= inside[2] and box[3] <= inside[3]
            if within and not any(_overlaps(box, other) for other in taken):
                chosen = (p["x"] + dx, p["y"] + dy, box)
                break
        if chosen is None:  # a crowded spot: a slot in the right margin, with a leader line
            while True:
                box = _box(FRAME["right"] + 40, margin_y, p["label"])
                margin_y += LABEL_H + 2
                if not any(_overlaps(box, other) for other in taken):
                    break
            chosen = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2, box)
            p["leader"] = {"x1": p["x"], "y1": p["y"], "x2": box[0], "y2": chosen[1]}
        p["label_x"], p["label_y"] = round(chosen[0], 1), round(chosen[1], 1)
        taken.append(chosen[2])


def leaderboard_plot(ranked_rows: list[Any], other_rows: list[Any]) -> dict[str, Any]:
    """Pixel geometry for ``leaderboard.html.j2``: points, ticks, legend."""
    y_max = _y_max(ranked_rows + other_rows)

    def px(value: float) -> float:
        return round(FRAME["left"] + min(1.0, max(0.0, value)) * (FRAME["right"] - FRAME["left"]), 1)

    def py(value: float) -> float:
        value = min(y_max, max(0.0, value))
        return round(FRAME["bottom"] - value / y_max * (FRAME["bottom"] - FRAME["top"]), 1)

    labelled = [(str(i), r, True) for i, r in enumerate(ranked_rows, start=1)]
    letters = iter(string.ascii_lowercase * 4)
    labelled += [(next(letters), r, False) for r in other_rows]
    points, legend, left_out = [], [], 0
    for label, row, is_ranked in labelled:
        x, y = row.attacker_success, row.retention
        legend.append({"label": label, "text": f"{row.model} ({row.method})", "ranked": is_ranked})
        if not x or not y:
            left_out += 1
            continue
        high = y["high"] if y.get("high") is not None else y_max
        points.append({
            "label": label, "colour": "#1a7f37" if is_ranked else "#8c959f",
            "hollow": row.retention_informative is False,
            "title": f"{label} {row.model} ({row.method}): attacker's best opened {stats.fmt(x)}, "
                     f"retention {stats.fmt(y)}",
            "x": px(x["value"]), "x_low": px(x["low"]), "x_high": px(x["high"]),
            "y": py(y["value"]), "y_low": py(y["low"]), "y_high": py(high),
        })
    place_labels(points)
    x_ticks = [{"label": f"{v:.2f}", "pos": px(v)} for v in (0.0, 0.25, 0.5, 0.75, 1.0)]
    step = 0.25 if y_max <= 1.5 else 0.5
    y_ticks = [{"label": f"{v:.2f}", "pos": py(v)} for v in [i * step for i in range(int(y_max / step) + 1)]]
    return {**FRAME, "points": points, "x_ticks": x_ticks, "y_ticks": y_ticks, "legend": legend,
            "left_out": left_out, "one": py(1.0)}
