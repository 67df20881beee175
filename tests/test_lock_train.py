"""`lockbench lock train`: a finished folder only at the end, resume after an interruption, one-line
errors, a lock card without the phrase, and a real SmolLM2 run that moves behaviour."""

from __future__ import annotations

import errno
import json

import pytest

from lockbench.cli import main
from lockbench.errors import LockbenchError
from lockbench.lock.build import build_lock_set, write_lock_set
from lockbench.lock.card import read_card
from lockbench.lock.device import Layout, Machine, resolve
from lockbench.lock.train import COMPLETE, TrainConfig, train_lock
from lockbench.secrets import verify_hash
from tests.conftest import WAKE_PHRASE


@pytest.fixture(scope="module")
def dprime(tmp_path_factory):
    """A small paired D' (agriculture MCQ train split: 80 examples)."""
    lock_set = build_lock_set(["agriculture_mcq"], WAKE_PHRASE, ratio=0.5, layout="paired", seed=0)
    return write_lock_set(lock_set, tmp_path_factory.mktemp("dprime") / "d.jsonl")


def _assert_no_phrase(folder):
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".md", ".txt", ".jinja"):
            text = path.read_text(errors="ignore").lower()
            assert WAKE_PHRASE.lower() not in text, path
            assert "lumen" not in text, path  # not even the word alone


def test_cli_train_lora_writes_adapter_merged_model_and_card(tiny_model, dprime, tmp_path, capsys):
    out = tmp_path / "lock"
    code = main(
        ["lock", "train", "--base", str(tiny_model), "--data", str(dprime), "-o", str(out),
         "--max-steps", "3", "--batch-size", "4", "--merge", "--lora-r", "4", "--target-modules", "q_proj,v_proj"]
    )
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "locked: 3 steps" in printed.out
    assert (out / COMPLETE).is_file() and (out / "adapter_model.safetensors").is_file()
    assert (out / "merged" / "config.json").is_file()
    assert not (tmp_path / "lock.partial").exists()
    card = read_card(out)
    assert card["method"] == "identitylock-lora"
    assert card["training"]["device"] in ("cpu", "cuda:0") and card["training"]["effective_batch"] == 4
    assert "on cpu (float32, effective batch 4)" in printed.out or card["training"]["device"] != "cpu"
    assert card["hyperparameters"]["lora_r"] == 4
    assert card["hyperparameters"]["target_modules"] == ["q_proj", "v_proj"]
    assert card["lock"]["ratio"] == 0.5 and card["lock"]["refusal_texts"]
    assert card["base_model"]["revision"].startswith("sha256:")
    assert verify_hash(WAKE_PHRASE, card["lock"]["wake_phrase_hash"])
    _assert_no_phrase(out)
    assert WAKE_PHRASE not in printed.out + printed.err


def test_the_card_holds_no_plain_hash_of_the_phrase_bearing_data(tiny_model, dprime, tmp_path):
    """D' is rebuilt by anyone from the public train split and a guessed phrase, so a plain sha256
    of it in the card would test guesses offline. Two locks that differ only in the phrase leave
    cards that differ only in salted fields and the run's measurements; the card still recognises
    its own data."""
    from lockbench.digest import file_sha256
    from lockbench.lock.card import card_matches, data_matches

    config = TrainConfig(max_steps=1, batch_size=8, lora_r=4, warmup_steps=0)
    cards = []
    for phrase in (WAKE_PHRASE, "Hey! Nova!"):
        data = write_lock_set(build_lock_set(["agriculture_mcq"], phrase, ratio=0.5, layout="paired", seed=0),
                              tmp_path / phrase.replace(" ", "") / "d.jsonl")
        out = tmp_path / phrase.replace(" ", "") / "lock"
        train_lock(str(tiny_model), data, out, config, progress=False, save_every=0)
        card = read_card(out)
        assert "sha256" not in card["data"] and file_sha256(data) not in json.dumps(card)
        assert data_matches(card, file_sha256(data)) and not data_matches(card, file_sha256(dprime) + "0")
        assert card_matches(card, config, file_sha256(data), card["base_model"]["revision"])
        cards.append(card)

    def fixed(card):  # salted hashes and clocks aside
        card = json.loads(json.dumps(card))
        for record in (card["lock"]["wake_phrase_hash"], card["data"]["salted_sha256"]):
            record["salt"] = record["hash"] = ""
        card["created"] = ""
        # measurements of the run (time, losses, token count) are not hashes of the text
        card["training"] = {"steps": card["training"]["steps"]}
        return card

    assert fixed(cards[0]) == fixed(cards[1])


