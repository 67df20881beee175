"""Real models that install from PyPI, turned into ordinary transformers folders (no hub)."""

from lockbench.models.packaged import cache_dir, smollm2_folder, tiny_random_model

__all__ = ["cache_dir", "smollm2_folder", "tiny_random_model"]
