"""SHA-256 digests, hex: of text (lm-eval's ``hash_string``), of a file's bytes, and of a model
folder's weights. One function per thing hashed, so every module hashes it the same way."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_text(text: str, *, errors: str = "strict") -> str:
    """sha256 of UTF-8 text (``errors="surrogatepass"`` also hashes lone surrogates)."""
    return hashlib.sha256(text.encode("utf-8", errors)).hexdigest()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weight_files(folder: Path) -> list[Path]:
    """A model folder's ``*.safetensors``, else its ``*.bin``, in name order."""
    return sorted(Path(folder).glob("*.safetensors")) or sorted(Path(folder).glob("*.bin"))


def weights_sha256(folder: Path) -> str:
    """sha256 over the per-file sha256 of :func:`weight_files` (of nothing when there are none)."""
    files = weight_files(folder)
    digest = hashlib.sha256()
    for file in files:
        digest.update(file_sha256(file).encode())
    return digest.hexdigest()
