"""Administration pages (/admin/…) and the user's own data page (/my/data).

Every object is loaded and checked here before a service sees it: an
organisation outside the administrator's subtree, or an account in one, does
not exist for them (404); a network administrator's account inside it is
visible but not theirs to change (403). The services check again where things
go (the new organisation of a user, the new parent of an organisation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from vle import db, uploads
from vle.accounts import bulk, passwords
from vle.accounts import services as accounts
from vle.accounts.models import Organisation, User
from vle.admin import audit_words, services
from vle.admin.forms import (
    ActionForm,
    AuditFilterForm,
    CertificateLookForm,
    ConfirmImportForm,
    EraseForm,
    ImportForm,
    OrganisationForm,
    UserFilterForm,
    UserForm,
    choice,
)
from vle.audit import audit
from vle.db import utcnow
from vle.errors import DomainError, NotFound
from vle.mail import services as mail
from vle.reports import writers
from vle.reports.scope import download_name
from vle.reports.views import stream_download
from vle.security import get_or_404

bp = Blueprint("admin", __name__)


def _address() -> str | None:
    return request.remote_addr  # ProxyFix has already put the client's address here


def _page() -> int:
    return request.args.get("page", 1, type=int) or 1


@bp.before_request
def _administrators_only() -> Any:
    if not request.path.startswith("/admin"):
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    if not current_user.is_admin:
        abort(403)
    return None


def _organisation(org_id: int) -> Organisation:
    org = get_or_404(db.session(), Organisation, org_id)
    if not current_user.administers(org):
        abort(404)
    return org


def _user(user_id: int, manage: bool = True) -> User:
    user = get_or_404(db.session(), User, user_id)
    if not current_user.administers(user.organisation):
        abort(404)
    if manage and not current_user.manages(user):
        abort(403)
    return user


def _saved(
    error_field: Any,
    change: Callable[[Any], tuple[str | None, str]],
    password_field: Any = None,
) -> BaseResponse | None:
    """The end of a valid add or edit form: `change(db_session)` makes the
    change and says what to flash (None: nothing changed) and where to go
    next; committed, that is a redirect. A DomainError changes nothing and
    shows beside `error_field` (a password the rules refuse, beside
    `password_field`): None, and the form is shown again."""
    db_session = db.session()
    try:
        message, target = change(db_session)
    except DomainError as error:
        db_session.rollback()
        field = error_field
        if password_field is not None and isinstance(error, accounts.WeakPassword):
            field = password_field
        field.errors.append(error.message)
        return None
    db_session.commit()
    if message:
        flash(message, "success")
    return redirect(target)


def _form_status() -> int:
    """A form shown again after a POST was not accepted: 422."""
    return 422 if request.method == "POST" else 200


def _organisation_choices(
    blank: str | None = None, outside: Organisation | None = None
) -> list[Any]:
    """The organisations in scope as select options, indented as a tree; those
    within `outside` (an organisation being moved) left out."""
    orgs = accounts.tree_order(accounts.organisations_in_scope(db.session(), current_user))
    choices = [choice("", blank)] if blank is not None else []
    return choices + [
        choice(org.code, f"{'— ' * depth}{org.name} ({org.code})")
        for org, depth in orgs
        if outside is None or not outside.contains(org)
    ]


@bp.get("/admin/")
def index() -> str:
    return render_template("admin/index.html")


# --- Organisations ------------------------------------------------------------------


@bp.get("/admin/organisations")
def organisations() -> str:
    orgs = accounts.organisations_in_scope(db.session(), current_user)
    return render_template("admin/organisations.html", tree=accounts.tree_order(orgs))


def _organisation_form(org: Organisation | None) -> OrganisationForm:
    form = OrganisationForm(obj=org)
    blank = _("None (a top-level organisation)") if current_user.network else None
    form.parent.choices = _organisation_choices(blank, outside=org)
    if org is not None and request.method == "GET":
        form.parent.data = org.parent.code if org.parent else ""
    return form


@bp.route("/admin/organisations/new", methods=["GET", "POST"])
def new_organisation() -> Any:
    form = _organisation_form(None)
    if form.validate_on_submit():

        def change(db_session: Any) -> tuple[str | None, str]:
            org = accounts.add_organisation(
                db_session, current_user, parent_code=form.parent.data or None, **_org_fields(form)
            )
            message = _("Organisation %(code)s created.", code=org.code)
            return message, url_for("admin.organisations")

        if saved := _saved(form.code, change):
            return saved
    return render_template("admin/organisation_form.html", form=form, org=None), _form_status()


@bp.route("/admin/organisations/<int:org_id>", methods=["GET", "POST"])
def edit_organisation(org_id: int) -> Any:
    org = _organisation(org_id)
    form = _organisation_form(org)
    if form.validate_on_submit():

        def change(db_session: Any) -> tuple[str | None, str]:
            changed = accounts.update_organisation(
                db_session, current_user, org, parent_code=form.parent.data or None,
                **_org_fields(form),
            )  # fmt: skip
            message = _("Organisation %(code)s saved.", code=org.code) if changed else None
            return message, url_for("admin.organisations")

        if saved := _saved(form.code, change):
            return saved
    look = CertificateLookForm(formdata=None, data={"signatory": org.signatory})
    return _organisation_page(org, form, look, _form_status())


def _organisation_page(
    org: Organisation, form: OrganisationForm, look: CertificateLookForm, status: int = 200
) -> tuple[str, int]:
    return render_template("admin/organisation_form.html", form=form, org=org, look=look), status


@bp.post("/admin/organisations/<int:org_id>/certificate")
def organisation_certificate(org_id: int) -> Any:
    """The organisation's logo, signature image and signatory on its certificates."""
    org = _organisation(org_id)
    look = CertificateLookForm()
    if look.validate_on_submit():
        files = {}
        for name in ("logo", "signature"):
            upload = request.files.get(name)
            if upload is not None and upload.filename:
                files[name] = (upload.filename, upload.read())
        db_session = db.session()
        try:
            changed = services.update_certificate_look(
                db_session, current_user, org, current_app.instance_path,
                signatory=look.signatory.data or "",
                logo=files.get("logo"), remove_logo=look.remove_logo.data,
                signature=files.get("signature"), remove_signature=look.remove_signature.data,
                address=_address(),
            )  # fmt: skip
        except services.CertificateLookRefused as error:
            db_session.rollback()
            look[error.field].errors = [*look[error.field].errors, error.message]
        else:
            db_session.commit()
            if changed:
                flash(_("The certificates of %(name)s were changed.", name=org.name), "success")
            else:
                flash(_("Nothing had changed."), "info")
            return redirect(url_for("admin.edit_organisation", org_id=org.id) + "#certificate")
    return _organisation_page(org, _organisation_form(org), look, 422)


