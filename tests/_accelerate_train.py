"""Run by ``accelerate launch`` in tests/test_accelerate.py: ``lock train`` on every rank, stopped
by a real KeyboardInterrupt after optimiser step STOP (the same interruption on each rank, as
Ctrl-C gives a launched job), so the test can resume the run under accelerate.

Usage: accelerate launch ... tests/_accelerate_train.py BASE DATA OUT STOP
"""

from __future__ import annotations

import sys
from pathlib import Path

from lockbench.lock.train import TrainConfig, train_lock


def main() -> None:
    base, data, out, stop = sys.argv[1:]

    def interrupt(step: int, loss) -> None:
        if step == int(stop):
            raise KeyboardInterrupt

    try:
        train_lock(base, Path(data), Path(out), TrainConfig(max_steps=5, batch_size=2, lora_r=4),
                   save_every=2, progress=False, on_step=interrupt)
    except KeyboardInterrupt:
        print(f"interrupted after step {stop}", flush=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
