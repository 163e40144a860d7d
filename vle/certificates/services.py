"""Certificates: issued when a learner completes a course — by the completion
rule or by a trainer's hand — and the learner is told at once (on My learning
and by mail); verified by their code.

Learning records completions and must not import anything above it, so this
domain listens to its `CourseCompleted` event (vle/learning/events.py),
registered at start-up by `register`: the certificate and its notice are
written in the completing transaction. Completions recorded before that (when
certificates were issued lazily, at the first download) still get theirs at
the first download, by `certificate_for`. Either way every completion has at
most one certificate, with a code fixed once issued (decision 0017).
"""

from __future__ import annotations

import re
import secrets

from flask import current_app, has_app_context
from flask_babel import format_decimal, ngettext, pgettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from vle.accounts.models import User
from vle.catalog.models import Course
from vle.certificates.models import Certificate
from vle.errors import NotFound
from vle.learning import events
from vle.learning.models import Completion
from vle.mail import services as mail

# Crockford's base32: no I, L, O or U, so a code read aloud or typed is unambiguous.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16  # 80 bits
_TYPOS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_CODE = re.compile(rf"[{ALPHABET}]{{{CODE_LENGTH}}}")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str | None:
    """A code as typed (any case, dashes, spaces, O for 0) in its stored form,
    or None when it cannot be a code."""
    cleaned = re.sub(r"[\s\-]", "", code or "").upper().translate(_TYPOS)
    return cleaned if _CODE.fullmatch(cleaned) else None


def length_words(hours: float) -> str:
    """A course's length as its certificate states it: "8 hours", "1.5 hours"
    (the number in the current locale)."""
    number = format_decimal(hours, format="#,##0.#")
    if float(hours).is_integer():
        return ngettext("%(hours)s hour", "%(hours)s hours", int(hours), hours=number)
    # gettext's plural forms are for whole numbers; a fraction has its own words.
    return pgettext("a fraction of hours, e.g. 1.5", "%(hours)s hours", hours=number)


def issuer_name(course: Course) -> str:
    """Who issues the course's certificates: its issuing organisation, else the site."""
    if course.issuer is not None:
        return course.issuer.name
    return site_name()


def site_name() -> str:
    """The site's name (SITE_NAME), as its certificates name it."""
    return str(current_app.config["SITE_NAME"]) if has_app_context() else "vle"


def verify_url(certificate: Certificate) -> str:
    """The public address that verifies the certificate, on the site's BASE_URL
    (the same in the PDF's words and its QR code, from a page or the worker)."""
    return mail.external_url("certificates.verify", code=certificate.display_code)


def latest_completion(db_session: Session, user: User, course: Course) -> Completion | None:
    return db_session.scalar(
        select(Completion)
        .where(Completion.user_id == user.id, Completion.course_id == course.id)
        .order_by(Completion.completed_at.desc(), Completion.id.desc())
        .limit(1)
    )


def certificate_for(db_session: Session, user: User, course: Course) -> Certificate:
    """The certificate of the user's latest completion of the course, issued
    now if it has none yet. Two simultaneous first requests issue one."""
    completion = latest_completion(db_session, user, course)
    if completion is None:
        raise NotFound(_l("You have not completed this course yet."))
    return _issue(db_session, user, course, completion)


def _issue(db_session: Session, user: User, course: Course, completion: Completion) -> Certificate:
    """The completion's certificate, issued (and the learner told) if it has
    none yet. Two simultaneous first calls issue one."""
    existing = _for_completion(db_session, completion.id)
    if existing is not None:
        return existing
    certificate = Certificate(
        completion_id=completion.id, user_id=user.id, course_id=course.id, code=new_code()
    )
    try:
        with db_session.begin_nested():
            db_session.add(certificate)
    except IntegrityError:
        existing = _for_completion(db_session, completion.id)
        if existing is None:
            raise
        return existing
    _tell_issued(db_session, user, course, certificate)
    return certificate


def issue_on_completion(event: events.CourseCompleted) -> None:
    """Learning's `CourseCompleted` listener: the completion's certificate is
    issued and the learner told, in the completing transaction. Emitted again
    for the same completion (a retried request), it does nothing more.

    Only within the app (a page, the worker, the CLI), where the notice's mail
    can be made: a plain service call outside it (a script, a service test)
    leaves the completion without a certificate, and `certificate_for` issues
    it, with its notice, at the first download."""
    if not has_app_context():
        return
    user = event.db_session.get(User, event.user_id)
    if user is None:
        return
    _issue(event.db_session, user, event.course, event.completion)


def register() -> None:
    """At start-up (vle/__init__.py): listen to learning's completions."""
    events.listen(events.CourseCompleted, issue_on_completion)


def _tell_issued(db_session: Session, user: User, course: Course, certificate: Certificate) -> None:
    """Notify "certificate issued" (on My learning and by mail), once per
    certificate, so once per completion (the key is its code). Only within
    the app (a page, the worker, the CLI): mails need its settings."""
    if not has_app_context():
        return
    certificate_url = mail.external_url("certificates.download", slug=course.slug)
    mail.notify(
        db_session,
        user_id=user.id,
        to_address=user.email,
        to_name=user.name,
        locale=user.locale,
        kind="certificate_issued",
        context={"course_title": course.title, "code": certificate.display_code,
                 "certificate_url": certificate_url},
        key=f"certificate_issued:{certificate.code}",
        url=certificate_url,
    )  # fmt: skip


def _for_completion(db_session: Session, completion_id: int) -> Certificate | None:
    return db_session.scalar(
        select(Certificate)
        .where(Certificate.completion_id == completion_id)
        .options(joinedload(Certificate.completion))
    )


def verify(db_session: Session, code: str) -> Certificate | None:
    """The certificate with this code (and its learner, course, completion), or None."""
    normalised = normalise_code(code)
    if normalised is None:
        return None
    return db_session.scalar(
        select(Certificate)
        .where(Certificate.code == normalised)
        .options(
            joinedload(Certificate.user),
            joinedload(Certificate.course).joinedload(Course.issuer),
            joinedload(Certificate.completion),
        )
    )


def certificates_of(db_session: Session, user: User) -> list[Certificate]:
    """Every certificate issued to `user`, with course and completion (one query)."""
    return list(
        db_session.scalars(
            select(Certificate)
            .where(Certificate.user_id == user.id)
            .options(joinedload(Certificate.course), joinedload(Certificate.completion))
            .order_by(Certificate.issued_at)
        )
    )
