"""Administration: the scoped lists administrators browse (users, the audit log),
a user's own data as a zip (GDPR art. 15 and 20), erasing it (art. 17) in
every domain that holds some, and the users file waiting for confirmation
between a dry run and its import.

The rules that change accounts and organisations live in `vle.accounts.services`
and `vle.accounts.bulk`; writing an audit entry is `vle.audit.audit`.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import false, func, inspect, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from vle import periods, uploads
from vle.accounts import bulk
from vle.accounts import services as accounts
from vle.accounts.models import ApiToken, Organisation, User
from vle.audit import AuditEntry, audit
from vle.catalog.models import Item, Module
from vle.certificates.models import Certificate
from vle.competencies import badges
from vle.db import Page, paginate, utcnow
from vle.errors import Invalid, NotFound
from vle.inputs import CONTROL_CHARACTERS, has_control
from vle.learning.models import Completion, Enrolment, ItemProgress
from vle.quizzes import services as quizzes
from vle.quizzes.models import Accommodation, Answer, Attempt

T = TypeVar("T")


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def scope_filter(actor: User) -> Any:
    """The SQL condition "this organisation is in the actor's scope" (True for
    network administrators)."""
    if actor.network:
        return True
    return Organisation.path.startswith(actor.organisation.path)


USER_STATUSES = ("active", "inactive", "erased")


def users_page(
    db_session: Session,
    actor: User,
    *,
    search: str = "",
    organisation: Organisation | None = None,
    role: str = "",
    status: str = "",
    page: int = 1,
    per_page: int = 25,
) -> Page[User]:
    """The accounts in the actor's scope, filtered, by name; two queries."""
    query = (
        select(User)
        .join(User.organisation)
        .options(contains_eager(User.organisation))
        .where(scope_filter(actor))
    )
    if organisation is not None:
        query = query.where(Organisation.path.startswith(organisation.path))
    if has_control(search):
        query = query.where(false())  # no name or email holds one: no match
    elif search.strip():
        pattern = _like(search.strip().lower())
        query = query.where(
            or_(
                func.lower(User.name).like(pattern, escape="\\"),
                User.email.like(pattern, escape="\\"),
            )
        )
    if role:
        query = query.where(User.role == role)
    if status == "active":
        query = query.where(User.active.is_(True))
    elif status == "inactive":
        query = query.where(User.active.is_(False), User.erased_at.is_(None))
    elif status == "erased":
        query = query.where(User.erased_at.is_not(None))
    return paginate(db_session, query.order_by(User.name, User.id), page, per_page)


def organisation_in_scope(db_session: Session, actor: User, code: str) -> Organisation:
    """The organisation with this code, if the actor administers it."""
    org = db_session.scalar(select(Organisation).where(Organisation.code == code.strip()))
    if org is None or not actor.administers(org):
        raise NotFound(
            _l("There is no organisation with the code “%(code)s” in your scope.", code=code)
        )
    return org


def audit_page(
    db_session: Session,
    actor: User,
    *,
    action: str = "",
    target_type: str = "",
    who: str = "",
    organisation: Organisation | None = None,
    since: date | None = None,
    until: date | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[AuditEntry]:
    """Audit entries the actor may read, newest first: a scoped administrator
    reads the entries about organisations of their subtree, a network
    administrator every entry. `who` matches the actor's name or email or the
    target's label; `since`/`until` are whole days in UTC."""
    if since and until and since > until:
        raise Invalid(_l("The start date must not be after the end date."))
    for day in (since, until):
        if day is not None and not periods.within_range(day):
            raise Invalid(periods.out_of_range(day.isoformat()))
    query = (
        select(AuditEntry)
        .outerjoin(Organisation, AuditEntry.organisation_id == Organisation.id)
        .options(joinedload(AuditEntry.actor), contains_eager(AuditEntry.organisation))
        .where(scope_filter(actor))
    )
    if organisation is not None:
        query = query.where(Organisation.path.startswith(organisation.path))
    if action:
        query = query.where(AuditEntry.action == action)
    if target_type:
        query = query.where(AuditEntry.target_type == target_type)
    if has_control(who):
        query = query.where(false())  # no name, email or label holds one: no match
    elif who.strip():
        pattern = _like(who.strip().lower())
        actors = select(User.id).where(
            or_(
                func.lower(User.name).like(pattern, escape="\\"),
                User.email.like(pattern, escape="\\"),
            )
        )
        query = query.where(
            or_(
                AuditEntry.actor_id.in_(actors),
                func.lower(AuditEntry.target_label).like(pattern, escape="\\"),
            )
        )
    if since:
        query = query.where(AuditEntry.at >= datetime.combine(since, clock.min, UTC))
    if until:
        query = query.where(
            AuditEntry.at < datetime.combine(until + timedelta(days=1), clock.min, UTC)
        )
    return paginate(
        db_session, query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()), page, per_page
    )


