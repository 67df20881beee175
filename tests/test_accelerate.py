"""``accelerate launch`` data parallel with lm-eval's ``hf`` backend on 2 CPU processes (gloo):
every per-sample outcome equals the single-process run's, and so do the summarized numbers.

See tests/_accelerate_dp.py for why the CPU run needs lm-eval's data-parallel settings applied
by a 10-line subclass (lm-eval only splits across GPUs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from lockbench.api.server import free_port
from lockbench.document.summarize import summarize_output
from lockbench.lmeval.run import run_tasks

from .conftest import WAKE_PHRASE, read_samples

TASKS = ["lockbench_agriculture_mcq_locked", "lockbench_agriculture_mcq_unlocked",
         "lockbench_law_dialogue_unlocked"]
SCRIPT = Path(__file__).with_name("_accelerate_dp.py")


def _by_doc(samples: dict[str, list[dict]]) -> dict[tuple[str, int], tuple]:
    return {
        (task, s["doc_id"]): (s["doc_hash"], s["resps"][0][0], s["pass_rate"], s["refusal_rate"])
        for task, rows in samples.items() for s in rows
    }


def test_accelerate_two_cpu_processes_equal_single_process(tiny_model, tmp_path) -> None:
    metadata = {"wake_phrase": WAKE_PHRASE}
    single = tmp_path / "single"
    run_tasks("hf", TASKS, model_args=f"pretrained={tiny_model}", output_path=single,
              metadata=metadata, apply_chat_template=True, limit=6, gen_kwargs="max_gen_toks=16")

    dp = tmp_path / "dp"
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "HF_HUB_OFFLINE": "1",
           "HF_DATASETS_OFFLINE": "1", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": str(SCRIPT.parent.parent)}
    cmd = [str(Path(sys.executable).parent / "accelerate"), "launch", "--multi_gpu",
           "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
           "--dynamo_backend", "no", "--main_process_ip", "127.0.0.1",
           "--main_process_port", str(free_port()),
           str(SCRIPT), str(tiny_model), str(dp), json.dumps(metadata), *TASKS]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # Both ranks really took part, each with its half of the 18 requests.
    for rank in (0, 1):
        assert f"lockbench-dp rank {rank}/2: 9 requests" in proc.stdout, proc.stdout[-3000:]

    single_samples, dp_samples = read_samples(single), read_samples(dp)
    assert set(single_samples) == set(dp_samples) == set(TASKS)
    assert all(len(rows) == 6 for rows in dp_samples.values())
    assert _by_doc(dp_samples) == _by_doc(single_samples)

    a = summarize_output(single, print_table=False)
    b = summarize_output(dp, print_table=False)
    assert a["datasets"] == b["datasets"]
    for task in TASKS:
        assert [x["outcome"] for x in a["tasks"][task]["samples"]] == [
            x["outcome"] for x in b["tasks"][task]["samples"]]


TRAIN_SCRIPT = Path(__file__).with_name("_accelerate_train.py")


def _launch(*args: str) -> subprocess.CompletedProcess:
    """``accelerate launch`` with 2 CPU processes (gloo), as a 2-GPU launch without the GPUs."""
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(SCRIPT.parent.parent)}
    cmd = [str(Path(sys.executable).parent / "accelerate"), "launch", "--multi_gpu",
           "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
           "--dynamo_backend", "no", "--main_process_ip", "127.0.0.1",
           "--main_process_port", str(free_port()), *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)


def test_lock_train_data_parallel_resumes_and_equals_one_process(tiny_model, tmp_path) -> None:
    """2 processes x batch 2 = one process x batch 4: the same global batches, so the same adapter
    (within float tolerance). The 2-process run is interrupted after step 3 (checkpoint at step 2)
    and finished by `accelerate launch -m lockbench lock train`, which resumes it."""
    import torch
    from safetensors.torch import load_file

    from lockbench.lock.build import build_lock_set, write_lock_set
    from lockbench.lock.card import read_card
    from lockbench.lock.train import COMPLETE, TrainConfig, train_lock

    data = write_lock_set(build_lock_set(["agriculture_mcq"], WAKE_PHRASE, ratio=0.5, layout="paired", seed=0),
                          tmp_path / "d.jsonl")
    single = tmp_path / "single"
    train_lock(str(tiny_model), data, single, TrainConfig(max_steps=5, batch_size=4, lora_r=4),
               save_every=0, progress=False, device="cpu")

    dp = tmp_path / "dp"
    first = _launch(str(TRAIN_SCRIPT), str(tiny_model), str(data), str(dp), "3")
    assert first.returncode != 0 and "interrupted after step 3" in first.stdout, first.stderr[-3000:]
    assert not dp.exists()  # nothing presented as finished
    done = [p.name for p in (tmp_path / "dp.partial" / "checkpoints").iterdir() if (p / COMPLETE).exists()]
    assert done == ["step-000002"]

    second = _launch("-m", "lockbench", "lock", "train", "--base", str(tiny_model), "--data", str(data),
                     "-o", str(dp), "--max-steps", "5", "--batch-size", "2", "--lora-r", "4",
                     "--save-every", "2")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "resuming from step-000002 (step 2 of 5)" in second.stdout
    assert second.stdout.count("locked: 5 steps") == 1  # rank 0 reports, once
    card = read_card(dp)["training"]
    assert (card["processes"], card["per_device_batch"], card["effective_batch"]) == (2, 2, 4)
    assert card["distributed"] == "MULTI_CPU" and card["device"] == "cpu"
    assert not (tmp_path / "dp.partial").exists()

    a, b = load_file(single / "adapter_model.safetensors"), load_file(dp / "adapter_model.safetensors")
    assert a.keys() == b.keys()
    diff = max((a[k] - b[k]).abs().max().item() for k in a)
    print(f"max |adapter difference| 1 process vs 2 (resumed): {diff:.2e}")
    assert diff < 1e-4, diff
    assert torch.allclose(torch.tensor(read_card(single)["training"]["final_loss"]),
                          torch.tensor(read_card(dp)["training"]["final_loss"]), atol=1e-3)


def test_lock_train_bad_input_under_accelerate_is_one_line(tiny_model, tmp_path) -> None:
    """Every rank meets the same bad input (fp16 on a CPU); rank 0 alone prints lockbench's line,
    and nothing is written. The launcher then adds its own failure report (accelerate's, exit 1)."""
    from lockbench.lock.build import build_lock_set, write_lock_set

    data = write_lock_set(build_lock_set(["agriculture_mcq"], WAKE_PHRASE, ratio=0.5, layout="paired", seed=0),
                          tmp_path / "d.jsonl")
    proc = _launch("-m", "lockbench", "lock", "train", "--base", str(tiny_model), "--data", str(data),
                   "-o", str(tmp_path / "out"), "--dtype", "float16")
    lines = [x for x in (proc.stdout + proc.stderr).splitlines() if x.startswith("lockbench: error:")]
    assert proc.returncode != 0 and len(lines) == 1 and "float16 needs a CUDA GPU" in lines[0], proc.stderr[-2000:]
    assert "exitcode  : 2" in proc.stderr  # each rank's own status
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.partial").exists()
