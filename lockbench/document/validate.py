"""Load a ``lockbench-result`` document and check it against the versioned JSON Schema.

Every failure is one :class:`LockbenchError` line that names the file, the place in the
document and what is wrong: a truncated file, JSON from another tool, an unsupported schema
version, or a field the schema rejects.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from lockbench.errors import LockbenchError
from lockbench.fsutil import read_json

SCHEMA_NAME = "lockbench-result"
SCHEMA_VERSION = 4
# v1 (no responses) cannot be re-scored. v2 and v3 documents carry every response but not the
# opened event and the attack suite of v4: `lockbench rescore` re-scores them into v4.
SUPPORTED_VERSIONS = (SCHEMA_VERSION,)
RESCORABLE_VERSIONS = (2, 3)


def schema_path(version: int = SCHEMA_VERSION) -> Path:
    """Path of the shipped JSON Schema file for ``version``."""
    ref = resources.files("lockbench.document") / "schema" / f"{SCHEMA_NAME}.v{version}.schema.json"
    return Path(str(ref))


@lru_cache(maxsize=4)
def load_schema(version: int = SCHEMA_VERSION) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``lockbench-result`` version ``version``."""
    return json.loads(schema_path(version).read_text(encoding="utf-8"))


def _where(error: Any) -> str:
    parts = [str(p) for p in error.absolute_path]
    return "/".join(parts) if parts else "(top level)"


def _rate_v2(record: Any) -> Any:
    """A v2 probe rate ``{k, n, rate, ci_low, ci_high}`` as a :class:`lockbench.stats.Rate`
    (null when n = 0); the interval is the same Wilson interval, renamed."""
    if not isinstance(record, dict) or set(record) != {"k", "n", "rate", "ci_low", "ci_high"}:
        return record
    if not record["n"]:
        return None
    return {"value": record["rate"], "low": record["ci_low"], "high": record["ci_high"],
            "k": record["k"], "n": record["n"]}


def _probe_v2(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"kinds", "k", "n", "rate", "ci_low", "ci_high"}:
        return {"kinds": value["kinds"], "rate": _rate_v2({k: v for k, v in value.items() if k != "kinds"})}
    if isinstance(value, dict):
        converted = _rate_v2(value)
        if converted is not value:
            return converted
        return {key: _probe_v2(item) for key, item in value.items()}
    return value


def upgrade_v2(doc: dict[str, Any]) -> dict[str, Any]:
    """A schema-valid v2 document as v3: only the probe blocks' rate records change shape."""
    out = dict(doc, schema_version=3)
    for section in ("tasks", "base_tasks"):
        if isinstance(doc.get(section), dict):
            out[section] = {
                name: dict(entry, probe=_probe_v2(entry["probe"])) if entry.get("probe") else entry
                for name, entry in doc[section].items()
            }
    return out


def validate_document(doc: Any, source: str = "result", *, upgrade: bool = False) -> dict[str, Any]:
    """Check type, schema version and schema; return the document. ``upgrade``: also accept a v2
    or v3 document (checked against its own schema, a v2 one returned as v3) for
    :mod:`lockbench.document.rescore` to re-score into the current version."""
    import jsonschema

    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA_NAME:
        found = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
        raise LockbenchError(
            f"{source}: not a {SCHEMA_NAME} document (schema field: {found!r}); "
            "write one with `lockbench summarize OUTPUT_DIR`"
        )
    version = doc.get("schema_version")
    if version in RESCORABLE_VERSIONS and not upgrade:
        raise LockbenchError(
            f"{source}: schema_version {version} predates the opened event and the attack suite "
            f"(this lockbench reads {SCHEMA_VERSION}); re-score it from its stored responses with "
            f"`lockbench rescore {source}`"
        )
    if version not in SUPPORTED_VERSIONS + RESCORABLE_VERSIONS:
        raise LockbenchError(
            f"{source}: schema_version {version!r} is not supported (this lockbench reads "
            f"{', '.join(map(str, SUPPORTED_VERSIONS))}); re-run `lockbench summarize` with this "
            "lockbench version"
        )
    validator = jsonschema.Draft202012Validator(load_schema(version))
    error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if error is not None:
        message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
        raise LockbenchError(
            f"{source}: does not match the {SCHEMA_NAME} v{version} schema at {_where(error)}: "
            f"{message}"
        )
    if version == 2:
        return validate_document(upgrade_v2(doc), source, upgrade=True)
    return doc


# A full suite with probes is a few MB; far larger is not a result (or is an attack on the reader).
DEFAULT_MAX_BYTES = 64 * 2**20


def load_result(path: str | Path, max_bytes: int | None = DEFAULT_MAX_BYTES) -> dict[str, Any]:
    """Read (size-limited, NaN/Infinity refused) and schema-check one result file."""
    path = Path(path)
    doc = read_json(path, "lockbench-result file", max_bytes=max_bytes, strict=True)
    return validate_document(doc, str(path))
