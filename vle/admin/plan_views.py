"""Learning plans: the administrators' pages (/admin/plans/…: templates, assigning,
the gap view and its CSV) and a plan's own page (/plans/<id>), which its learner,
their trainers and the administrators of their scope read, and on which
administrators activate, complete and reopen it. The rules are
vle.competencies.plans'; this floor sits above reports, whose spreadsheet writer
makes the gap view's CSV."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from vle import db
from vle.accounts import services as accounts
from vle.accounts.models import Organisation, Role, User
from vle.admin.forms import ActionForm
from vle.admin.plan_forms import AssignPlanForm, GapFilterForm, TemplateForm
from vle.competencies import plan_gap, plans
from vle.competencies import services as competencies
from vle.competencies.models import Plan, PlanAssignment, PlanStatus, PlanTemplate
from vle.errors import DomainError, Forbidden, Invalid, NotFound
from vle.forms import choice
from vle.inputs import as_id
from vle.learning import assignments
from vle.reports import writers
from vle.reports.scope import download_name
from vle.reports.views import stream_download

bp = Blueprint("plans", __name__)

EVERY_ROLE = "any"


def _address() -> str | None:
    return request.remote_addr


@bp.before_request
def _administrators_only() -> Any:
    if not request.path.startswith("/admin/"):
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    if not plans.may_manage_templates(current_user):
        abort(403)
    return None


def _template(template_id: int, edit: bool = False) -> PlanTemplate:
    try:
        return plans.template_for(db.session(), current_user, template_id, edit=edit)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)


def _organisation_choices(blank: str) -> list[Any]:
    orgs = accounts.tree_order(accounts.organisations_in_scope(db.session(), current_user))
    return [choice("", blank)] + [
        choice(org.code, f"{'— ' * depth}{org.name} ({org.code})") for org, depth in orgs
    ]


def _organisation(code: str) -> Organisation | None:
    """The organisation of a posted or asked code (None for empty); 422 for an
    unknown one, 403 outside the administrator's scope."""
    if not code:
        return None
    organisation = assignments.organisation_by_code(db.session(), code)  # Invalid: 422
    if not current_user.administers(organisation):
        abort(403)
    return organisation


# --- templates -----------------------------------------------------------------------------


@bp.get("/admin/plans")
def templates() -> str:
    lines = plans.templates_for(db.session(), current_user)
    return render_template("competencies/plans/templates.html", lines=lines)


def _template_form(template: PlanTemplate | None) -> TemplateForm:
    form = TemplateForm(obj=template)
    if request.method == "GET" and template is not None:
        form.due.data = template.due.isoformat() if template.due else ""
        form.competencies.data = [
            c.id for c in plans.template_competencies(db.session(), template.id)
        ]
    return form


def _edit_page(form: TemplateForm, template: PlanTemplate | None, status: int) -> Any:
    chosen = set(form.competencies.data or [])
    return (
        render_template(
            "competencies/plans/template_form.html",
            form=form,
            template=template,
            groups=plans.competency_choices(db.session()),
            chosen=chosen,
        ),
        status,
    )


def _save(form: TemplateForm, template: PlanTemplate | None) -> Any:
    status = 422 if request.method == "POST" else 200
    if request.method != "POST" or not form.validate_on_submit():
        return _edit_page(form, template, status)
    db_session = db.session()
    try:
        due = assignments.parse_due(form.due.data or "")
    except DomainError as error:
        form.due.errors = [*form.due.errors, error.message]
        return _edit_page(form, template, 422)
    try:
        saved = plans.save_template(
            db_session,
            current_user,
            template,
            name=form.name.data or "",
            description=form.description.data or "",
            due=due,
            competency_ids=form.competencies.data or [],
            address=_address(),
        )
    except Forbidden:
        db_session.rollback()
        abort(403)
    except DomainError as error:
        db_session.rollback()
        form.competencies.errors = [*form.competencies.errors, error.message]
        return _edit_page(form, template, 422)
    template_id = saved.id
    db_session.commit()
    flash(_("The learning plan template is saved."), "success")
    return redirect(url_for("plans.template", template_id=template_id))


@bp.route("/admin/plans/new", methods=["GET", "POST"])
def new_template() -> Any:
    return _save(_template_form(None), None)


@bp.route("/admin/plans/<int:template_id>/edit", methods=["GET", "POST"])
def edit_template(template_id: int) -> Any:
    template = _template(template_id, edit=True)
    return _save(_template_form(template), template)


@bp.get("/admin/plans/<int:template_id>")
def template(template_id: int) -> str:
    template = _template(template_id)
    db_session = db.session()
    people = plans.plans_of_template(db_session, current_user, template)
    return render_template(
        "competencies/plans/template.html",
        template=template,
        editable=plans.can_edit_template(current_user, template),
        competencies=plans.template_competencies(db_session, template.id),
        people=people,
        progress=plans.progresses(db_session, [plan for plan, _user in people]),
        organisation_assignments=plans.organisation_assignments(db_session, current_user, template),
        action_form=ActionForm(),
    )


