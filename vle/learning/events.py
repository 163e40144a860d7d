"""What happens in learning that a higher floor acts on.

Certificates tell the learner their certificate is issued, competencies log
evidence: both sit above learning on the staircase, so they register a
listener here at start-up and learning never imports them. Listeners run
synchronously, inside the transaction of the change (so what they write — an
outbox mail, a piece of evidence — commits or rolls back with it), and must
be idempotent: a retried request may emit the same event twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from vle.catalog.models import Course
from vle.learning.models import Completion


@dataclass(frozen=True)
class CourseCompleted:
    """A learner completed a course: by the completion rule, or by a trainer's
    hand (`completion.method`). `completion` is flushed (it has its id)."""

    db_session: Session
    user_id: int
    course: Course
    completion: Completion


@dataclass(frozen=True)
class ItemCompleted:
    """A learner completed an item for the first time in this round: a lesson
    marked complete, a quiz passed (`kind` "quiz")."""

    db_session: Session
    user_id: int
    course: Course
    item_id: int
    kind: str
    at: datetime


Event = CourseCompleted | ItemCompleted
E = TypeVar("E", CourseCompleted, ItemCompleted)

_LISTENERS: dict[type, list[Callable[[Any], None]]] = {}


def listen(event_type: type[E], listener: Callable[[E], None]) -> None:
    """Call `listener(event)` on every event of this type (registered once,
    at start-up; registering the same function twice keeps one)."""
    listeners = _LISTENERS.setdefault(event_type, [])
    if listener not in listeners:
        listeners.append(listener)


def emit(event: Event) -> None:
    for listener in _LISTENERS.get(type(event), ()):
        listener(event)
