"""Learning plans: templates of competencies assigned to learners.

A plan template ("municipal social worker") is a set of competencies with an
optional due date. Assigning it to a person, or to everyone of an organisation
subtree (optionally of one role, including people who join later), gives each
of them a Plan. A plan's progress is the share of its competencies the learner
is proficient in; it completes when every one is proficient (or by an
administrator's hand), and its ratings are then frozen in PlanRating.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, delete, exists, func, select, true, update
from sqlalchemy.orm import Session, selectinload

from vle import db
from vle.accounts.models import Organisation, Role, User
from vle.audit import audit
from vle.competencies.models import (
    Competency,
    Framework,
    Plan,
    PlanAssignment,
    PlanRating,
    PlanStatus,
    PlanTemplate,
    PlanTemplateCompetency,
    UserCompetency,
)
from vle.db import utcnow
from vle.errors import Forbidden, Invalid, NotFound
from vle.inputs import as_id, has_control
from vle.learning import assignments
from vle.learning import tasks as learning_tasks
from vle.mail import services as mail

# People given their plans per transaction (an organisation assignment, newcomers).
BATCH = 500

mail.KIND_LABELS["plan_assigned"] = _l("learning plans assigned to you")


@dataclass(frozen=True)
class PlanLine:
    """One of a learner's plans as My competencies and the API show it."""

    id: int
    name: str
    status: str
    due: date | None
    progress: int  # 0..100
    competency_codes: list[str]


def percent(done: int, total: int) -> int:
    """`done` of `total` as a whole percentage, rounded down (100 only when all are done)."""
    if total <= 0:
        return 0
    return done * 100 // total


def plans_of(db_session: Session, user_id: int) -> list[PlanLine]:
    """The learner's plans, active first, then draft, then complete; by due date and
    name within each. Four queries whatever the number of plans or competencies."""
    rows = db_session.execute(
        select(Plan.id, Plan.template_id, Plan.status, Plan.due, PlanTemplate.name)
        .join(PlanTemplate, PlanTemplate.id == Plan.template_id)
        .where(Plan.user_id == user_id)
    ).all()
    if not rows:
        return []
    template_ids = {row.template_id for row in rows}
    members: dict[int, list[tuple[int, str]]] = {}
    for template_id, competency_id, code in db_session.execute(
        select(PlanTemplateCompetency.template_id, Competency.id, Competency.code)
        .join(Competency, Competency.id == PlanTemplateCompetency.competency_id)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(PlanTemplateCompetency.template_id.in_(template_ids))
        .order_by(Framework.title, Framework.id, Competency.position, Competency.id)
    ):
        members.setdefault(template_id, []).append((competency_id, code))
    proficient_now = set(
        db_session.scalars(
            select(UserCompetency.competency_id).where(
                UserCompetency.user_id == user_id, UserCompetency.proficient.is_(True)
            )
        )
    )
    complete_ids = [row.id for row in rows if row.status == PlanStatus.COMPLETE]
    # A complete plan: the competencies and ratings it was completed with.
    frozen: dict[int, list[tuple[str, bool]]] = {}
    if complete_ids:
        for plan_id, code, proficient in db_session.execute(
            select(PlanRating.plan_id, Competency.code, PlanRating.proficient)
            .join(Competency, Competency.id == PlanRating.competency_id)
            .join(Framework, Framework.id == Competency.framework_id)
            .where(PlanRating.plan_id.in_(complete_ids))
            .order_by(Framework.title, Framework.id, Competency.position, Competency.id)
        ):
            frozen.setdefault(plan_id, []).append((code, bool(proficient)))
    order: dict[str, int] = {PlanStatus.ACTIVE: 0, PlanStatus.DRAFT: 1, PlanStatus.COMPLETE: 2}
    lines = []
    for row in rows:
        if row.status == PlanStatus.COMPLETE:
            held = frozen.get(row.id, [])
        else:
            held = [
                (code, competency_id in proficient_now)
                for competency_id, code in members.get(row.template_id, [])
            ]
        lines.append(
            PlanLine(
                id=row.id,
                name=row.name,
                status=row.status,
                due=row.due,
                progress=percent(sum(1 for _code, ok in held if ok), len(held)),
                competency_codes=[code for code, _ok in held],
            )
        )
    lines.sort(
        key=lambda line: (order.get(line.status, 3), line.due or date.max, line.name, line.id)
    )
    return lines


