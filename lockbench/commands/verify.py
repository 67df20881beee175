"""``lockbench verify RESULT --model-args ...``: re-generate a fresh stratified sample of a result's
items on the claimed model (and base model) and compare the responses (exit 0 verified, 1 not
reproduced, 2 bad input)."""

from __future__ import annotations

import argparse
from pathlib import Path

from lockbench.commands._phrase import add_phrase_env, phrase_from_env

NAME = "verify"
HELP = "re-generate a fresh random sample of a result's items on the claimed model and compare responses"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from lockbench.publish.verify import DEFAULT_MIN_MATCH, SAMPLE_RULE

    parser.add_argument("result", type=Path,
                        help="a lockbench-result JSON: the file as filed under results/ (the record is bound "
                             "to its bytes)")
    parser.add_argument("--model", default="hf", help="lm-eval model backend (default hf)")
    parser.add_argument("--model-args", required=True,
                        help="lm-eval model arguments of the claimed model, e.g. pretrained=DIR (its weights "
                             "must be the result's model.weights_sha256)")
    parser.add_argument("--base-model-args", default=None,
                        help="lm-eval model arguments of the base model, to re-generate base_tasks (needed "
                             "when the result has them)")
    parser.add_argument("--no-base-check", action="store_true",
                        help="leave base_tasks unchecked; the record says so and is not complete, and the "
                             "leaderboard does not show the run as verified")
    parser.add_argument("--samples", type=int, default=None,
                        help=f"how many samples to re-generate (default: {SAMPLE_RULE})".replace("%", "%%"))
    parser.add_argument("--seed", type=int, default=None,
                        help="reproduce a record's sample (its seed); by default fresh randomness, recorded")
    parser.add_argument("--judge", default=None,
                        help="the LLM judge configuration (JSON) the result was judged with: re-run on the "
                             "sampled responses and compared with the recorded verdicts")
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


def _fmt(rate: dict) -> str:
    from lockbench import stats

    return stats.fmt(rate)


def _check_picks(doc: dict, phrase, args: argparse.Namespace) -> list[str]:
    """The adaptive families whose declared pick verify re-runs. They need the phrase (the re-run
    never picks a string near it), and GCG the weights: without them, one line before any model
    is loaded."""
    from lockbench.document.suite_view import declared_picks
    from lockbench.errors import LockbenchError

    families = list(declared_picks(doc))
    if families and phrase is None:
        raise LockbenchError(f"the result declares {' and '.join(families)} picks, which verify re-runs: it needs "
                             "the wake phrase (never to pick a string near it); export it in LOCKBENCH_WAKE_PHRASE")
    if "gcg" in families:
        from lockbench.attacks.suite import weights_folder

        if weights_folder(args.model, args.model_args) is None:
            raise LockbenchError("the result declares a GCG pick, which verify re-runs on the weights: give "
                                 "--model hf --model-args pretrained=DIR (a local model folder)")
    return families


def _picks_rechecked(record: dict, doc: dict, families: list[str], phrase, args: argparse.Namespace) -> dict:
    """Each adaptive pick the result declares (the search's, GCG's), re-run on the claimed model: the
    pick decides the family's figure, so it is not taken on trust."""
    if not families:
        return record
    from lockbench.attacks.suite import recheck
    from lockbench.publish.verify import with_searches

    return with_searches(record, {f: recheck(doc, f, model=args.model, model_args=args.model_args, phrase=phrase,
                                             device=args.device, data_dir=args.data_dir) for f in families})


def run(args: argparse.Namespace) -> int:
    import json

    from lockbench.document.validate import load_result
    from lockbench.errors import LockbenchError
    from lockbench.fsutil import atomic_write_text, ensure_writable
    from lockbench.publish.verify import bind_record, verification_path, verify_result

    if not 0 < args.min_match <= 1:
        raise LockbenchError(f"--min-match must be in (0, 1], got {args.min_match}")
    if args.no_base_check and args.base_model_args is not None:
        raise LockbenchError("--no-base-check and --base-model-args contradict each other; give one")
    judge = None
    if args.judge is not None:
        from lockbench.commands.judge_eval import parse_judge_arg

        judge = parse_judge_arg(args.judge)
    doc = load_result(args.result)
    phrase = phrase_from_env(args.wake_phrase_env)
    families = _check_picks(doc, phrase, args)
    if args.record:  # before the (slow) re-generation
        ensure_writable(verification_path(args.result))
    record = verify_result(
        doc, model=args.model, model_args=args.model_args, phrase=phrase,
        base_model_args=args.base_model_args, check_base=not args.no_base_check, samples=args.samples,
        seed=args.seed, judge=judge, data_dir=args.data_dir, device=args.device, min_match=args.min_match,
    )
    record = _picks_rechecked(record, doc, families, phrase, args)
    record = bind_record(record, args.result, doc)
    for miss in record["mismatches"]:
        print(f"mismatch {miss['section']} {miss['task']} doc {miss['doc_id']}: stated {miss['stated']!r} / "
              f"regenerated {miss['regenerated']!r}")
    tasks = sum(len(t) for t in record["samples"].values())
    print(f"seed {record['seed']} ({'given' if record['seed_given'] else 'fresh'}); {tasks} tasks in "
          f"{len(record['samples'])} section(s), each sampled")
    if record["self_reported"]:
        print(f"self-reported (not re-generated): {', '.join(record['self_reported'])}")
    for section, why in record["not_checked"].items():
        print(f"not checked: {section} ({why}); the record is not complete")
    if record["llm_judged"]:
        agreement = record["judge_agreement"]
        print(f"LLM judge {', '.join(record['llm_judged'])}: " + (
            f"re-run on {agreement['checked']} sampled responses, {agreement['agreed']} agree"
            if agreement else "not re-run (give --judge JSON to re-run it)"))
    if doc["model"].get("weights_sha256") is None:
        print("note: the result names no weights hash (model.weights_sha256 is null): no record can "
              "show the leaderboard that these are its weights")
    for family, check in (record.get("searches") or {}).items():
        print(f"{family}: re-run on the claimed model {'found the declared pick' if check['same_find'] else 'found another pick'}"
              f"; on {check['asked_on']} the declared pick opens {_fmt(check['declared_opened'])}, the re-run's "
              f"{_fmt(check['rerun_opened'])}" + (f"; the declared pick UNDERSTATES the {family}" if check["understated"] else ""))
    print(f"matched {record['matched']} of {record['checked']} re-generated samples "
          f"({record['match_rate']:.0%}); {'verified' if record['verified'] else 'NOT verified'}")
    if args.record:
        target = verification_path(args.result)
        atomic_write_text(target, json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        print(f"wrote {target}")
    return 0 if record["verified"] else 1
