"""Due-date reminders of learning plans: once a day, "plan due soon" (within
`VLE_DUE_REMINDER_DAYS`, as courses) and "plan overdue" to each learner whose active
plan is that near or past, once per plan and kind — with the course reminders'
window, once-only key and batch loop (vle/learning/reminders.py)."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from vle.accounts.models import User
from vle.competencies.models import Plan, PlanStatus, PlanTemplate
from vle.db import utcnow
from vle.learning import reminders
from vle.mail import services as mail
from vle.mail.queue import crontab, periodic_task

mail.KIND_LABELS["plan_due_soon"] = _l("reminders of a learning plan's due date near")
mail.KIND_LABELS["plan_overdue"] = _l("reminders of an overdue learning plan")


def remind_batch(db_session: Session, kind: str, today: date, limit: int = reminders.BATCH) -> int:
    """Notify up to `limit` learners whose active plan is due soon ("plan_due_soon":
    within `VLE_DUE_REMINDER_DAYS`, as courses) or overdue ("plan_overdue"), once per
    plan and kind; how many."""
    rows = db_session.execute(
        select(Plan.id, Plan.due, User, PlanTemplate.name)
        .join(User, User.id == Plan.user_id)
        .join(PlanTemplate, PlanTemplate.id == Plan.template_id)
        .where(
            *reminders.due_window(Plan.due, kind, today),
            Plan.status == PlanStatus.ACTIVE,
            User.active.is_(True),
            User.erased_at.is_(None),
            reminders.not_told(kind, Plan.id),
        )
        .order_by(Plan.id)
        .limit(limit)
    ).all()
    notices = []
    for plan_id, due, user, name in rows:
        url = mail.external_url("plans.plan", plan_id=plan_id)
        notices.append(
            mail.Notice(
                user_id=user.id,
                to_address=user.email,
                to_name=user.name,
                locale=user.locale,
                kind=kind,
                context={"plan_name": name, "plan_url": url, "due": due},
                key=f"{kind}:{plan_id}",
                url=url,
            )
        )
    mail.notify_many(db_session, notices)
    db_session.flush()
    return len(rows)


def send_due_reminders(today: date | None = None) -> int:
    """Every plan reminder due today, a batch per transaction; how many."""
    return reminders.in_batches(
        remind_batch, ("plan_overdue", "plan_due_soon"), today or utcnow().date()
    )


@periodic_task(crontab(minute="40", hour="5"))
def plan_due_reminders() -> int:
    """Every day: "plan due soon" and "plan overdue" notices."""
    return send_due_reminders()
