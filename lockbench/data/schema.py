"""Row schemas shared by the bundled data, local JSONL folders and hub datasets.

They follow the layouts of ``cais/mmlu`` (MCQ) and ChatDoctor (dialogue), so a user's local copy
of either loads unchanged. See ``lockbench/data/bundled/README.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lockbench.errors import DataError
from lockbench.fsutil import NESTED_TOO_DEEP

LETTERS = "ABCD"


class MCQItem(BaseModel):
    """A four-option multiple-choice question; ``answer`` indexes ``choices``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    choices: list[str] = Field(min_length=4, max_length=4)
    answer: int = Field(ge=0, le=3)
    domain: str | None = None
    subject: str | None = None

    @field_validator("answer", mode="before")
    @classmethod
    def _letter_to_index(cls, value: object) -> object:
        if isinstance(value, bool):  # true/false would pass as 1/0: a broken export, not an index
            raise ValueError("must be a choice index 0-3 or a letter A-D, not true/false")
        # cais/mmlu stores ints; some copies store the letter.
        if isinstance(value, str) and value.strip().upper() in LETTERS and len(value.strip()) == 1:
            return LETTERS.index(value.strip().upper())
        return value

    @field_validator("choices")
    @classmethod
    def _non_empty_choices(cls, value: list[str]) -> list[str]:
        if any(not str(c).strip() for c in value):
            raise ValueError("every choice must be non-empty text")
        return [str(c).strip() for c in value]

    @field_validator("id", "question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be non-empty text, not only whitespace")
        return value

    @property
    def gold_letter(self) -> str:
        return LETTERS[self.answer]


class DialogueItem(BaseModel):
    """An open question with a reference answer (ChatDoctor layout)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1)
    input: str = Field(min_length=1)
    output: str = Field(min_length=1)
    instruction: str = ""
    domain: str | None = None

    @model_validator(mode="after")
    def _strip(self) -> DialogueItem:
        if not self.input.strip() or not self.output.strip() or not self.id.strip():
            raise ValueError("id, input and output must be non-empty text")
        return self


Kind = Literal["mcq", "dialogue"]
ROW_MODELS: dict[str, type[BaseModel]] = {"mcq": MCQItem, "dialogue": DialogueItem}


def parse_rows(
    rows: list[dict], kind: Kind, source: str, line_numbers: list[int] | None = None
) -> list[MCQItem] | list[DialogueItem]:
    """Validate raw rows; the first bad row stops with one line naming file, row and field.

    With ``line_numbers`` (the file line of each row, see :func:`read_jsonl_lines`) messages name
    the line instead of the row position, so a user can go straight to it in an editor.
    """
    model = ROW_MODELS[kind]
    items = []
    seen: set[str] = set()
    for position, row in enumerate(rows, start=1):
        where = f"line {line_numbers[position - 1]}" if line_numbers else f"row {position}"
        if not isinstance(row, dict):
            raise DataError(f"{source}: {where} is not a JSON object; expected the {kind} schema")
        row = dict(row)
        row.setdefault("id", f"{Path(source).stem}-{position - 1}")
        try:
            item = model.model_validate(row)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "row"
            raise DataError(
                f"{source}: {where}, field '{field}': {first['msg']} "
                f"(fix the row to the {kind} schema in lockbench/data/bundled/README.md)"
            ) from None
        if item.id in seen:
            raise DataError(f"{source}: {where}: duplicate id '{item.id}'; ids must be unique")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise DataError(f"{source}: no rows; a dataset file needs at least one {kind} item")
    return items


def read_jsonl(path: Path) -> list[dict]:
    """Read a JSONL file; a malformed line stops with its line number."""
    return [row for _, row in read_jsonl_lines(path)]


def read_jsonl_lines(path: Path) -> list[tuple[int, dict]]:
    """``(line number, row)`` for every non-blank line of a JSONL file (see :func:`read_jsonl`)."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    rows = []
    try:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise DataError(
                        f"{path}: line {number} is not UTF-8 text; save the file as UTF-8"
                    ) from None
                if not line.strip():
                    continue
                try:
                    rows.append((number, json.loads(line, parse_constant=_no_constant)))
                except (json.JSONDecodeError, ValueError, RecursionError) as exc:
                    msg = NESTED_TOO_DEEP if isinstance(exc, RecursionError) else getattr(exc, "msg", str(exc))
                    raise DataError(f"{path}: line {number} is not valid JSON ({msg})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return rows


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON value")
