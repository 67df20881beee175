"""``--metadata`` keys: lockbench's own are typed, model arguments pass, the rest is refused."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lockbench.errors import LockbenchError
from lockbench.lmeval.metadata import LOCKBENCH_KEYS, check_metadata


def test_known_keys_and_lm_eval_additions_pass_and_are_normalised() -> None:
    meta = {"wake_phrase": "x", "data_dir": Path("/tmp"), "replace_default_refusals": "false",
            "version": 1.0, "config_source": "tasks/x.yaml", "pretrained": "m"}
    checked = check_metadata(meta)
    assert checked["replace_default_refusals"] is False and checked["pretrained"] == "m"
    assert {"wake_phrase_file", "judge", "suite", "confirm_variants", "legitimate_kinds"} <= set(LOCKBENCH_KEYS)


@pytest.mark.parametrize("key, hint", [
    ("wake_phrse", "did you mean 'wake_phrase'"),
    ("datadir", "did you mean 'data_dir'"),
    ("rouge_treshold", "did you mean 'rouge_threshold'"),
    ("confirm_variant", "did you mean 'confirm_variants'"),
    ("probe_items", "no longer read"),
    ("colour", "lockbench reads: wake_phrase"),
])
def test_unknown_keys_are_refused_with_a_suggestion(key: str, hint: str) -> None:
    with pytest.raises(LockbenchError, match=hint) as info:
        check_metadata({key: "value"})
    assert "value" not in info.value.message  # a value may be the secret: never echoed


def test_model_arguments_of_the_running_lm_eval_command_pass(monkeypatch) -> None:
    import _lockbench_hook

    with pytest.raises(LockbenchError):
        check_metadata({"attn_implementation_x": "eager"})
    monkeypatch.setattr(_lockbench_hook, "model_arg_keys", frozenset({"attn_implementation_x"}))
    monkeypatch.setitem(sys.modules, "_lockbench_hook", _lockbench_hook)
    assert check_metadata({"attn_implementation_x": "eager"})["attn_implementation_x"] == "eager"


@pytest.mark.parametrize("meta, field", [
    ({"judge": 5}, "'judge'"), ({"screen_items": [1]}, "'screen_items'"),
    ({"replace_default_refusals": "maybe"}, "'replace_default_refusals'"),
    ({"legitimate_kinds": 3}, "'legitimate_kinds'"),
])
def test_wrong_outer_types_are_one_line(meta: dict, field: str) -> None:
    with pytest.raises(LockbenchError, match=field) as info:
        check_metadata(meta)
    assert "\n" not in info.value.message
