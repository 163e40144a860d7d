"""What a course is: course → ordered modules → ordered items, and who may see or edit it."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vle.accounts.models import Organisation, User
from vle.db import Base, utcnow


class CourseStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


course_trainers = Table(
    "course_trainers",
    Base.metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)

# A course's length as course.yaml and the settings form take it: more than
# nothing, at most HOURS_MAX, to a tenth of an hour (8, 1.5; not 1.25).
HOURS_MAX = 10_000


def hours_allowed(hours: float) -> bool:
    return 0 < hours <= HOURS_MAX and round(hours, 1) == hours


class Course(Base):
    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'archived')", name="status_known"),
        CheckConstraint("validity_months IS NULL OR validity_months > 0", name="validity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[str] = mapped_column(String(16), default=CourseStatus.DRAFT, index=True)
    enrolment_key: Mapped[str | None] = mapped_column(String(100))
    # Shown beside the Enrolment key field (the key itself never is).
    enrolment_key_hint: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # The course's length as its certificate states it (Lithuanian teacher
    # qualification certificates must); None: not stated.
    hours: Mapped[float | None]
    # A network administrator counts it as a joint training scheme (the
    # monitoring indicators RCO 85 and RCR 81).
    joint_training: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The organisation whose name, logo and signature its certificates carry;
    # None: the site's name alone.
    issuer_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    starts: Mapped[date | None]
    ends: Mapped[date | None]
    validity_months: Mapped[int | None]
    competencies: Mapped[list[Any]] = mapped_column(default=list)
    completion_rule: Mapped[str] = mapped_column(String(32), default="all_required")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Raised by every save (vle/authoring/editing.py); the ORM's UPDATE also
    # checks it, so a save racing another one fails instead of overwriting it.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    modules: Mapped[list[Module]] = relationship(
        back_populates="course", order_by="Module.position", cascade="all, delete-orphan"
    )
    trainers: Mapped[list[User]] = relationship(secondary=course_trainers)
    issuer: Mapped[Organisation | None] = relationship()

    @property
    def is_draft(self) -> bool:
        return self.status == CourseStatus.DRAFT

    def can_edit(self, user: Any) -> bool:
        """The course's trainers and network admins edit it."""
        if not getattr(user, "is_authenticated", False):
            return False
        return user.is_network_admin or any(t.id == user.id for t in self.trainers)

    def can_view(self, user: Any) -> bool:
        """A draft does not exist for anyone but its editors; the rest is public."""
        return not self.is_draft or self.can_edit(user)

    @property
    def items(self) -> list[Item]:
        return [item for module in self.modules for item in module.items]

    def __repr__(self) -> str:
        return f"<Course {self.slug}>"


class Module(Base):
    __tablename__ = "modules"
    __table_args__ = (UniqueConstraint("course_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(100))
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    # The folder name's number prefix as written ("01"), kept for a faithful export.
    prefix: Mapped[str] = mapped_column(String(8), default="")
    # Raised by every save (vle/authoring/editing.py); the ORM's UPDATE also
    # checks it, so a save racing another one fails instead of overwriting it.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    course: Mapped[Course] = relationship(back_populates="modules")
    items: Mapped[list[Item]] = relationship(
        back_populates="module", order_by="Item.position", cascade="all, delete-orphan"
    )


class Item(Base):
    """A lesson, quiz, file or link. `body_html` is sanitised when written;
    `source` keeps what the author wrote (Markdown, GIFT) for export."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("module_id", "slug"),
        CheckConstraint("kind IN ('lesson', 'quiz', 'file', 'link')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(100))
    position: Mapped[int]
    prefix: Mapped[str] = mapped_column(String(8), default="")
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    required: Mapped[bool] = mapped_column(default=True)
    minutes: Mapped[int | None]
    body_html: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text, default="")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Raised by every save (vle/authoring/editing.py); the ORM's UPDATE also
    # checks it, so a save racing another one fails instead of overwriting it.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    module: Mapped[Module] = relationship(back_populates="items")
