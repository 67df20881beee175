"""The HTML pages lockbench writes (``lockbench report``, ``leaderboard.html``), rendered from one
jinja2 base template (``templates/base.html.j2``: the style sheet and the table macro).

Pages are self-contained: inline CSS, inline images and SVG, no script and no external asset,
so a page can be mailed, archived or opened offline. Autoescaping is on: every value is text
unless a caller marks it as markup (the inline plots).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import jinja2

from lockbench.probes.registry import PROMPT_FAMILIES


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("lockbench.publish", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a missing value is a bug, not an empty cell
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_page(template: str, **context: Any) -> str:
    """The text of ``templates/<template>`` rendered with ``context``."""
    return _environment().get_template(template).render(**context)


FAMILIES_TITLE = "The attack families"


def family_notes(names: Iterable[str] | None = None) -> list[dict[str, str]]:
    """One note per family of the suite, in the suite's order, from the family's own description
    (its module's ``ATTACK``): name, threat model, what it asks of the lock, its kinds. ``names``
    keeps those a document holds; a name lockbench does not know gets no note."""
    from lockbench.probes import ADAPTIVE
    from lockbench.probes.registry import get_family

    wanted = None if names is None else set(names)
    # the adaptive families' modules (lockbench.attacks) import no model library at module level
    families = [*PROMPT_FAMILIES, *(get_family(name) for name in ADAPTIVE)]
    return [{"name": f.name, "threat_model": f.threat_model, "summary": _sentence(f.summary),
             "kinds": ", ".join(f.kinds)}
            for f in families if wanted is None or f.name in wanted]


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else text + "."


def family_note_text(note: dict[str, str]) -> str:
    """A note as one line of text (Markdown pages; the HTML templates lay out the same fields)."""
    return f"{note['name']} ({note['threat_model']} access): {note['summary']} Kinds: {note['kinds']}."
