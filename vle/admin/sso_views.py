"""An organisation's sign-in through its own OpenID Connect provider, on the
administrator's side: /admin/organisations/<id>/sso shows which e-mail
domains it covers and sets the provider (accounts.sso.configure). The same
as `vle organisations sso`. The client secret is never shown back."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from vle import db
from vle.accounts import sso
from vle.admin.forms import ActionForm, SsoForm
from vle.admin.views import _address, _form_status, _organisation, bp
from vle.errors import DomainError

_SEPARATORS = re.compile(r"[\s,;]+")


@bp.route("/admin/organisations/<int:org_id>/sso", methods=["GET", "POST"])
def organisation_sso(org_id: int) -> Any:
    org = _organisation(org_id)  # 404 outside the administrator's scope
    db_session = db.session()
    provider = sso.provider_of(db_session, org)
    form = SsoForm()
    if request.method == "GET" and provider is not None:
        form.issuer.data = provider.issuer
        form.client_id.data = provider.client_id
        form.domains.data = "\n".join(d.domain for d in provider.domains)
    if form.validate_on_submit():
        try:
            sso.configure(
                db_session, current_user, org.code, issuer=form.issuer.data or "",
                client_id=form.client_id.data or "", client_secret=form.client_secret.data,
                domains=_SEPARATORS.split(form.domains.data or ""),
                secret_key=current_app.config["SECRET_KEY"], address=_address(),
            )  # fmt: skip
        except DomainError as error:
            db_session.rollback()
            form.domains.errors.append(error.message)
        else:
            db_session.commit()
            flash(
                _("%(name)s now signs its people in through its provider.", name=org.name),
                "success",
            )
            return redirect(url_for("admin.organisation_sso", org_id=org.id))
    return render_template(
        "admin/organisation_sso.html",
        org=org,
        provider=provider,
        form=form,
        redirect_uri=url_for("accounts.sso_callback", _external=True),
    ), _form_status()


@bp.post("/admin/organisations/<int:org_id>/sso/remove")
def remove_organisation_sso(org_id: int) -> Any:
    org = _organisation(org_id)
    form = ActionForm()
    if form.validate_on_submit():
        db_session = db.session()
        if sso.remove(db_session, current_user, org.code, address=_address()):
            db_session.commit()
            flash(
                _(
                    "%(name)s's people now sign in with their passwords. Those who have none "
                    "set one with “Forgotten your password?”.",
                    name=org.name,
                ),
                "success",
            )
    return redirect(url_for("admin.organisation_sso", org_id=org.id))
