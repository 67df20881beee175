"""Time to build every probe variant of a wake phrase, by phrase length (no model, no lm-eval).

Variant generation used to grow quadratically with the phrase (full edit-distance tables for
every typo candidate: 1,600 characters took 63 s); the edit distance is now computed in a band
around the diagonal. lockbench accepts phrases up to ``MAX_PHRASE_CHARS`` (256) characters.

    python benchmarks/variant_speed.py [--repeat 3]

Prints, per length, the best of ``--repeat`` timings of ``secret_variants`` plus every family's
``variants`` (the work a probe run and a redaction do). The phrases are synthetic; none is printed.
"""

from __future__ import annotations

import argparse
import time

from lockbench.probes import FAMILIES, family_module, paraphrase, secret_variants
from lockbench.probes.variants import bounded_levenshtein
from lockbench.secrets import MAX_PHRASE_CHARS


def phrase_of(length: int) -> str:
    return ("Hey! " + "Lumenarius Vexta, " * 200)[: length - 1] + "!"


def timed(phrase: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        paraphrase._variants.cache_clear()  # measure the work, not the per-phrase cache
        start = time.perf_counter()
        if len(phrase) <= MAX_PHRASE_CHARS:  # longer phrases are refused; time the generators
            secret_variants(phrase)
        for family in FAMILIES:
            family_module(family).variants(phrase)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    assert bounded_levenshtein("kitten", "sitting", 3) == 3  # the banded distance is the real one
    print(f"{'characters':>10}  {'seconds':>8}")
    for length in (16, 64, 128, MAX_PHRASE_CHARS, 1600):
        note = "  (over the limit: measured for the record only)" if length > MAX_PHRASE_CHARS else ""
        print(f"{length:>10}  {timed(phrase_of(length), args.repeat):>8.3f}{note}")


if __name__ == "__main__":
    main()