# --- who may do what -----------------------------------------------------------------------
#
# As in Moodle, where managers (moodle/competency:templatemanage) make learning plan
# templates and trainers do not: administrators make, edit, delete and assign them.
# An organisation administrator's template belongs to their organisation; a network
# administrator's to the whole network. An administrator sees the network's
# templates and those of their organisation, its ancestors and its subtree, and may
# assign any of them to people of their subtree; they edit only the templates of
# their subtree (network administrators: every template).


def may_manage_templates(actor: Any) -> bool:
    """Administrators (the Learning plans page and every route under it)."""
    return bool(
        getattr(actor, "is_authenticated", False)
        and getattr(actor, "active", False)
        and actor.is_admin
    )


def can_see_template(actor: User, template: PlanTemplate) -> bool:
    if not may_manage_templates(actor):
        return False
    if actor.is_network_admin or template.organisation is None:
        return True
    return template.organisation.contains(actor.organisation) or actor.administers(
        template.organisation
    )


def can_edit_template(actor: User, template: PlanTemplate) -> bool:
    if not may_manage_templates(actor):
        return False
    if actor.is_network_admin:
        return True
    return template.organisation is not None and actor.administers(template.organisation)


def template_for(
    db_session: Session, actor: User, template_id: int, edit: bool = False
) -> PlanTemplate:
    """The template, for an administrator who may see it (NotFound otherwise) and,
    with `edit`, change it (Forbidden otherwise)."""
    template = db_session.get(PlanTemplate, template_id)
    if template is None or not can_see_template(actor, template):
        raise NotFound(_l("There is no such learning plan template."))
    if edit and not can_edit_template(actor, template):
        raise Forbidden(_l("This learning plan template belongs to another organisation."))
    return template


def can_manage_plan(actor: Any, plan: Plan) -> bool:
    """Administrators whose scope holds the learner activate, complete and reopen
    their plans."""
    return may_manage_templates(actor) and actor.administers(plan.user.organisation)


def require_manage_plan(actor: Any, plan: Plan) -> None:
    if not can_manage_plan(actor, plan):
        raise Forbidden(_l("This person is outside your scope."))


# --- templates -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateLine:
    """A template in the list, with its size and how its plans stand."""

    template: PlanTemplate
    competencies: int
    plans: int
    complete: int
    editable: bool


def templates_for(db_session: Session, actor: User) -> list[TemplateLine]:
    """The templates the administrator sees, by name: three queries."""
    if not may_manage_templates(actor):
        raise Forbidden(_l("Only administrators manage learning plans."))
    templates = [
        template
        for template in db_session.scalars(
            select(PlanTemplate)
            .options(selectinload(PlanTemplate.organisation))
            .order_by(func.lower(PlanTemplate.name), PlanTemplate.id)
        )
        if can_see_template(actor, template)
    ]
    ids = [template.id for template in templates]
    sizes = dict(
        db_session.execute(
            select(PlanTemplateCompetency.template_id, func.count())
            .where(PlanTemplateCompetency.template_id.in_(ids))
            .group_by(PlanTemplateCompetency.template_id)
        ).all()
    )
    counts: dict[int, dict[str, int]] = {}
    for template_id, status, n in db_session.execute(
        select(Plan.template_id, Plan.status, func.count())
        .join(User, User.id == Plan.user_id)
        .where(Plan.template_id.in_(ids), _scope(actor))
        .group_by(Plan.template_id, Plan.status)
    ):
        counts.setdefault(template_id, {})[status] = n
    return [
        TemplateLine(
            template,
            sizes.get(template.id, 0),
            sum(counts.get(template.id, {}).values()),
            counts.get(template.id, {}).get(PlanStatus.COMPLETE, 0),
            can_edit_template(actor, template),
        )
        for template in templates
    ]


def _scope(actor: User | None) -> Any:
    """SQL: the user (User) is in the administrator's subtree."""
    if actor is None or actor.is_network_admin:
        return true()
    return User.organisation_id.in_(
        select(Organisation.id).where(
            Organisation.path.startswith(actor.organisation.path, autoescape=True)
        )
    )


