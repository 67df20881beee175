"""The repository's own results/: every committed run passes the full `submit` check (schema,
re-scoring of every response, binding to the bundled data, recomputation, no wake phrase, no
local path), sits at the path `lockbench submit` gives it, and the committed leaderboard pages
are what `lockbench leaderboard` builds from them. The demo entry carries its attack probes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from lockbench.commands.demo import DEMO_WAKE_PHRASE
from lockbench.experiments.wake_words import PHRASE_CLASSES
from lockbench.publish.leaderboard import HTML_NAME, MARKDOWN_NAME, build_leaderboard
from lockbench.publish.submit import accept, model_slug, run_id

RESULTS = Path(__file__).resolve().parents[1] / "results"
RUNS = sorted(p for p in RESULTS.glob("*/*.json") if p.is_file() and not p.name.endswith(".verify.json"))
WAKE_WORD_RUN = re.compile(r"-identitylock-wakeword-(?P<klass>[a-z]+)-s(?P<seed>\d+)$")


def phrase_of(path: Path) -> str:
    """The phrase a committed run was locked with: `experiment wake-words` runs use their class's
    public phrase, every other run the demo's."""
    found = WAKE_WORD_RUN.search(path.parent.name)
    return PHRASE_CLASSES[found["klass"]](int(found["seed"])) if found else DEMO_WAKE_PHRASE


def test_results_folder_has_the_demo_entry_with_probes():
    docs = [accept(path, phrase_of(path)) for path in RUNS]
    demos = [d for d in docs if d["model"]["name"].endswith("-identitylock-demo")]
    assert demos, [d["model"]["name"] for d in docs]
    conditions = {t["condition"] for t in demos[-1]["tasks"].values()}
    assert {"probe_paraphrase", "probe_placement", "probe_traversal"} <= conditions


@pytest.mark.parametrize("path", RUNS, ids=[p.relative_to(RESULTS).as_posix() for p in RUNS])
def test_committed_run_is_valid_recomputable_and_secret_free(path):
    phrase = phrase_of(path)
    doc = accept(path, phrase)  # schema, recomputation from samples, secret check
    assert path.parent.name == model_slug(doc["model"]["name"])
    assert path.stem == run_id(doc)
    assert phrase.casefold() not in path.read_text(encoding="utf-8").casefold()
    if phrase == DEMO_WAKE_PHRASE:
        assert "lumen" not in path.read_text(encoding="utf-8").lower()


def test_every_wake_word_class_and_seed_is_committed():
    found = {(m["klass"], int(m["seed"])) for p in RUNS if (m := WAKE_WORD_RUN.search(p.parent.name))}
    assert found == {(klass, seed) for klass in PHRASE_CLASSES for seed in (0, 1)}


def test_committed_leaderboard_is_fresh(tmp_path):
    copy = tmp_path / "results"
    shutil.copytree(RESULTS, copy)
    build_leaderboard(copy)
    for name in (MARKDOWN_NAME, HTML_NAME):
        assert (RESULTS / name).read_text(encoding="utf-8") == (copy / name).read_text(encoding="utf-8"), (
            f"results/{name} is stale; run `lockbench leaderboard`"
        )