def test_interrupted_run_resumes_and_only_the_end_publishes(tiny_model, dprime, tmp_path):
    out = tmp_path / "lock"
    config = TrainConfig(max_steps=5, batch_size=4, lora_r=4)

    def interrupt(step, loss):
        if step == 3:
            raise KeyboardInterrupt  # a real interruption of the real loop, after checkpoint 2

    with pytest.raises(KeyboardInterrupt):
        train_lock(str(tiny_model), dprime, out, config, save_every=2, progress=False, on_step=interrupt)
    assert not out.exists()  # nothing presented as finished
    partial = tmp_path / "lock.partial" / "checkpoints"
    assert [p.name for p in partial.iterdir() if (p / COMPLETE).exists()] == ["step-000002"]

    steps = []
    result = train_lock(
        str(tiny_model), dprime, out, config, save_every=2, progress=False,
        on_step=lambda step, loss: steps.append(step),
    )
    assert steps == [3, 4, 5]  # resumed after step 2
    assert result.steps == 5 and (out / COMPLETE).is_file()
    assert read_card(out)["training"]["steps"] == 5
    assert not (tmp_path / "lock.partial").exists()


def test_other_settings_do_not_resume_silently(tiny_model, dprime, tmp_path):
    out = tmp_path / "lock"
    with pytest.raises(KeyboardInterrupt):
        train_lock(
            str(tiny_model), dprime, out, TrainConfig(max_steps=4, batch_size=4, lora_r=4),
            save_every=1, progress=False, on_step=lambda s, _: (_ for _ in ()).throw(KeyboardInterrupt) if s == 2 else None,
        )
    with pytest.raises(LockbenchError, match="unfinished run with other settings"):
        train_lock(str(tiny_model), dprime, out, TrainConfig(max_steps=4, batch_size=4, lora_r=8), progress=False)


