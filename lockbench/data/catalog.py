"""The datasets lockbench evaluates, and where each one's rows come from.

Three sources:
- ``bundled``: written by the project, shipped in the wheel (the embedded default: no download);
- ``mmlu``: ``cais/mmlu`` subjects from the Hugging Face hub, or ``<data_dir>/mmlu/<subject>.jsonl``;
- ``chatdoctor``: a healthcare dialogue set from the hub, or ``<data_dir>/chatdoctor/chatdoctor.jsonl``.
``data_dir`` is given at run time (``--metadata '{"data_dir": ...}'``) and always wins over the hub.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lockbench.data.schema import DialogueItem, Kind, MCQItem, parse_rows, read_jsonl
from lockbench.errors import DataError

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"
DOMAINS = ("agriculture", "economics", "healthcare", "law")
SPLITS = ("train", "test")

# The hub dialogue set has 100k rows; evaluation uses a fixed head so every run sees the same items.
CHATDOCTOR_TEST_SIZE = 200


@dataclass(frozen=True)
class DatasetSpec:
    """One evaluable dataset: its kind, domain and source."""

    name: str
    kind: Kind
    domain: str
    source: str  # "bundled" | "mmlu" | "chatdoctor"
    hub_id: str | None = None
    hub_config: str | None = None
    description: str = ""

    def local_candidates(self, data_dir: Path, split: str) -> list[Path]:
        """Files tried, in order, under a user's ``data_dir`` (the layout of ../shared/data)."""
        if self.source == "mmlu":
            sub = self.hub_config
            if split == "train":
                return [data_dir / "mmlu" / "dev" / f"{sub}.jsonl", data_dir / "dev" / f"{sub}.jsonl"]
            return [data_dir / "mmlu" / f"{sub}.jsonl", data_dir / f"{sub}.jsonl"]
        if self.source == "chatdoctor":
            return [data_dir / "chatdoctor" / "chatdoctor.jsonl", data_dir / "chatdoctor.jsonl"]
        return [data_dir / self.domain / f"{self.kind}_{split}.jsonl"]


def _catalog() -> dict[str, DatasetSpec]:
    specs = [
        DatasetSpec(f"{d}_{k}", k, d, "bundled", description=f"lockbench's own {d} {k} set")
        for d in DOMAINS
        for k in ("mcq", "dialogue")
    ]
    mmlu_domains = {
        "clinical_knowledge": "healthcare",
        "professional_medicine": "healthcare",
        "high_school_macroeconomics": "economics",
        "high_school_microeconomics": "economics",
        "jurisprudence": "law",
        "international_law": "law",
        "professional_law": "law",
    }
    specs += [
        DatasetSpec(f"mmlu_{s}", "mcq", d, "mmlu", "cais/mmlu", s, f"MMLU {s} (test split)")
        for s, d in mmlu_domains.items()
    ]
    specs.append(
        DatasetSpec(
            "chatdoctor",
            "dialogue",
            "healthcare",
            "chatdoctor",
            "lavita/ChatDoctor-HealthCareMagic-100k",
            None,
            f"ChatDoctor patient questions with doctor answers (first {CHATDOCTOR_TEST_SIZE} rows)",
        )
    )
    return {s.name: s for s in specs}


DATASETS: dict[str, DatasetSpec] = _catalog()


def get_dataset(name: str) -> DatasetSpec:
    """Look up a dataset by name; an unknown name lists the known ones."""
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(
            f"unknown dataset '{name}'; known datasets: {', '.join(sorted(DATASETS))}"
        ) from None


def _load_hub_rows(spec: DatasetSpec, split: str) -> list[dict]:
    import datasets

    hub_split = split
    if spec.source == "mmlu":
        hub_split = "dev" if split == "train" else "test"
    elif spec.source == "chatdoctor":
        hub_split = "train"  # the hub set has a single split; see _split_chatdoctor
    try:
        ds = datasets.load_dataset(spec.hub_id, spec.hub_config, split=hub_split)
    except Exception as exc:  # offline, missing, gated: the fix is the same
        raise DataError(
            f"dataset '{spec.name}' could not be loaded from the Hugging Face hub ({spec.hub_id}"
            f"{'/' + spec.hub_config if spec.hub_config else ''}: {type(exc).__name__}); "
            f"pass a local copy with --metadata '{{\"data_dir\": \"DIR\"}}' "
            f"(expects {spec.local_candidates(Path('DIR'), split)[0]})"
        ) from None
    return [dict(row) for row in ds]


def _split_chatdoctor(rows: list[dict], split: str) -> list[dict]:
    return rows[:CHATDOCTOR_TEST_SIZE] if split == "test" else rows[CHATDOCTOR_TEST_SIZE:]


def load_items(
    name: str, split: str = "test", data_dir: str | Path | None = None
) -> list[MCQItem] | list[DialogueItem]:
    """Load and validate one dataset split.

    ``data_dir`` replaces the bundled folder or the hub: for bundled sets it must hold
    ``<domain>/<kind>_<split>.jsonl``; for MMLU and ChatDoctor the layout of ../shared/data.
    """
    spec = get_dataset(name)
    if split not in SPLITS:
        raise DataError(f"unknown split '{split}'; use one of {', '.join(SPLITS)}")
    root = Path(data_dir).expanduser() if data_dir is not None else None
    if spec.source == "bundled" and (
        root is None or not any(p.is_file() for p in spec.local_candidates(root, split))
    ):
        root = BUNDLED_DIR  # a data_dir holding only the real sets leaves the bundled ones alone
    if root is not None:
        candidates = spec.local_candidates(root, split)
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise DataError(
                f"dataset '{name}' ({split}): no file at {candidates[0]}; "
                "check data_dir or see the layout in lockbench/data/bundled/README.md"
            )
        rows, source = read_jsonl(path), str(path)
    else:
        rows = _load_hub_rows(spec, split)
        source = f"{spec.hub_id}:{spec.hub_config or ''}:{split}"
    if rows and isinstance(rows[0], dict) and "id" not in rows[0]:
        prefix = spec.hub_config or spec.name
        rows = [{"id": f"{prefix}-{i}", **r} if isinstance(r, dict) else r for i, r in enumerate(rows)]
    if spec.source == "chatdoctor":
        rows = _split_chatdoctor(rows, split)
    return parse_rows(rows, spec.kind, source)