@bp.get("/admin/organisations/<int:org_id>/signature")
def organisation_signature(org_id: int) -> Response:
    """The organisation's signature image, for its administrators' page (its
    logo is the directory's: /network/organisations/<code>/logo)."""
    org = _organisation(org_id)
    if not org.signature:
        abort(404)
    try:
        data = uploads.read(current_app.instance_path, org.signature)
    except (OSError, ValueError):
        abort(404)
    response = Response(data, mimetype=uploads.detect(data) or "application/octet-stream")
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _org_fields(form: OrganisationForm) -> dict[str, Any]:
    """What the organisation form sets, as the services take it (with the parent)."""
    return {
        "code": form.code.data or "",
        "name": form.name.data or "",
        "kind": form.kind.data or "",
        "address": _address(),
    }


# --- Users --------------------------------------------------------------------------


def _filter_form() -> tuple[UserFilterForm, Organisation | None]:
    form = UserFilterForm(request.args)
    form.organisation.choices = _organisation_choices(_("Any organisation"))
    organisation = None
    form.validate()
    if form.organisation.data and not form.organisation.errors:
        try:
            organisation = services.organisation_in_scope(
                db.session(), current_user, form.organisation.data
            )
        except NotFound as error:
            form.organisation.errors = [error.message]
    return form, organisation


