"""/network/announcements: those meant for the reader (current first), and
for those who may announce, New, Edit and Delete. Every act is asked of
vle/community/announcements.py for the object and the audience."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import BooleanField, DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from vle import db
from vle.accounts import services as accounts
from vle.catalog.models import Course
from vle.community import announcements
from vle.community.directory_forms import DeleteForm
from vle.community.models import Announcement
from vle.community.views import bp
from vle.db import utcnow
from vle.errors import DomainError, Forbidden, NotFound
from vle.forms import Form, choice
from vle.security import require

NETWORK = "network"


class AnnouncementForm(Form):
    title = StringField(
        _l("Title"), validators=[DataRequired(), Length(max=announcements.MAX_TITLE)]
    )
    message = TextAreaField(
        _l("Message"),
        validators=[DataRequired(), Length(max=announcements.MAX_MESSAGE)],
        description=_l("Markdown: **bold**, *italic*, lists and links."),
    )
    audience = SelectField(_l("For whom"), choices=[])
    starts_at = DateTimeLocalField(
        _l("Starts"),
        validators=[Optional()],
        description=_l("Your local time. Empty: now."),
    )
    ends_at = DateTimeLocalField(
        _l("Ends"),
        validators=[Optional()],
        description=_l("Optional. Shown until then; empty: until deleted."),
    )
    send_mail = BooleanField(_l("Send by e-mail too"))


def _to_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=get_timezone()).astimezone(UTC)


def _to_local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(get_timezone()).replace(tzinfo=None, second=0, microsecond=0)


def _audiences(item: Announcement | None) -> list[Any]:
    """What the user may announce to (and the item's own audience)."""
    db_session = db.session()
    options = []
    if current_user.is_network_admin:
        options.append(choice(NETWORK, _("Everyone in the network")))
    if current_user.is_admin:
        for org in accounts.organisations_in_scope(db_session, current_user):
            options.append(choice(f"org:{org.id}", _("Organisation: %(name)s", name=org.name)))
    courses = select(Course).order_by(Course.title)
    if not current_user.is_network_admin:
        courses = courses.where(Course.trainers.any(id=current_user.id))
    for course in db_session.scalars(courses):
        options.append(choice(f"course:{course.id}", _("Course: %(title)s", title=course.title)))
    return options


def _audience_value(item: Announcement) -> str:
    if item.course_id is not None:
        return f"course:{item.course_id}"
    if item.organisation_id is not None:
        return f"org:{item.organisation_id}"
    return NETWORK


def _fields(form: AnnouncementForm) -> announcements.Fields:
    db_session = db.session()
    kind, _colon, raw = (form.audience.data or "").partition(":")
    organisation = course = None
    if kind == "org" and raw.isdigit():
        organisation = db_session.get(accounts.Organisation, int(raw))
    elif kind == "course" and raw.isdigit():
        course = db_session.get(Course, int(raw))
    return announcements.Fields(
        title=form.title.data or "",
        message=form.message.data or "",
        starts_at=_to_utc(form.starts_at.data),
        ends_at=_to_utc(form.ends_at.data),
        send_mail=bool(form.send_mail.data),
        organisation=organisation,
        course=course,
    )


def _item(announcement_id: int) -> Announcement:
    try:
        item = announcements.get(db.session(), announcement_id)
    except NotFound:
        abort(404)
    if not announcements.may_change(current_user, item):
        abort(404 if item.author_id != current_user.id else 403)
    return item


@bp.app_context_processor
def _current_announcements() -> dict[str, Any]:
    """`current_announcements()` for the home page (/my): read only when asked."""

    def current_announcements() -> list[Announcement]:
        if not current_user.is_authenticated:
            return []
        return announcements.current_for(db.session(), current_user)

    return {"current_announcements": current_announcements}


@bp.get("/announcements", endpoint="announcements")
@login_required
def announcements_page() -> str:
    db_session = db.session()
    now = utcnow()
    items = announcements.listing(db_session, current_user, now)
    return render_template(
        "community/announcements.html",
        items=items,
        now=now,
        is_current=announcements.is_current,
        may_change=announcements.may_change,
        may_add=announcements.may_announce_somewhere(db_session, current_user),
    )


def _edit(item: Announcement | None) -> Any:
    form = AnnouncementForm(obj=item)
    form.audience.choices = _audiences(item)
    require(bool(form.audience.choices))
    if item is not None and request.method == "GET":
        form.message.data = item.source
        form.audience.data = _audience_value(item)
        form.starts_at.data = _to_local(item.starts_at)
        form.ends_at.data = _to_local(item.ends_at)
    if form.validate_on_submit():
        db_session = db.session()
        try:
            if item is None:
                item = announcements.create(
                    db_session, current_user, _fields(form), request.remote_addr
                )
            else:
                announcements.change(
                    db_session, current_user, item, _fields(form), request.remote_addr
                )
        except Forbidden:
            db_session.rollback()
            abort(403)
        except DomainError as error:
            db_session.rollback()
            field = form[getattr(error, "field", "title")]
            field.errors = [*field.errors, error.message]
        else:
            db_session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("community.announcements") + f"#announcement-{item.id}")
    return render_template("community/announcement_form.html", form=form, item=item)


@bp.route("/announcements/new", methods=["GET", "POST"])
@login_required
def announcement_new() -> Any:
    return _edit(None)


@bp.route("/announcements/<int:announcement_id>/edit", methods=["GET", "POST"])
@login_required
def announcement_edit(announcement_id: int) -> Any:
    return _edit(_item(announcement_id))


@bp.route("/announcements/<int:announcement_id>/delete", methods=["GET", "POST"])
@login_required
def announcement_delete(announcement_id: int) -> Any:
    item = _item(announcement_id)
    form = DeleteForm()
    if form.validate_on_submit():
        db_session = db.session()
        announcements.delete(db_session, current_user, item, request.remote_addr)
        db_session.commit()
        flash(_("Deleted."), "success")
        return redirect(url_for("community.announcements"))
    return render_template(
        "community/delete.html",
        form=form,
        question=_("Delete the announcement “%(title)s”?", title=item.title),
        back=url_for("community.announcements"),
    )
