"""What monitoring keeps: the indicator snapshots frozen at each reporting date,
with the evidence behind every figure."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vle.db import Base, utcnow


class IndicatorSnapshot(Base):
    """The indicator panel as it stood at a reporting date: `figures` is
    {indicator code: value} and `rules` {indicator code: the counting rule as
    stated then}; neither changes afterwards, whatever the data does."""

    __tablename__ = "indicator_snapshots"
    __table_args__ = (UniqueConstraint("reporting_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reporting_date: Mapped[date]
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)
    rules: Mapped[dict[str, Any]] = mapped_column(default=dict)

    evidence: Mapped[list[IndicatorEvidence]] = relationship(
        back_populates="snapshot", cascade="all, delete-orphan", passive_deletes=True
    )


class IndicatorEvidence(Base):
    """One row of the evidence list behind a snapshot's figure (a participation,
    a completion, an organisation), as it stood when frozen."""

    __tablename__ = "indicator_evidence"
    __table_args__ = (Index("ix_indicator_evidence_snapshot", "snapshot_id", "indicator"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("indicator_snapshots.id", ondelete="CASCADE")
    )
    indicator: Mapped[str] = mapped_column(String(16))
    row: Mapped[dict[str, Any]] = mapped_column(default=dict)

    snapshot: Mapped[IndicatorSnapshot] = relationship(back_populates="evidence")


class MonitoringFigures(Base):
    """Figures counted ahead of the pages that show them (issue 19: the whole
    network's monitoring page under 1 s): one row per question — `key` names it
    (the monitoring filters as asked, with the reader's time zone; or the
    cooperating pairs in a time zone) — with what was counted (`result`), when
    (`computed_at`: the figures are as of then) and when a page last read it
    (`read_at`: a question nobody asks any more is forgotten)."""

    __tablename__ = "monitoring_figures"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    computed_at: Mapped[datetime]
    read_at: Mapped[datetime]
