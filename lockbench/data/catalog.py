"""The datasets lockbench evaluates, and where each one's rows come from.

Four sources:
- ``bundled``: written by the project, shipped in the wheel (the embedded default: no download);
- ``mmlu``: ``cais/mmlu`` subjects from the Hugging Face hub, or ``<data_dir>/mmlu/<subject>.jsonl``;
- ``chatdoctor``: a healthcare dialogue set from the hub, or ``<data_dir>/chatdoctor/chatdoctor.jsonl``;
- ``custom``: a user's own set registered with ``lockbench dataset add`` (lockbench.data.custom).
``data_dir`` is given at run time (``--metadata '{"data_dir": ...}'``) and always wins over the hub.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lockbench.data.custom import MANIFEST, find_custom, is_registry
from lockbench.data.schema import (
    DialogueItem,
    Kind,
    MCQItem,
    parse_rows,
    read_jsonl,
    read_jsonl_lines,
)
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
    source: str  # "bundled" | "mmlu" | "chatdoctor" | "custom"
    hub_id: str | None = None
    hub_config: str | None = None
    description: str = ""
    folder: Path | None = None  # custom: the registered dataset folder

    def local_candidates(self, data_dir: Path, split: str) -> list[Path]:
        """Files tried, in order, under a user's ``data_dir`` (the layout of ../shared/data)."""
        if self.source == "mmlu":
            sub = self.hub_config
            if split == "train":
                return [data_dir / "mmlu" / "dev" / f"{sub}.jsonl", data_dir / "dev" / f"{sub}.jsonl"]
            return [data_dir / "mmlu" / f"{sub}.jsonl", data_dir / f"{sub}.jsonl"]
        if self.source == "chatdoctor":
            return [data_dir / "chatdoctor" / "chatdoctor.jsonl", data_dir / "chatdoctor.jsonl"]
        if self.source == "custom":
            return []  # always read from its registered folder
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


def get_dataset(name: str, data_dir: object = None, near: Path | None = None) -> DatasetSpec:
    """Look up a dataset by name: the catalog, then custom datasets registered in ``near`` (a
    task YAML's folder), ``data_dir`` or ``$LOCKBENCH_TASKS_PATH``; an unknown name lists the
    known ones."""
    if name in DATASETS:
        return DATASETS[name]
    found = find_custom(name, data_dir, near) if isinstance(name, str) else None
    if found is not None:
        folder, manifest = found
        return DatasetSpec(manifest.name, manifest.kind, manifest.domain, "custom",
                           description=f"custom {manifest.kind} set", folder=folder)
    raise DataError(
        f"unknown dataset '{name}'; known datasets: {', '.join(sorted(DATASETS))}; a dataset of "
        "your own: register it with `lockbench dataset add` and give its folder (--data-dir or "
        "$LOCKBENCH_TASKS_PATH)"
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
    if not any(p.exists() for p in layouts) and not is_registry(root):
        raise DataError(
            f"data_dir {root} has none of lockbench's layouts (<domain>/<kind>_<split>.jsonl, "
            f"mmlu/<subject>.jsonl, chatdoctor/chatdoctor.jsonl, <name>/{MANIFEST}); see "
            "lockbench/data/bundled/README.md"
        )
    return root


@dataclass(frozen=True)
class DataSource:
    """Where one dataset split's rows come from: ``kind`` is bundled, local, hub or custom."""

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
        where = {"bundled": "bundled file", "custom": f"custom dataset file in {self.root}:"}.get(
            self.kind, f"local file in {self.root}:")
        return f"{where} {self.relative_path()}"

    def relative_path(self) -> str | None:
        if self.path is None or self.root is None:
            return None
        return self.path.relative_to(self.root).as_posix()


def resolve_source(
    name: str | DatasetSpec, split: str = "test", data_dir: object = None, near: Path | None = None
) -> DataSource:
    """Decide where ``name``'s ``split`` is read from, without reading it.

    ``data_dir`` replaces the bundled folder or the hub: for bundled sets it may hold
    ``<domain>/<kind>_<split>.jsonl`` (a bundled set it does not hold stays bundled, and the task
    says so); for MMLU and ChatDoctor it must hold the layout of ../shared/data. A custom set is
    read from its registered folder (paths reported relative to the folder holding it).
    """
    spec = name if isinstance(name, DatasetSpec) else get_dataset(name, data_dir, near)
    if split not in SPLITS:
        raise DataError(f"unknown split '{split}'; use one of {', '.join(SPLITS)}")
    if spec.source == "custom":
        return _custom_source(spec, split)
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


def _custom_source(spec: DatasetSpec, split: str) -> DataSource:
    from lockbench.data.custom import read_manifest

    assert spec.folder is not None
    entry = read_manifest(spec.folder).splits.get(split)
    if entry is None:
        raise DataError(
            f"custom dataset '{spec.name}' has no {split} split; register one with "
            f"`lockbench dataset add {spec.name} --{split} FILE ... --force`"
        )
    path = spec.folder / entry.file
    if not path.is_file():
        raise DataError(f"{path}: missing from the registered dataset; register it again with --force")
    return DataSource("custom", path, spec.folder.parent)


def load_items_from(
    name: str | DatasetSpec, split: str = "test", data_dir: object = None, near: Path | None = None
) -> tuple[list[MCQItem] | list[DialogueItem], DataSource]:
    """Like :func:`load_items`, and also where the rows came from."""
    spec = name if isinstance(name, DatasetSpec) else get_dataset(name, data_dir, near)
    source = resolve_source(spec, split, data_dir)
    if source.kind == "custom":
        return read_custom_items(source.path, spec.kind, spec.name), source
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


def read_custom_items(
    path: Path, kind: Kind, name: str, *, line_numbers: bool = False
) -> list[MCQItem] | list[DialogueItem]:
    """The items of a custom dataset file; a row without an ``id`` gets ``<name>-<row index>``
    (never derived from the file's name, so a copy of the file gives the same items and hash).
    ``line_numbers``: errors name the file line (what ``lockbench dataset add`` reports)."""
    pairs = read_jsonl_lines(Path(path))
    rows = [{"id": f"{name}-{i}", **row} if isinstance(row, dict) and "id" not in row else row
            for i, (_, row) in enumerate(pairs)]
    return parse_rows(rows, kind, str(path), [n for n, _ in pairs] if line_numbers else None)


def load_items(
    name: str | DatasetSpec, split: str = "test", data_dir: str | Path | None = None
) -> list[MCQItem] | list[DialogueItem]:
    """Load and validate one dataset split (sources: see :func:`resolve_source`)."""
    return load_items_from(name, split, data_dir)[0]
