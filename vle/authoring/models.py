"""The trainer's desk keeps no tables of its own: what it records lives with
the domain it belongs to (migration 0011) — a completion recorded by hand is a
`learning.models.Completion` with `method` "manual" and its `reason`; a reset
attempt is a `quizzes.models.Attempt` with `reset_at` and `reset_reason`.
They are named here so the desk's code reads them from one place."""

from __future__ import annotations

from vle.learning.models import Completion, Enrolment, EnrolmentStatus, ItemProgress
from vle.quizzes.models import Answer, AnswerScope, Attempt, AttemptState, Question

MANUAL = "manual"  # Completion.method of a completion a trainer recorded by hand

__all__ = [
    "MANUAL",
    "Answer",
    "AnswerScope",
    "Attempt",
    "AttemptState",
    "Completion",
    "Enrolment",
    "EnrolmentStatus",
    "ItemProgress",
    "Question",
]
