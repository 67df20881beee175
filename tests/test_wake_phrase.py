"""The wake phrase as one typed value (:class:`lockbench.secrets.WakePhrase`): validated once, shown
only as the placeholder, its derived strings computed once, compared in constant time; and
lm-eval's write-time redaction given each run's phrase through that run's own objects (no phrase
kept by a module), so two runs in one process each redact their own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lockbench.secrets
from lockbench.errors import SecretError
from lockbench.lmeval import redact_on_write
from lockbench.lmeval.run import task_manager
from lockbench.lock.build import build_lock_set
from lockbench.phrase import as_phrase, resolve_phrase
from lockbench.probes import family_variants, paraphrase, secret_variants
from lockbench.prompts import with_wake_phrase
from lockbench.secrets import PLACEHOLDER, WakePhrase

PHRASE = "Hey! Quillamor!"
OTHER = "Ahoy! Brenvasti!"


def test_the_value_shows_only_the_placeholder() -> None:
    phrase = WakePhrase(PHRASE)
    assert str(phrase) == PLACEHOLDER and f"{phrase}" == PLACEHOLDER
    assert "%s" % phrase == PLACEHOLDER  # noqa: UP031 - how logging formats its arguments
    assert PHRASE not in repr(phrase) and PLACEHOLDER in repr(phrase)
    assert PHRASE not in json.dumps({"phrase": phrase}, default=str)  # lm-eval's fallback for objects
    with pytest.raises(TypeError):
        json.dumps(phrase)
    with pytest.raises(SecretError) as error:
        WakePhrase(PHRASE + "\n")
    assert PHRASE not in str(error.value)
    assert phrase.reveal() == PHRASE


@pytest.mark.parametrize("bad", [None, "", "   ", "Hey!\tLumen!", 7, "x" * 257])
def test_a_bad_phrase_stops_when_the_value_is_made(bad) -> None:
    with pytest.raises(SecretError):
        WakePhrase(bad)


def test_validated_once_on_the_lock_build_and_probe_paths(monkeypatch) -> None:
    calls = []
    check = lockbench.secrets.validate_wake_phrase

    def counting(value, **kwargs):
        calls.append(kwargs.get("context"))
        return check(value, **kwargs)

    monkeypatch.setattr(lockbench.secrets, "validate_wake_phrase", counting)
    phrase = resolve_phrase({"wake_phrase": PHRASE})
    assert calls == ["metadata 'wake_phrase'"]
    assert as_phrase(phrase) is phrase
    lock_set = build_lock_set(["law_mcq", "healthcare_dialogue"], phrase, seed=1)
    variants = family_variants("paraphrase", phrase)
    secrets = secret_variants(phrase)
    assert with_wake_phrase("Q?", phrase) == f"{PHRASE} Q?"
    assert len(calls) == 1, calls  # not again on the build path, the probes or redaction
    # the same figures as from the plain string (validated once there, at the library boundary)
    assert build_lock_set(["law_mcq", "healthcare_dialogue"], PHRASE, seed=1).examples == lock_set.examples
    assert family_variants("paraphrase", PHRASE) == variants and secret_variants(PHRASE) == secrets


def test_equality_is_constant_time_and_never_with_the_text(monkeypatch) -> None:
    compared = []
    real = lockbench.secrets.hmac.compare_digest
    monkeypatch.setattr(lockbench.secrets.hmac, "compare_digest", lambda a, b: compared.append(1) or real(a, b))
    assert WakePhrase(PHRASE) == WakePhrase(PHRASE)
    assert WakePhrase(PHRASE) != WakePhrase(OTHER)
    assert len(compared) == 2
    assert WakePhrase(PHRASE) != PHRASE  # a value is not its text: no accidental string compare
    assert len({WakePhrase(PHRASE), WakePhrase(PHRASE), WakePhrase(OTHER)}) == 2


def test_derived_strings_are_computed_once_per_phrase(monkeypatch) -> None:
    built = []
    real = paraphrase.variants
    monkeypatch.setattr(paraphrase, "variants", lambda text: built.append(1) or real(text))
    phrase = WakePhrase(PHRASE)
    first = secret_variants(phrase)
    assert secret_variants(phrase) == first and built == [1]
    assert redact_on_write.secrets_of([phrase]) == redact_on_write.secrets_of([phrase]) and built == [1]
    assert PHRASE in first and "Lumen" not in " ".join(first)


def _files_text(root: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(root.rglob("*")) if p.is_file())


def _clean_of(text: str, phrase: str) -> bool:
    lowered = text.lower()
    return not any(s.lower() in lowered for s in secret_variants(phrase))


def test_two_runs_in_one_process_each_redact_their_own(tmp_path, tiny_model, monkeypatch) -> None:
    """Both runs finish before either writes: a phrase kept by the module (the latest run's)
    would leave the first run's phrase in its files. Each tracker redacts with its own."""
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker

    monkeypatch.delenv("LOCKBENCH_WAKE_PHRASE", raising=False)
    redact_on_write.install()
    finished = {}
    for name, phrase in (("first", PHRASE), ("second", OTHER)):
        tracker = EvaluationTracker(output_path=str(tmp_path / name))
        manager = task_manager({"wake_phrase": phrase})
        results = simple_evaluate(
            model="hf", model_args=f"pretrained={tiny_model}", tasks=["lockbench_law_mcq_unlocked"],
            task_manager=manager, limit=2, log_samples=True, evaluation_tracker=tracker, device="cpu",
            gen_kwargs="max_gen_toks=4",
        )
        # the very value the run's TaskManager resolved, handed to its tracker
        assert tracker.lockbench_phrases == (manager.lockbench_phrase,)
        assert tracker.lockbench_phrases[0].reveal() == phrase
        finished[name] = (tracker, results)
    assert redact_on_write.LOG_REDACTOR.secrets() == []  # nothing outlives the runs
    for tracker, results in finished.values():
        samples = results.pop("samples")
        tracker.save_results_aggregated(results=results, samples=samples)
        for task in results["configs"]:
            tracker.save_results_samples(task_name=task, samples=samples[task])
    first, second = _files_text(tmp_path / "first"), _files_text(tmp_path / "second")
    assert PLACEHOLDER in first and PLACEHOLDER in second  # the prompts held the phrase
    assert _clean_of(first, PHRASE) and _clean_of(second, OTHER)
    # no module of the redaction keeps either phrase once the runs are over
    for value in vars(redact_on_write).values():
        assert not isinstance(value, (WakePhrase, dict, list, set)) or not any(
            p in repr(value) for p in (PHRASE, OTHER))
