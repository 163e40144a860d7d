"""Sign-in through an organisation's own OpenID Connect provider: the pages
under /login/sso and Authlib's Flask client, which does the talking.

The flow is the authorization code flow with PKCE (S256), a state and a nonce
(Authlib makes them and keeps them in the signed session cookie until the
answer comes back). The provider's endpoints and keys come from its discovery
document (<issuer>/.well-known/openid-configuration), whose `issuer` must be
the one configured. Authlib checks the ID token's signature against the
provider's published keys, and its issuer, audience, expiry and nonce; only
the claims of that checked token are used (accounts.sso.account_for decides
what they sign in). The browser goes to the provider by a link and a redirect
from vle, never by a form posted there: the Content-Security-Policy allows
forms to post to vle only (`form-action 'self'`).
"""

from __future__ import annotations

import re
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import FlaskIntegration, FlaskOAuth2App
from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from joserfc.errors import JoseError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from vle import db
from vle.accounts import sso
from vle.accounts.forms import SsoForm
from vle.accounts.models import SsoProvider, User
from vle.accounts.views import bp, safe_next, sign_in
from vle.errors import DomainError
from vle.extensions import limiter

SCOPE = "openid email profile"
# The session entry that says which provider a sign-in was started with, and
# where to go once signed in.
PENDING = "vle_sso"
TIMEOUT_S = 10  # for each request to the provider
_ERROR_CODE = re.compile(r"[a-z_]{1,40}")


class ProviderProblem(Exception):
    """The provider could not be asked, or answered something vle cannot use."""


def client_for(provider: SsoProvider) -> FlaskOAuth2App:
    """Authlib's Flask client for this provider. Made for each request (not
    registered once): a changed configuration takes effect at once."""
    name = f"sso{provider.id}"
    return FlaskOAuth2App(
        FlaskIntegration(name),
        name=name,
        client_id=provider.client_id,
        client_secret=sso.unseal(provider.client_secret_sealed, current_app.config["SECRET_KEY"]),
        server_metadata_url=f"{provider.issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "default_timeout": TIMEOUT_S,
        },
    )


def _discovered(client: FlaskOAuth2App, provider: SsoProvider) -> None:
    """Load the discovery document; it must name the configured issuer (the
    ID token's `iss` is then checked against it)."""
    metadata = client.load_server_metadata()
    if str(metadata.get("issuer", "")).rstrip("/") != provider.issuer:
        raise ProviderProblem(metadata.get("issuer"))


def _page(form: SsoForm, status: int, **context: Any) -> tuple[str, int]:
    return render_template("accounts/sso.html", form=form, **context), status


def _refused(message: str, status: int) -> tuple[str, int]:
    """A sign-in that did not happen: the reason, and the ways to try again."""
    session.pop(PENDING, None)
    return _page(SsoForm(formdata=None), status, error=message)


def _unreachable() -> tuple[str, int]:
    return _refused(
        _(
            "Your organisation's sign-in service cannot be reached just now. "
            "Please try again later, or log in with your email and password."
        ),
        502,
    )


@bp.get("/login/sso")
def sso_page() -> tuple[str, int]:
    """Which organisation signs in this address? Its sign-in is offered by a link."""
    form = SsoForm(formdata=request.args)
    if "email" not in request.args:
        return _page(form, 200)
    if not form.validate():
        return _page(form, 422)
    provider = sso.provider_for_email(db.session(), form.email.data or "")
    if provider is None:
        form.email.errors.append(
            _(
                "No organisation signs in addresses like this one with its own account. "
                "Log in with your email and password."
            )
        )
        return _page(form, 422)
    return _page(form, 200, provider=provider)


# Each start and each answer makes vle ask the provider: a client may not make
# vle flood an organisation's provider (per address, as the certificate lookups).
PER_ADDRESS = "30 per minute"


@bp.get("/login/sso/start", endpoint="sso_start")
@limiter.limit(PER_ADDRESS)
def sso_start() -> Response | tuple[str, int]:
    """Off to the provider that covers the address, with a state, a nonce and
    a PKCE challenge that only this browser's session can answer."""
    email = request.args.get("email", "")
    target = safe_next(request.args.get("next"))
    provider = sso.provider_for_email(db.session(), email)
    if provider is None:
        return redirect(url_for("accounts.sso_page", email=email or None))
    try:
        client = client_for(provider)
        _discovered(client, provider)
        response = client.authorize_redirect(
            url_for("accounts.sso_callback", _external=True), login_hint=email
        )
    except DomainError as error:  # the stored secret cannot be read
        return _refused(str(error.message), 503)
    except (requests.RequestException, ProviderProblem, AuthlibBaseError, ValueError, KeyError):
        return _unreachable()
    session[PENDING] = {"provider": provider.id, "next": target}
    return response


@bp.get("/login/sso/callback", endpoint="sso_callback")
@limiter.limit(PER_ADDRESS)
def sso_callback() -> Response | tuple[str, int]:
    """The provider's answer. Nothing is written unless the answer checks out
    and the rules of accounts.sso.account_for let the address in."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        pending = {}
    provider = None
    if isinstance(pending.get("provider"), int):
        provider = db.session().get(SsoProvider, pending["provider"])
    if provider is None:
        return _refused(
            _("This sign-in was not started in this browser, or has expired. Please start again."),
            400,
        )
    try:
        client = client_for(provider)
        _discovered(client, provider)
        token = client.authorize_access_token()
    except DomainError as error:
        return _refused(str(error.message), 503)
    except MismatchingStateError:
        return _refused(
            _(
                "The answer from your organisation's sign-in does not belong to the sign-in "
                "started here. Nothing was changed; please start again."
            ),
            400,
        )
    except OAuthError as error:  # the provider said no (the person cancelled, …)
        # Only the error's code (RFC 6749 §4.1.2.1), never its free text: anyone
        # can put a link to this page with any text in it.
        code = error.error if _ERROR_CODE.fullmatch(str(error.error)) else "error"
        return _refused(
            _("Your organisation's sign-in did not sign you in (%(reason)s).", reason=code),
            400,
        )
    except (requests.RequestException, ProviderProblem):
        return _unreachable()
    except (AuthlibBaseError, JoseError, ValueError, KeyError):
        # A bad signature, another issuer or audience, an expired token, a
        # nonce that is not this sign-in's.
        return _refused(
            _(
                "The answer from your organisation's sign-in could not be verified. "
                "Nothing was changed; please start again."
            ),
            400,
        )
    claims = token.get("userinfo")
    if not claims:
        return _refused(_("Your organisation's sign-in sent no identity to check."), 400)
    address = request.remote_addr

    def verified(db_session: Session) -> User:
        return sso.account_for(db_session, provider, dict(claims), address)

    try:
        sign_in(verified)
    except DomainError as error:
        return _refused(str(error.message), 403)
    return redirect(safe_next(pending.get("next")))