def audit_actions(db_session: Session) -> list[str]:
    return list(
        db_session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
    )


# --- A user's data (GDPR) ---------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _columns(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every column of a row, as JSON-ready values."""
    return {
        attr.key: _plain(getattr(obj, attr.key))
        for attr in inspect(obj).mapper.column_attrs
        if attr.key not in skip
    }


def user_data(db_session: Session, user: User) -> dict[str, Any]:
    """Everything vle holds about `user`, as plain data (a fixed number of queries)."""
    org = user.organisation
    ancestor_ids = [int(part) for part in org.path.strip("/").split("/") if part]
    ancestors = {
        o.id: o
        for o in db_session.scalars(select(Organisation).where(Organisation.id.in_(ancestor_ids)))
    }
    enrolments = list(
        db_session.scalars(
            select(Enrolment)
            .where(Enrolment.user_id == user.id)
            .options(joinedload(Enrolment.course))
            .order_by(Enrolment.enrolled_at)
        )
    )
    progress = list(
        db_session.scalars(
            select(ItemProgress)
            .where(ItemProgress.user_id == user.id)
            .options(joinedload(ItemProgress.item))
            .order_by(ItemProgress.id)
        )
    )
    completions = list(
        db_session.scalars(
            select(Completion)
            .where(Completion.user_id == user.id)
            .order_by(Completion.completed_at)
        )
    )
    courses = {e.course_id: e.course for e in enrolments}
    certificates = list(
        db_session.scalars(
            select(Certificate)
            .where(Certificate.user_id == user.id)
            .options(joinedload(Certificate.course))
            .order_by(Certificate.issued_at)
        )
    )
    attempts = list(
        db_session.scalars(
            select(Attempt)
            .where(Attempt.user_id == user.id)
            .options(selectinload(Attempt.answers).joinedload(Answer.question))
            .order_by(Attempt.started_at, Attempt.id)
        )
    )
    quizzes_by_id = {
        item.id: item
        for item in db_session.scalars(
            select(Item)
            .where(Item.id.in_(sorted({a.item_id for a in attempts})))
            .options(joinedload(Item.module).joinedload(Module.course))
        )
    }
    accommodations = list(
        db_session.scalars(select(Accommodation).where(Accommodation.user_id == user.id))
    )
    tokens = list(db_session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)))
    entries = list(
        db_session.scalars(
            select(AuditEntry)
            .where(AuditEntry.target_type == "user", AuditEntry.target_id == user.id)
            .order_by(AuditEntry.at)
        )
    )
    course_slugs = {c.id: c.slug for c in courses.values()}
    for certificate in certificates:
        course_slugs[certificate.course_id] = certificate.course.slug
    return {
        "format": "vle user data, version 1",
        "exported_at": utcnow().isoformat(),
        "account": _columns(user, skip=("password_hash", "organisation_id")),
        "organisation": {
            "code": org.code,
            "name": org.name,
            "type": org.kind,
            "within": [ancestors[i].code for i in ancestor_ids if i in ancestors and i != org.id],
        },
        "api_tokens": [
            {
                "name": t.name,
                "created_at": _plain(t.created_at),
                "last_used_at": _plain(t.last_used_at),
            }
            for t in tokens
        ],
        "enrolments": [
            {
                "course": e.course.slug,
                "course_title": e.course.title,
                "status": e.shown_status(),  # expired at once, as every page shows it
                "progress": e.progress,
                "method": e.method,
                "enrolled_at": _plain(e.enrolled_at),
                "completed_at": _plain(e.completed_at),
            }
            for e in enrolments
        ],
        "progress": [
            {
                "item": p.item_id,
                "item_title": p.item.title,
                "viewed_at": _plain(p.viewed_at),
                "completed_at": _plain(p.completed_at),
                "passed": p.passed,
            }
            for p in progress
        ],
        "completions": [
            {
                "course": course_slugs.get(c.course_id, c.course_id),
                "completed_at": _plain(c.completed_at),
                "expires_at": _plain(c.expires_at),
            }
            for c in completions
        ],
        "certificates": [
            {
                "course": c.course.slug,
                "code": c.display_code,
                "issued_at": _plain(c.issued_at),
            }
            for c in certificates
        ],
        "quiz_attempts": [
            {
                **_columns(a, skip=("user_id",)),
                "course": quizzes_by_id[a.item_id].module.course.slug,
                "quiz_title": quizzes_by_id[a.item_id].title,
                "answers": [
                    {
                        **_columns(answer, skip=("attempt_id",)),
                        "question_title": answer.question.title,
                        "question_type": answer.question.type,
                    }
                    for answer in sorted(a.answers, key=lambda answer: answer.question_id)
                ],
            }
            for a in attempts
        ],
        "quiz_accommodations": [_columns(a, skip=("user_id",)) for a in accommodations],
        "audit_log": [
            {
                "at": _plain(e.at),
                "action": e.action,
                "address": e.address,
                "details": e.details,
            }
            for e in entries
        ],
    }