@bp.route("/admin/plans/<int:template_id>/delete", methods=["GET", "POST"])
def delete_template(template_id: int) -> Any:
    template = _template(template_id, edit=True)
    db_session = db.session()
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        name = template.name
        plans.delete_template(db_session, current_user, template, _address())
        db_session.commit()
        flash(_("The learning plan template “%(name)s” is deleted.", name=name), "success")
        return redirect(url_for("plans.templates"))
    counts = plans.plan_counts(db_session, template.id)
    return render_template(
        "competencies/plans/delete.html",
        template=template,
        form=form,
        total=sum(counts.values()),
        complete=counts.get(PlanStatus.COMPLETE, 0),
    ), (422 if request.method == "POST" else 200)


# --- assigning -----------------------------------------------------------------------------


def _assign_form() -> AssignPlanForm:
    form = AssignPlanForm()
    form.organisation.choices = _organisation_choices(_("— the people chosen above —"))
    form.role.choices = [
        choice(Role.LEARNER.value, _("Learners")),
        choice(Role.TRAINER.value, _("Trainers")),
        choice(Role.ADMIN.value, _("Administrators")),
        choice(EVERY_ROLE, _("Everyone")),
    ]
    return form


def _assign_page(template: PlanTemplate, form: AssignPlanForm, status: int = 200,
                 **values: Any) -> Any:  # fmt: skip
    values.setdefault("search", "")
    values.setdefault("found", [])
    values.setdefault("count", None)
    return render_template("competencies/plans/assign.html", template=template, form=form,
                           **values), status  # fmt: skip


@bp.get("/admin/plans/<int:template_id>/assign")
def assign(template_id: int) -> Any:
    template = _template(template_id)
    search = request.args.get("q", "")[:200]
    found = assignments.find_people(db.session(), current_user, search) if search else []
    form = _assign_form()
    form.chosen.choices = [choice(user.id, f"{user.name} <{user.email}>") for user in found]
    return _assign_page(template, form, search=search, found=found)


@bp.post("/admin/plans/<int:template_id>/assign")
def assign_post(template_id: int) -> Any:
    template = _template(template_id)
    db_session = db.session()
    form = _assign_form()
    if not form.validate_on_submit():
        return _assign_page(template, form, 422)
    organisation = _organisation(form.organisation.data or "")
    chosen = [int(i) for i in form.chosen.data or []]
    if bool(organisation) == bool(chosen):
        form.organisation.errors = [
            *form.organisation.errors,
            _("Choose an organisation or people, not both.")
            if organisation
            else _("Choose an organisation or the people to assign the plan to."),
        ]
        return _assign_page(template, form, 422)
    try:
        if organisation is not None:
            role = None if form.role.data == EVERY_ROLE else (form.role.data or Role.LEARNER)
            if role is not None and role not in tuple(Role):
                raise Invalid(_("Choose a role from the list."))
            if "confirm" not in request.form:
                count = plans.count_organisation(db_session, template, organisation, role)
                return _assign_page(template, form, count=count, organisation=organisation)
            _assignment, n = plans.assign_organisation(
                db_session, current_user, template, organisation, role, _address()
            )
            db_session.commit()
            flash(
                _("The plan is assigned to %(name)s: %(n)s people have it now; people who "
                  "join later get it too.", name=organisation.name, n=n),
                "success",
            )  # fmt: skip
        else:
            if any(as_id(i) is None for i in chosen):
                raise Invalid(_("A chosen person does not exist (any more); search again."))
            users = list(db_session.scalars(select(User).where(User.id.in_(chosen))))
            if len(users) != len(set(chosen)):
                raise Invalid(_("A chosen person does not exist (any more); search again."))
            made, had = plans.assign_people(
                db_session, current_user, template, users, draft=bool(form.draft.data),
                address=_address(),
            )  # fmt: skip
            db_session.commit()
            message = _("%(n)s people were given the plan.", n=len(made))
            if had:
                message += " " + _("Already had it: %(names)s.",
                                   names=", ".join(user.name for user in had))  # fmt: skip
            flash(message, "success")
    except Forbidden:
        db_session.rollback()
        abort(403)
    except DomainError as error:
        db_session.rollback()
        form.organisation.errors = [*form.organisation.errors, error.message]
        return _assign_page(template, form, 422)
    return redirect(url_for("plans.template", template_id=template.id))


@bp.post("/admin/plans/<int:template_id>/assignments/<int:assignment_id>/withdraw")
def withdraw(template_id: int, assignment_id: int) -> BaseResponse:
    template = _template(template_id)
    db_session = db.session()
    assignment = db_session.get(PlanAssignment, assignment_id)
    if assignment is None or assignment.template_id != template.id:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        plans.withdraw(db_session, current_user, assignment, _address())
    except Forbidden:
        abort(403)
    db_session.commit()
    flash(_("The assignment is withdrawn: people who join later no longer get the plan."),
          "success")  # fmt: skip
    return redirect(url_for("plans.template", template_id=template.id))


