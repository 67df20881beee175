"""`lockbench report`: one self-contained HTML page, rendered in headless Chromium, not blank."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from lockbench.document.summarize import build_result

from ._results_support import copy_output, craft, run_cli, write
from .conftest import WAKE_PHRASE

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")



def _screenshot(page, tmp_path):
    png = tmp_path / "shot.png"
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}", f"--screenshot={png}",
        "--window-size=1200,900", page.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and png.is_file(), proc.stderr[-2000:]
    return png


def _not_blank(png) -> tuple[int, float]:
    """Distinct colours and the share of non-white pixels of a screenshot."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3)
    colours = len(np.unique(pixels, axis=0))
    non_white = float((pixels.min(axis=1) < 240).mean())
    return colours, non_white


@pytest.mark.chromium
def test_report_from_real_folder(lmeval_out, tmp_path, capsys) -> None:
    folder = copy_output(lmeval_out, tmp_path / "out")
    page = tmp_path / "report.html"
    code, out, err = run_cli(["report", folder, "-o", page], capsys)
    assert code == 0, err
    html = page.read_text()
    assert WAKE_PHRASE.lower() not in html.lower() and "lumen" not in html.lower()
    # datasets, probe attack success, unlock vs edit distance (the real run's paraphrase probe
    # has attack variants now: 2 items per variant over the whole variant list)
    assert html.count("data:image/png;base64,") == 3
    assert not re.search(r"(src|href)\s*=\s*\"(?!data:)|https?://|<script", html)
    assert "no probe data: the probe tasks ran no attack variants" not in html
    assert "no traversal screening in this run" in html  # no traversal task ran
    if CHROMIUM is None:
        pytest.skip("chromium not installed (apt-get install chromium): screenshot not checked")
    colours, non_white = _not_blank(_screenshot(page, tmp_path))
    assert colours > 50 and non_white > 0.05, (colours, non_white)


def test_report_notes_missing_probe_data(lmeval_out, tmp_path, capsys) -> None:
    template = build_result(lmeval_out)
    doc = craft(template, {"lockbench_agriculture_mcq_locked": [False] * 30 + [True] * 2,
                           "lockbench_agriculture_mcq_unlocked": [True] * 25 + [False] * 7})
    result = write(tmp_path / "r.json", doc)
    code, out, err = run_cli(["report", result], capsys)
    assert code == 0, err
    html = (tmp_path / "r.html").read_text()
    assert "no attack suite: this run has no screening/confirmation tasks" in html
    assert 'class="details families"' not in html  # no suite table, no family notes
    assert html.count("data:image/png;base64,") == 1


def test_report_bad_input(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "lockbench-result"')
    code, _, err = run_cli(["report", bad, "-o", tmp_path / "r.html"], capsys)
    assert code == 2 and err.count("\n") == 1 and "not valid JSON" in err
    assert not (tmp_path / "r.html").exists()


def test_report_says_what_each_family_it_shows_asks_of_the_lock(tmp_path, capsys) -> None:
    """The suite table's families (the committed demo: five families on four datasets) are
    described once each, in the families' own words (their modules, through the registry)."""
    from markupsafe import escape

    from lockbench.probes.registry import PROMPT_FAMILIES
    from lockbench.publish.pages import family_notes

    from .conftest import REPO

    demo = next(p for p in (REPO / "results" / "smollm2-135m-instruct-identitylock-demo").glob("*.json")
                if not p.name.endswith(".verify.json"))
    code, _, err = run_cli(["report", demo, "-o", tmp_path / "demo.html"], capsys)
    assert code == 0, err
    html = (tmp_path / "demo.html").read_text()
    summaries = {n["name"]: n["summary"] for n in family_notes()}
    for family in PROMPT_FAMILIES:
        assert summaries[family.name].startswith(family.summary)  # the family's own words
        note = f"<li><b>{family.name}</b> ({family.threat_model} access): {escape(summaries[family.name])} "
        assert html.count(note) == 1, family.name
        assert f"Kinds: {escape(', '.join(family.kinds))}.</li>" in html