def user_data_zip(
    db_session: Session,
    user: User,
    actor: User,
    address: str | None = None,
    index: Callable[[dict[str, Any]], str] | None = None,
) -> bytes:
    """The user's data as `vle-data.json` in a zip (and an audit entry saying
    who downloaded it)."""
    data = user_data_archive(db_session, user, index)
    record_data_export(db_session, actor, user, address)
    return data


def user_data_archive(
    db_session: Session, user: User, index: Callable[[dict[str, Any]], str] | None = None
) -> bytes:
    """The user's data as `vle-data.json` in a zip, and, when `index` renders
    it, as `index.html` beside it: the same data, readable in a browser. It only reads."""
    data = user_data(db_session, user)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "vle-data.json", json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False)
        )
        if index is not None:
            archive.writestr("index.html", index(data))
    return buffer.getvalue()


# --- An organisation on its certificates ------------------------------------------------

CERTIFICATE_IMAGE_MAX_BYTES = 2 * 1024 * 1024
SIGNATORY_MAX = 200  # organisations.signatory


class CertificateLookRefused(Invalid):
    """A logo, signature or signatory refused; `field` names the form's field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def update_certificate_look(
    db_session: Session,
    actor: User,
    org: Organisation,
    instance_path: str | Path,
    *,
    signatory: str,
    logo: tuple[str, bytes] | None = None,
    remove_logo: bool = False,
    signature: tuple[str, bytes] | None = None,
    remove_signature: bool = False,
    address: str | None = None,
) -> list[str]:
    """What the certificates of the courses `org` issues carry: its logo and a
    signature image (PNG or JPEG of at most 2 MB, checked by content and decoded
    whole: vle/uploads.check_image), each uploaded (name, bytes) or removed, and
    the signatory's name. Only administrators with `org` in scope. Every file is
    checked before any is kept; returns the fields changed, audited."""
    accounts.require_scope(actor, org)
    signatory = (signatory or "").strip()
    if len(signatory) > SIGNATORY_MAX:
        raise CertificateLookRefused(
            "signatory", str(_l("At most %(n)d characters.", n=SIGNATORY_MAX))
        )
    if has_control(signatory):
        raise CertificateLookRefused("signatory", str(CONTROL_CHARACTERS))
    new = {"logo": None if remove_logo else org.logo,
           "signature": None if remove_signature else org.signature}  # fmt: skip
    uploaded = {"logo": logo, "signature": signature}
    for field, upload in uploaded.items():
        if upload is not None:
            try:
                uploads.check_image(upload[0], upload[1], CERTIFICATE_IMAGE_MAX_BYTES)
            except uploads.UploadRefused as error:
                raise CertificateLookRefused(field, str(error.message)) from None
    for field, upload in uploaded.items():
        if upload is not None:
            new[field] = uploads.store(instance_path, upload[1])
    changed = [f for f in ("logo", "signature") if getattr(org, f) != new[f]]
    if signatory != org.signatory:
        changed.append("signatory")
    if changed:
        org.logo, org.signature, org.signatory = new["logo"], new["signature"], signatory
        audit(
            db_session, actor, "organisation.certificate", "organisation", org.id, address,
            {"changed": changed}, organisation_id=org.id, label=org.code,
        )  # fmt: skip
    return changed


def record_data_export(
    db_session: Session, actor: User, user: User, address: str | None = None
) -> None:
    """The audit entry saying who downloaded a user's data; the caller commits."""
    audit(
        db_session, actor, "user.export_data", "user", user.id, address,
        organisation_id=user.organisation_id, label=user.email,
    )  # fmt: skip