# --- the gap view --------------------------------------------------------------------------


def _gap_filter() -> tuple[GapFilterForm, Organisation | None]:
    form = GapFilterForm(request.args)
    form.organisation.choices = _organisation_choices(
        _("The whole network") if current_user.is_network_admin else _("All of my organisation")
    )
    organisation = _organisation((request.args.get("organisation") or "").strip()[:64])
    return form, organisation


@bp.get("/admin/plans/<int:template_id>/gap")
def gap(template_id: int) -> str:
    template = _template(template_id)
    form, organisation = _gap_filter()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    per_page = 100
    table = plan_gap.gap(db.session(), current_user, template, organisation, page, per_page)
    return render_template(
        "competencies/plans/gap.html",
        template=template,
        form=form,
        gap=table,
        page=page,
        pages=max(1, -(-table.total // per_page)),
        organisation=organisation,
    )


@bp.get("/admin/plans/<int:template_id>/gap.csv", defaults={"fmt": "csv"})
@bp.get("/admin/plans/<int:template_id>/gap-excel.csv", defaults={"fmt": "csv-excel"})
def gap_csv(template_id: int, fmt: str) -> Response:
    """The whole gap table as CSV (the spreadsheet module's rules: BOM, formula-safe),
    plain or for Excel in the reader's language, streamed."""
    template = _template(template_id)
    _form, organisation = _gap_filter()
    organisation = plan_gap.gap_scope(current_user, organisation)
    template_id, organisation_id = template.id, organisation.id if organisation else None

    def rows() -> Iterator[list[Any]]:
        db_session = db.snapshot_session()
        template = db_session.get(PlanTemplate, template_id)
        org = db_session.get(Organisation, organisation_id) if organisation_id else None
        if template is None:
            return
        for _competencies, lines in plan_gap.gap_lines(db_session, template, org):
            for line in lines:
                yield [
                    line.user.name,
                    line.user.email,
                    line.user.organisation.code,
                    _status_words(line.plan.status),
                    *(_("yes") if ok else _("no") for ok in line.proficient),
                ]

    competencies = plans.template_competencies(db.session(), template.id)
    headers = [_("Name"), _("Email"), _("Organisation"), _("Status")] + [
        f"{c.code} {c.title}" for c in competencies
    ]
    chunks = writers.spreadsheet_chunks(fmt, headers, rows(), get_locale())
    args = {"organisation": organisation.code if organisation else ""}
    return stream_download(fmt, chunks, download_name(f"plan-{template.id}-gap", fmt, args))


def _status_words(status: str) -> str:
    words: dict[str, str] = {
        PlanStatus.DRAFT: _("draft"),
        PlanStatus.ACTIVE: _("active"),
        PlanStatus.COMPLETE: _("complete"),
    }
    return words.get(status, status)


# --- one plan ------------------------------------------------------------------------------


def _plan(plan_id: int) -> Plan:
    """The plan, for its learner, their trainers and the administrators of their
    scope: 404 when there is none, 403 for anyone else."""
    db_session = db.session()
    plan = db_session.get(Plan, plan_id)
    if plan is None or plan.user.is_erased:
        abort(404)
    if not competencies.can_view_profile(db_session, current_user, plan.user):
        abort(403)
    return plan


@bp.get("/plans/<int:plan_id>")
@login_required
def plan(plan_id: int) -> str:
    plan = _plan(plan_id)
    groups = plans.plan_items(db.session(), plan)
    return render_template(
        "competencies/plans/plan.html",
        plan=plan,
        groups=groups,
        progress=plans.progress_of(groups),
        manage=plans.can_manage_plan(current_user, plan),
        action_form=ActionForm(),
        status_words=_status_words,
    )


def _act(plan_id: int, act: Any, message: str) -> BaseResponse:
    plan = _plan(plan_id)
    if not plans.can_manage_plan(current_user, plan):
        abort(403)
    if not ActionForm().validate_on_submit():
        abort(400)
    db_session = db.session()
    try:
        act(db_session, current_user, plan, _address())
    except DomainError as error:
        db_session.rollback()
        flash(error.message, "error")
        return redirect(url_for("plans.plan", plan_id=plan_id))
    db_session.commit()
    flash(message, "success")
    return redirect(url_for("plans.plan", plan_id=plan_id))


@bp.post("/plans/<int:plan_id>/activate")
@login_required
def activate(plan_id: int) -> BaseResponse:
    return _act(plan_id, plans.activate, _("The plan is active; the learner has been told."))


@bp.post("/plans/<int:plan_id>/complete")
@login_required
def complete(plan_id: int) -> BaseResponse:
    return _act(
        plan_id, plans.complete, _("The plan is complete; its ratings are kept as they are now.")
    )


@bp.post("/plans/<int:plan_id>/reopen")
@login_required
def reopen(plan_id: int) -> BaseResponse:
    return _act(plan_id, plans.reopen, _("The plan is active again."))