@bp.get("/admin/users")
def users() -> str:
    form, organisation = _filter_form()
    page = services.users_page(
        db.session(),
        current_user,
        search=form.q.data or "",
        organisation=organisation,
        role=form.role.data if not form.role.errors else "",
        status=form.status.data if not form.status.errors else "",
        page=_page(),
        per_page=current_app.config["PAGE_SIZE"],
    )
    query = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("admin/users.html", form=form, page=page, query=query)


@bp.get("/admin/users/export.csv", defaults={"fmt": "csv"})
@bp.get("/admin/users/export-excel.csv", defaults={"fmt": "csv-excel"})
def export_users(fmt: str) -> Response:
    """The accounts of the list's organisation filter, in the users-file format:
    importing this file changes nothing. For Excel: separated as Excel in the
    reader's language does (";" in lt, pl and nb), which the import reads too."""
    form, organisation = _filter_form()
    with db.transaction() as db_session:
        audit(
            db_session, current_user, "users.export", "report", None, _address(),
            {"organisation": organisation.code if organisation else None},
            organisation_id=(organisation or current_user.organisation).id
            if organisation or not current_user.network else None,
        )  # fmt: skip
    actor = current_user._get_current_object()
    locale = get_locale()

    def lines() -> Iterator[bytes]:
        # The request's session is closed once the view returns: the rows are
        # read, a thousand at a time, by the session of the streaming context, in a
        # snapshot (one state of the accounts throughout) that takes no lock.
        users = bulk.users_for_export(db.snapshot_session(), actor, organisation)
        for line in bulk.export_csv_lines(users, writers.flavour_for(fmt, locale).delimiter):
            yield line.encode("utf-8")

    args = {"organisation": organisation.code if organisation else ""}
    return stream_download(fmt, lines(), download_name("users", fmt, args, utcnow().date()))


def _user_form(user: User | None) -> UserForm:
    form = UserForm(obj=user)
    form.organisation.choices = _organisation_choices()
    if request.method == "GET" and user is not None:
        form.organisation.data = user.organisation.code
        form.language.data = user.locale or ""
        form.password.data = ""
    if user is None:
        form.password.description = _(
            "At least 10 characters. Leave empty and send an invitation: the person "
            "chooses their own password through the link in it."
        )
    return form


@bp.route("/admin/users/new", methods=["GET", "POST"])
def new_user() -> Any:
    form = _user_form(None)
    if form.validate_on_submit():

        def change(db_session: Any) -> tuple[str | None, str]:
            user = accounts.add_user(
                db_session, current_user, locale=form.language.data or None, **_user_fields(form)
            )
            message = _("Account %(email)s created.", email=user.email)
            if form.invite.data and not form.password.data:
                passwords.invite(db_session, current_user, user, _address())
                message = _(
                    "Account %(email)s created. An invitation to choose a password has been "
                    "mailed to it.",
                    email=user.email,
                )
            return message, url_for("admin.edit_user", user_id=user.id)

        if saved := _saved(form.email, change, form.password):
            return saved
    return render_template("admin/user_form.html", form=form, user=None), _form_status()


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int) -> Any:
    user = _user(user_id, manage=request.method == "POST")
    form = _user_form(user)
    if form.validate_on_submit():

        def change(db_session: Any) -> tuple[str | None, str]:
            changed = accounts.update_user(
                db_session, current_user, user, locale=form.language.data or "",
                **_user_fields(form),
            )  # fmt: skip
            message = _("Account %(email)s saved.", email=user.email) if changed else None
            return message, url_for("admin.edit_user", user_id=user.id)

        if saved := _saved(form.email, change, form.password):
            return saved
    return render_template(
        "admin/user_form.html",
        form=form,
        user=user,
        action_form=ActionForm(),
        can_manage=current_user.manages(user),
        tokens=accounts.tokens_of(db.session(), user) if current_user.manages(user) else [],
        invitation=passwords.latest_invitation(db.session(), user),
        now=utcnow(),
    ), _form_status()


