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
from lockbench.lmeval.run import run_tasks
from lockbench.results.summarize import summarize_output

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