def template_competencies(db_session: Session, template_id: int) -> list[Competency]:
    """The template's competencies, by framework and the framework's order."""
    return list(
        db_session.scalars(
            select(Competency)
            .join(PlanTemplateCompetency, PlanTemplateCompetency.competency_id == Competency.id)
            .join(Framework, Framework.id == Competency.framework_id)
            .where(PlanTemplateCompetency.template_id == template_id)
            .options(selectinload(Competency.framework))
            .order_by(Framework.title, Framework.id, Competency.position, Competency.id)
        )
    )


def competency_choices(db_session: Session) -> list[tuple[Framework, list[Competency]]]:
    """Every framework with its competencies in order: what a template chooses from."""
    frameworks = list(db_session.scalars(select(Framework).order_by(Framework.title, Framework.id)))
    by_framework: dict[int, list[Competency]] = {}
    for competency in db_session.scalars(
        select(Competency).order_by(Competency.position, Competency.id)
    ):
        by_framework.setdefault(competency.framework_id, []).append(competency)
    return [(framework, by_framework.get(framework.id, [])) for framework in frameworks]


def _clean_text(value: str, limit: int, what: Any, required: bool = False) -> str:
    text = (value or "").strip()
    if has_control(text.replace("\n", "").replace("\r", "").replace("\t", "")):
        raise Invalid(_l("%(what)s holds characters that cannot be stored.", what=what))
    if required and not text:
        raise Invalid(_l("%(what)s is required.", what=what))
    if len(text) > limit:
        raise Invalid(_l("%(what)s is longer than %(n)d characters.", what=what, n=limit))
    return text


def save_template(
    db_session: Session,
    actor: User,
    template: PlanTemplate | None,
    *,
    name: str,
    description: str,
    due: date | None,
    competency_ids: Iterable[int],
    address: str | None = None,
) -> PlanTemplate:
    """Create (template None) or change a template. Invalid without a name or a
    competency, or with a competency that does not exist; nothing is written then.
    The plans not yet complete follow its due date and competencies (a complete
    plan keeps what it was completed with) and complete when they now can."""
    if template is None:
        if not may_manage_templates(actor):
            raise Forbidden(_l("Only administrators manage learning plans."))
    elif not can_edit_template(actor, template):
        raise Forbidden(_l("This learning plan template belongs to another organisation."))
    name = _clean_text(name, 200, _l("Name"), required=True)
    description = _clean_text(description, 5000, _l("Description"))
    wanted = sorted({int(i) for i in competency_ids})
    if not wanted:
        raise Invalid(_l("Choose at least one competency."))
    if any(as_id(i) is None for i in wanted):
        raise Invalid(_l("A chosen competency does not exist (any more); choose again."))
    found = set(db_session.scalars(select(Competency.id).where(Competency.id.in_(wanted))))
    if found != set(wanted):
        raise Invalid(_l("A chosen competency does not exist (any more); choose again."))
    if template is None:
        template = PlanTemplate(
            name=name,
            description=description,
            due=due,
            organisation_id=None if actor.is_network_admin else actor.organisation_id,
            created_by_id=actor.id,
        )
        db_session.add(template)
        db_session.flush()
        before: dict[str, Any] = {}
        old: set[int] = set()
    else:
        old = set(
            db_session.scalars(
                select(PlanTemplateCompetency.competency_id).where(
                    PlanTemplateCompetency.template_id == template.id
                )
            )
        )
        before = {"name": template.name, "due": template.due, "description": template.description}
        template.name, template.description, template.due = name, description, due
    added, removed = set(wanted) - old, old - set(wanted)
    if removed:
        db_session.execute(
            delete(PlanTemplateCompetency).where(
                PlanTemplateCompetency.template_id == template.id,
                PlanTemplateCompetency.competency_id.in_(removed),
            )
        )
    db_session.add_all(
        PlanTemplateCompetency(template_id=template.id, competency_id=i) for i in sorted(added)
    )
    if before and before["due"] != due:
        db_session.execute(
            update(Plan)
            .where(Plan.template_id == template.id, Plan.status != PlanStatus.COMPLETE)
            .values(due=due)
            .execution_options(synchronize_session="fetch")
        )
    db_session.flush()
    details: dict[str, Any] = {"competencies": len(wanted), "due": _iso(due)}
    if before:
        details["changed"] = [
            key
            for key, value in (("name", name), ("description", description), ("due", due))
            if before[key] != value
        ] + (["competencies"] if added or removed else [])
    audit(
        db_session, actor, "plan_template.update" if before else "plan_template.create",
        "plan_template", template.id, address, details,
        organisation_id=template.organisation_id, label=name,
    )  # fmt: skip
    if before and (added or removed):
        for plan in db_session.scalars(
            select(Plan).where(Plan.template_id == template.id, Plan.status == PlanStatus.ACTIVE)
        ):
            _complete_if_done(db_session, plan)
    return template


