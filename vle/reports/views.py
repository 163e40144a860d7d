"""The Reports page (completion report and its downloads) and the dashboard."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_login import current_user, login_required

from vle import db
from vle.errors import Forbidden
from vle.reports import competencies, services
from vle.reports.forms import CompetencyFilterForm, DashboardForm, ReportFilterForm
from vle.reports.scope import attachment

bp = Blueprint("reports", __name__, url_prefix="/reports")

FILTER_FIELDS = (
    "organisation", "course", "framework", "competency", "rating", "since", "until", "status",
)  # fmt: skip


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"status_label": services.status_label}


def _download_formats() -> tuple[tuple[str, str], ...]:
    """The report's downloads: CSV for Excel in the reader's language, plain CSV,
    Excel (XLSX) and JSON (README: "Reports"). No name holds another: "Download CSV"
    and "Download Excel" each find one link, also where a name is matched as a part
    (as Playwright's get_by_role does)."""
    return (
        ("csv-excel", _("Download for Excel (CSV)")),
        ("csv", _("Download CSV")),
        ("xlsx", _("Download Excel")),
        ("json", _("Download JSON")),
    )


def _scope() -> services.Scope:
    try:
        return services.scope_for(current_user)
    except Forbidden:
        abort(403)


def _reader_zone() -> tzinfo:
    """Dates and day boundaries in the reader's own time zone, as the page shows them."""
    return services.zone(get_timezone())


def _page_number(name: str, default: int) -> int:
    try:
        return max(1, int(request.args.get(name, default)))
    except ValueError:
        return default


def _choices(form: ReportFilterForm, scope: services.Scope) -> None:
    db_session = db.session()
    form.organisation.choices = [("", _("All organisations in your scope"))] + [
        (org.code, "\u2003" * depth + f"{org.name} ({org.code})")
        for org, depth in services.organisations_in_scope(db_session, scope)
    ]
    form.course.choices = [("", _("All courses"))] + [
        (course.slug, course.title) for course in services.courses_in_scope(db_session, scope)
    ]
    form.status.choices = [("", _("Any status"))] + [
        (status, services.status_label(status)) for status in services.FILTER_STATUSES
    ]
    form.per_page.choices = [(str(n), str(n)) for n in services.PAGE_SIZES]


def _filters(form: Any, scope: services.Scope, resolve: Any = None) -> tuple[Any, int]:
    """The filters from the query string (by `resolve`: the completion report's
    resolve_filters unless another report's is given), or None with the errors on
    the form's fields and the status to answer with."""
    resolve = resolve or services.resolve_filters
    try:
        filters = resolve(
            db.session(),
            scope,
            **{name: request.args.get(name) for name in FILTER_FIELDS if hasattr(form, name)},
            tz=_reader_zone(),
        )
    except services.FilterErrors as error:
        for name, message in error.errors.items():
            getattr(form, name).errors = [*getattr(form, name).errors, message]
        return None, 422
    except services.OutOfScope as error:
        getattr(form, error.field).errors = [str(error.message)]
        return None, 403
    return filters, 200


def _report_page(scope: services.Scope) -> tuple[str, int]:
    form = ReportFilterForm(request.args)
    _choices(form, scope)
    filters, status = _filters(form, scope)
    report = None
    sort = services.parse_sort(request.args.get("sort"))
    per_page = _page_number("per_page", services.PAGE_SIZES[0])
    if per_page not in services.PAGE_SIZES:
        per_page = services.PAGE_SIZES[0]
    form.sort.data = sort
    form.per_page.data = str(per_page)
    args: dict[str, Any] = {}
    if filters is not None:
        report = services.completion_page(
            db.session(), filters, scope, sort, _page_number("page", 1), per_page
        )
        args = filters.as_args()
    return render_template(
        "reports/completion.html",
        form=form,
        report=report,
        args=args,
        sort=sort,
        per_page=per_page,
        errors=[e for f in form for e in f.errors],
        formats=_download_formats(),
    ), status  # fmt: skip


@bp.get("")
@login_required
def completion() -> tuple[str, int]:
    return _report_page(_scope())


@bp.get("/completion.<any(csv, xlsx, json):fmt>")
@bp.get("/completion-excel.csv", defaults={"fmt": "csv-excel"})
@login_required
def download(fmt: str) -> Any:
    """The rows the page shows for the same filters and sort — every page of them —
    streamed as they are read."""
    scope = _scope()
    filters, _status = _filters(ReportFilterForm(request.args), scope)
    if filters is None:
        return _report_page(scope)  # the page, with the errors beside the filters
    sort = services.parse_sort(request.args.get("sort"))
    # The audit entry in a write of its own, the writer lock (SQLite) held for it
    # alone; the rows are read in a snapshot that takes no lock, so a download,
    # however long the client takes, never holds up anyone's writes.
    with db.transaction() as db_session:
        services.record_export(
            db_session, current_user, request.remote_addr, fmt, filters, scope, sort, "page"
        )
    # Called when the body starts, after the view has returned: the body reads with
    # the streaming context's session, closed (its snapshot ended) when the body ends.
    chunks = services.export_chunks(fmt, db.snapshot_session, filters, scope, sort, _reader_zone())
    return stream_download(fmt, chunks, services.export_filename(fmt, filters))


def stream_download(fmt: str, chunks: Any, filename: str) -> Response:
    media_type, _ext = services.EXPORT_FORMATS[fmt]
    response = Response(stream_with_context(chunks), content_type=media_type)
    response.headers["Content-Disposition"] = attachment(filename)
    # Personal data: never kept by a cache; and sent on as it comes through a proxy.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response


@bp.get("/dashboard")
@login_required
def dashboard() -> tuple[str, int]:
    scope = _scope()
    if not current_user.is_admin:
        abort(403)
    db_session = db.session()
    form = DashboardForm(request.args)
    orgs = services.organisations_in_scope(db_session, scope)
    form.organisation.choices = [("", _("All organisations in your scope"))] + [
        (org.code, "\u2003" * depth + f"{org.name} ({org.code})") for org, depth in orgs
    ]
    filters, status = _filters(form, scope)
    data = None
    if filters is not None:
        data = services.dashboard(db_session, scope, filters.organisation, tz=_reader_zone())
    return render_template(
        "reports/dashboard.html",
        form=form,
        data=data,
        errors=[e for f in form for e in f.errors],
    ), status


# --- the competency report -------------------------------------------------------------------


def _competency_choices(form: CompetencyFilterForm, scope: services.Scope) -> None:
    db_session = db.session()
    form.organisation.choices = [("", _("All organisations in your scope"))] + [
        (org.code, "\u2003" * depth + f"{org.name} ({org.code})")
        for org, depth in services.organisations_in_scope(db_session, scope)
    ]
    form.framework.choices = [("", _("All frameworks"))] + [
        (framework.code, f"{framework.title} ({framework.code})")
        for framework in competencies.frameworks_in_scope(db_session, scope)
    ]
    form.competency.choices = [("", _("All competencies"))] + [
        (competency.code, f"{competency.code} {competency.title} ({framework_title})")
        for competency, framework_title in competencies.competencies_in_scope(db_session, scope)
    ]
    form.rating.choices = [("", _("Any rating"))] + [
        (value, competencies.rating_label(value))
        for value in competencies.rating_choices(db_session)
    ]
    form.per_page.choices = [(str(n), str(n)) for n in competencies.PAGE_SIZES]


def _competency_page(scope: services.Scope) -> tuple[str, int]:
    form = CompetencyFilterForm(request.args)
    _competency_choices(form, scope)
    filters, status = _filters(form, scope, competencies.resolve_filters)
    report = None
    sort = competencies.parse_sort(request.args.get("sort"))
    per_page = _page_number("per_page", competencies.PAGE_SIZES[0])
    if per_page not in competencies.PAGE_SIZES:
        per_page = competencies.PAGE_SIZES[0]
    form.sort.data = sort
    form.per_page.data = str(per_page)
    args: dict[str, Any] = {}
    if filters is not None:
        report = competencies.competency_page(
            db.session(), filters, scope, sort, _page_number("page", 1), per_page
        )
        args = filters.as_args()
    return render_template(
        "reports/competencies.html",
        form=form,
        report=report,
        args=args,
        sort=sort,
        per_page=per_page,
        errors=[e for f in form for e in f.errors],
        formats=_download_formats(),
    ), status  # fmt: skip


@bp.get("/competencies")
@login_required
def competency_report() -> tuple[str, int]:
    return _competency_page(_scope())


@bp.get("/competencies.<any(csv, xlsx, json):fmt>")
@bp.get("/competencies-excel.csv", defaults={"fmt": "csv-excel"})
@login_required
def competency_download(fmt: str) -> Any:
    """The rows the page shows for the same filters and sort, every page, streamed."""
    scope = _scope()
    filters, _status = _filters(CompetencyFilterForm(request.args), scope,
                                competencies.resolve_filters)  # fmt: skip
    if filters is None:
        return _competency_page(scope)  # the page, with the errors beside the filters
    sort = competencies.parse_sort(request.args.get("sort"))
    with db.transaction() as db_session:  # the audit entry in a short write of its own
        competencies.record_export(
            db_session, current_user, request.remote_addr, fmt, filters, scope, sort, "page"
        )
    chunks = competencies.export_chunks(
        fmt, db.snapshot_session, filters, scope, sort, _reader_zone()
    )
    return stream_download(fmt, chunks, competencies.export_filename(fmt, filters))
