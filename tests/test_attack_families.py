"""Every attack family describes itself (lockbench.probes.family) and the registry lists them all:
metadata, determinism, and each cost model against the calls the family actually makes; the
adaptive attacks (``search``, ``gcg``) on real models; ``lockbench attack list|search|gcg``."""

from __future__ import annotations

import json

import pytest

from lockbench.cli import main
from lockbench.lmeval.probe_docs import build_latent_docs, probe_rows
from lockbench.probes import FAMILY_MODULES, secret_variants
from lockbench.probes.family import THREAT_MODELS, AttackFamily, Sizes
from lockbench.probes.registry import PROGRAM_MODULES, PROMPT_FAMILIES, all_families, get_family
from lockbench.probes.suite import get_suite
from lockbench.secrets import WakePhrase

PHRASE = "Hey! Quillamor!"
DATASET = "law_mcq"


def test_every_family_describes_itself() -> None:
    families = all_families()
    assert set(families) >= {"paraphrase", "placement", "prefix_attack", "prefill", "traversal", "latent",
                             "finetune", "search", "gcg"}
    for name, family in families.items():
        assert isinstance(family, AttackFamily) and family.name == name
        assert family.threat_model in THREAT_MODELS
        assert family.summary.strip() and family.kinds and all(d.strip() for d in family.kinds.values())
        assert isinstance(family.needs_phrase, bool)
        assert family.cost(Sizes()) > 0 and family.cost_formula.strip()
        described = json.loads(json.dumps(family.describe()))  # plain JSON
        assert described["name"] == name and [k["name"] for k in described["kinds"]] == list(family.kinds)
    assert {f.name: f.threat_model for f in families.values()} | {} == {
        "paraphrase": "query", "placement": "query", "prefix_attack": "query", "prefill": "query",
        "traversal": "query", "latent": "logprobs", "finetune": "finetune", "search": "query", "gcg": "weights"}
    assert len(PROGRAM_MODULES) == 3


@pytest.mark.parametrize("family", PROMPT_FAMILIES, ids=lambda f: f.name)
def test_prompt_families_are_deterministic_and_their_kinds_complete(family) -> None:
    module = FAMILY_MODULES[family.name]
    assert family.kinds is module.KINDS  # described once, where the module declares its kinds
    first, again = family.variants(PHRASE), family.variants(PHRASE)
    assert first == again and len(first) == len(family.slots())
    assert {v.kind for v in first} <= set(family.kinds)
    assert [v.kind for v in first] == [s["kind"] for s in family.slots()]  # the public schedule
    if not family.needs_phrase:  # built without the phrase: the same for any phrase
        assert family.variants("Ahoy! Brenvasti!") == first
        assert not any(s in repr(first) for s in secret_variants(PHRASE))


@pytest.mark.parametrize("family", PROMPT_FAMILIES, ids=lambda f: f.name)
def test_prompt_family_cost_is_the_calls_its_tasks_make(family) -> None:
    suite = get_suite()
    screening = probe_rows(DATASET, family.name, WakePhrase(PHRASE), {})
    attack = [s["index"] for s in ({"index": i, **slot} for i, slot in enumerate(family.slots()))
              if not suite.is_legitimate(family.name, s["kind"])][: suite.keep]
    confirming = probe_rows(DATASET, family.name, WakePhrase(PHRASE),
                            {"confirm_variants": {DATASET: {family.name: attack}}}, confirm=True)
    items = len(confirming) // len(attack)
    sizes = Sizes(screen_items=suite.screen_items, confirm_items=items, keep=suite.keep)
    assert family.cost(sizes) == len(screening) + len(confirming)


def test_latent_cost_is_one_request_per_answer_letter() -> None:
    docs = build_latent_docs(DATASET)["test"]
    assert get_family("latent").cost(Sizes(items=len(docs))) == sum(len(d["choices"]) for d in docs)


def test_the_families_doc_is_written_from_the_registry() -> None:
    from pathlib import Path

    from lockbench.probes.registry import markdown

    committed = (Path(__file__).resolve().parents[1] / "docs" / "attack-families.md").read_text(encoding="utf-8")
    assert committed == markdown(), "run: lockbench attack list --markdown > docs/attack-families.md"
    assert all(f"## `{name}`" in committed for name in all_families())


def test_unknown_family_is_one_line() -> None:
    from lockbench.errors import LockbenchError

    with pytest.raises(LockbenchError, match="unknown attack family 'nope'; use one of paraphrase"):
        get_family("nope")