def delete_template(
    db_session: Session, actor: User, template: PlanTemplate, address: str | None = None
) -> int:
    """Delete a template with its assignments and every plan made from it (the
    confirmation page says how many); how many plans went. Evidence and ratings stay."""
    if not can_edit_template(actor, template):
        raise Forbidden(_l("This learning plan template belongs to another organisation."))
    plan_ids = select(Plan.id).where(Plan.template_id == template.id)
    n = db_session.scalar(select(func.count()).select_from(plan_ids.subquery())) or 0
    db_session.execute(delete(PlanRating).where(PlanRating.plan_id.in_(plan_ids)))
    db_session.execute(delete(Plan).where(Plan.template_id == template.id))
    db_session.execute(delete(PlanAssignment).where(PlanAssignment.template_id == template.id))
    db_session.execute(
        delete(PlanTemplateCompetency).where(PlanTemplateCompetency.template_id == template.id)
    )
    audit(
        db_session, actor, "plan_template.delete", "plan_template", template.id, address,
        {"plans": n}, organisation_id=template.organisation_id, label=template.name,
    )  # fmt: skip
    db_session.delete(template)
    db_session.flush()
    return n


def plan_counts(db_session: Session, template_id: int) -> dict[str, int]:
    """How many plans of each status a template has (all of them, for deleting)."""
    return dict(
        db_session.execute(
            select(Plan.status, func.count())
            .where(Plan.template_id == template_id)
            .group_by(Plan.status)
        ).all()
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


# --- assigning -----------------------------------------------------------------------------


def _require_assign(actor: User, template: PlanTemplate) -> None:
    if not can_see_template(actor, template):
        raise Forbidden(_l("Only administrators assign learning plans."))


def assign_people(
    db_session: Session,
    actor: User,
    template: PlanTemplate,
    users: Sequence[User],
    *,
    draft: bool = False,
    address: str | None = None,
) -> tuple[list[Plan], list[User]]:
    """Give each person a plan from the template (a draft, or active and told so);
    those who already have one are left as they are and returned second.
    Forbidden, writing nothing, when anyone is outside the administrator's scope."""
    _require_assign(actor, template)
    if not users:
        raise Invalid(_l("Choose the people to assign the plan to."))
    for user in users:
        if not actor.administers(user.organisation) or user.is_erased:
            raise Forbidden(_l("%(name)s is outside your scope.", name=user.name))
    had = _having(db_session, template.id, [user.id for user in users])
    fresh = [user for user in users if user.id not in had]
    for user in fresh:
        db_session.add(
            PlanAssignment(template_id=template.id, user_id=user.id, assigned_by_id=actor.id)
        )
    status = PlanStatus.DRAFT if draft else PlanStatus.ACTIVE
    made = _give(db_session, actor, template, fresh, status, address)
    return made, [user for user in users if user.id in had]


def assign_organisation(
    db_session: Session,
    actor: User | None,
    template: PlanTemplate,
    organisation: Organisation,
    role: str | None,
    address: str | None = None,
) -> tuple[PlanAssignment, int]:
    """Assign the template to everyone of the organisation's subtree (of `role`;
    None: every role), and to everyone who joins it later (`hold_newcomers`, every
    minute); their plans are active at once, as Moodle's template cohorts make
    them. The first `BATCH` people get theirs now. Forbidden outside the scope."""
    if actor is not None:
        _require_assign(actor, template)
        if not actor.administers(organisation):
            raise Forbidden(
                _l("The organisation “%(code)s” is outside your scope.", code=organisation.code)
            )
    if role is not None and role not in tuple(Role):
        raise Invalid(_l("Unknown role “%(role)s”: choose learner, trainer or admin.",
                         role=str(role)[:20]))  # fmt: skip
    assignment = PlanAssignment(
        template_id=template.id,
        organisation_id=organisation.id,
        role=role,
        assigned_by_id=actor.id if actor else None,
    )
    db_session.add(assignment)
    db_session.flush()
    audit(
        db_session, actor, "plan_assignment.create", "plan_template", template.id, address,
        {"assignment": assignment.id, "organisation": organisation.code, "role": role},
        organisation_id=organisation.id, label=template.name,
    )  # fmt: skip
    return assignment, fill(db_session, assignment)


def count_organisation(
    db_session: Session, template: PlanTemplate, organisation: Organisation, role: str | None
) -> int:
    """How many people of the subtree (of `role`) would get a plan now (the dry run)."""
    query = assignments.people_of(organisation, role).where(~_has_plan(template.id))
    return db_session.scalar(query.with_only_columns(func.count())) or 0


def _has_plan(template_id: int) -> Any:
    return exists().where(Plan.template_id == template_id, Plan.user_id == User.id)


def fill(db_session: Session, assignment: PlanAssignment, limit: int = BATCH) -> int:
    """Give up to `limit` people of an organisation assignment's subtree who have no
    plan of its template one (active); how many."""
    organisation = (
        db_session.get(Organisation, assignment.organisation_id)
        if assignment.organisation_id
        else None
    )
    template = db_session.get(PlanTemplate, assignment.template_id)
    if organisation is None or template is None:
        return 0
    users = list(
        db_session.scalars(
            assignments.people_of(organisation, assignment.role)
            .where(~_has_plan(template.id))
            .order_by(User.id)
            .limit(limit)
        )
    )
    actor = db_session.get(User, assignment.assigned_by_id) if assignment.assigned_by_id else None
    return len(_give(db_session, actor, template, users, PlanStatus.ACTIVE, None))


def hold_newcomers() -> int:
    """People who joined an assigned subtree (or took its role) get their plan:
    every minute, with the course assignments' newcomers (learning.tasks), a
    batch per transaction; how many."""
    with db.transaction() as db_session:
        ids = list(
            db_session.scalars(
                select(PlanAssignment.id).where(PlanAssignment.organisation_id.is_not(None))
            )
        )
    total = 0
    with mail.rendering_once():
        for assignment_id in ids:
            while True:
                with db.transaction() as db_session:
                    assignment = db_session.get(PlanAssignment, assignment_id)
                    n = fill(db_session, assignment) if assignment is not None else 0
                total += n
                if n < BATCH:
                    break
    return total


def _having(db_session: Session, template_id: int, user_ids: list[int]) -> set[int]:
    return set(
        db_session.scalars(
            select(Plan.user_id).where(Plan.template_id == template_id, Plan.user_id.in_(user_ids))
        )
    )


def _give(
    db_session: Session,
    actor: User | None,
    template: PlanTemplate,
    users: Sequence[User],
    status: str,
    address: str | None,
) -> list[Plan]:
    """Plans for `users` (who have none of the template), audited; the active ones
    told. Someone given one meanwhile by a concurrent run is skipped."""
    made = _insert_plans(db_session, template, [user.id for user in users], status)
    by_id = {user.id: user for user in users}
    for plan in made:
        user = by_id[plan.user_id]
        audit(
            db_session, actor, "plan.assign", "user", user.id, address,
            {"plan": plan.id, "template": template.id, "status": status, "due": _iso(plan.due)},
            organisation_id=user.organisation_id, label=user.email,
        )  # fmt: skip
    active = [plan for plan in made if plan.status == PlanStatus.ACTIVE]
    _tell(db_session, template, active)
    for plan in active:
        _complete_if_done(db_session, plan)
    return made


def _insert_plans(
    db_session: Session, template: PlanTemplate, user_ids: list[int], status: str
) -> list[Plan]:
    """One plan of the template for each person, in one INSERT that skips anyone
    given one meanwhile by a concurrent run (the unique user and template), with
    no savepoint (a savepoint's release would send the mails queued before it)."""
    if not user_ids:
        return []
    now = utcnow()
    rows = [
        {"user_id": user_id, "template_id": template.id, "status": status, "due": template.due,
         "created_at": now}
        for user_id in user_ids
    ]  # fmt: skip
    ids = list(
        db_session.scalars(
            db.insert_unless_exists(db_session, Plan, ["user_id", "template_id"])
            .values(rows)
            .returning(Plan.id)
        )
    )
    if not ids:
        return []
    return list(db_session.scalars(select(Plan).where(Plan.id.in_(ids)).order_by(Plan.id)))


def _tell(db_session: Session, template: PlanTemplate, plans: Sequence[Plan]) -> None:
    """Notify "plan assigned" (on the home page and by mail, in each person's
    language), once per plan."""
    notices = []
    for plan in plans:
        user = plan.user
        url = mail.external_url("plans.plan", plan_id=plan.id)
        notices.append(
            mail.Notice(
                user_id=user.id,
                to_address=user.email,
                to_name=user.name,
                locale=user.locale,
                kind="plan_assigned",
                context={"plan_name": template.name, "plan_url": url, "due": plan.due},
                key=f"plan_assigned:{plan.id}",
                url=url,
            )
        )
    mail.notify_many(db_session, notices)


# --- states --------------------------------------------------------------------------------


def activate(db_session: Session, actor: User, plan: Plan, address: str | None = None) -> None:
    """A draft becomes active: the learner is told; it completes at once when every
    competency is already proficient."""
    require_manage_plan(actor, plan)
    if plan.status != PlanStatus.DRAFT:
        raise Invalid(_l("Only a draft plan can be made active."))
    plan.status = PlanStatus.ACTIVE
    _audit_state(db_session, actor, plan, "plan.activate", address)
    _tell(db_session, plan.template, [plan])
    _complete_if_done(db_session, plan)


def complete(db_session: Session, actor: User, plan: Plan, address: str | None = None) -> None:
    """An administrator completes a plan by hand, whatever its progress: its ratings
    are frozen as they stand."""
    require_manage_plan(actor, plan)
    if plan.status == PlanStatus.COMPLETE:
        raise Invalid(_l("This plan is already complete."))
    _freeze(db_session, plan)
    _audit_state(db_session, actor, plan, "plan.complete", address, how="manual")


def reopen(db_session: Session, actor: User, plan: Plan, address: str | None = None) -> None:
    """A complete plan becomes active again: its frozen ratings are let go and it
    follows the learner's ratings (it completes again on the next change that makes
    every competency proficient, or by hand)."""
    require_manage_plan(actor, plan)
    if plan.status != PlanStatus.COMPLETE:
        raise Invalid(_l("Only a complete plan can be reopened."))
    db_session.execute(delete(PlanRating).where(PlanRating.plan_id == plan.id))
    plan.status = PlanStatus.ACTIVE
    plan.completed_at = None
    db_session.flush()
    _audit_state(db_session, actor, plan, "plan.reopen", address)


def _audit_state(
    db_session: Session,
    actor: User | None,
    plan: Plan,
    action: str,
    address: str | None,
    how: str | None = None,
) -> None:
    details: dict[str, Any] = {"plan": plan.id, "template": plan.template_id,
                               "status": plan.status}  # fmt: skip
    if how:
        details["via"] = how
    audit(
        db_session, actor, action, "user", plan.user_id, address, details,
        organisation_id=plan.user.organisation_id, label=plan.user.email,
    )  # fmt: skip


def _freeze(db_session: Session, plan: Plan) -> None:
    """Complete the plan with its ratings as they stand, kept in PlanRating."""
    standing = {
        row.competency_id: row
        for row in db_session.scalars(
            select(UserCompetency).where(
                UserCompetency.user_id == plan.user_id,
                UserCompetency.competency_id.in_(members_of(plan.template_id)),
            )
        )
    }
    db_session.execute(delete(PlanRating).where(PlanRating.plan_id == plan.id))
    for competency_id in db_session.scalars(members_of(plan.template_id)):
        row = standing.get(competency_id)
        db_session.add(
            PlanRating(
                plan_id=plan.id,
                competency_id=competency_id,
                rating=row.rating if row else None,
                proficient=bool(row and row.proficient),
            )
        )
    plan.status = PlanStatus.COMPLETE
    plan.completed_at = utcnow()
    db_session.flush()


def members_of(template_id: int) -> Any:
    """SQL: the ids of the template's competencies."""
    return select(PlanTemplateCompetency.competency_id).where(
        PlanTemplateCompetency.template_id == template_id
    )


def _complete_if_done(db_session: Session, plan: Plan) -> bool:
    """Complete an active plan when every competency of it is proficient (audited,
    by nobody: the system); whether it did."""
    if plan.status != PlanStatus.ACTIVE:
        return False
    missing = db_session.scalar(
        select(func.count())
        .select_from(PlanTemplateCompetency)
        .where(
            PlanTemplateCompetency.template_id == plan.template_id,
            ~exists().where(
                UserCompetency.user_id == plan.user_id,
                UserCompetency.competency_id == PlanTemplateCompetency.competency_id,
                UserCompetency.proficient.is_(True),
            ),
        )
    )
    has_any = db_session.scalar(
        select(func.count()).select_from(members_of(plan.template_id).subquery())
    )
    if missing or not has_any:
        return False
    _freeze(db_session, plan)
    _audit_state(db_session, None, plan, "plan.complete", None, how="automatic")
    return True


def proficiency_reached(db_session: Session, user_id: int, competency_id: int) -> None:
    """The engine (services.rederive): the learner became proficient in a
    competency; each active plan of theirs holding it completes if it now can."""
    for plan in db_session.scalars(
        select(Plan).where(
            Plan.user_id == user_id,
            Plan.status == PlanStatus.ACTIVE,
            Plan.template_id.in_(
                select(PlanTemplateCompetency.template_id).where(
                    PlanTemplateCompetency.competency_id == competency_id
                )
            ),
        )
    ):
        _complete_if_done(db_session, plan)


# --- one plan ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanItem:
    """A competency of a plan: the learner's rating now, or frozen when complete."""

    competency: Competency
    rating: str | None
    proficient: bool


def plan_items(db_session: Session, plan: Plan) -> list[tuple[Framework, list[PlanItem]]]:
    """The plan's competencies by framework with their ratings: those frozen in
    PlanRating once the plan is complete (its own list), the learner's current
    ones otherwise. Three queries."""
    if plan.status == PlanStatus.COMPLETE:
        rows = db_session.execute(
            select(Competency, PlanRating.rating, PlanRating.proficient)
            .join(PlanRating, PlanRating.competency_id == Competency.id)
            .join(Framework, Framework.id == Competency.framework_id)
            .where(PlanRating.plan_id == plan.id)
            .options(selectinload(Competency.framework))
            .order_by(Framework.title, Framework.id, Competency.position, Competency.id)
        ).all()
        items = [PlanItem(c, rating, bool(proficient)) for c, rating, proficient in rows]
    else:
        competencies = template_competencies(db_session, plan.template_id)
        standing = {
            row.competency_id: row
            for row in db_session.scalars(
                select(UserCompetency).where(
                    UserCompetency.user_id == plan.user_id,
                    UserCompetency.competency_id.in_([c.id for c in competencies]),
                )
            )
        }
        items = []
        for competency in competencies:
            row = standing.get(competency.id)
            items.append(
                PlanItem(competency, row.rating if row else None, bool(row and row.proficient))
            )
    grouped: list[tuple[Framework, list[PlanItem]]] = []
    for item in items:
        if not grouped or grouped[-1][0].id != item.competency.framework_id:
            grouped.append((item.competency.framework, []))
        grouped[-1][1].append(item)
    return grouped


def progress_of(groups: list[tuple[Framework, list[PlanItem]]]) -> int:
    items = [item for _framework, members in groups for item in members]
    return percent(sum(1 for item in items if item.proficient), len(items))


def progresses(db_session: Session, plans: Sequence[Plan]) -> dict[int, int]:
    """Each plan's progress (0..100), frozen for complete plans: three queries
    whatever their number."""
    if not plans:
        return {}
    template_ids = {plan.template_id for plan in plans}
    members: dict[int, set[int]] = {}
    for template_id, competency_id in db_session.execute(
        select(PlanTemplateCompetency.template_id, PlanTemplateCompetency.competency_id).where(
            PlanTemplateCompetency.template_id.in_(template_ids)
        )
    ):
        members.setdefault(template_id, set()).add(competency_id)
    wanted = set().union(*members.values()) if members else set()
    live = {plan.user_id for plan in plans if plan.status != PlanStatus.COMPLETE}
    held: dict[int, set[int]] = {}
    if live and wanted:
        for user_id, competency_id in db_session.execute(
            select(UserCompetency.user_id, UserCompetency.competency_id).where(
                UserCompetency.user_id.in_(live),
                UserCompetency.competency_id.in_(wanted),
                UserCompetency.proficient.is_(True),
            )
        ):
            held.setdefault(user_id, set()).add(competency_id)
    frozen: dict[int, tuple[int, int]] = {}
    done = [plan.id for plan in plans if plan.status == PlanStatus.COMPLETE]
    if done:
        for plan_id, n, ok in db_session.execute(
            select(
                PlanRating.plan_id,
                func.count(),
                func.sum(case((PlanRating.proficient.is_(True), 1), else_=0)),
            )
            .where(PlanRating.plan_id.in_(done))
            .group_by(PlanRating.plan_id)
        ):
            frozen[plan_id] = (int(ok or 0), n)
    result = {}
    for plan in plans:
        if plan.status == PlanStatus.COMPLETE:
            result[plan.id] = percent(*frozen.get(plan.id, (0, 0)))
        else:
            ids = members.get(plan.template_id, set())
            result[plan.id] = percent(len(ids & held.get(plan.user_id, set())), len(ids))
    return result


def plans_of_template(
    db_session: Session, actor: User, template: PlanTemplate, limit: int = 500
) -> list[tuple[Plan, User]]:
    """The plans of a template held by people in the administrator's scope, by name."""
    return [
        (plan, user)
        for plan, user in db_session.execute(
            select(Plan, User)
            .join(User, User.id == Plan.user_id)
            .where(Plan.template_id == template.id, _scope(actor))
            .order_by(func.lower(User.name), User.id)
            .limit(limit)
        )
    ]


def organisation_assignments(
    db_session: Session, actor: User, template: PlanTemplate
) -> list[tuple[PlanAssignment, Organisation]]:
    """The template's organisation assignments within the administrator's scope."""
    return [
        (assignment, organisation)
        for assignment, organisation in db_session.execute(
            select(PlanAssignment, Organisation)
            .join(Organisation, Organisation.id == PlanAssignment.organisation_id)
            .where(PlanAssignment.template_id == template.id)
            .order_by(PlanAssignment.assigned_at, PlanAssignment.id)
        )
        if actor.administers(organisation)
    ]


def withdraw(
    db_session: Session, actor: User, assignment: PlanAssignment, address: str | None = None
) -> None:
    """End an organisation assignment: newcomers no longer get the plan; the plans
    already made stay."""
    organisation = db_session.get(Organisation, assignment.organisation_id or 0)
    template = db_session.get(PlanTemplate, assignment.template_id)
    if organisation is None or template is None or not actor.administers(organisation):
        raise Forbidden(_l("This assignment is outside your scope."))
    audit(
        db_session, actor, "plan_assignment.withdraw", "plan_template", template.id, address,
        {"assignment": assignment.id, "organisation": organisation.code, "role": assignment.role},
        organisation_id=organisation.id, label=template.name,
    )  # fmt: skip
    db_session.delete(assignment)
    db_session.flush()


def register() -> None:
    """Hold the newcomers of organisation assignments with the course assignments'
    (every minute), and remind of due dates every day (plan_reminders' periodic
    task, registered when imported); called once by create_app."""
    from vle.competencies import plan_reminders  # noqa: F401 - its periodic task

    learning_tasks.also_for_newcomers(hold_newcomers)
