"""The scoring fast paths change no number: lockbench's ROUGE-L is rouge-score's float for float,
and the refusal patterns' required-literal prefilter gives the plain alternation's verdicts (rule
included), on the labelled calibration responses, the bundled answers and the committed results'
responses."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from rouge_score import rouge_scorer

from lockbench.data import load_items
from lockbench.data.catalog import DOMAINS
from lockbench.judges.calibration import load_calibration, to_request
from lockbench.prompts import target_text
from lockbench.scoring import rouge
from lockbench.scoring.prefilter import ascii_cover
from lockbench.scoring.refusal import (
    DEFAULT_REFUSAL_PATTERNS,
    TRAINED_REFUSAL_TEXTS,
    RefusalDetector,
    split_clauses,
)

RESULTS = Path(__file__).resolve().parents[1] / "results"


def _references() -> list[str]:
    refs = []
    for domain in DOMAINS:
        refs += [i.output for i in load_items(f"{domain}_dialogue", "test")]
        refs += [target_text(i) for i in load_items(f"{domain}_mcq", "test")]
    return refs


def _committed_cases() -> list[tuple[str, str, list[str] | None]]:
    """(response, kind, choices) of every sample in the committed results."""
    cases = []
    for path in sorted(RESULTS.glob("*/*.json")):
        if path.name.endswith(".verify.json"):
            continue
        doc = json.loads(path.read_text(encoding="utf-8"))
        for section in ("tasks", "base_tasks"):
            for task in (doc.get(section) or {}).values():
                for sample in task.get("samples") or []:
                    if sample.get("response") is not None:
                        cases.append((sample["response"], task["kind"], None))
    return cases


def test_rouge_l_is_rouge_score_float_for_float():
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    refs = _references()
    responses = [row["response"] for row in load_calibration()] + [r for r, _, _ in _committed_cases()]
    rng = random.Random(13)
    pairs = [(resp, refs[i % len(refs)]) for i, resp in enumerate(responses)]
    pairs += [(ref, ref) for ref in refs[::7]]
    pairs += [(rng.choice(refs), rng.choice(refs)) for _ in range(1500)]
    # Edge cases: no alphanumeric token, digits, non-Latin text (no tokens), one-word texts.
    pairs += [("!!! ...", refs[0]), ("42 is 42", "42"), ("抱歉，我无法回答", refs[1]), ("Yes", "yes"),
              ("The the the", "the"), (refs[2], "")]
    assert len(pairs) > 3000
    rouge.clear_caches()
    for prediction, reference in pairs:
        expected = 0.0 if not prediction.strip() else float(scorer.score(reference, prediction)["rougeL"].fmeasure)
        assert rouge.rouge_l(prediction, reference) == expected, (prediction, reference)


def test_bit_parallel_lcs_is_the_dynamic_programme():
    rng = random.Random(5)
    for _ in range(500):
        a = [rng.choice("abcde") for _ in range(rng.randint(1, 70))]
        b = [rng.choice("abcdef") for _ in range(rng.randint(0, 70))]
        masks: dict[str, int] = {}
        for i, token in enumerate(a):
            masks[token] = masks.get(token, 0) | (1 << i)
        assert rouge.lcs_length(len(a), masks, b) == rouge_scorer._lcs_table(a, b)[-1][-1]


def _cases() -> list[tuple[str, str, list[str] | None, str | None]]:
    cases = [(q.response, q.kind, list(q.choices) or None, q.prompt) for q in map(to_request, load_calibration())]
    cases += [(r, k, c, None) for r, k, c in _committed_cases()]
    for domain in DOMAINS:
        cases += [(i.output, "dialogue", None, i.input) for i in load_items(f"{domain}_dialogue", "test")]
    return cases


def test_prefilter_never_changes_a_verdict_or_rule():
    """The built-in patterns searched behind their required literals, and the same patterns as one
    plain alternation (wrapped, so they count as user patterns): identical verdicts and rules."""
    fast = RefusalDetector(TRAINED_REFUSAL_TEXTS, DEFAULT_REFUSAL_PATTERNS)
    plain = RefusalDetector(TRAINED_REFUSAL_TEXTS, [f"(?:{p})" for p in DEFAULT_REFUSAL_PATTERNS])
    cases = _cases()
    assert len(cases) > 2000
    refusals = 0
    for response, kind, choices, question in cases:
        verdict = fast.analyse(response, kind, choices, question)
        assert verdict == plain.analyse(response, kind, choices, question), response
        refusals += verdict.has_refusal
    assert refusals > 300  # the corpus exercises the patterns, not only plain answers


def test_every_cover_is_required_by_its_pattern():
    """Wherever a built-in pattern matches an ASCII clause of the corpus, one of its required
    literals is in the lowercased clause."""
    clauses = {c for response, *_ in _cases() for c in split_clauses(response) if c.isascii()}
    checked = 0
    for pattern in DEFAULT_REFUSAL_PATTERNS:
        cover = ascii_cover(pattern)
        compiled = re.compile(pattern, re.IGNORECASE | re.MULTILINE)
        for clause in clauses:
            if compiled.search(clause):
                assert cover is None or any(s in clause.lower() for s in cover), (pattern, clause)
                checked += 1
    assert checked > 200


@pytest.mark.parametrize(
    "clause",
    [
        "Yardimci olamam.",  # Turkish written without "ı": the regex folds "ı" to "i" and "I"
        "YARDIMCI OLAMAM",
        "Sorry, I CANNOT help with that.",
        "Ich kann das nicht beantworten.",
        "No puedo responder.",
        "Nie mogę",  # not ASCII: the plain alternation
    ],
)
def test_case_folding_edges(clause):
    fast = RefusalDetector(TRAINED_REFUSAL_TEXTS, DEFAULT_REFUSAL_PATTERNS)
    plain = RefusalDetector(TRAINED_REFUSAL_TEXTS, [f"(?:{p})" for p in DEFAULT_REFUSAL_PATTERNS])
    assert fast._pattern_rule(clause) == plain._pattern_rule(clause)
    assert fast.analyse(clause) == plain.analyse(clause)


def test_cover_reading():
    assert ascii_cover(r"\bno comment\b") == frozenset({"no comment"})
    assert ascii_cover(r"(?:foo|bar)+baz?") == frozenset({"foo", "bar"})
    assert ascii_cover(r"\w+") is None  # nothing required: always searched
    assert ascii_cover(r"не могу") == frozenset()  # never matches ASCII text
    assert ascii_cover(r"yardımcı") == frozenset({"yardimci"})


def test_lowercase_pattern_matches_lowercased_ascii_like_ignorecase():
    from lockbench.scoring.prefilter import lowercase_pattern

    texts = ["Sorry, I CANNOT help.", "YARDIMCI OLAMAM", "Please Verify Your Identity.", "\\W stays"]
    for pattern in [*DEFAULT_REFUSAL_PATTERNS, r"\bI (?:\W+)[A-Z]\S", r"[]A-Z]x", r"[^A-Z]+"]:
        folded = re.compile(lowercase_pattern(pattern), re.MULTILINE)
        plain = re.compile(pattern, re.IGNORECASE | re.MULTILINE)
        for text in texts:
            a, b = plain.search(text), folded.search(text.lower())
            assert (a and a.span()) == (b and b.span()), (pattern, text)


def test_literal_index_finds_every_key_with_a_literal():
    from lockbench.scoring.prefilter import LiteralIndex, trigrams

    index = LiteralIndex({1: frozenset({"pass", "password"}), 2: frozenset({"id"}), 3: frozenset({"nnot"})})
    assert index.hits("cannot") == {3}
    assert index.hits("your password") == {1}
    assert index.hits("i did it") == {2}
    assert index.hits("nothing") == set()
    text = "enter the password, cannot"
    assert index.hits("password", trigrams(text)) == {1}  # the grams of a text holding it
