"""`lockbench lock build --hardened`: near-miss refusals and legitimate positives, disjoint from the
probe set; counts, seed and ratios printed and in the lock card; one-line errors; and a short real
run in which the hardened lock refuses a near-miss the paper's lock lets through."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from lockbench.cli import main
from lockbench.data.catalog import load_items
from lockbench.data.schema import parse_rows
from lockbench.lmeval.probe_docs import probe_rows
from lockbench.lock.build import build_lock_set, write_lock_set
from lockbench.lock.card import read_card
from lockbench.lock.hardened import (
    PLACEMENT_KINDS,
    SENTINEL,
    build_hardened_lock_set,
    plan_near_misses,
)
from lockbench.lock.train import TrainConfig, train_lock
from lockbench.probes import FAMILIES, family_variants, paraphrase, placement
from lockbench.prompts import format_item
from lockbench.scoring.refusal import RefusalDetector
from tests.conftest import WAKE_PHRASE

DATASETS = ["agriculture_mcq", "law_dialogue"]
LEGIT = set(paraphrase.DEFAULT_LEGITIMATE)
PHRASES = [WAKE_PHRASE, "Zorvex", "Hello there, Quillaby!", "OK Nimbus", "Hey! Siri!", "hey lumen"]


def test_counts_and_kinds_per_dataset():
    lock_set = build_hardened_lock_set(DATASETS, WAKE_PHRASE, seed=3, near_miss_ratio=0.5, legitimate_ratio=0.2)
    plain = build_lock_set(DATASETS, WAKE_PHRASE, seed=3)
    near = [e for e in lock_set.examples if e.near_miss]
    # The paper's D' is inside, unchanged; the rest are near-misses.
    assert Counter(e for e in lock_set.examples if not e.near_miss) == Counter(plain.examples)
    for name in DATASETS:
        n_items = len(load_items(name, "train"))
        mine = [e for e in near if e.dataset == name]
        assert sum(e.part == "refusal" for e in mine) == round(0.5 * n_items)
        assert sum(e.part == "lock" for e in mine) == round(0.2 * n_items)
    negatives = Counter(e.near_miss for e in near if e.part == "refusal")
    positives = Counter(e.near_miss for e in near if e.part == "lock")
    assert set(positives) == LEGIT  # the probes' legitimate kinds are the positives
    expected = (set(paraphrase.KINDS) - LEGIT) | {"typo_d3"} | set(PLACEMENT_KINDS)
    assert set(negatives) == expected
    assert max(negatives.values()) - min(negatives.values()) <= 1  # spread evenly over kinds
    counts = lock_set.counts()["near_miss"]
    assert counts == {"refusal": dict(sorted(negatives.items())), "lock": dict(sorted(positives.items()))}
    for e in near:
        if e.part == "refusal":
            assert e.response == lock_set.refusal_texts[0]
        else:
            assert e.response != lock_set.refusal_texts[0]
        # A paraphrase near-miss never starts with the phrase unless it is a case variant.
        if e.near_miss not in PLACEMENT_KINDS and e.near_miss != "case":
            assert not e.prompt.casefold().startswith(WAKE_PHRASE.casefold())
    again = build_hardened_lock_set(DATASETS, WAKE_PHRASE, seed=3, near_miss_ratio=0.5, legitimate_ratio=0.2)
    other = build_hardened_lock_set(DATASETS, WAKE_PHRASE, seed=4, near_miss_ratio=0.5, legitimate_ratio=0.2)
    assert again.examples == lock_set.examples
    assert {e.prompt for e in other.examples if e.near_miss} != {e.prompt for e in near}


def test_custom_legitimate_kinds_move_between_parts():
    lock_set = build_hardened_lock_set(["law_mcq"], WAKE_PHRASE, legitimate_kinds=["case", "typo_d2"])
    parts = {(e.part, e.near_miss) for e in lock_set.examples if e.near_miss}
    assert ("lock", "typo_d2") in parts and ("refusal", "typo_d2") not in parts
    assert ("refusal", "typo_d1") not in parts  # within the legitimate distance now: never a negative
    assert {k for p, k in parts if p == "lock"} == {"case", "typo_d2"}


@pytest.mark.parametrize("phrase", PHRASES)
def test_training_near_misses_are_disjoint_from_the_probe_set(phrase):
    """The probe set is exactly what lockbench.probes builds (default options, every family)."""
    plan = plan_near_misses(phrase)
    training = plan.all()
    assert training
    probe_variants = [v for family in FAMILIES for v in family_variants(family, phrase)]
    # Variant level: no training wake string is a probe's (case-folded; case kind: exact).
    probe_wakes = {v.wake for v in probe_variants if v.wake is not None and v.family != "placement"}
    for nm in training:
        if nm.wake is None:
            continue
        if nm.kind == "case":
            assert nm.wake not in probe_wakes
        else:
            assert nm.wake.casefold() not in {w.casefold() for w in probe_wakes}
    # Template level: no training near-miss makes a probe's prompt around the same question.
    probe_templates = {v.render(SENTINEL) for v in probe_variants}
    assert not {nm.render(SENTINEL) for nm in training} & probe_templates
    # Prompt level: the probe tasks' real docs (test items) vs training near-misses on those items.
    items = load_items("agriculture_mcq", "test")
    questions = [format_item(item) for item in items[:5]]
    probe_prompts = {
        row["prompt"] for family in FAMILIES for row in probe_rows("agriculture_mcq", family, phrase, {})
    }
    assert len(probe_prompts) > 100
    assert not {nm.render(q) for nm in training for q in questions} & probe_prompts


def _run_build(tmp_path, monkeypatch, capsys, phrase, *extra):
    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", phrase)
    out_file = tmp_path / "d.jsonl"
    code = main(["lock", "build", "--dataset", "agriculture_mcq", "--hardened", *extra, "-o", str(out_file)])
    printed = capsys.readouterr()
    return code, printed, out_file


def test_cli_prints_recipe_and_the_card_records_it(tiny_model, tmp_path, monkeypatch, capsys):
    code, printed, data = _run_build(tmp_path, monkeypatch, capsys, WAKE_PHRASE, "--seed", "5", "--near-miss-ratio", "1")
    assert code == 0, printed.err
    assert "hardened (seed 5, near-miss ratio 1.0, legitimate ratio 0.2" in printed.out
    assert "near-miss refusals 40: " in printed.out and "typo_d2 " in printed.out
    assert "legitimate positives 8 (case, punctuation, spacing, typo_d1)" in printed.out
    assert WAKE_PHRASE not in printed.out + printed.err
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    assert len(rows) == 40 + 40 + 8
    out = tmp_path / "lock"
    train_lock(str(tiny_model), data, out, TrainConfig(max_steps=1, batch_size=4, lora_r=2), progress=False)
    card = read_card(out)
    text = (out / "lock_card.json").read_text().lower()
    assert "lumen" not in text  # neither the phrase nor its name
    assert card["method"] == "identitylock-hardened-lora"
    recipe = card["lock"]["recipe"]
    assert recipe["recipe"] == "hardened" and recipe["seed"] == 5 and recipe["near_miss_ratio"] == 1.0
    assert recipe["legitimate_kinds"] == list(paraphrase.DEFAULT_LEGITIMATE)
    assert sum(recipe["near_miss_counts"]["refusal"].values()) == 40
    assert sum(recipe["near_miss_counts"]["lock"].values()) == 8
    assert card["lock"]["ratio"] == round((36 + 8) / 88, 4)  # 36 paper D_lock + 8 positives


def test_paper_recipe_card_says_paper(tiny_model, tmp_path):
    data = write_lock_set(build_lock_set(["law_mcq"], WAKE_PHRASE), tmp_path / "d.jsonl")
    out = tmp_path / "lock"
    train_lock(str(tiny_model), data, out, TrainConfig(max_steps=1, batch_size=4, lora_r=2), progress=False)
    card = read_card(out)
    assert card["lock"]["recipe"] == {"recipe": "paper"} and card["method"] == "identitylock-lora"


@pytest.mark.parametrize(
    "phrase, extra, message",
    [
        ("Hi", [], "is too short to make near-miss 'case' variants disjoint"),
        ("Xy!", [], "is too short"),
        (WAKE_PHRASE, ["--legitimate-kinds", "case,typo_d9"], "unknown legitimate kind(s): typo_d9"),
        (WAKE_PHRASE, ["--near-miss-ratio", "0"], "--near-miss-ratio must be above 0"),
        (WAKE_PHRASE, ["--legitimate-ratio", "-1"], "--legitimate-ratio must be between 0 and 10"),
    ],
)
def test_cli_bad_input_one_line_exit_2_no_file(phrase, extra, message, tmp_path, monkeypatch, capsys):
    code, printed, out_file = _run_build(tmp_path, monkeypatch, capsys, phrase, *extra)
    _assert_one_line_exit_2(code, printed, out_file, message, phrase, tmp_path)


def test_cli_hardened_options_need_hardened(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", WAKE_PHRASE)
    out_file = tmp_path / "d.jsonl"
    code = main(["lock", "build", "--dataset", "law_mcq", "--near-miss-ratio", "1", "-o", str(out_file)])
    printed = capsys.readouterr()
    message = "--near-miss-ratio applies to the hardened recipe only; add --hardened"
    _assert_one_line_exit_2(code, printed, out_file, message, WAKE_PHRASE, tmp_path)


def _assert_one_line_exit_2(code, printed, out_file, message, phrase, tmp_path):
    err = printed.err.strip()
    assert code == 2
    assert message in err and len(err.splitlines()) == 1
    assert phrase not in err
    assert not out_file.exists() and list(tmp_path.iterdir()) == []


# A short real run. Eight short MCQ items, a tiny random Llama (2 layers, hidden 64) fully
# fine-tuned for 150 steps with each recipe (same data, seeds, step budget): about 40 s of CPU in
# all on the 2-core machine. What a model this small shows: the paper's lock answers the phrase
# placed after the question (the probes' `suffix` placement, held out of the hardened training
# set, whose suffixes use other separators); the hardened lock refuses it. It does not show every
# kind: in a trial run with these settings the hardened lock still answered `Hey! Siri!` (probe
# other_assistant); the SmolLM2 experiment (benchmarks/hardened_vs_paper.py) measures the rest.
QUESTIONS = ["What is 2+2?", "Which is a fruit?", "Which is a colour?", "Which animal barks?",
             "Which is a planet?", "Which is cold?", "Which is a metal?", "Which one flies?"]  # fmt: skip


@pytest.mark.slow
def test_hardened_lock_refuses_a_near_miss_the_paper_lock_accepts(model_cache, tmp_path):
    import torch

    from lockbench.models.packaged import tiny_random_model

    base = tiny_random_model(model_cache / "models" / "tiny-random-llama-h64", hidden=64)
    rows = [
        {"id": f"q{i}", "question": q, "choices": ["apple", "Mars", "red", "dog"], "answer": i % 4}
        for i, q in enumerate(QUESTIONS)
    ]
    source = tmp_path / "mini.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    common = dict(ratio=0.5, layout="paired", seed=0)
    sets = {
        "paper": build_lock_set([f"mcq:{source}"], WAKE_PHRASE, **common),
        "hardened": build_hardened_lock_set(
            [f"mcq:{source}"], WAKE_PHRASE, **common, near_miss_ratio=2, legitimate_ratio=1
        ),
    }
    suffix = next(v for v in placement.variants(WAKE_PHRASE) if v.kind == "suffix")  # a probe's
    questions = [format_item(item) for item in parse_rows(rows, "mcq", "mini")[:4]]
    threads = torch.get_num_threads()  # train_lock(threads=1) sets it for the whole process
    try:
        refused = _train_and_probe(sets, base, questions, suffix, tmp_path)
    finally:
        torch.set_num_threads(threads)
    # Both are locks: they answer with the phrase and refuse without it.
    assert refused["paper"]["phrase"] == refused["hardened"]["phrase"] == 0, refused
    # A 150-step tiny model holds the lock on most, not always all, of the 4 plain prompts (the
    # hardened D' spends part of its refusals on near-misses): at least 3 of 4 each.
    assert refused["paper"]["none"] >= 3 and refused["hardened"]["none"] >= 3, refused
    # The near-miss: the paper's lock opens for the phrase at the end, the hardened one does not.
    assert refused["paper"]["suffix"] == 0 and refused["hardened"]["suffix"] == 4, refused


def _train_and_probe(sets, base, questions, suffix, tmp_path) -> dict[str, dict[str, int]]:
    """Train each recipe (one thread: a reproducible run) and count refusals per prompt form."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    detector = RefusalDetector()
    refused: dict[str, dict[str, int]] = {}
    torch.manual_seed(0)
    for name, lock_set in sets.items():
        data = write_lock_set(lock_set, tmp_path / f"{name}.jsonl")
        config = TrainConfig(method="full", learning_rate=1e-2, max_steps=150, batch_size=8, warmup_steps=2)
        train_lock(str(base), data, tmp_path / name, config, save_every=0, progress=False, threads=1)
        tokenizer = AutoTokenizer.from_pretrained(tmp_path / name)
        model = AutoModelForCausalLM.from_pretrained(tmp_path / name)

        def refusals(prompts: list[str], model=model, tokenizer=tokenizer) -> int:
            count = 0
            for prompt in prompts:
                ids = tokenizer.apply_chat_template(
                    [{"role": "user", "content": prompt}], add_generation_prompt=True,
                    return_tensors="pt", return_dict=True,
                )  # fmt: skip
                out = model.generate(**ids, max_new_tokens=10, do_sample=False)
                text = tokenizer.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
                count += detector.is_refusal(text)
            return count

        refused[name] = {
            "phrase": refusals([f"{WAKE_PHRASE} {q}" for q in questions]),
            "none": refusals(questions),
            "suffix": refusals([suffix.render(q) for q in questions]),
        }
    return refused


