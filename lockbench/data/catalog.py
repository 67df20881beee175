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


def check_data_dir(data_dir: object) -> Path:
    """A user's ``data_dir``: an existing folder holding at least one of lockbench's layouts.

    Anything else stops with one line, so a typo never silently evaluates the bundled data.
    """
    if not isinstance(data_dir, (str, Path)) or not str(data_dir).strip():
        raise DataError(f"data_dir must be a folder path (text), got {data_dir!r}")
    root = Path(data_dir).expanduser()
    if not root.exists():
        raise DataError(f"data_dir {root} does not exist; give the folder that holds your JSONL files")
    if not root.is_dir():
        raise DataError(f"data_dir {root} is a file, not a folder; give the folder that holds it")
    layouts = [root / d / f"{k}_{s}.jsonl" for d in DOMAINS for k in ("mcq", "dialogue") for s in SPLITS]
    layouts += [root / "mmlu", root / "chatdoctor", root / "chatdoctor.jsonl"]
    layouts += [root / f"{spec.hub_config}.jsonl" for spec in DATASETS.values() if spec.hub_config]
    if not any(p.exists() for p in layouts):
        raise DataError(
            f"data_dir {root} has none of lockbench's layouts (<domain>/<kind>_<split>.jsonl, "
            "mmlu/<subject>.jsonl, chatdoctor/chatdoctor.jsonl); see lockbench/data/bundled/README.md"
        )
    return root


@dataclass(frozen=True)
class DataSource:
    """Where one dataset split's rows come from: ``kind`` is bundled, local or hub."""

    kind: str
    path: Path | None = None  # the file read (bundled or local)
    root: Path | None = None  # the folder ``path`` is reported relative to
    hub_id: str | None = None
    hub_config: str | None = None
    hub_split: str | None = None

    def describe(self) -> str:
        """One human line (no absolute paths for bundled data)."""
        if self.kind == "hub":
            return f"Hugging Face hub {self.hub_id}{'/' + self.hub_config if self.hub_config else ''} ({self.hub_split})"
        where = "bundled file" if self.kind == "bundled" else f"local file in {self.root}:"
        return f"{where} {self.relative_path()}"

    def relative_path(self) -> str | None:
        if self.path is None or self.root is None:
            return None
        return self.path.relative_to(self.root).as_posix()


def resolve_source(name: str, split: str = "test", data_dir: object = None) -> DataSource:
    """Decide where ``name``'s ``split`` is read from, without reading it.

    ``data_dir`` replaces the bundled folder or the hub: for bundled sets it may hold
    ``<domain>/<kind>_<split>.jsonl`` (a bundled set it does not hold stays bundled, and the task
    says so); for MMLU and ChatDoctor it must hold the layout of ../shared/data.
    """
    spec = get_dataset(name)
    if split not in SPLITS:
        raise DataError(f"unknown split '{split}'; use one of {', '.join(SPLITS)}")
    root = check_data_dir(data_dir) if data_dir is not None else None
    if root is not None:
        candidates = spec.local_candidates(root, split)
        path = next((p for p in candidates if p.is_file()), None)
        if path is not None:
            return DataSource("local", path, root)
        if spec.source != "bundled":
            raise DataError(
                f"dataset '{name}' ({split}): no file at {candidates[0]}; "
                "check data_dir or see the layout in lockbench/data/bundled/README.md"
            )
    if spec.source == "bundled":
        return DataSource("bundled", spec.local_candidates(BUNDLED_DIR, split)[0], BUNDLED_DIR)
    hub_split = split
    if spec.source == "mmlu":
        hub_split = "dev" if split == "train" else "test"
    elif spec.source == "chatdoctor":
        hub_split = "train"  # the hub set has a single split; see _split_chatdoctor
    return DataSource("hub", hub_id=spec.hub_id, hub_config=spec.hub_config, hub_split=hub_split)


def load_items_from(
    name: str, split: str = "test", data_dir: object = None
) -> tuple[list[MCQItem] | list[DialogueItem], DataSource]:
    """Like :func:`load_items`, and also where the rows came from."""
    spec = get_dataset(name)
    source = resolve_source(name, split, data_dir)
    if source.path is not None:
        rows, label = read_jsonl(source.path), str(source.path)
    else:
        rows = _load_hub_rows(spec, split)
        label = f"{spec.hub_id}:{spec.hub_config or ''}:{split}"
    if rows and isinstance(rows[0], dict) and "id" not in rows[0]:
        prefix = spec.hub_config or spec.name
        rows = [{"id": f"{prefix}-{i}", **r} if isinstance(r, dict) else r for i, r in enumerate(rows)]
    if spec.source == "chatdoctor":
        rows = _split_chatdoctor(rows, split)
    return parse_rows(rows, spec.kind, label), source


def load_items(
    name: str, split: str = "test", data_dir: str | Path | None = None
) -> list[MCQItem] | list[DialogueItem]:
    """Load and validate one dataset split (sources: see :func:`resolve_source`)."""
    return load_items_from(name, split, data_dir)[0]
