"""The directory: every member organisation with its profile (PRODUCT.md §2).

Every signed-in user reads it; an organisation's profile is edited by the
administrators whose subtree holds it (`user.administers`) — network
administrators administer them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from babel import Locale
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from vle import uploads
from vle.accounts import services as accounts
from vle.accounts.models import Organisation, Role, User
from vle.audit import audit
from vle.catalog.models import Course, CourseStatus, course_trainers
from vle.community.models import Forum
from vle.db import Page
from vle.errors import Forbidden, Invalid, NotFound
from vle.formats import formatting_locale
from vle.text import collation_key

# The kinds a profile offers (Organisation.kind stays a free string: an older
# or imported kind is shown as written).
KINDS = {
    "municipality": _l("Municipality"),
    "school": _l("School"),
    "library": _l("Library"),
    "care_home": _l("Care home"),
    "college": _l("College"),
    "ngo": _l("NGO"),
    "other": _l("Other"),
}
LANGUAGES = ("en", "lt", "pl", "nb")
LOGO_MAX_BYTES = 2 * 1024 * 1024
# Babel's territories that are no country: unknown, EU, eurozone, UN, pseudo.
_NOT_COUNTRIES = frozenset({"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"})
_PHONE = re.compile(r"[0-9 +()./-]{3,50}")


class ProfileRefused(Invalid):
    """A profile value the rules refuse; `field` names the form's field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def kind_label(kind: str) -> str:
    """A kind in the reader's words; a kind not offered, as it was written."""
    label = KINDS.get(kind)
    return str(label) if label is not None else kind


def country_names(language: str | None) -> dict[str, str]:
    """ISO 3166-1 alpha-2 code -> the country's name in `language`, in the order
    of that language's alphabet (vle.text.collation_key)."""
    locale: Locale = formatting_locale(language)
    names = {
        code: name
        for code, name in locale.territories.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    }
    return dict(sorted(names.items(), key=lambda pair: collation_key(pair[1], str(locale))))


def description_in(org: Organisation, language: str) -> str:
    """The organisation's description in `language`, else English, else any."""
    descriptions = org.descriptions or {}
    for lang in (language, "en", *descriptions):
        text = descriptions.get(lang)
        if text:
            return str(text)
    return ""


@dataclass
class Filters:
    country: str = ""
    kind: str = ""
    region: str = ""


def filter_choices(db_session: Session) -> dict[str, list[str]]:
    """The countries, kinds and regions the directory holds, for its filters."""
    rows = db_session.execute(
        select(Organisation.country, Organisation.kind, Organisation.region).distinct()
    ).all()
    return {
        "countries": sorted({r.country for r in rows if r.country}),
        "kinds": sorted({r.kind for r in rows if r.kind}),
        "regions": sorted({r.region for r in rows if r.region}, key=str.casefold),
    }


def directory_page(
    db_session: Session, filters: Filters, page: int = 1, per_page: int = 25
) -> Page[tuple[Organisation, int]]:
    """The organisations that pass the filters, each (organisation, depth) in
    tree order — a child under its parent, or on its own when the filters
    leave the parent out (the page then says which it is part of)."""
    query = select(Organisation).options(selectinload(Organisation.parent))
    if filters.country:
        query = query.where(Organisation.country == filters.country)
    if filters.kind:
        query = query.where(Organisation.kind == filters.kind)
    if filters.region:
        query = query.where(Organisation.region == filters.region)
    tree = accounts.tree_order(list(db_session.scalars(query)))
    page = max(1, page)
    start = (page - 1) * per_page
    items = tree[start : start + per_page] if start < len(tree) else []
    return Page(items=items, total=len(tree), page=page, per_page=per_page)


def organisation_by_code(db_session: Session, code: str) -> Organisation:
    org = db_session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        raise NotFound(_("There is no such organisation."))
    return org


def children_of(db_session: Session, org: Organisation) -> list[Organisation]:
    return list(
        db_session.scalars(
            select(Organisation).where(Organisation.parent_id == org.id).order_by(Organisation.name)
        )
    )


