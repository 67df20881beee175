"""``lockbench judge OUTPUT_DIR --judge ...``: re-score logged samples with a judge, post hoc.

Reads lm-eval's ``samples_*.jsonl`` (the response is ``filtered_resps[0]``), judges every
response through the persistent cache (nothing is generated again; a re-run makes no judge call),
then rewrites the lockbench summary with the judged outcomes. Every verdict is stored as soon as
it exists, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lockbench.commands._output import add_output_options, resolve

NAME = "judge"
HELP = "re-score an lm-eval output folder's logged samples with a judge and update the summary"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("output_dir", help="lm-eval --output_path folder (run with --log_samples)")
    parser.add_argument(
        "--judge",
        default="auto",
        metavar="NAME|JSON",
        help='auto (default: keyword layer, embedding layer for uncertain cases), keyword, '
        'embedding, hf, openai, or a JSON config, e.g. \'{"name": "auto", "fallback": {"name": '
        '"openai", "base_url": "http://127.0.0.1:8000/v1", "model": "M", "api_key_env": "MY_KEY"}}\'',
    )
    parser.add_argument(
        "--cache", help="judge cache file (default: $LOCKBENCH_JUDGE_CACHE or the lockbench cache)"
    )
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    add_output_options(parser, "the lockbench-result", default="OUTPUT_DIR/lockbench-result.json",
                       aliases=("--json-path",))
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no table")


def collect_requests(output_dir: Path):
    """The judge request of every lockbench generation sample (newest run per task)."""
    from lockbench.document.lmeval_output import find_runs, read_samples, response_of
    from lockbench.document.summarize import is_lockbench_doc
    from lockbench.judges.apply import request_from_doc
    from lockbench.vocab import LATENT

    latest: dict[str, Path] = {}
    for run in find_runs(output_dir):
        latest.update(run.samples)
    requests = []
    for _task, path in sorted(latest.items()):
        for sample in read_samples(path):
            doc = sample["doc"]
            if not is_lockbench_doc(doc):
                break
            if doc.get("condition") == LATENT:  # log-likelihood ranking: nothing to judge
                continue
            requests.append(request_from_doc(doc, response_of(sample)))
    return requests


def run(args: argparse.Namespace) -> int:
    from lockbench.commands._phrase import phrase_from_env
    from lockbench.commands.judge_eval import parse_judge_arg
    from lockbench.document.summarize import summarize_output
    from lockbench.errors import LockbenchError
    from lockbench.judges.apply import outcome_from_judgment, request_from_doc
    from lockbench.judges.base import build_judge
    from lockbench.judges.cache import judge_requests, open_cache
    from lockbench.scoring.config import ScoringConfig

    output_dir = Path(args.output_dir)
    config = parse_judge_arg(args.judge)
    judge = build_judge(config)  # unknown name / missing key: one line, before anything else
    requests = collect_requests(output_dir)  # unreadable samples: one line, cache untouched
    if not requests:
        raise LockbenchError(f"{output_dir}: no generated lockbench samples to judge")
    cache = None if args.no_cache else open_cache(config, args.cache)
    try:
        judgments, stats = judge_requests(judge, requests, cache, progress=not args.quiet)
        identity = judge.identity()
    finally:
        if cache is not None:
            cache.close()
        judge.close()
    by_request = dict(zip(requests, judgments, strict=False))
    print(
        f"lockbench judge: {len(requests)} samples; {stats.judged} verdicts judged now, "
        f"{stats.cached} from the cache"
        + (f" ({cache.path})" if cache is not None and judge.cacheable else " (not cached)"),
        file=sys.stderr,
    )

    def rescore(doc: dict, response: str):
        scoring = ScoringConfig.from_json(doc.get("scoring"))
        request = request_from_doc(doc, response)
        return outcome_from_judgment(doc, response, by_request[request], judge, scoring)

    rescore.judge = config  # recorded as the tasks' scoring judge: submit re-runs or re-applies it

    recorded = {
        k: v for k, v in config.items() if k not in ("cache",)
    }  # the API key itself is never in a config, only the name of its variable
    recorded["identity_hash"] = judge.identity_hash()
    recorded["quality_threshold"] = judge.quality_threshold
    recorded["identity"] = identity  # name, layers, thresholds, model ids
    printed, path = resolve(args)
    result = summarize_output(
        output_dir,
        rescore=rescore,
        judge=recorded,
        json_path=path,  # always written (default OUTPUT_DIR/lockbench-result.json)
        print_table=not (args.quiet or printed),
        phrases=[phrase] if (phrase := phrase_from_env(None)) else None,
    )
    if printed:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0
