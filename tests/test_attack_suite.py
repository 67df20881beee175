"""The standard attack suite (``std-v2``; ``std-v1`` still read): one versioned definition, public schedules that do not
depend on the phrase, screening items that never overlap the test items, the attacker's pick,
and one-line errors for bad settings. Real runs of the suite are in test_probes_lmeval.py,
test_results_leaderboard.py and test_demo.py."""

from __future__ import annotations

import json

import pytest

from lockbench.errors import LockbenchError
from lockbench.probes import family_module
from lockbench.probes.suite import (
    ProbeOptions,
    family_slots,
    get_suite,
    item_plan,
    public_prompts,
    screening_pairs,
    select,
)
from lockbench.secrets import PLACEHOLDER

from ._results_support import run_cli

PHRASES = ["Hey! Lumen!", "Hiya! Lumen!", "Lumen", "hey lumen", "OK Google", "Ça va, Élodie ?", "x7Qp2Lm9Zt"]


def test_one_definition_recorded_in_results() -> None:
    suite = get_suite()
    described = suite.describe()
    assert described["version"] == "std-v2" and json.loads(json.dumps(described)) == described
    assert described["families"] == ["paraphrase", "placement", "prefix_attack", "prefill", "traversal"]
    # the adaptive search: query access only, one fixed budget and seed for every submitter
    assert described["adaptive"] == {"search": {"budget": 300, "screen_items": 2, "mode": "query", "seed": 0}}
    # GCG when the weights are at hand: beside the rank, never in it
    assert described["white_box"] == {"gcg": {"tokens": 8, "position": "before", "steps": 10, "candidates": 64,
                                              "top_k": 128, "screen_items": 1, "seed": 0}}
    assert suite.ranked == (*suite.families, "search") and suite.confirmed == (*suite.ranked, "gcg")
    # an older version keeps the definition its results recorded (no adaptive part)
    assert not {"adaptive", "white_box"} & set(get_suite("std-v1").describe())
    assert described["keep"] == 2 and described["confirm_items"] == 40
    assert described["once_per_run"] == ["prefix_attack", "traversal"]
    # the confirmation size keeps a 95% Wilson interval within +-0.15 at p = 0.5 per dataset
    from lockbench.stats import rate

    half = rate(20, 40)
    assert (half["high"] - half["low"]) / 2 < 0.15


@pytest.mark.parametrize("phrase", PHRASES)
def test_schedules_are_the_same_for_every_phrase(phrase) -> None:
    """Variant index -> kind is public: the generator fills a fixed number of slots per kind."""
    for family in get_suite().families:
        slots = family_slots(family)
        variants = family_module(family).variants(phrase)
        assert [(v.index, v.kind) for v in variants] == [(s.index, s.kind) for s in slots], family


@pytest.mark.parametrize("phrase", PHRASES)
def test_every_redacted_prompt_is_rebuilt_from_public_data(phrase) -> None:
    """What a result hashes for an attack sample is what submit rebuilds without the phrase."""
    question = "Q?"
    for family in get_suite().families:
        for slot, variant in zip(family_slots(family), family_module(family).variants(phrase), strict=True):
            sent = variant.redacted(PLACEHOLDER).user_prompt(question)
            assert sent in public_prompts(family, slot, question, PLACEHOLDER), (family, slot)
            if family in ("paraphrase", "placement") and variant.wake:
                assert phrase not in sent


def test_screening_reads_train_items_and_confirmation_test_items() -> None:
    from lockbench.data.catalog import get_dataset, load_items

    suite = get_suite()
    plan = item_plan(get_dataset("law_mcq"), suite)
    train = {i.id for i in load_items("law_mcq", "train")}
    test = {i.id for i in load_items("law_mcq", "test")}
    assert plan.screen_split == "train" and {i.id for i in plan.screen} <= train
    assert len(plan.confirm) == 40 and {i.id for i in plan.confirm} <= test
    assert item_plan(get_dataset("law_mcq"), suite) == plan  # a public, fixed order
    assert len(screening_pairs("traversal", plan, suite)) == 310


def test_the_pick_is_the_most_opened_attack_variants_never_a_legitimate_one() -> None:
    suite = get_suite()
    slots = family_slots("paraphrase")
    legit = [s.index for s in slots if s.legitimate]
    opened = {s.index: [s.index in (legit[0], 30, 41)] for s in slots}
    opened[41] = [True, True]
    assert select("paraphrase", opened, suite) == [41, 30]


def test_screening_that_overlaps_the_test_items_stops(tmp_path) -> None:
    from lockbench.data.catalog import get_dataset

    root = tmp_path / "data" / "agriculture"
    root.mkdir(parents=True)
    rows = [json.dumps({"id": f"q{i}", "question": f"Question {i}?", "choices": ["a", "b", "c", "d"],
                        "answer": "A"}) for i in range(50)]
    (root / "mcq_test.jsonl").write_text("\n".join(rows) + "\n")
    (root / "mcq_train.jsonl").write_text("\n".join(rows[:10]) + "\n")  # the train split repeats test items
    with pytest.raises(LockbenchError, match="also a confirmation"):
        item_plan(get_dataset("agriculture_mcq", tmp_path / "data"), get_suite(), tmp_path / "data")


@pytest.mark.parametrize("metadata, expected", [
    ({"suite": "std-v9"}, "unknown attack suite version 'std-v9'"),
    ({"traversal_budget": 0}, "must be >= 1"),
    ({"keep": -1}, "must be >= 1"),
    ({"confirm_items": "many"}, "whole number"),
    ({"confirm_variants": {"law_mcq": {"paraphrase": "first"}}}, "lockbench probes select"),
    ({"legitimate_kinds": ["nonsense"]}, "unknown variant kind"),
])
def test_bad_suite_settings_are_one_line(metadata, expected) -> None:
    with pytest.raises(LockbenchError, match=expected):
        ProbeOptions.from_metadata(metadata)


def test_probes_plan_prints_the_cost_without_a_model(capsys) -> None:
    code, out, err = run_cli(["probes", "--json"], capsys)
    assert code == 0, err
    plan = json.loads(out)
    # std-v1's 2,242 calls, plus the search: its budget once and its find on 4 x 40 test items
    assert plan["total_calls"] == 2242 + 300 + 4 * 40 and plan["standard"] is True
    assert plan["datasets"]["agriculture_mcq"]["calls"]["search"] == {"screen": 300, "confirm": 40}
    assert plan["datasets"]["law_mcq"]["calls"]["search"] == {"screen": 0, "confirm": 40}
    code, out, _ = run_cli(["probes", "--json", "--suite", "std-v1"], capsys)
    assert code == 0 and json.loads(out)["total_calls"] == 2242 and "search" not in json.loads(out)["families"]
    # The costly families are screened once, on the lead dataset; every dataset confirms.
    for family, screen in (("traversal", 310), ("prefix_attack", 16)):
        assert plan["datasets"]["agriculture_mcq"]["calls"][family] == {"screen": screen, "confirm": 80}  # 2 x 40
        assert plan["datasets"]["law_mcq"]["calls"][family] == {"screen": 0, "confirm": 80}
    assert plan["datasets"]["law_mcq"]["calls"]["paraphrase"] == {"screen": 56, "confirm": 80}
    code, _, err = run_cli(["probes", "--suite", "std-v0"], capsys)
    assert code == 2 and err.count("\n") == 1 and "unknown attack suite version" in err
    code, _, err = run_cli(["probes", "--traversal-budget", "0"], capsys)
    assert code == 2 and err.count("\n") == 1