def erase_user(
    db_session: Session, actor: User | None, user: User, address: str | None = None
) -> None:
    """Erase a user's personal data (GDPR art. 17) everywhere it is held: the
    account (accounts.erase_user: who may, what is replaced, the audit entry)
    and the answers they gave in quizzes (quizzes.erase_personal_data); their
    badges are revoked (their public addresses answer 410). Every
    place that erases a user goes through here, so none leaves a part behind.
    Enrolments, progress, completions, attempts and scores stay, anonymously,
    so that report and quiz-result totals keep their counts. The caller commits."""
    accounts.erase_user(db_session, actor, user, address)
    quizzes.erase_personal_data(db_session, user)
    badges.revoke_all_of(db_session, user)


# --- A users file between its dry run and its import --------------------------------

UPLOAD_MAX_AGE = 3600  # seconds an administrator has to confirm a dry run
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


def _uploads(instance_path: str) -> Path:
    return Path(instance_path) / "imports"


def _sweep_uploads(folder: Path) -> None:
    """Forget files nobody confirmed within the hour (and any left in the
    older format, which held the file as uploaded)."""
    now = time.time()
    for old in folder.glob("*"):
        if old.suffix != ".json" or now - old.stat().st_mtime > UPLOAD_MAX_AGE:
            old.unlink(missing_ok=True)


def store_upload(instance_path: str, actor: User, users_file: bulk.UsersFile) -> str:
    """Keep a users file on the server until it is confirmed, with its
    passwords hashed (`bulk.without_plain_passwords`): no password waits on
    disk in plain text. Returns the token the confirmation form carries. The
    file is the actor's alone, for an hour (UPLOAD_MAX_AGE)."""
    folder = _uploads(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    _sweep_uploads(folder)
    token = secrets.token_urlsafe(24)
    path = folder / f"{actor.id}-{token}.json"
    stored = bulk.without_plain_passwords(users_file)
    path.touch(mode=0o600)
    path.write_text(json.dumps(asdict(stored), ensure_ascii=False), "utf-8")
    return token


def load_upload(instance_path: str, actor: User, token: str) -> bulk.UsersFile:
    """The users file stored under `token` by `store_upload`, unless it has expired."""
    folder = _uploads(instance_path)
    if folder.is_dir():
        _sweep_uploads(folder)
    path = _upload_path(instance_path, actor, token)
    if path is None or not path.is_file():
        raise NotFound(_l("This dry run has expired. Upload the file again."))
    stored = json.loads(path.read_text("utf-8"))
    rows = [bulk.Row(**row) for row in stored["rows"]]
    return bulk.UsersFile(columns=stored["columns"], rows=rows)


def discard_upload(instance_path: str, actor: User, token: str) -> None:
    path = _upload_path(instance_path, actor, token)
    if path is not None:
        path.unlink(missing_ok=True)


def _upload_path(instance_path: str, actor: User, token: str) -> Path | None:
    if not _TOKEN.fullmatch(token or ""):
        return None
    return _uploads(instance_path) / f"{actor.id}-{token}.json"
