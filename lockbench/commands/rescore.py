"""``lockbench rescore RESULT -o NEW``: re-derive a result from the responses it stores, with
this lockbench's rules (the opened event, the judges), into the current schema version."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "rescore"
HELP = "re-score a lockbench-result (any version) from its stored responses into the current schema"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("result", type=Path, help="a lockbench-result JSON (schema v2, v3 or v4)")
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="where to write the re-scored result (never the input file)")
    parser.add_argument("--data-dir", default=None, help="public items of hub datasets (local JSONL copies)")


def run(args: argparse.Namespace) -> int:
    from lockbench.document.rescore import rescore_file
    from lockbench.document.summarize import write_json_atomic
    from lockbench.errors import LockbenchError
    from lockbench.fsutil import ensure_writable

    if args.output.resolve() == args.result.resolve():
        raise LockbenchError("-o must name a new file: the input result is kept as it was")
    ensure_writable(args.output)
    doc = rescore_file(args.result, args.data_dir)
    write_json_atomic(args.output, doc)
    suite = doc.get("suite") or {}
    print(f"re-scored {args.result} -> {args.output} (schema v{doc['schema_version']}; attack suite: "
          f"{suite.get('version') or 'none (not ranked)'}{'' if suite.get('complete', True) else ', incomplete'})")
    return 0