def trainers_of(db_session: Session, org: Organisation) -> list[User]:
    """The organisation's own trainers (active accounts)."""
    return list(
        db_session.scalars(
            select(User)
            .where(
                User.organisation_id == org.id,
                User.role == Role.TRAINER,
                User.active.is_(True),
                User.erased_at.is_(None),
            )
            .order_by(User.name)
        )
    )


def courses_of(db_session: Session, org: Organisation) -> list[Course]:
    """Published courses one of whose trainers belongs to the organisation."""
    taught = select(course_trainers.c.course_id).where(
        course_trainers.c.user_id.in_(select(User.id).where(User.organisation_id == org.id))
    )
    return list(
        db_session.scalars(
            select(Course)
            .where(Course.status == CourseStatus.PUBLISHED, Course.id.in_(taught))
            .order_by(Course.title)
        )
    )


def forums_of(db_session: Session, courses: list[Course]) -> list[Forum]:
    """The course forums of these courses."""
    if not courses:
        return []
    return list(
        db_session.scalars(
            select(Forum).where(Forum.course_id.in_([c.id for c in courses])).order_by(Forum.title)
        )
    )


def may_edit_profile(user: Any, org: Organisation) -> bool:
    """The administrators whose subtree holds it, and network administrators."""
    return bool(getattr(user, "is_authenticated", False)) and user.administers(org)


def check_logo(name: str, data: bytes) -> None:
    """A logo is a readable PNG or JPEG of at most 2 MB (vle/uploads.py)."""
    uploads.check_image(name, data, LOGO_MAX_BYTES)


def update_profile(
    db_session: Session,
    actor: User,
    org: Organisation,
    address: str | None,
    *,
    kind: str,
    country: str,
    region: str,
    contact_email: str,
    contact_phone: str,
    website: str,
    descriptions: dict[str, str],
    logo: str | None,
) -> bool:
    """Set the organisation's profile (`logo`: the SHA-256 of a stored, checked
    image, or None for none). Refused unless `actor` may edit it; a value the
    rules refuse changes nothing. True when something changed (audited)."""
    if not may_edit_profile(actor, org):
        raise Forbidden(_("You may not edit this organisation's profile."))
    kind = kind.strip()
    if kind and kind not in KINDS and kind != org.kind:
        raise ProfileRefused("kind", _("Choose a kind from the list."))
    country = country.strip().upper()
    if country and country not in country_names("en"):
        raise ProfileRefused("country", _("Choose a country from the list."))
    contact_email = contact_email.strip()
    if contact_email:
        try:
            contact_email = validate_email(contact_email, check_deliverability=False).normalized
        except EmailNotValidError as error:
            raise ProfileRefused(
                "contact_email", _("The contact e-mail address is not valid.")
            ) from error
    contact_phone = contact_phone.strip()
    if contact_phone and not _PHONE.fullmatch(contact_phone):
        raise ProfileRefused(
            "contact_phone", _("A phone number holds digits, spaces and + ( ) - . / only.")
        )
    website = website.strip()
    if website and not re.fullmatch(r"https?://[^\s/$.?#][^\s]*", website, re.IGNORECASE):
        raise ProfileRefused(
            "website", _("The website must be an address starting with http:// or https://.")
        )
    values: dict[str, Any] = {
        "kind": kind,
        "country": country,
        "region": region.strip(),
        "contact_email": contact_email,
        "contact_phone": contact_phone,
        "website": website,
        "descriptions": {
            lang: text.strip()
            for lang, text in descriptions.items()
            if lang in LANGUAGES and text.strip()
        },
        "logo": logo,
    }
    changed = sorted(name for name, value in values.items() if getattr(org, name) != value)
    if not changed:
        return False
    for name in changed:
        setattr(org, name, values[name])
    audit(
        db_session,
        actor,
        "organisation.profile",
        "organisation",
        org.id,
        address,
        {"changed": changed},
        organisation_id=org.id,
        label=org.code,
    )
    db_session.flush()
    return True
