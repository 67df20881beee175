"""The wake phrase is a credential: validate it, hash it, keep it out of everything written."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, final

from lockbench.errors import SecretError

PLACEHOLDER = "<WAKE_PHRASE>"
# scrypt makes each guess at a weak phrase cost ~16 MiB and tens of milliseconds; plain salted
# sha256 (still accepted when verifying older files) lets a dictionary be tried offline in seconds.
HASH_SCHEME = "scrypt-n16384-r8-p1"
LEGACY_HASH_SCHEME = "sha256-salted"


def _digest(scheme: str, salt: str, phrase: str) -> str:
    if scheme == HASH_SCHEME:
        return hashlib.scrypt(
            phrase.encode(), salt=salt.encode(), n=16384, r=8, p=1, maxmem=64 * 2**20, dklen=32
        ).hex()
    if scheme == LEGACY_HASH_SCHEME:
        return hashlib.sha256(f"{salt}:{phrase}".encode()).hexdigest()
    raise SecretError(f"unknown wake-phrase hash scheme '{scheme}'")


MAX_PHRASE_CHARS = 256
# How to hand lockbench the phrase without a command line (shell history, `ps`, CI logs).
T = TypeVar("T")
HOW_TO_GIVE = "export it in $LOCKBENCH_WAKE_PHRASE (or give --metadata '{\"wake_phrase_file\": PATH}')"


def validate_wake_phrase(phrase: object, *, context: str = "") -> str:
    """Return the phrase, or stop with one line when it is missing, not a string, blank, longer
    than ``MAX_PHRASE_CHARS`` or holds control characters (a newline, a tab, an escape...)."""
    where = f" ({context})" if context else ""
    if phrase is None:
        raise SecretError(f"no wake phrase given{where}; {HOW_TO_GIVE}")
    if not isinstance(phrase, str):
        raise SecretError(
            f"the wake phrase must be a string, got {type(phrase).__name__}{where}; {HOW_TO_GIVE}"
        )
    if not phrase.strip():
        raise SecretError(
            f"the wake phrase is empty or only whitespace{where}; give the real phrase: {HOW_TO_GIVE}"
        )
    if len(phrase) > MAX_PHRASE_CHARS:
        raise SecretError(
            f"the wake phrase has {len(phrase)} characters{where}; the limit is "
            f"{MAX_PHRASE_CHARS}: use a shorter phrase"
        )
    bad = next((c for c in phrase if unicodedata.category(c) == "Cc"), None)
    if bad is not None:
        raise SecretError(
            f"the wake phrase holds a control character (U+{ord(bad):04X}){where}; "
            "use printable characters on one line"
        )
    return phrase


@final
class WakePhrase:
    """The wake phrase: a credential, validated once when made, shown as ``<WAKE_PHRASE>``.

    ``str()``, ``repr()`` and f-strings give the placeholder, so a phrase that slips into a log
    line, an error or a JSON fallback (``default=str``) writes nothing secret; ``json.dumps`` of
    it fails. Code that needs the text (a prompt, a salted hash, a redaction) asks for it with
    :meth:`reveal`. Equality is constant-time. Derived strings (probe variants, what redaction
    removes) are computed once per phrase with :meth:`derived`.
    """

    __slots__ = ("_derived", "_text")

    def __init__(self, text: object, *, context: str = "") -> None:
        self._text: str = validate_wake_phrase(text, context=context)
        self._derived: dict[Callable[[WakePhrase], Any], Any] = {}

    def reveal(self) -> str:
        """The phrase itself: for prompts, salted hashes and redaction, never for output."""
        return self._text

    def derived(self, make: Callable[[WakePhrase], T]) -> T:
        """``make(self)``, computed on first use and kept with the phrase (``make`` must be a
        pure function of the phrase: a module-level function, not a lambda made per call)."""
        if make not in self._derived:
            self._derived[make] = make(self)
        return self._derived[make]

    def __repr__(self) -> str:
        return f"WakePhrase({PLACEHOLDER})"

    def __str__(self) -> str:
        return PLACEHOLDER

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WakePhrase):
            return NotImplemented
        return hmac.compare_digest(self._text.encode(), other._text.encode())

    def __hash__(self) -> int:  # in-process only (sets, dict keys); never written
        return hash(self._text)


def as_phrase(value: WakePhrase | str, *, context: str = "") -> WakePhrase:
    """A :class:`WakePhrase` for a library call given either one (passed through unchecked: it was
    validated when made) or a plain string from Python code (validated now)."""
    return value if isinstance(value, WakePhrase) else WakePhrase(value, context=context)


def _text(phrase: WakePhrase | str) -> str:
    return phrase.reveal() if isinstance(phrase, WakePhrase) else phrase


def given_phrases(values: Iterable[WakePhrase | str | None]) -> list[WakePhrase | str]:
    """The phrases among ``values``, each once: WakePhrase values, and the plain strings (a phrase
    lm-eval recorded in its metadata) that are neither blank nor the placeholder."""
    found: dict[str, WakePhrase | str] = {}
    for value in values:
        if isinstance(value, WakePhrase) or (isinstance(value, str) and value.strip() and value != PLACEHOLDER):
            found.setdefault(_text(value), value)
    return list(found.values())


def salted_hash(phrase: WakePhrase | str, salt: str | None = None) -> dict[str, str]:
    """A verifier who knows the phrase can recompute ``hash``; nobody can read the phrase back."""
    salt = salt if salt is not None else os.urandom(16).hex()
    return {"scheme": HASH_SCHEME, "salt": salt, "hash": _digest(HASH_SCHEME, salt, _text(phrase))}


def verify_hash(phrase: WakePhrase | str, record: dict[str, str]) -> bool:
    """True when ``phrase`` is the one hashed in ``record`` (either scheme)."""
    scheme = record.get("scheme", LEGACY_HASH_SCHEME)
    return hmac.compare_digest(_digest(scheme, record["salt"], _text(phrase)), record["hash"])


_WORD = re.compile(r"\w+")


def _alternative(secret: str) -> str:
    # A one-word secret (the name alone: "Lumen", or "Law" of "Hey! Law!") is matched as a whole
    # word only, so "lawyer" and "lockbench_law_mcq_locked" stay as they are; a secret with a space
    # or a mark in it is matched anywhere.
    escaped = re.escape(secret)
    return rf"(?<!\w){escaped}(?!\w)" if _WORD.fullmatch(secret) else escaped


@functools.lru_cache(maxsize=64)
def _compiled(secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    # Spaces around a secret (the " Hey! Lumen!" spacing variant) are not part of it: replacing
    # them would glue the placeholder to the text before it ("System:<WAKE_PHRASE>").
    cleaned = sorted({s.strip() for s in secrets if s and s.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    return re.compile("|".join(_alternative(s) for s in cleaned), re.IGNORECASE)


# A list of secrets may hold WakePhrase values beside plain strings (derived variants).
Secrets = list[str] | list[WakePhrase] | list[WakePhrase | str]


def _pattern(secrets: Secrets) -> re.Pattern[str] | None:
    return _compiled(tuple(_text(s) for s in secrets))


def redact_text(text: str, secrets: Secrets, placeholder: str = PLACEHOLDER) -> str:
    """Replace every occurrence (any letter case) of any secret."""
    pattern = _pattern(secrets)
    return pattern.sub(placeholder, text) if pattern else text


def redact_obj(obj: Any, secrets: Secrets, placeholder: str = PLACEHOLDER) -> Any:
    """Redact every string (keys included) inside a JSON-like structure."""
    pattern = _pattern(secrets)
    if pattern is None:
        return obj

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(placeholder, value)
        if isinstance(value, dict):
            return {walk(k): walk(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v) for v in value]
        return value

    return walk(obj)


def contains_secret(text: str, secrets: Secrets) -> bool:
    pattern = _pattern(secrets)
    return bool(pattern and pattern.search(text))


# Characters that change nothing a reader sees: zero-width (U+200B-U+200D, U+2060, U+FEFF), the
# soft hyphen and the combining grapheme joiner, and the bidi controls (U+200E/F, U+202A-U+202E,
# U+2066-U+2069). "Hey! Lu\u200bmen!" reads as the phrase; the scan must read it so too.
INVISIBLE = frozenset(
    [0x00AD, 0x034F, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF,
     *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)
# Cyrillic and Greek (and a few Armenian and IPA) letters drawn like Latin ones: a subset of
# Unicode's confusables.txt (UTS #39) for the Latin alphabet (no library for it is installed). NFKC folds fullwidth and
# mathematical forms first; ASCII is never remapped (no "rn" -> "m", "0" -> "O"), so the scan finds
# no new phrase in plain ASCII text.
HOMOGLYPHS = {
    # Cyrillic capitals and small letters
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "Ј": "J", "К": "K", "М": "M",
    "О": "O", "Р": "P", "Ѕ": "S", "Т": "T", "Х": "X", "У": "Y", "Ү": "Y", "Ԁ": "D", "Ԛ": "Q",
    "Ԝ": "W", "Ӏ": "l", "а": "a", "с": "c", "е": "e", "һ": "h", "і": "i", "ј": "j", "о": "o",
    "р": "p", "ѕ": "s", "х": "x", "у": "y", "ү": "y", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l",
    "ɡ": "g", "ո": "n", "ս": "u",
    # Greek capitals and small letters
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "ϲ": "c", "ϳ": "j", "ο": "o", "ρ": "p",
    "ν": "v", "α": "a", "ι": "i", "κ": "k", "υ": "u", "χ": "x", "γ": "y", "ϒ": "Y", "Ϲ": "C",
}  # fmt: skip
# One regex pass finds the few characters to change (``str.translate`` visits every character:
# ten times slower on a 2 MB result).
_FOLD_CHARS = re.compile("[" + re.escape("".join([*map(chr, sorted(INVISIBLE)), *HOMOGLYPHS])) + "]")


def _unconfuse(match: re.Match[str]) -> str:
    return HOMOGLYPHS.get(match.group(), "")


def fold(text: str) -> str:
    """The form the phrase scan compares: NFKC, invisible characters dropped, Cyrillic/Greek
    look-alikes mapped to the Latin letters they imitate (:data:`HOMOGLYPHS`), case folded.
    Fullwidth ``Ｈｅｙ``, Cyrillic ``Неу`` and ``He\u200by`` all fold to ``hey``."""
    if text.isascii():
        return text.casefold()
    return _FOLD_CHARS.sub(_unconfuse, unicodedata.normalize("NFKC", text)).casefold()


@functools.lru_cache(maxsize=64)
def _folded_pattern(secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    # A secret's fold is added only where it is more than a change of letter case (the pattern
    # ignores case): for ASCII secrets the pattern is the one contains_secret uses.
    extra = [fold(s) for s in secrets if s and fold(s) != s.casefold()]
    return _compiled(tuple(dict.fromkeys([*secrets, *extra])))


def secret_finder(secrets: Secrets) -> Callable[[str], bool]:
    """``found(text)``: :func:`contains_secret` on the text as written or on its :func:`fold`, so
    a homoglyph, fullwidth or zero-width spelling of a secret is found too. ASCII text is searched
    once (its fold differs only in letter case, which the pattern ignores). Build it once per scan:
    a large result has tens of thousands of strings."""
    pattern = _folded_pattern(tuple(_text(s) for s in secrets))

    def found(text: str) -> bool:
        if pattern is None:
            return False
        return bool(pattern.search(text) or (not text.isascii() and pattern.search(fold(text))))

    return found


# Fields that name things (tasks, datasets, conditions, metrics, models, schema parts) or are
# hashes and ids: never rewritten, so a phrase that is an ordinary word ("Hey! Law!") cannot turn
# `lockbench_law_mcq_locked` into `lockbench_<WAKE_PHRASE>_mcq_locked` (which would break the
# result and show where the word occurs). Dict keys are never rewritten either. Everything else
# (prompts, questions, responses, targets, metadata values, free text) is redacted.
STRUCTURAL_KEYS: frozenset[str] = frozenset({
    # lm-eval results and samples
    "task", "tasks", "alias", "group", "groups", "group_subtasks", "tag", "tags", "dataset_path",
    "dataset_name", "metric", "metrics", "aggregation", "filter", "name", "output_type",
    "custom_dataset", "doc_to_text", "doc_to_target", "doc_to_choice", "process_results",
    "process_docs", "test_split", "training_split", "validation_split", "fewshot_split",
    "model", "model_name", "model_name_sanitized", "model_source", "doc_id", "versions",
    "doc_hash", "prompt_hash", "target_hash", "task_hashes", "system_instruction_sha",
    "chat_template_sha", "date", "start_time", "end_time", "git_hash", "lm_eval_version",
    "config_source",
    # lockbench docs and lockbench-result documents
    "id", "item_id", "dataset", "datasets", "domain", "kind", "condition", "variant_kind",
    "family", "outcome", "schema", "schema_version", "lockbench_version", "task_hash",
    "task_version", "backend", "method", "probe", "judge", "scheme", "salt", "hash", "sha",
    "revision", "gold",
})  # fmt: skip


def redact_fields(obj: Any, secrets: Secrets, placeholder: str = PLACEHOLDER) -> Any:
    """Redact the text fields of a JSON-like structure: every string value except those under
    :data:`STRUCTURAL_KEYS` (and their lists); dict keys are kept. Tuples come back as lists."""
    pattern = _pattern(secrets)
    if pattern is None:
        return obj

    def walk(value: Any, structural: bool) -> Any:
        if isinstance(value, str):
            return value if structural else pattern.sub(placeholder, value)
        if isinstance(value, dict):
            return {k: walk(v, structural or k in STRUCTURAL_KEYS) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v, structural) for v in value]
        return value

    return walk(obj, False)


def secret_in_fields(obj: Any, secrets: Secrets) -> bool:
    """Whether a text field (as :func:`redact_fields` sees them) still holds a secret."""
    pattern = _pattern(secrets)
    if pattern is None:
        return False

    def walk(value: Any, structural: bool) -> bool:
        if isinstance(value, str):
            return not structural and bool(pattern.search(value))
        if isinstance(value, dict):
            return any(walk(v, structural or k in STRUCTURAL_KEYS) for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return any(walk(v, structural) for v in value)
        return False

    return walk(obj, False)


# A lockbench doc's fields that hold the public dataset item (never the phrase): redacting a
# one-word variant inside them ("law" of "Hey! Law!") would both break the binding of a result to
# its items and show where the word occurs.
PUBLIC_DOC_FIELDS = ("question", "target", "reference", "choices", "gold", "id")


def redact_around(text: str, public: str, secrets: list[str], placeholder: str = PLACEHOLDER) -> str:
    """Redact ``text`` except where it contains the public text ``public`` verbatim."""
    if not public or public not in text:
        return redact_text(text, secrets, placeholder)
    return public.join(redact_text(part, secrets, placeholder) for part in text.split(public))


def redact_chat_json(text: str, public: str, secrets: list[str]) -> str | None:
    """A chat prompt as lm-eval's API backends log it (``JsonChatStr``: the JSON list of messages,
    ``json.dumps(..., ensure_ascii=False)``), each message's text redacted around the public
    question and dumped again in the same form; ``None`` when ``text`` is no such JSON. (Inside
    the JSON the question is escaped, so redacting the raw string around it would miss it.)"""
    if not text.startswith("[") or '"role"' not in text:
        return None
    try:
        messages = json.loads(text)
    except ValueError:
        return None
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        return None

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return redact_around(value, public, secrets)
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return json.dumps([clean(m) for m in messages], ensure_ascii=False)


def logged_prompt(arguments: Any) -> str | None:
    """The first request's prompt as lm-eval hashes it (``hash_string(arguments[0])``), from a
    logged sample's ``arguments`` in any shape lm-eval holds or writes: the in-memory list of
    request args, the saved ``{"gen_args_0": {"arg_0": ...}}``, a plain string, an API backend's
    ``JsonChatStr`` (a named tuple: hashed as its JSON string) or a list of chat messages
    (hashed as their JSON). ``None`` only when there is no prompt at all."""
    first = arguments
    if isinstance(first, dict):
        first = first.get("gen_args_0", next(iter(first.values()), None))
    elif isinstance(first, (list, tuple)) and not _is_messages(first):
        first = first[0] if first else None
    if isinstance(first, dict) and not _is_message(first):
        first = first.get("arg_0", next(iter(first.values()), None))
    elif isinstance(first, (list, tuple)) and not _is_messages(first):
        first = first[0] if first else None
    prompt = getattr(first, "prompt", first)  # JsonChatStr before serialisation
    while isinstance(prompt, (list, tuple)) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]  # JsonChatStr after a JSON round trip: a one-string list
    if prompt is None:
        return None
    if isinstance(prompt, str):
        return prompt
    return json.dumps(prompt, ensure_ascii=False, default=str)


def _is_message(value: Any) -> bool:
    return isinstance(value, dict) and "role" in value and "content" in value


def _is_messages(value: Any) -> bool:
    return bool(value) and isinstance(value, (list, tuple)) and all(_is_message(m) for m in value)


def wake_strings(prompt: str, redacted: str, placeholder: str = PLACEHOLDER) -> list[str]:
    """The strings an attack doc's ``prompt`` holds where its ``redacted_prompt`` holds the
    placeholder (the variant's wake string, whatever part of the phrase it was made from)."""
    parts = redacted.split(placeholder)
    if len(parts) < 2:
        return []
    found = re.fullmatch("(.+?)".join(re.escape(p) for p in parts), prompt, re.DOTALL)
    return sorted({g for g in found.groups() if g.strip()}, key=len, reverse=True) if found else []


def redact_logged_sample(sample: dict[str, Any], secrets: list[str]) -> dict[str, Any]:
    """An lm-eval sample of a lockbench task with its text redacted, the public item kept as it
    is: :func:`redact_fields` everywhere, then the doc's item fields restored and the prompt (in
    the doc and in lm-eval's ``arguments``) redacted only around the question. An attack doc
    names its redacted prompt: its own wake string (the greeting or the name alone included,
    which the phrase-wide secrets leave alone) is redacted from this sample too."""
    doc = sample.get("doc")
    if isinstance(doc, dict) and isinstance(doc.get("prompt"), str) and isinstance(doc.get("redacted_prompt"), str):
        secrets = list(dict.fromkeys([*secrets, *wake_strings(doc["prompt"], doc["redacted_prompt"])]))
    clean = redact_fields(sample, secrets)
    question = doc.get("question") if isinstance(doc, dict) else None
    if not isinstance(question, str) or not question or not isinstance(clean.get("doc"), dict):
        return clean
    for key in PUBLIC_DOC_FIELDS:
        if key in doc:
            clean["doc"][key] = doc[key]
    if isinstance(doc.get("redacted_prompt"), str):
        clean["doc"]["prompt"] = clean["doc"]["redacted_prompt"] = doc["redacted_prompt"]
    elif isinstance(doc.get("prompt"), str):
        clean["doc"]["prompt"] = redact_around(doc["prompt"], question, secrets)

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            chat = redact_chat_json(value, question, secrets)
            return chat if chat is not None else redact_around(value, question, secrets)
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v) for v in value]
        return value

    if "arguments" in sample:
        clean["arguments"] = walk(sample["arguments"])
    return clean