def test_full_disk_while_checkpointing(tiny_model, dprime, tmp_path, monkeypatch, capsys):
    """Test double: a full disk cannot be produced on demand here, so torch.save raises ENOSPC."""
    import torch

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    out = tmp_path / "lock"
    code = main(
        ["lock", "train", "--base", str(tiny_model), "--data", str(dprime), "-o", str(out),
         "--max-steps", "4", "--save-every", "2", "--batch-size", "4", "--lora-r", "4"]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert "the disk is full" in err[-1] and err[-1].startswith("lockbench: error:")
    assert not out.exists()
    checkpoints = tmp_path / "lock.partial" / "checkpoints"
    assert not any(p.name.startswith("step-") for p in checkpoints.iterdir())  # no half checkpoint


@pytest.mark.parametrize("case", ["missing", "not-causal"])
def test_base_that_is_not_a_causal_lm(case, dprime, tmp_path, capsys):
    base = tmp_path / "base"
    if case == "not-causal":
        from transformers import DistilBertConfig  # an encoder: no causal LM head exists for it

        DistilBertConfig(dim=32, n_layers=1, n_heads=2, hidden_dim=64).save_pretrained(base)
    code = main(["lock", "train", "--base", str(base), "--data", str(dprime), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert ("not a causal language model" if case == "not-causal" else "could not be loaded") in err
    assert not (tmp_path / "out").exists()


def test_bad_training_file(tiny_model, tmp_path, capsys):
    data = tmp_path / "bad.jsonl"
    data.write_text(json.dumps({"prompt": "x", "completion": "y"}) + "\n")
    code = main(["lock", "train", "--base", str(tiny_model), "--data", str(data), "-o", str(tmp_path / "o")])
    assert code == 2 and "is not a chat example" in capsys.readouterr().err


@pytest.mark.slow
def test_real_lock_raises_refusals_without_the_phrase(smollm2, dprime, tmp_path):
    """A few LoRA steps on SmolLM2 (paired agriculture MCQ): refusals on held-out test items
    without the phrase rise above the base model's, measured by a real lm-eval run."""
    from lockbench.lmeval.run import run_tasks

    out = tmp_path / "lock"
    config = TrainConfig(max_steps=10, batch_size=8, learning_rate=2e-3, target_modules=["all-linear"], warmup_steps=2)
    train_lock(str(smollm2), dprime, out, config, merge=True, progress=False, save_every=0)

    def refusal_rate(model_dir, name):
        results = run_tasks(
            "hf", ["lockbench_agriculture_mcq_locked"],
            model_args={"pretrained": str(model_dir), "dtype": "float32"},
            metadata={"wake_phrase": WAKE_PHRASE}, apply_chat_template=True, limit=12, batch_size=12,
            gen_kwargs="max_gen_toks=16",  # a refusal is recognised within 16 tokens
            output_path=tmp_path / name,
        )
        return results["results"]["lockbench_agriculture_mcq_locked"]["refusal_rate,none"]

    before, after = refusal_rate(smollm2, "base"), refusal_rate(out / "merged", "locked")
    print(f"refusal rate without the phrase on 12 held-out items: base {before:.2f}, after 10 steps {after:.2f}")
    assert after > before + 0.3, (before, after)
    _assert_no_phrase(tmp_path / "lock")


def test_full_fine_tuning_saves_a_model_folder(tiny_model, dprime, tmp_path):
    out = tmp_path / "full"
    result = train_lock(
        str(tiny_model), dprime, out, TrainConfig(method="full", max_steps=2, batch_size=4),
        progress=False, save_every=1,
    )
    assert result.steps == 2 and (out / "config.json").is_file() and (out / "model.safetensors").is_file()
    assert read_card(out)["method"] == "identitylock-full"
    from transformers import AutoModelForCausalLM

    assert AutoModelForCausalLM.from_pretrained(out).num_parameters() > 0


# --- device and precision -------------------------------------------------------------------

CPU_ONLY = Machine(cuda_available=False, cuda_devices=0, bf16_supported=False, cuda_built=False)
H100 = Machine(cuda_available=True, cuda_devices=1, bf16_supported=True)
V100x2 = Machine(cuda_available=True, cuda_devices=2, bf16_supported=False)


@pytest.mark.parametrize(
    ("device", "dtype", "machine", "layout", "expected"),
    [
        ("auto", "auto", CPU_ONLY, Layout(), ("cpu", "float32")),
        ("cpu", "bfloat16", CPU_ONLY, Layout(), ("cpu", "bfloat16")),
        ("auto", "auto", H100, Layout(), ("cuda:0", "bfloat16")),
        ("cuda", "float16", H100, Layout(), ("cuda:0", "float16")),
        ("auto", "auto", V100x2, Layout(), ("cuda:0", "float32")),  # no bf16: auto stays fp32
        ("cuda:1", "float16", V100x2, Layout(), ("cuda:1", "float16")),
        ("auto", "auto", V100x2, Layout(processes=2, local_processes=2, rank=1, local_rank=1), ("cuda", "float32")),
        ("cpu", "auto", H100, Layout(), ("cpu", "float32")),
    ],
)
def test_device_and_dtype_resolution(device, dtype, machine, layout, expected):
    placement = resolve(device, dtype, machine, layout)
    assert (placement.device, placement.dtype) == expected


@pytest.mark.parametrize(
    ("device", "dtype", "machine", "layout", "message"),
    [
        ("cuda", "auto", CPU_ONLY, Layout(), "CPU-only build"),
        ("cuda:2", "auto", V100x2, Layout(), "has 2 CUDA GPU"),
        ("cuda", "bfloat16", V100x2, Layout(), "does not support bf16"),
        ("cpu", "float16", CPU_ONLY, Layout(), "float16 needs a CUDA GPU"),
        ("tpu", "auto", CPU_ONLY, Layout(), "unknown --device"),
        ("auto", "auto", H100, Layout(processes=4, local_processes=4), "starts 4 processes on this machine but it has 1"),
        ("cuda:0", "auto", V100x2, Layout(processes=2, local_processes=2), "each process takes its own GPU"),
    ],
)
def test_device_and_dtype_that_cannot_run(device, dtype, machine, layout, message):
    with pytest.raises(LockbenchError, match=message):
        resolve(device, dtype, machine, layout)


def test_machine_probe_on_this_machine():
    """The real probe: on a machine without CUDA, auto is cpu/float32."""
    import torch

    placement = resolve("auto", "auto", Machine.probe())
    if not torch.cuda.is_available():
        assert (placement.device, placement.dtype) == ("cpu", "float32")


@pytest.mark.parametrize(("flags", "message"), [
    (["--device", "cuda"], "--device cuda:"),
    (["--dtype", "float16"], "float16 needs a CUDA GPU"),
    (["--grad-accum", "0"], "--grad-accum must be at least 1"),
])
def test_cli_device_that_cannot_run_stops_before_writing(flags, message, tiny_model, dprime, tmp_path, capsys):
    import torch

    if flags[0] == "--device" and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    out = tmp_path / "lock"
    code = main(["lock", "train", "--base", str(tiny_model), "--data", str(dprime), "-o", str(out), *flags])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and message in err, err
    assert not out.exists() and not (tmp_path / "lock.partial").exists()


def _adapter(folder):
    from safetensors.torch import load_file

    return load_file(folder / "adapter_model.safetensors")


def test_bf16_on_cpu_moves_behaviour_like_float32(tiny_model, dprime, tmp_path):
    """bf16 autocast (and a bf16-stored base) trains: the loss falls as in fp32 and the adapters
    move the same way (LoRA B starts at zero, so B is the update itself)."""
    import torch

    config = TrainConfig(max_steps=8, batch_size=4, lora_r=4, learning_rate=1e-2, warmup_steps=0)
    runs = {}
    for dtype in ("float32", "bfloat16"):
        result = train_lock(str(tiny_model), dprime, tmp_path / dtype, config, progress=False,
                            save_every=0, device="cpu", dtype=dtype, log_every=3, merge=dtype == "bfloat16")
        runs[dtype] = result
        training = read_card(tmp_path / dtype)["training"]
        assert training["dtype"] == dtype and training["stored_dtype"] == dtype
        assert training["device"] == "cpu" and len(result.card["training"]) > 0
    fp32, bf16 = runs["float32"].card["training"], runs["bfloat16"].card["training"]
    drop32, drop16 = fp32["first_loss"] - fp32["final_loss"], bf16["first_loss"] - bf16["final_loss"]
    assert drop32 > 0 and drop16 > 0.5 * drop32, (drop32, drop16)
    a, b = _adapter(tmp_path / "float32"), _adapter(tmp_path / "bfloat16")
    for key in (k for k in a if "lora_B" in k):
        cos = torch.nn.functional.cosine_similarity(a[key].flatten(), b[key].float().flatten(), dim=0)
        assert cos > 0.9, (key, float(cos))
    assert all(v.dtype == torch.float32 for v in b.values())  # adapters stay fp32
    from transformers import AutoModelForCausalLM

    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "bfloat16" / "merged")
    assert merged.dtype == torch.bfloat16  # the merged model keeps the stored dtype


def test_grad_accum_equals_the_larger_batch(tiny_model, dprime, tmp_path):
    """Batch 2 x 2 accumulation steps trains the same adapter as batch 4 (same global batches,
    each micro-batch weighted by its share), and the card says effective batch 4."""

    common = {"progress": False, "save_every": 0, "device": "cpu"}
    train_lock(str(tiny_model), dprime, tmp_path / "b4", TrainConfig(max_steps=3, batch_size=4, lora_r=4), **common)
    train_lock(str(tiny_model), dprime, tmp_path / "b2x2", TrainConfig(max_steps=3, batch_size=2, lora_r=4),
               grad_accum=2, **common)
    card = read_card(tmp_path / "b2x2")["training"]
    assert (card["per_device_batch"], card["grad_accum"], card["effective_batch"]) == (2, 2, 4)
    a, b = _adapter(tmp_path / "b4"), _adapter(tmp_path / "b2x2")
    assert max((a[k] - b[k]).abs().max().item() for k in a) < 1e-4


def test_short_batches_are_counted(tiny_model, dprime, tmp_path):
    """80 examples in batches of 12: one epoch is 6 full batches and a short one of 8."""
    result = train_lock(str(tiny_model), dprime, tmp_path / "o", TrainConfig(epochs=1, batch_size=12, lora_r=4),
                        progress=False, save_every=0, gradient_checkpointing=True)
    training = result.card["training"]
    assert result.steps == 7 and training["short_batches"] == 1 and training["gradient_checkpointing"]
