"""The directory's pages: /network/ and /network/organisations/<code>."""

from __future__ import annotations

from typing import Any

from flask import (
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
from markupsafe import Markup

from vle import db, uploads
from vle.accounts.models import Organisation
from vle.community import directory, events
from vle.community.directory_forms import DirectoryFilterForm, ProfileForm
from vle.community.views import bp
from vle.errors import DomainError, NotFound
from vle.forms import choice
from vle.sanitize import markdown_to_html
from vle.security import require


def _language() -> str:
    return str(get_locale() or "en").split("_")[0]


def _organisation(code: str) -> Organisation:
    try:
        return directory.organisation_by_code(db.session(), code)
    except NotFound:
        abort(404)


def _kind_choices(present: list[str], blank: str | None) -> list[Any]:
    """The kinds offered, then any other kind the directory holds, as written."""
    choices = [choice("", blank)] if blank is not None else []
    choices += [choice(kind, label) for kind, label in directory.KINDS.items()]
    choices += [choice(kind, kind) for kind in present if kind not in directory.KINDS]
    return choices


@bp.get("/", endpoint="directory")
@login_required
def directory_index() -> str:
    db_session = db.session()
    names = directory.country_names(_language())
    present = directory.filter_choices(db_session)
    form = DirectoryFilterForm(request.args)
    form.country.choices = [choice("", _("Any country"))] + [
        choice(code, names.get(code, code)) for code in present["countries"]
    ]
    form.kind.choices = _kind_choices(present["kinds"], _("Any kind"))
    form.region.choices = [choice("", _("Any region"))] + [
        choice(region, region) for region in present["regions"]
    ]
    filters = directory.Filters(
        country=form.country.data or "", kind=form.kind.data or "", region=form.region.data or ""
    )
    page = directory.directory_page(
        db_session,
        filters,
        page=request.args.get("page", 1, type=int) or 1,
        per_page=current_app.config["PAGE_SIZE"],
    )
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "community/directory.html",
        form=form,
        page=page,
        query=query,
        countries=names,
        kind_label=directory.kind_label,
        describe=lambda org: directory.description_in(org, _language()),
    )


@bp.get("/organisations/<code>")
@login_required
def organisation(code: str) -> str:
    db_session = db.session()
    org = _organisation(code)
    courses = directory.courses_of(db_session, org)
    forums = directory.forums_of(db_session, courses)
    forum_endpoint = "community.forum" if "community.forum" in current_app.view_functions else None
    description = directory.description_in(org, _language())
    return render_template(
        "community/organisation.html",
        org=org,
        countries=directory.country_names(_language()),
        kind_label=directory.kind_label,
        description=Markup(markdown_to_html(description)) if description else "",  # noqa: S704 - sanitised  # nosec B704
        children=directory.children_of(db_session, org),
        trainers=directory.trainers_of(db_session, org),
        courses=courses,
        forums=forums,
        forum_endpoint=forum_endpoint,
        events=events.events_of(db_session, org),
        agreements=events.agreements_of(db_session, org),
        may_edit=directory.may_edit_profile(current_user, org),
    )


@bp.get("/organisations/<code>/logo")
@login_required
def organisation_logo(code: str) -> Any:
    org = _organisation(code)
    if not org.logo:
        abort(404)
    try:
        data = uploads.read(current_app.instance_path, org.logo)
    except (OSError, ValueError):
        abort(404)
    media_type = uploads.detect(data)
    if media_type not in uploads.IMAGE_TYPES:
        abort(404)  # only ever an image, whatever was stored
    response = Response(data, mimetype=media_type)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _profile_form(org: Organisation) -> ProfileForm:
    form = ProfileForm(obj=org)
    names = directory.country_names(_language())
    form.country.choices = [choice("", _("Not stated"))] + [
        choice(code, name) for code, name in names.items()
    ]
    form.kind.choices = _kind_choices([org.kind] if org.kind else [], _("Not stated"))
    if request.method == "GET":
        for lang in directory.LANGUAGES:
            form[f"description_{lang}"].data = (org.descriptions or {}).get(lang, "")
    return form


@bp.route("/organisations/<code>/edit", methods=["GET", "POST"])
@login_required
def edit_organisation(code: str) -> Any:
    org = _organisation(code)
    require(directory.may_edit_profile(current_user, org))
    form = _profile_form(org)
    if form.validate_on_submit():
        db_session = db.session()
        try:
            logo = None if form.remove_logo.data else org.logo
            upload = request.files.get(form.logo.name)
            if upload is not None and upload.filename:
                data = upload.read()
                directory.check_logo(upload.filename, data)
                logo = uploads.store(current_app.instance_path, data)
            changed = directory.update_profile(
                db_session,
                current_user,
                org,
                request.remote_addr,
                kind=form.kind.data or "",
                country=form.country.data or "",
                region=form.region.data or "",
                contact_email=form.contact_email.data or "",
                contact_phone=form.contact_phone.data or "",
                website=form.website.data or "",
                descriptions={
                    lang: form[f"description_{lang}"].data or "" for lang in directory.LANGUAGES
                },
                logo=logo,
            )
        except uploads.UploadRefused as error:
            db_session.rollback()
            form.logo.errors = [*form.logo.errors, error.message]
        except DomainError as error:
            db_session.rollback()
            field = form[getattr(error, "field", "kind")]
            field.errors = [*field.errors, error.message]
        else:
            db_session.commit()
            if changed:
                flash(_("The profile of %(name)s is saved.", name=org.name), "success")
            return redirect(url_for("community.organisation", code=org.code))
    status = 422 if request.method == "POST" else 200
    return render_template("community/organisation_form.html", form=form, org=org), status