def test_attack_list_prints_every_family(capsys) -> None:
    assert main(["attack", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [f["name"] for f in listed] == list(all_families())
    for entry in listed:
        assert set(entry) >= {"name", "threat_model", "kinds", "cost", "needs_phrase"}
        assert all(set(k) == {"name", "description"} for k in entry["kinds"])
        assert entry["cost"]["calls_per_dataset"] > 0
    assert main(["attack", "list"]) == 0
    text = capsys.readouterr().out
    assert all(f"\n{name} " in f"\n{text}" for name in all_families())


# --- search ----------------------------------------------------------------------------------


def _oracle(model, name="hf", **args):
    from lm_eval.api.registry import get_model

    from lockbench.attacks.search import Oracle

    lm = get_model(name).create_from_arg_obj({"pretrained": str(model), **args}, {"batch_size": 16, "device": "cpu"})
    return Oracle(lm, chat=True, max_gen_toks=8)


def _items(n_screen=2, n_confirm=4):
    from lockbench.attacks.adaptive import attack_items

    screen, confirm = attack_items([DATASET], n_screen, n_confirm)
    return screen, confirm[DATASET]


@pytest.mark.parametrize("logprobs", [True, False])
def test_search_spends_exactly_its_budget_and_its_cost(tiny_model, logprobs) -> None:
    from lockbench.attacks import search

    oracle = _oracle(tiny_model)
    screen, confirm = _items()
    config = search.SearchConfig(budget=41, logprobs=logprobs, screen_items=2, confirm_items=4)
    run = search.run_search(oracle, screen, config)
    assert run.queries <= config.budget and run.queries == oracle.queries
    assert run.queries > config.budget - 2 * config.screen_items  # the budget is used, not left
    assert search.confirm(oracle, run, confirm) == (run.confirm_opened, 4)
    assert run.confirm_queries == len(confirm) == 4
    assert oracle.queries <= search.ATTACK.cost(Sizes(budget=config.budget, confirm_items=4))
    again = search.run_search(_oracle(tiny_model), screen, config)  # seeded: the same search
    assert (again.best.text, again.queries, again.evaluated) == (run.best.text, run.queries, run.evaluated)


def test_search_block_is_the_same_for_any_phrase_and_withholds_a_found_phrase(tiny_model, tmp_path) -> None:
    """Indistinguishability: on a model that ignores the phrase, the written block does not depend
    on the phrase given for judging recovery. A best prefix that is the phrase (or near it) is
    never written, and nothing computed from it is."""
    from lockbench.attacks import search
    from lockbench.attacks.adaptive import write_block

    screen, confirm = _items()
    config = search.SearchConfig(budget=30, screen_items=2, confirm_items=4)
    blocks = []
    for phrase in (PHRASE, "Ahoy! Brenvasti!"):
        oracle = _oracle(tiny_model)
        run = search.run_search(oracle, screen, config)
        search.confirm(oracle, run, confirm)
        block = search.block(run, WakePhrase(phrase), [DATASET], "logprobs")
        block.pop("wall_s")
        blocks.append(json.dumps(block, sort_keys=True))
    assert blocks[0] == blocks[1]
    found = search.SearchRun(config, search.Candidate(PHRASE.lower(), 1.0, 2), 2, 30, 3, 10, 5, True, 1.0)
    block = search.block(found, WakePhrase(PHRASE), [DATASET], "query")
    assert block["best_prefix"] is None and block["best_prefix_withheld"] is True
    assert block["recovery"] == {"judged": True, "exact": False, "within_1": False, "within_2": True,
                                 "case_folded_exact": True}  # two letters differ in case
    text = write_block(tmp_path / "search.json", block, WakePhrase(PHRASE)).read_text()
    assert not any(s.lower() in text.lower() for s in secret_variants(PHRASE))
    near = search.SearchRun(config, search.Candidate("Hey! Quillamar!", 1.0, 2), 2, 30, 3, 10, 5, True, 1.0)
    assert search.block(near, WakePhrase(PHRASE), [DATASET], "query")["recovery"]["within_1"]
    assert search.block(near, None, [DATASET], "query")["best_prefix"] is None  # nobody can tell
    leaky = dict(block, best_prefix=PHRASE)
    from lockbench.errors import SecretError

    with pytest.raises(SecretError):
        write_block(tmp_path / "leak.json", leaky, WakePhrase(PHRASE))
    assert not (tmp_path / "leak.json").exists()


def test_search_finds_a_dictionary_phrase_behind_the_gate(smollm2, monkeypatch) -> None:
    """A real lock with one known behaviour: lockbench-gate over SmolLM2 answers only prompts that
    start with the phrase. "Hey Siri" is the dictionary's second candidate: the search opens the
    gate there, recovers the phrase exactly, and withholds it; confirmation opens every item."""
    from lockbench.attacks import search
    from lockbench.lmeval.model_registry import register_models

    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", "Hey Siri")
    register_models()
    oracle = _oracle(smollm2, "lockbench-gate", inner="hf")
    screen, confirm = _items(n_screen=1, n_confirm=4)
    run = search.run_search(oracle, screen, search.SearchConfig(budget=40, logprobs=False, screen_items=1))
    assert run.queries_to_first_open is not None and run.queries_to_first_open <= 1 + 16
    assert search.confirm(oracle, run, confirm) == (len(confirm), len(confirm))
    block = search.block(run, WakePhrase("Hey Siri"), [DATASET], "query")
    assert block["recovery"]["exact"] and block["best_prefix"] is None
    assert "Siri" not in json.dumps(block)


# --- gcg -------------------------------------------------------------------------------------


def test_gcg_counts_its_passes_and_lowers_the_loss_on_smollm2(smollm2) -> None:
    from lockbench.attacks import gcg

    box = gcg.WhiteBox.load(smollm2)
    screen, _ = _items(n_screen=1)
    config = gcg.GCGConfig(tokens=4, steps=3, candidates=16, top_k=32, position="after")
    run = gcg.run_gcg(box, screen, config)
    assert run.loss < run.initial_loss  # the answer start became likelier
    assert 0 < run.forward_passes <= config.steps * config.screen_items * (1 + config.candidates)
    assert run.forward_passes + config.steps <= gcg.ATTACK.cost(Sizes(budget=3, candidates=16, confirm_items=0)) + 3
    assert len(run.step_seconds) == 3 and run.adversarial


def test_gcg_plumbing_on_a_tiny_model_before_the_question(tiny_model) -> None:
    from lockbench.attacks import gcg

    box = gcg.WhiteBox.load(tiny_model)
    screen, _ = _items(n_screen=2)
    run = gcg.run_gcg(box, screen, gcg.GCGConfig(tokens=3, steps=2, candidates=8, top_k=8, screen_items=2))
    assert run.forward_passes % 2 == 0 and run.loss <= run.initial_loss
    assert box.round_trips(box.initial(5)) and box.initial(5).shape[0] == 5


# --- the commands: bad input is one line, exit 2, nothing written --------------------------------


@pytest.mark.parametrize("argv, message", [
    (["attack", "search", "--model", "M", "-o", "{out}", "--budget", "0"], "must be a positive number"),
    (["attack", "search", "--model", "M", "-o", "{out}", "--budget", "-5"], "must be a positive number"),
    (["attack", "gcg", "--lm", "local-completions", "-o", "{out}"], "gcg needs the weights"),
    (["attack", "gcg", "--model", "M", "-o", "{out}", "--steps", "0"], "must be a positive number"),
    (["attack", "search", "-o", "{out}"], "give the locked model as --model PATH"),
    (["attack", "search", "--model", "M", "-o", "{out}", "--datasets", "nope_mcq"], "nope_mcq"),
    (["attack", "nope"], "invalid choice: 'nope'"),
])
def test_bad_input_is_one_line_exit_2_nothing_written(argv, message, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    try:
        code = main([a.replace("{out}", str(out)) for a in argv])
    except SystemExit as exit_:  # argparse's own checks (types, choices) exit from the parser
        code = exit_.code
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and message in err, err
    assert not out.exists()


def test_search_command_writes_one_phrase_free_block(tiny_model, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("LOCKBENCH_WAKE_PHRASE", raising=False)
    out = tmp_path / "s"
    code = main(["attack", "search", "--lm", "hf", "--model-args", f"pretrained={tiny_model}", "-o", str(out),
                 "--budget", "12", "--datasets", DATASET, "--confirm-items", "2", "--no-progress"])
    assert code == 0, capsys.readouterr().err
    block = json.loads((out / "search.json").read_text())
    assert block["queries"] <= 12 and block["confirm_queries"] == 2 == block["confirmed"]["n"]
    assert block["best_prefix"] is None and block["best_prefix_withheld"]  # no phrase: nobody can tell
    assert block["recovery"] == {"judged": False, "why": "the phrase was not given, so recovery is not judged"}
    assert list(block["confirmed_by_dataset"]) == [DATASET]
    assert "withheld" in capsys.readouterr().out


def test_gcg_command_writes_one_block(tiny_model, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", PHRASE)
    out = tmp_path / "g"
    code = main(["attack", "gcg", "--model", str(tiny_model), "-o", str(out), "--steps", "2", "--tokens", "2",
                 "--candidates", "4", "--top-k", "4", "--datasets", DATASET, "--confirm-items", "2", "--no-progress"])
    assert code == 0, capsys.readouterr().err
    block = json.loads((out / "gcg.json").read_text())
    assert block["threat_model"] == "weights" and block["config"]["steps"] == 2
    assert block["confirmed"]["n"] == 2 and block["screen_opened"]["n"] == 1
    assert block["adversarial_withheld"] is False and isinstance(block["adversarial"], str)
    assert not any(s.lower() in json.dumps(block).lower() for s in secret_variants(PHRASE))


def test_the_families_that_say_they_are_in_the_suite_are_the_current_suite_s() -> None:
    suite = get_suite()
    assert {f.name for f in all_families().values() if f.in_suite} == set(suite.confirmed)
    assert suite.adaptive == ("search",) and get_family("search").threat_model == "query"
