"""Layered refusal and quality judges (keyword, embedding, local HF LLM, OpenAI-compatible API).

``build_judge({"name": ...})`` makes one; :func:`lockbench.judges.cache.judge_requests` runs it
through the persistent cache. Importing this package loads no model and opens no connection.
"""

from lockbench.judges.apply import judge_identity, score_doc
from lockbench.judges.base import Judge, JudgeRequest, Judgment, build_judge, judge_names

__all__ = [
    "Judge",
    "JudgeRequest",
    "Judgment",
    "build_judge",
    "judge_identity",
    "judge_names",
    "score_doc",
]
