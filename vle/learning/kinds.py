"""The registry item kinds plug into.

Learning knows how to show, complete and count lessons; a kind defined on a
higher floor (the quiz) registers itself here at start-up, so learning never
imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class Progress(Protocol):
    """What deciding "done" reads of a learner's progress on an item: an
    `ItemProgress` or a row of those two columns."""

    @property
    def completed_at(self) -> datetime | None: ...

    @property
    def passed(self) -> bool | None: ...


class HasKind(Protocol):
    @property
    def kind(self) -> str: ...


@dataclass(frozen=True)
class ItemKind:
    name: str
    # The template that shows an item of this kind inside the item page.
    template: str
    # Can the learner mark it complete themselves (a lesson) or does something
    # else decide (a quiz is done when passed)?
    manual_completion: bool
    is_done: Callable[[Progress | None], bool]
    # Extra template context: (db_session, item, user, enrolment) -> dict
    context: Callable[..., dict[str, Any]] = field(default=lambda *args: {})
    # A new round of recurring training begins for a learner: what the kind
    # keeps of the round before, beside item progress, stops counting
    # (db_session, user_id, item ids of the course (a select), now) -> None.
    new_round: Callable[..., None] = field(default=lambda *args: None)
    # Work the learner left open in the course's items of this kind (a quiz
    # attempt), for the course page's **Continue attempt**: (db_session, user,
    # course) -> {item id: page to return to}; one query at most.
    open_work: Callable[..., dict[int, int]] = field(default=lambda *args: {})


KINDS: dict[str, ItemKind] = {}


def register(kind: ItemKind) -> None:
    KINDS[kind.name] = kind


def kind_of(item: HasKind) -> ItemKind:
    return KINDS[item.kind]


def open_work(db_session: Any, user: Any, course: Any) -> dict[int, int]:
    """Every kind's open work in a course (see ItemKind.open_work)."""
    found: dict[int, int] = {}
    for kind in KINDS.values():
        found.update(kind.open_work(db_session, user, course))
    return found


def _completed(progress: Progress | None) -> bool:
    return progress is not None and progress.completed_at is not None


register(
    ItemKind(
        name="lesson",
        template="learning/kinds/lesson.html",
        manual_completion=True,
        is_done=_completed,
    )
)


# A file to download and a link to open: the learner marks them complete, as
# a lesson (Moodle's "view" completion would count a click, not the reading).
register(
    ItemKind(
        name="file",
        template="learning/kinds/file.html",
        manual_completion=True,
        is_done=_completed,
    )
)
register(
    ItemKind(
        name="link",
        template="learning/kinds/link.html",
        manual_completion=True,
        is_done=_completed,
    )
)
