"""The HTML pages lockbench writes (``lockbench report``, ``leaderboard.html``), rendered from one
jinja2 base template (``templates/base.html.j2``: the style sheet and the table macro).

Pages are self-contained: inline CSS, inline images and SVG, no script and no external asset,
so a page can be mailed, archived or opened offline. Autoescaping is on: every value is text
unless a caller marks it as markup (the inline plots).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2


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