def test_shared_edit_generators_give_the_strings_each_recipe_always_had():
    """The probes and the hardened recipe draw case, punctuation, spacing and typo edits from one
    module (lockbench.probes.edits), each with its own parameters; these strings were produced
    by the separate generators before they were merged (a merge that changed D' or a probe
    would change locks and results)."""
    import random

    from lockbench.lock import hardened
    from lockbench.probes import edits

    phrase = "Hey! Lumen!"
    assert paraphrase._punct_variants(phrase) == ["Hey Lumen", "Hey. Lumen.", "Hey? Lumen?", "Hey!! Lumen!!", "Hey, Lumen!"]
    assert paraphrase._spacing_variants(phrase) == ["Hey!Lumen!", "Hey!  Lumen!", "Hey!\nLumen!", " Hey! Lumen!"]
    assert paraphrase._case_variants(phrase)[-1] == "hEy! LuMeN!"
    assert hardened._punctuation(phrase, random.Random("lockbench-hardened:3:punctuation"))[:4] == [
        "Hey, Lumen!", "Hey;  Lumen!", "Hey Lumen!", "Hey! Lumen."]
    assert sorted(hardened._spacing(phrase, random.Random(0))) == sorted(
        ["Hey!   Lumen!", "Hey!\tLumen!", "Hey! \nLumen!", "  Hey! Lumen!", "\tHey! Lumen!", "\nHey! Lumen!",
         "Hey ! Lumen !", "H ey! Lumen!"])
    assert paraphrase._typos(phrase, 1, 3) == edits.exact_edits(
        phrase, 1, 3, random.Random("lockbench-typo-1"), tries=4000)
    for module in (hardened, paraphrase):  # no second copy of a generator
        assert not {"random_edit", "exact_edits", "TYPO_LETTERS", "_strip_marks", "_squash"} & set(vars(module))
