"""``lockbench verify RESULT --model-args ...``: re-generate a seeded sample of a result's items on
the claimed model and compare the responses (exit 0 verified, 1 not reproduced, 2 bad input)."""

from __future__ import annotations

import argparse
from pathlib import Path

from lockbench.commands._phrase import add_phrase_env, phrase_from_env

NAME = "verify"
HELP = "re-generate a seeded sample of a result's items on the claimed model and compare responses"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from lockbench.results.verify import DEFAULT_MIN_MATCH, DEFAULT_SAMPLES

    parser.add_argument("result", type=Path, help="a lockbench-result JSON (e.g. a file under results/)")
    parser.add_argument("--model", default="hf", help="lm-eval model backend (default hf)")
    parser.add_argument("--model-args", required=True,
                        help="lm-eval model arguments of the claimed model, e.g. pretrained=DIR")
    parser.add_argument("--samples", type=int, default=DEFAULT_SAMPLES,
                        help=f"how many samples to re-generate, spread over the tasks (default {DEFAULT_SAMPLES})")
    parser.add_argument("--seed", type=int, default=0, help="which samples (default 0)")
    parser.add_argument("--min-match", type=float, default=DEFAULT_MIN_MATCH,
                        help=f"match rate needed to call the result verified (default {DEFAULT_MIN_MATCH})")
    parser.add_argument("--data-dir", default=None,
                        help="local copies of hub datasets, as for lm_eval; or the --into folder of "
                             "`lockbench dataset add` for a result on a dataset of your own")
    parser.add_argument("--device", default=None, help="lm-eval device (default: cuda when available, else cpu)")
    parser.add_argument("--record", action="store_true",
                        help="write the verification record beside the result (RESULT.verify.json), "
                             "which the leaderboard shows")
    add_phrase_env(parser, "needed for unlocked and probe tasks")


def run(args: argparse.Namespace) -> int:
    import json

    from lockbench.errors import LockbenchError
    from lockbench.fsutil import atomic_write_text
    from lockbench.results.submit import model_slug
    from lockbench.results.validate import load_result
    from lockbench.results.verify import verification_path, verify_result

    if not 0 < args.min_match <= 1:
        raise LockbenchError(f"--min-match must be in (0, 1], got {args.min_match}")
    doc = load_result(args.result)
    record = verify_result(
        doc, model=args.model, model_args=args.model_args, phrase=phrase_from_env(args.wake_phrase_env),
        samples=args.samples, seed=args.seed, data_dir=args.data_dir, device=args.device,
    )
    record["result"] = args.result.name
    record["model"] = model_slug(doc["model"].get("name"))
    record["verified"] = record["match_rate"] >= args.min_match
    record["min_match"] = args.min_match
    for miss in record["mismatches"]:
        print(f"mismatch {miss['task']} doc {miss['doc_id']}: stated {miss['stated']!r} / "
              f"regenerated {miss['regenerated']!r}")
    print(f"matched {record['matched']} of {record['checked']} re-generated samples "
          f"({record['match_rate']:.0%}); {'verified' if record['verified'] else 'NOT verified'}")
    if args.record:
        target = verification_path(args.result)
        atomic_write_text(target, json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        print(f"wrote {target}")
    return 0 if record["verified"] else 1
