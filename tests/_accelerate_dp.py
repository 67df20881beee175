"""Run by ``accelerate launch`` in tests/test_accelerate.py: lockbench tasks, data parallel on CPU.

lm-eval 0.4.13's ``hf`` backend splits the docs across ``accelerate launch`` processes only when it
counts more than one GPU (``gpus > 1`` in ``HFLM.__init__``); on a CPU-only machine every process
runs the whole set. ``hf-cpu-dp`` applies lm-eval's own data-parallel settings (rank, world size,
the Accelerator it already made) when there are no GPUs, so the CPU test exercises the same split
and gather (gloo) that a multi-GPU run takes. Test-only: GPU users run plain ``--model hf``.

Usage: accelerate launch --multi_gpu --num_processes 2 tests/_accelerate_dp.py MODEL OUT TASK...
(with ACCELERATE_USE_CPU=1 so accelerate picks MULTI_CPU / gloo).
"""

from __future__ import annotations

import json
import sys

from lm_eval.api.registry import register_model
from lm_eval.models.huggingface import HFLM


@register_model("hf-cpu-dp")
class CPUDataParallelHFLM(HFLM):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        accelerator = getattr(self, "accelerator", None)
        if accelerator is not None and accelerator.num_processes > 1 and self._world_size == 1:
            self._rank = accelerator.process_index
            self._world_size = accelerator.num_processes

    def generate_until(self, requests, disable_tqdm: bool = False):
        print(f"lockbench-dp rank {self.rank}/{self.world_size}: {len(requests)} requests", flush=True)
        return super().generate_until(requests, disable_tqdm=disable_tqdm)


def main() -> None:
    from lockbench.lmeval.run import run_tasks

    model, out, metadata, *tasks = sys.argv[1:]
    run_tasks("hf-cpu-dp", tasks, model_args=f"pretrained={model}", output_path=out,
              metadata=json.loads(metadata), apply_chat_template=True, limit=6,
              gen_kwargs="max_gen_toks=16", device="cpu")


if __name__ == "__main__":
    main()
