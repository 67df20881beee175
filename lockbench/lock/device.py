"""Where and in what precision ``lock train`` runs: ``--device``/``--dtype`` resolution and the
process layout of an ``accelerate launch``.

Resolution is a pure function of the machine's facts (:class:`Machine`), so the rules, including
the ones about GPUs this machine does not have, are tested on a CPU-only machine. Every problem is
found here, before a model is loaded or a file written.

Precision, the standard way (see docs/scale-out.md):
- ``float32``: everything in fp32.
- ``bfloat16``: autocast to bf16 for the forward pass. With LoRA the frozen base weights are
  also *stored* in bf16 (half the memory, they get no updates) while the adapters and their AdamW
  state stay fp32 (peft keeps adapter weights fp32); full fine-tuning keeps fp32 master weights.
- ``float16``: the same as bfloat16 in fp16, plus a gradient scaler (fp16's range needs it).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from lockbench.errors import LockbenchError

DEVICES = "auto|cpu|cuda|cuda:N"
DTYPES = ("auto", "float32", "bfloat16", "float16")


@dataclass(frozen=True)
class Machine:
    """What torch sees: CUDA GPUs, and whether they do bf16."""

    cuda_available: bool
    cuda_devices: int
    bf16_supported: bool
    cuda_built: bool = True

    @classmethod
    def probe(cls) -> Machine:
        import torch

        available = torch.cuda.is_available()
        return cls(
            cuda_available=available,
            cuda_devices=torch.cuda.device_count() if available else 0,
            bf16_supported=bool(available and torch.cuda.is_bf16_supported()),
            cuda_built=torch.backends.cuda.is_built(),
        )


@dataclass(frozen=True)
class Layout:
    """The processes of one run: 1 for a plain run, N under ``accelerate launch``."""

    processes: int = 1
    local_processes: int = 1
    rank: int = 0
    local_rank: int = 0
    fsdp: bool = False

    @property
    def distributed(self) -> bool:
        return self.processes > 1 or self.fsdp

    @classmethod
    def from_env(cls) -> Layout:
        """Read what ``accelerate launch`` (torchrun underneath) puts in each process's environment."""
        env = os.environ
        processes = int(env.get("WORLD_SIZE", "1"))
        return cls(
            processes=processes,
            local_processes=int(env.get("LOCAL_WORLD_SIZE", str(processes))),
            rank=int(env.get("RANK", "0")),
            local_rank=int(env.get("LOCAL_RANK", "0")),
            fsdp=env.get("ACCELERATE_USE_FSDP", "").lower() in ("1", "true"),
        )


@dataclass(frozen=True)
class Placement:
    """The resolved device and precision of a run."""

    device: str  # "cpu", "cuda" (each accelerate process its own GPU) or "cuda:N"
    dtype: str  # float32 | bfloat16 | float16

    @property
    def mixed(self) -> bool:
        return self.dtype != "float32"

    @property
    def on_cuda(self) -> bool:
        return self.device.startswith("cuda")


def resolve(device: str, dtype: str, machine: Machine, layout: Layout | None = None,
            *, force_cpu: bool = False) -> Placement:
    """``--device``/``--dtype`` (``auto`` or explicit) to a placement this machine can run.

    ``force_cpu``: accelerate was told to use the CPU (``ACCELERATE_USE_CPU``), so ``auto``
    means cpu even where GPUs exist.
    """
    layout = layout or Layout()
    device = (device or "auto").strip().lower()
    dtype = (dtype or "auto").strip().lower()
    if dtype not in DTYPES:
        raise LockbenchError(f"unknown --dtype '{dtype}'; use one of {', '.join(DTYPES)}")
    match = re.fullmatch(r"cuda(?::(\d+))?", device)
    if device not in ("auto", "cpu") and match is None:
        raise LockbenchError(f"unknown --device '{device}'; use {DEVICES}")

    if device == "auto":
        device = "cuda" if machine.cuda_available and not force_cpu else "cpu"
    elif match is not None:
        if not machine.cuda_available:
            why = "no CUDA GPU is visible" if machine.cuda_built else "this torch is a CPU-only build"
            raise LockbenchError(f"--device {device}: {why}; use --device cpu (or auto)")
        index = match.group(1)
        if index is not None and int(index) >= machine.cuda_devices:
            raise LockbenchError(
                f"--device {device}: this machine has {machine.cuda_devices} CUDA GPU(s) "
                f"(cuda:0 to cuda:{machine.cuda_devices - 1})"
            )
        if index is not None and layout.distributed:
            raise LockbenchError(
                f"--device {device} under accelerate launch: each process takes its own GPU; "
                "pass --device cuda (or auto) and choose GPUs with CUDA_VISIBLE_DEVICES"
            )
    if device == "cuda" and not layout.distributed:
        device = "cuda:0"  # one process: the first visible GPU
    if device.startswith("cuda") and layout.local_processes > machine.cuda_devices:
        raise LockbenchError(
            f"the accelerate launch starts {layout.local_processes} processes on this machine but "
            f"it has {machine.cuda_devices} CUDA GPU(s); use --num_processes {machine.cuda_devices} "
            "or fewer (one process per GPU)"
        )

    if dtype == "auto":
        dtype = "bfloat16" if device.startswith("cuda") and machine.bf16_supported else "float32"
    elif dtype == "bfloat16" and device.startswith("cuda") and not machine.bf16_supported:
        raise LockbenchError(
            f"--dtype bfloat16: the GPU of {device} does not support bf16 (it needs compute "
            "capability 8.0, e.g. A100/H100); use --dtype float16 or float32"
        )
    elif dtype == "float16" and device == "cpu":
        raise LockbenchError(
            "--dtype float16 needs a CUDA GPU (fp16 training on CPU is slow and needs a gradient "
            "scaler for nothing); on CPU use float32 or bfloat16"
        )
    return Placement(device, dtype)


def torch_dtype(name: str):
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]