@bp.post("/admin/users/<int:user_id>/invite")
def invite_user(user_id: int) -> BaseResponse:
    """Send the invitation (again): a new link, the older one void."""
    user = _user(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    db_session = db.session()
    try:
        passwords.invite(db_session, current_user, user, _address())
    except DomainError as error:
        db_session.rollback()
        flash(error.message, "error")
    else:
        db_session.commit()
        flash(_("An invitation has been mailed to %(email)s.", email=user.email), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.post("/admin/users/<int:user_id>/tokens/<int:token_id>/revoke")
def revoke_token(user_id: int, token_id: int) -> BaseResponse:
    user = _user(user_id)
    db_session = db.session()
    try:
        accounts.revoke_token(db_session, current_user, user, token_id, address=_address())
    except NotFound:
        abort(404)
    db_session.commit()
    flash(_("The token has been revoked: it no longer works."), "info")
    return redirect(url_for("admin.edit_user", user_id=user.id))


def _user_fields(form: UserForm) -> dict[str, Any]:
    """What the account form sets, as the services take it (with the language:
    none on a new account, cleared on an edit)."""
    return {
        "email": form.email.data or "",
        "name": form.name.data or "",
        "role": form.role.data or "",
        "organisation_code": form.organisation.data or "",
        "password": form.password.data or None,
        "network": bool(form.network.data) and form.role.data == "admin",
        "must_change_password": bool(form.must_change_password.data),
        "address": _address(),
    }


def _set_active(user_id: int, active: bool) -> BaseResponse:
    user = _user(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    db_session = db.session()
    try:
        changed = accounts.set_active(db_session, current_user, user, active, _address())
    except DomainError as error:
        db_session.rollback()
        flash(error.message, "error")
    else:
        db_session.commit()
        if changed:
            message = (
                _("%(email)s can sign in again.", email=user.email)
                if active
                else _("%(email)s is deactivated and can no longer sign in.", email=user.email)
            )
            flash(message, "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.post("/admin/users/<int:user_id>/deactivate")
def deactivate_user(user_id: int) -> BaseResponse:
    return _set_active(user_id, False)


@bp.post("/admin/users/<int:user_id>/reactivate")
def reactivate_user(user_id: int) -> BaseResponse:
    return _set_active(user_id, True)


@bp.route("/admin/users/<int:user_id>/erase", methods=["GET", "POST"])
def erase_user(user_id: int) -> Any:
    user = _user(user_id)
    form = EraseForm()
    if form.validate_on_submit():

        def change(db_session: Any) -> tuple[str | None, str]:
            services.erase_user(db_session, current_user, user, _address())
            message = _("The account's personal data has been erased.")
            return message, url_for("admin.edit_user", user_id=user.id)

        if saved := _saved(form.confirm, change):
            return saved
    return render_template("admin/erase.html", form=form, user=user), _form_status()


@bp.post("/admin/users/<int:user_id>/data")
@db.reads_first
def user_data(user_id: int) -> BaseResponse:
    """A subject access request answered by an administrator: the user's data zip."""
    user = _user(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return _data_zip(user)


def _data_zip(user: User) -> Response:
    """Read in a snapshot that takes no lock, then the audit entry in a short write
    of its own: on SQLite the writer lock is held for the entry alone (views
    marked `@db.reads_first`)."""
    data = services.user_data_archive(db.read_snapshot(db.session()), user, _data_index(user))
    with db.transaction() as db_session:
        services.record_data_export(db_session, current_user, user, _address())
    response = Response(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="vle-data-{user.id}.zip"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _data_index(user: User) -> Callable[[dict[str, Any]], str]:
    """The zip's index.html: the user's data as a page in their language (a file
    read offline: no scripts, no external files; links are absolute)."""

    def moment(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    def render(data: dict[str, Any]) -> str:
        locale = user.locale or str(get_locale() or "en")
        # An app context of its own, as a mail's: dates in the user's language too,
        # and in their time zone — the context's signed-in user is the page's (as
        # vle.mail.services.render_mail's is nobody), also when an administrator
        # answers their request.
        with current_app.app_context(), force_locale(locale):
            # The user themself, never the current_user proxy (which would then resolve to itself).
            g._login_user = getattr(user, "_get_current_object", lambda: user)()
            return render_template(
                "admin/my_data_index.html",
                data=data,
                lang=locale,
                site_name=current_app.config["SITE_NAME"],
                moment=moment,
                verify_url=lambda code: mail.external_url("certificates.verify", code=code),
                audit_words=audit_words,
            )

    return render


# --- Users from a CSV file ------------------------------------------------------------


@bp.route("/admin/users/import", methods=["GET", "POST"])
def import_users() -> Any:
    """Upload → dry run (every row's outcome, nothing written) → Confirm."""
    form = ImportForm()
    if form.validate_on_submit():
        data = form.file.data.read()
        db_session = db.session()
        try:
            users_file = bulk.read_users_csv(data)
            plan = bulk.plan_import(db_session, current_user, users_file)
        except DomainError as error:
            form.file.errors.append(error.message)
        else:
            token = services.store_upload(current_app.instance_path, current_user, users_file)
            return render_template(
                "admin/import_preview.html",
                plan=plan,
                confirm_form=ConfirmImportForm(formdata=None, token=token),
                filename=form.file.data.filename or "",
            )
    return render_template("admin/import.html", form=form), _form_status()


@bp.post("/admin/users/import/confirm")
def confirm_import() -> Any:
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    instance, token = current_app.instance_path, form.token.data or ""
    db_session = db.session()
    try:
        users_file = services.load_upload(instance, current_user, token)
        plan = bulk.plan_import(db_session, current_user, users_file)
        result = bulk.apply_import(
            db_session, current_user, plan, _address(), invite=bool(form.invite.data)
        )
    except DomainError as error:
        db_session.rollback()
        flash(error.message, "error")
        return redirect(url_for("admin.import_users"))
    finally:
        services.discard_upload(instance, current_user, token)  # used, or of no more use
    db_session.commit()
    return render_template("admin/import_result.html", plan=plan, result=result)


# --- The audit log ----------------------------------------------------------------------


@bp.get("/admin/audit")
def audit_log() -> Any:
    form = AuditFilterForm(request.args)
    db_session = db.session()
    form.action.choices = [choice("", _("Any action"))] + [
        choice(action, audit_words.action_words(action))
        for action in services.audit_actions(db_session)
    ]
    valid = form.validate() if request.args else True
    status = 200
    page = None
    if valid:
        page = services.audit_page(
            db_session,
            current_user,
            action=form.action.data or "",
            target_type=form.target_type.data or "",
            who=form.who.data or "",
            since=form.since.data,
            until=form.until.data,
            page=_page(),
        )
    else:
        status = 422
    query = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "admin/audit.html", form=form, page=page, query=query, audit_words=audit_words
    ), status


# --- The user's own data (any signed-in user) --------------------------------------------


@bp.route("/my/data", methods=["GET", "POST"])
@db.reads_first
@login_required
def my_data() -> Any:
    form = ActionForm()
    if form.validate_on_submit():
        return _data_zip(current_user)
    return render_template("admin/my_data.html", form=form)
