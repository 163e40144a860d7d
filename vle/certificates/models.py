"""A certificate: one per course completion, with an unguessable verification code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vle.accounts.models import User
from vle.catalog.models import Course
from vle.db import Base, utcnow
from vle.learning.models import Completion


class Certificate(Base):
    """Issued for one `Completion` (recurring training gets one per completion).
    `code` is 16 characters of Crockford base32 (80 random bits), stored
    without dashes; it is shown as XXXX-XXXX-XXXX-XXXX."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    completion_id: Mapped[int] = mapped_column(
        ForeignKey("completions.id", ondelete="CASCADE"), unique=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)

    completion: Mapped[Completion] = relationship()
    user: Mapped[User] = relationship()
    course: Mapped[Course] = relationship()

    @property
    def display_code(self) -> str:
        return "-".join(self.code[i : i + 4] for i in range(0, len(self.code), 4))
