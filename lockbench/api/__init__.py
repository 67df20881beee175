"""Locked models behind an OpenAI-compatible API: serve one locally, check an endpoint, build the
``lm_eval`` command lines that evaluate it (IdentityLock's threat model: the attacker only ever
talks to the API)."""

from __future__ import annotations

from lockbench.api.commands import lm_eval_commands
from lockbench.api.ping import check_endpoint, endpoint_urls
from lockbench.api.server import LocalServer, resolve_model_folder

__all__ = [
    "LocalServer",
    "check_endpoint",
    "endpoint_urls",
    "lm_eval_commands",
    "resolve_model_folder",
]
