"""Find which option an MCQ response chose, in the forms real models write.

Accepted: ``B``, ``(B)``, ``B)``, ``B.``, ``B: text``, ``Answer: B``, ``The answer is B.``,
``The correct option is (B)``, ``**B**``, the same statements in other languages (``La respuesta
es B``, ``É a D``, ``答案是D``, ``Ответ: C``), and the text of one choice on its own. Anything else is
*unparsed* (``None``): counted separately, never guessed.
"""

from __future__ import annotations

import re

from lockbench.data.schema import LETTERS

_MARKDOWN = re.compile(r"[*_`#]+")
_ONLY_LETTER = re.compile(r"^\s*[\(\[]?([A-D])[\)\]]?\s*[.:)]?\s*$")
_LEADING_LETTER = re.compile(r"^\s*(?:option\s+|choice\s+)?[\(\[]?([A-D])(?:[\)\]]|[.:](?=\s|$))")
# Keywords in any case, the letter itself in capitals only ("the answer is a ..." is no letter).
# A capital "A" followed by a lowercase word is the article ("Answer: A cell is ..."), not a choice.
_STATED = re.compile(
    r"\b(?i:answer|option|choice)(?:\s+(?i:is))?\s*[:=]?\s*(?i:option\s+|choice\s+|letter\s+)?"
    r"(?:\(([A-D])\)|\[([A-D])\]|(A(?!\s+[a-z])|[B-D])\b(?![\w']))"
)
# A letter named late in a sentence: "Well, it's B", "..., so B.", "— B." (same capital-A caveat).
_LATE = re.compile(
    r"(?:\b(?i:so|it['’]?s|it is|that['’]?s|pick|choose|go with|i['’]d say|i think)\s+|[—–:]\s*"
    r"|\b(?i:anyway|fine|ok|okay|well|actually|alright)[,:]?\s+"
    # "Es la D", "É a D", "C'est la B", "Es ist C", "È la A", "Het is B", "Это C"
    r"|(?<![\w'’])(?i:es la|es el|es|é a|é o|é|c['’]est(?: la| le)?|es ist|ist es|è la|è il|è|het is|это|to jest|det är)\s+)"
    r"(?:\(([A-D])\)|([A-D])\b(?![\w'’])(?!\s+[a-z]))"
)
# The same statements in the other languages the judges claim ("La respuesta es B", "É a D",
# "答案是D", "Ответ: C"): a keyword, an optional copula and article, then a capital letter.
_STATED_INTL = re.compile(
    r"(?:(?i:respuesta|resposta|r[ée]ponse|antwort|risposta|antwoord|odpowied[źz]|cevap|jawaban(?:nya)?|"
    r"đáp án|câu trả lời|svaret|opci[óo]n|op[çc][ãa]o|alternativa|variante|ответ|відповідь|вариант|"
    r"الإجابة|الجواب|उत्तर)(?:\s+(?i:correcta|correta|certa|correcte|bonne|richtige|corretta|giusta|juiste|"
    r"prawidłowa|doğru|đúng|rätta))?\s*(?:(?i:es|é|est|ist|è|is|là|adalah|to|är|هي|—|–|-|:)\s*)?"
    r"(?:(?i:la|a|le|l['’]|die|der|das|il|de|het|это|то)\s+)?"
    r"|(?:答案|正确答案|正確答案|答え|正解|정답|답|选项|選項|应该选|應該選|选|選)\s*(?:是|为|為|は|은|는|：|:)?\s*)"
    r"[\(\[（]?([A-D])(?![A-Za-z'’])"
)
_WORD = re.compile(r"[a-z0-9]+")
# "C is correct", "B would be the right one": a letter named as the answer.
_LETTER_IS = re.compile(
    r"(?<![\w'’])([A-D])\s+(?i:is|would be|seems|looks|should be|must be)\s+(?i:the\s+)?"
    r"(?i:correct|right|answer|best|true)\b"
)
# ASCII text is read for the other languages' statements only when one of their keywords occurs.
_INTL_HINTS = ("respuesta", "resposta", "reponse", "antwort", "risposta", "antwoord", "odpowiedz",
               "cevap", "jawaban", "svaret", "opcion", "alternativa", "variante")


def _norm_words(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _choice_by_text(response: str, choices: list[str], strict: bool = False) -> str | None:
    """The one choice whose full text the response is, starts with, or (unless ``strict``) alone
    contains."""
    said = _norm_words(response)
    if not said:
        return None
    normed = [_norm_words(c) for c in choices]
    exact = [i for i, c in enumerate(normed) if c and said == c]
    if len(exact) == 1:
        return LETTERS[exact[0]]
    padded = f" {said} "  # both sides are normalised words joined by single spaces
    contained = [i for i, c in enumerate(normed) if c and f" {c} " in padded]
    # A choice that is a substring of another ("rain" / "acid rain") counts once, as the longer.
    contained = [
        i for i in contained if not any(j != i and normed[i] in normed[j] for j in contained)
    ]
    # Starting with an option's text ("Carrot, because ...") chooses it, unless another is named.
    if len(contained) == 1 and said.startswith(normed[contained[0]]):
        return LETTERS[contained[0]]
    if strict:
        return None
    # Naming two options ("oxygen and nitrogen") chooses neither.
    return LETTERS[contained[0]] if len(contained) == 1 else None


def extract_choice(response: str, choices: list[str], strict: bool = False) -> str | None:
    """Return the chosen letter ``A``-``D``, or ``None`` when the response names no single option.

    ``strict`` accepts only the unmistakable forms (a letter, "the answer is X", an option's text
    as the whole response or its start), for checking whether a judged refusal hands over an
    answer."""
    if not response or not response.strip():
        return None
    text = _MARKDOWN.sub("", response).strip()
    first_line = text.splitlines()[0] if text else ""
    for pattern in (_ONLY_LETTER, _LEADING_LETTER):
        match = pattern.match(first_line)
        if match:
            return match.group(1).upper()
    stated = [next(g for g in m.groups() if g) for m in _STATED.finditer(text)]
    if not stated and any(w in text for w in (" is ", " be ", " seems ", " looks ")):  # "C is correct"
        stated = [m.group(1) for m in _LETTER_IS.finditer(text)]
    if not stated and (not text.isascii() or any(k in text.lower() for k in _INTL_HINTS)):
        stated = [m.group(1) for m in _STATED_INTL.finditer(text)]
    if stated:  # "the answer is B, not C" names two letters: the first statement wins
        return stated[0]
    if not strict:
        late = [next(g for g in m.groups() if g) for m in _LATE.finditer(text)]
        if len(set(late)) == 1:
            return late[0]
    return _choice_by_text(text, choices, strict)
