"""The network picture and the monitoring pages, under /network/ (issue 19
points 2 and 7). The picture is for everyone signed in (it names
organisations only); the indicator panel and its evidence, which name
people, are for network administrators."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from vle import db
from vle.accounts.models import Organisation
from vle.catalog.models import Course
from vle.community import directory
from vle.community.views import bp
from vle.db import utcnow
from vle.errors import DomainError
from vle.formats import format_date
from vle.forms import choice
from vle.monitoring import cooperation, figures, indicators, picture, precomputed
from vle.monitoring.forms import FreezeForm, JointTrainingForm, MonitoringFilterForm
from vle.reports import writers
from vle.reports.scope import download_name, zone
from vle.reports.views import stream_download
from vle.security import require

SOURCE_WORDS: dict[str, Any] = {
    "course": _l("Shared course"),
    "forum": _l("Forum thread"),
    "event": _l("Joint event"),
    "agreement": _l("Agreement"),
}

SORTS = ("organisation", "partner", "links", "since")


def _countries() -> dict[str, str]:
    return directory.country_names(str(get_locale() or "en"))


def links_text(pair: cooperation.CooperationPair) -> str:
    """'Shared course (since 1 March 2026); Joint event (since …)' as words."""
    return "; ".join(
        _("%(link)s (since %(date)s)", link=SOURCE_WORDS[via], date=format_date(day, "long"))
        for via, day in pair.links.items()
    )


def _sorted_pairs(pairs: list[cooperation.CooperationPair], sort: str, descending: bool) -> Any:
    keys = {
        "organisation": lambda p: (p.org_a.name.casefold(), p.org_b.name.casefold()),
        "partner": lambda p: (p.org_b.name.casefold(), p.org_a.name.casefold()),
        "links": lambda p: (len(p.links), list(p.links)),
        "since": lambda p: (p.since, p.org_a.name.casefold()),
    }
    return sorted(pairs, key=keys[sort], reverse=descending)


@bp.get("/picture")
@login_required
def network_picture() -> str:
    db_session = db.session()
    pairs, counted = precomputed.pairs(db_session, _zone_name())
    partners = list({o.id: o for o in cooperation.partners(db_session).values()}.values())
    sort = request.args.get("sort", "organisation")
    sort = sort if sort.lstrip("-") in SORTS else "organisation"
    descending = sort.startswith("-")
    return render_template(
        "monitoring/picture.html",
        picture=picture.layout(pairs, partners),
        pairs=_sorted_pairs(pairs, sort.lstrip("-"), descending),
        partners_of=cooperation.partners_of(pairs),
        organisations=sorted(partners, key=lambda o: o.name.casefold()),
        countries=_countries(),
        links_text=links_text,
        sort=sort,
        source_words=SOURCE_WORDS,
        counted=counted,
    )


@bp.get("/picture/pairs.csv", defaults={"fmt": "csv"})
@bp.get("/picture/pairs-excel.csv", defaults={"fmt": "csv-excel"})
@login_required
def network_pairs_csv(fmt: str) -> Any:
    pairs, _counted = precomputed.pairs(db.session(), _zone_name())
    headers = [_("Organisation"), _("Country"), _("Partner"), _("Partner's country"),
               _("What links them"), _("Since")]  # fmt: skip
    rows: list[list[writers.Cell]] = [
        [p.org_a.name, p.org_a.country, p.org_b.name, p.org_b.country, links_text(p), p.since]
        for p in pairs
    ]
    return stream_download(
        fmt,
        writers.spreadsheet_chunks(fmt, headers, rows, get_locale()),
        download_name("cooperating-pairs", fmt, {}, utcnow().date()),
    )


# --- The indicator panel ------------------------------------------------------------


def _reporting_date() -> date:
    try:
        return date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        return utcnow().date()


@bp.get("/monitoring/indicators")
@login_required
def indicator_panel() -> str:
    require(current_user.is_network_admin)
    db_session = db.session()
    until = min(_reporting_date(), utcnow().date())
    courses = db_session.scalars(
        select(Course).where(Course.status == "published").order_by(Course.title)
    ).all()
    return render_template(
        "monitoring/indicators.html",
        until=until,
        panel=indicators.panel(db_session, until),
        snapshots=indicators.snapshots(db_session),
        courses=courses,
        freeze_form=FreezeForm(data={"reporting_date": until}),
        joint_form=JointTrainingForm(),
    )


def _evidence_download(code: str, rows: list[dict[str, Any]], name: str, fmt: str) -> Any:
    columns = indicators.COLUMNS[code]
    headers = [str(indicators.COLUMN_WORDS[c]) for c in columns]
    table = [[r.get(c, "") for c in columns] for r in rows]
    return stream_download(
        fmt, writers.spreadsheet_chunks(fmt, headers, table, get_locale()), f"{name}.csv"
    )


@bp.get("/monitoring/indicators/<code>.csv", defaults={"fmt": "csv"})
@bp.get("/monitoring/indicators/<code>-excel.csv", defaults={"fmt": "csv-excel"})
@login_required
def indicator_evidence_csv(code: str, fmt: str) -> Any:
    require(current_user.is_network_admin)
    until = min(_reporting_date(), utcnow().date())
    rows = indicators.evidence(db.session(), code, until)
    return _evidence_download(code, rows, f"{code}-{until.isoformat()}", fmt)


@bp.post("/monitoring/indicators/joint-training")
@login_required
def indicator_joint_training() -> Any:
    require(current_user.is_network_admin)
    form = JointTrainingForm()
    if not form.validate_on_submit():
        flash(_("The form has expired: please try again."), "error")
        return redirect(url_for("community.indicator_panel"))
    db_session = db.session()
    chosen = set(request.form.getlist("course"))
    for course in db_session.scalars(select(Course).where(Course.status == "published")):
        indicators.set_joint_training(
            db_session, current_user, course, str(course.id) in chosen, request.remote_addr
        )
    db_session.commit()
    flash(_("The joint training schemes are saved."), "success")
    return redirect(url_for("community.indicator_panel"))


@bp.post("/monitoring/indicators/freeze")
@login_required
def indicator_freeze() -> Any:
    require(current_user.is_network_admin)
    form = FreezeForm()
    db_session = db.session()
    if not form.validate_on_submit() or form.reporting_date.data is None:
        flash(_("Give the reporting date as a date."), "error")
        return redirect(url_for("community.indicator_panel"))
    try:
        snapshot = indicators.freeze(
            db_session, current_user, form.reporting_date.data, utcnow().date(),
            request.remote_addr,
        )  # fmt: skip
    except DomainError as error:
        db_session.rollback()
        flash(error.message, "error")
        return redirect(url_for("community.indicator_panel"))
    db_session.commit()
    flash(_("The snapshot is frozen."), "success")
    return redirect(url_for("community.indicator_snapshot", snapshot_id=snapshot.id))


@bp.get("/monitoring/snapshots/<int:snapshot_id>")
@login_required
def indicator_snapshot(snapshot_id: int) -> str:
    require(current_user.is_network_admin)
    db_session = db.session()
    snapshot = indicators.get_snapshot(db_session, snapshot_id)
    return render_template(
        "monitoring/snapshot.html",
        snapshot=snapshot,
        codes=indicators.CODES,
        names=indicators.NAMES,
        rules={
            code: indicators.snapshot_rule(
                snapshot, code, get_locale().language if get_locale() else "en"
            )
            for code in indicators.CODES
        },
    )


@bp.get("/monitoring/snapshots/<int:snapshot_id>/<code>.csv", defaults={"fmt": "csv"})
@bp.get("/monitoring/snapshots/<int:snapshot_id>/<code>-excel.csv", defaults={"fmt": "csv-excel"})
@login_required
def indicator_snapshot_csv(snapshot_id: int, code: str, fmt: str) -> Any:
    require(current_user.is_network_admin)
    db_session = db.session()
    snapshot = indicators.get_snapshot(db_session, snapshot_id)
    rows = indicators.snapshot_evidence(db_session, snapshot, code)
    return _evidence_download(
        code, rows, f"{code}-snapshot-{snapshot.reporting_date.isoformat()}", fmt
    )


# --- Monitoring --------------------------------------------------------------------


def _zone_name() -> str:
    return str(zone(get_timezone()))


def _monitoring_filters() -> tuple[
    MonitoringFilterForm, figures.Asked | None, figures.Filters | None, list[str]
]:
    """The filter form, what it asks and what that means today (None, with
    messages, when it cannot be counted)."""
    db_session = db.session()
    query = select(Organisation).order_by(Organisation.path)
    if not current_user.is_network_admin:
        query = query.where(Organisation.path.startswith(current_user.organisation.path))
    in_scope = db_session.scalars(query).all()
    form = MonitoringFilterForm(request.args)
    names = _countries()
    everyone = [choice("", _("The whole network"))] if current_user.is_network_admin else []
    form.organisation.choices = everyone + [choice(o.code, o.name) for o in in_scope]
    countries = sorted({o.country for o in in_scope if o.country})
    form.country.choices = [choice("", _("Any country"))] + [
        choice(c, names.get(c, c)) for c in countries
    ]
    asked_code = request.args.get("organisation", "")
    require(not asked_code or any(o.code == asked_code for o in in_scope))
    if not form.validate():
        return form, None, None, [e for messages in form.errors.values() for e in messages]
    code = form.organisation.data or ("" if current_user.is_network_admin else None)
    if code is None:
        code = form.organisation.data = current_user.organisation.code
    asked = figures.Asked(
        code, form.country.data or "", form.since.data, form.until.data, _zone_name()
    )
    today = utcnow().astimezone(zone(asked.zone)).date()
    filters, why = figures.resolve(db_session, asked, today)
    return form, asked, filters, [why] if why else []


@bp.get("/monitoring")
@login_required
def monitoring() -> str:
    require(current_user.is_admin)
    form, asked, filters, errors = _monitoring_filters()
    series: list[figures.Series] = []
    counted = None
    if asked is not None and filters is not None:
        series, counted = precomputed.monitoring(db.session(), asked, filters)
    return render_template(
        "monitoring/monitoring.html",
        form=form,
        errors=errors,
        series=series,
        counted=counted,
        since=date.fromisoformat(counted.result["since"]) if counted else None,
        until=date.fromisoformat(counted.result["until"]) if counted else None,
        counted_zone=asked.zone if asked else "",
        args={k: v for k, v in request.args.items() if k in form.data},
    )


@bp.get("/monitoring/figures.<fmt>")
@bp.get("/monitoring/figures-excel.csv", defaults={"fmt": "csv-excel"})
@login_required
def monitoring_download(fmt: str) -> Any:
    require(current_user.is_admin)
    if fmt not in ("csv", "csv-excel", "xlsx"):
        abort(404)
    _form, asked, filters, errors = _monitoring_filters()
    if asked is None or filters is None:
        flash(" ".join(errors), "error")
        return redirect(f"{url_for('community.monitoring')}?{request.query_string.decode()}")
    series, counted = precomputed.monitoring(db.session(), asked, filters)
    headers = [_("Figure"), _("Month"), _("Value")]
    rows: list[list[writers.Cell]] = [
        [s.title, month, value] for s in series for month, value in s.months
    ]
    chunks = writers.spreadsheet_chunks(fmt, headers, rows, get_locale())
    named = {"organisation": asked.organisation, "country": asked.country}
    named |= {"since": counted.result["since"], "until": counted.result["until"]}
    return stream_download(fmt, chunks, download_name("monitoring", fmt, named))
