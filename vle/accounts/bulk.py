"""Users in bulk: the users CSV file, its dry run, its import and its export.

The file
--------
UTF-8 text, with or without a byte order mark ("CSV UTF-8" in Excel and
LibreOffice); any other encoding is refused with the line of the first bad
byte, never guessed. The first line names the columns, in any order, case
insensitive; cells are separated by commas (or by semicolons, as Excel writes
CSV in Lithuanian, Polish and Norwegian locales — the header line decides).

Required columns:
    email         the account's key: a row whose email exists updates that
                  account, any other row creates one
    name          the full name
    role          learner, trainer or admin
    organisation  the code of the user's organisation

Optional columns (an empty cell leaves the account as it is; a new account gets
the default):
    active        yes or no (also true/false, 1/0); default yes. "no"
                  deactivates the account, nothing is deleted
    language      en, lt, pl or nb: the user's interface language
    password      passing the rules a person's own password passes (at least
                  10 characters, not the address, the name or a common one:
                  services.check_password_strength). Accounts created without one get an
                  invitation to choose their own when the administrator asks
                  for invitations on confirming (`vle users import --invite`);
                  otherwise they cannot sign in until a password is set.
    must_change_password
                  yes or no: after signing in, the person is sent to Change
                  password until they have chosen a password of their own

The export writes exactly the columns email, name, role, organisation, active,
language (never a password), so importing a file that vle exported changes
nothing. A cell that a spreadsheet would run as a formula (starting with = + -
@, a tab or a carriage return) is exported with a leading apostrophe, and the
import removes that apostrophe again.

The dry run
-----------
`plan_import` decides every row's outcome, with its line number in the file:
create, update (and which fields), unchanged, or refuse (with every reason: a
row with the wrong number of cells, an invalid email, an email that appears on
more than one row, an unknown organisation, an organisation or account outside
the administrator's scope, an unknown role, ...). It writes nothing.
`apply_import` writes the create and update rows of a plan, in the caller's
transaction, with one audit entry per account changed; refused rows are left
out. Callers plan again just before applying, so the outcome shown is the one
carried out against the data as it is then.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from vle.accounts.models import Organisation, Role, User
from vle.accounts.passwords import invite as send_invitation
from vle.accounts.services import (
    WeakPassword,
    add_user,
    check_password_strength,
    hash_password,
    latin_look_alike,
    look_alike_message,
    normalise_email,
    set_active,
    update_user,
)
from vle.audit import audit
from vle.errors import DomainError, Forbidden, Invalid
from vle.inputs import has_control

REQUIRED_COLUMNS = ("email", "name", "role", "organisation")
OPTIONAL_COLUMNS = ("active", "language", "password", "must_change_password")
EXPORT_COLUMNS = ("email", "name", "role", "organisation", "active", "language")
LANGUAGES = ("en", "lt", "pl", "nb")
YES = {"yes", "true", "1"}
NO = {"no", "false", "0"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_ROWS = 50_000
MAX_NAME = 200


class FileInvalid(Invalid):
    """The file as a whole cannot be read (encoding, columns, CSV syntax)."""


@dataclass
class Row:
    line: int
    values: dict[str, str]
    cells: int


@dataclass
class UsersFile:
    columns: list[str]
    rows: list[Row]


@dataclass
class RowOutcome:
    line: int
    email: str
    action: str  # create | update | unchanged | refuse
    reasons: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportPlan:
    rows: list[RowOutcome]

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def refused(self) -> int:
        return self.count("refuse")

    @property
    def to_write(self) -> int:
        return self.count("create") + self.count("update")

    @property
    def to_invite(self) -> int:
        """New accounts without a password: those an invitation would go to."""
        return sum(1 for row in self.rows if row.action == "create" and not _has_password(row))


def _has_password(row: RowOutcome) -> bool:
    return bool(row.values.get("password") or row.values.get("password_hash"))


def needs_guard(value: str) -> bool:
    """Would a spreadsheet run this cell as a formula (or is it an apostrophe
    guard itself, which must be kept apart from a real leading apostrophe)?"""
    return value[:1] in FORMULA_START or (value[:1] == "'" and needs_guard(value[1:]))


def guard(value: str) -> str:
    return "'" + value if needs_guard(value) else value


def unguard(value: str) -> str:
    return value[1:] if value[:1] == "'" and needs_guard(value[1:]) else value


def decode(data: bytes) -> str:
    """Strict UTF-8 (a byte order mark is allowed and dropped)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileInvalid(
            _l("The file is UTF-16 text. Save it as “CSV UTF-8” and upload it again.")
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise FileInvalid(
            _l(
                "The file is not UTF-8 text: line %(line)d holds the byte 0x%(byte)s, which "
                "UTF-8 does not allow. Save the file as “CSV UTF-8” and upload it again.",
                line=line,
                byte=f"{data[error.start]:02X}",
            )
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise FileInvalid(_l("Line %(line)d holds a NUL character.", line=line))
    return text


def read_users_csv(data: bytes) -> UsersFile:
    """Parse a users file; raise FileInvalid for anything that stops every row."""
    text = decode(data)
    if not text.strip():
        raise FileInvalid(_l("The file is empty."))
    first_line = text.splitlines()[0]
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
        columns = [name.strip().lstrip("\ufeff").lower() for name in header]
        _check_columns(columns)
        rows = []
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            if not any(cell.strip() for cell in cells):
                continue  # blank lines
            values = {
                name: unguard(cell.strip()) for name, cell in zip(columns, cells, strict=False)
            }
            for name, value in values.items():
                if has_control(value):  # a cell is one line: no tab or line break either
                    raise FileInvalid(
                        _l(
                            "Line %(line)d holds a control character in “%(column)s”.",
                            line=line,
                            column=name,
                        )
                    )
            rows.append(Row(line=line, values=values, cells=len(cells)))
            if len(rows) > MAX_ROWS:
                raise FileInvalid(
                    _l(
                        "The file has more than %(n)d rows; split it into smaller files.",
                        n=MAX_ROWS,
                    )
                )
    except csv.Error as error:
        raise FileInvalid(
            _l("Line %(line)d cannot be read as CSV: %(error)s", line=reader.line_num, error=error)
        ) from None
    return UsersFile(columns=columns, rows=rows)


def _check_columns(columns: list[str]) -> None:
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    problems = []
    unknown = [name for name in columns if name not in known]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    duplicated = sorted(name for name, n in Counter(columns).items() if n > 1)
    if unknown:
        problems.append(_l("unknown columns: %(names)s", names=", ".join(unknown)))
    if missing:
        problems.append(_l("missing columns: %(names)s", names=", ".join(missing)))
    if duplicated:
        problems.append(_l("columns named twice: %(names)s", names=", ".join(duplicated)))
    if problems:
        raise FileInvalid(
            _l(
                "Line 1 must name the columns. Found %(problems)s. The columns are email, "
                "name, role, organisation, and optionally active, language, password, "
                "must_change_password.",
                problems="; ".join(str(p) for p in problems),
            )
        )


def _chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def plan_import(db_session: Session, actor: User | None, users_file: UsersFile) -> ImportPlan:
    """Decide each row's outcome (see the module's docstring). Writes nothing;
    a fixed number of queries per 500 rows."""
    columns = users_file.columns
    emails: dict[int, str] = {}
    outcomes: list[RowOutcome] = []
    for row in users_file.rows:
        outcome = RowOutcome(line=row.line, email=row.values.get("email", ""), action="refuse")
        outcome.values = dict(row.values)
        if row.cells != len(columns):
            outcome.reasons.append(
                str(
                    _l(
                        "This row has %(cells)d cells; the header names %(columns)d columns.",
                        cells=row.cells,
                        columns=len(columns),
                    )
                )
            )
        try:
            emails[row.line] = normalise_email(outcome.email) if outcome.email else ""
            if not outcome.email:
                outcome.reasons.append(str(_l("The email is missing.")))
        except Invalid as error:
            outcome.reasons.append(str(error.message))
        outcomes.append(outcome)

    lines_by_email: dict[str, list[int]] = {}
    for line, email in emails.items():
        if email:
            lines_by_email.setdefault(email, []).append(line)
    # A new address that reads like an account's, or like another row's, is refused.
    look_alikes = {email: latin_look_alike(email) for email in lines_by_email}
    wanted = set(lines_by_email) | {alike for alike in look_alikes.values() if alike}
    existing: dict[str, User] = {}
    for chunk in _chunks(sorted(wanted)):
        for user in db_session.scalars(select(User).where(User.email.in_(chunk))):
            existing[user.email] = user
    codes = {o.values.get("organisation", "") for o in outcomes}
    organisations = {
        org.code: org
        for chunk in _chunks(sorted(code for code in codes if code))
        for org in db_session.scalars(select(Organisation).where(Organisation.code.in_(chunk)))
    }

    for outcome in outcomes:
        email = emails.get(outcome.line, "")
        if email:
            outcome.email = email
            lines = lines_by_email[email]
            if len(lines) > 1:
                outcome.reasons.append(
                    str(
                        _l(
                            "The email %(email)s appears on more than one row (lines %(lines)s).",
                            email=email,
                            lines=", ".join(str(n) for n in lines),
                        )
                    )
                )
            alike = look_alikes[email]
            if email not in existing and alike and (alike in existing or alike in lines_by_email):
                outcome.reasons.append(str(look_alike_message(email)))
        _plan_row(outcome, actor, existing.get(email), organisations)
    return ImportPlan(rows=outcomes)


# Set in a users file waiting on disk in place of a password the rules
# refused, with the reason, so that its row is refused again for the same
# reason when planned again on confirming (the password itself is not kept).
REFUSED_PASSWORD = "password_refused"  # noqa: S105 - a key, not a password  # nosec B105


def _password_weakness(values: dict[str, str]) -> str | None:
    """Why the row's password does not pass the one rule (None: it does)."""
    password = values.get("password", "")
    if not password:
        return values.get(REFUSED_PASSWORD) or None
    try:
        check_password_strength(password, values.get("email", ""), values.get("name", ""))
    except WeakPassword as error:
        return str(error.message)
    return None


def without_plain_passwords(users_file: UsersFile) -> UsersFile:
    """The file as it may wait on disk for its confirmation: each password
    replaced by its hash (`password_hash`, which `apply_import` stores as it
    is), or, if the rules refuse it, by the reason (REFUSED_PASSWORD), so that
    its row is refused again, for the same reason, when planned again."""
    rows = []
    for row in users_file.rows:
        values = dict(row.values)
        password = values.get("password", "")
        if password:
            weakness = _password_weakness(values)
            if weakness is None:
                values["password_hash"] = hash_password(password)
            else:
                values[REFUSED_PASSWORD] = weakness
            values["password"] = ""  # nosec B105 # an emptied field, not a password
        rows.append(Row(line=row.line, values=values, cells=row.cells))
    return UsersFile(columns=list(users_file.columns), rows=rows)


def _flag(value: str) -> bool | None:
    lowered = value.strip().lower()
    if lowered in YES:
        return True
    if lowered in NO:
        return False
    return None


def _plan_row(
    outcome: RowOutcome,
    actor: User | None,
    user: User | None,
    organisations: dict[str, Organisation],
) -> None:
    values = outcome.values
    reasons = outcome.reasons
    name = values.get("name", "")
    role = values.get("role", "").lower()
    code = values.get("organisation", "")
    active = values.get("active", "")
    language = values.get("language", "").lower()
    if not name:
        reasons.append(str(_l("The name is missing.")))
    elif len(name) > MAX_NAME:
        reasons.append(str(_l("The name is longer than %(n)d characters.", n=MAX_NAME)))
    if role not in set(Role):
        reasons.append(
            str(
                _l("The role “%(role)s” is not learner, trainer or admin.", role=values.get("role"))
            )
        )
    organisation = organisations.get(code)
    if not code:
        reasons.append(str(_l("The organisation is missing.")))
    elif organisation is None:
        reasons.append(str(_l("There is no organisation with the code “%(code)s”.", code=code)))
    elif actor is not None and not actor.administers(organisation):
        reasons.append(str(_l("The organisation “%(code)s” is outside your scope.", code=code)))
    if active and _flag(active) is None:
        reasons.append(str(_l("“active” must be yes or no, not “%(value)s”.", value=active)))
    must_change = values.get("must_change_password", "")
    if must_change and _flag(must_change) is None:
        reasons.append(
            str(
                _l(
                    "“must_change_password” must be yes or no, not “%(value)s”.",
                    value=must_change,
                )
            )
        )
    if language and language not in LANGUAGES:
        reasons.append(
            str(_l("The language must be en, lt, pl or nb, not “%(value)s”.", value=language))
        )
    weakness = _password_weakness(values)
    if weakness is not None:
        reasons.append(weakness)
    if user is not None:
        if actor is not None and not actor.manages(user):
            reasons.append(
                str(_l("The account %(email)s is outside your scope.", email=user.email))
            )
        elif user.is_erased:
            reasons.append(str(_l("This account has been erased.")))
        elif actor is not None and actor.id == user.id:
            if role != user.role or _flag(active) is False:
                reasons.append(str(_l("You cannot change your own role or deactivate yourself.")))
            elif organisation is not None and not actor.administers(organisation):
                reasons.append(str(_l("You cannot move yourself out of your own scope.")))
        if user.network and role != Role.ADMIN:
            reasons.append(
                str(_l("A network administrator stays an administrator here; use their page."))
            )
    if reasons:
        outcome.action = "refuse"
        return
    if user is None:
        outcome.action = "create"
        return
    changes = []
    if name != user.name:
        changes.append("name")
    if role != user.role:
        changes.append("role")
    if organisation is not None and organisation.id != user.organisation_id:
        changes.append("organisation")
    if active and _flag(active) != user.active:
        changes.append("active")
    if must_change and _flag(must_change) != user.must_change_password:
        changes.append("must_change_password")
    if language and language != (user.locale or ""):
        changes.append("language")
    if values.get("password") or values.get("password_hash"):
        changes.append("password")
    outcome.changes = changes
    outcome.action = "update" if changes else "unchanged"


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0
    invited: int = 0


def apply_import(
    db_session: Session,
    actor: User | None,
    plan: ImportPlan,
    address: str | None = None,
    invite: bool = False,
) -> ImportResult:
    """Write the plan's create and update rows (in the caller's transaction).
    Each account changed gets its audit entry, and the import one more.
    `invite`: each account created without a password is mailed an
    invitation to choose one (sent once the caller commits)."""
    result = ImportResult(unchanged=plan.count("unchanged"), refused=plan.refused)
    emails = [row.email for row in plan.rows if row.action == "update"]
    users: dict[str, User] = {}
    for chunk in _chunks(emails):
        for user in db_session.scalars(select(User).where(User.email.in_(chunk))):
            users[user.email] = user
    for row in plan.rows:
        values = row.values
        active = _flag(values.get("active", ""))
        language = values.get("language", "").lower() or None
        must_change = _flag(values.get("must_change_password", ""))
        try:
            if row.action == "create":
                user = add_user(
                    db_session,
                    actor,
                    email=row.email,
                    name=values["name"],
                    role=values["role"].lower(),
                    organisation_code=values["organisation"],
                    password=values.get("password") or None,
                    password_hash=values.get("password_hash") or None,
                    locale=language,
                    address=address,
                    must_change_password=bool(must_change),
                )
                if active is False:
                    user.active = False
                elif invite and not _has_password(row):
                    send_invitation(db_session, actor, user, address)
                    result.invited += 1
                result.created += 1
            elif row.action == "update":
                user = users[row.email]
                update_user(
                    db_session,
                    actor,
                    user,
                    email=user.email,
                    name=values["name"],
                    role=values["role"].lower(),
                    organisation_code=values["organisation"],
                    locale=language,
                    password=values.get("password") or None,
                    password_hash=values.get("password_hash") or None,
                    address=address,
                    via="import",
                    must_change_password=must_change,
                )
                if active is not None:
                    set_active(db_session, actor, user, active, address, via="import")
                result.updated += 1
        except DomainError as error:  # the data changed since the plan: stop, change nothing
            raise Invalid(
                _l("Line %(line)d: %(error)s", line=row.line, error=error.message)
            ) from None
    audit(
        db_session, actor, "users.import", "user", None, address,
        {"created": result.created, "updated": result.updated, "unchanged": result.unchanged,
         "refused": result.refused, "invited": result.invited},
        organisation_id=None if actor is None or actor.network else actor.organisation_id,
    )  # fmt: skip
    db_session.flush()
    return result


def users_for_export(
    db_session: Session, actor: User | None, organisation: Organisation | None = None
) -> Iterable[User]:
    """The accounts an export holds: every account in scope (and under
    `organisation` when given) that has not been erased, by email."""
    query = select(User).join(User.organisation).where(User.erased_at.is_(None))
    if actor is not None and not actor.network:
        query = query.where(Organisation.path.startswith(actor.organisation.path))
    if organisation is not None:
        if actor is not None and not actor.administers(organisation):
            raise Forbidden(
                _l("The organisation “%(code)s” is outside your scope.", code=organisation.code)
            )
        query = query.where(Organisation.path.startswith(organisation.path))
    return db_session.scalars(query.order_by(User.email).execution_options(yield_per=1000))


def export_rows(users: Iterable[User]) -> Iterator[list[str]]:
    yield list(EXPORT_COLUMNS)
    for user in users:
        yield [
            guard(value)
            for value in (
                user.email,
                user.name,
                user.role,
                user.organisation.code,
                "yes" if user.active else "no",
                user.locale or "",
            )
        ]


def export_csv_lines(users: Iterable[User], delimiter: str = ",") -> Iterator[str]:
    """The export as CSV text, a line at a time (UTF-8 with a BOM when encoded,
    so that Excel shows ą, ł and ø), its fields separated by `delimiter` ("," or
    ";" as Excel writes it where "," marks decimals: the import reads both)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    first = True
    for row in export_rows(users):
        writer.writerow(row)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        yield ("\ufeff" + text) if first else text
        first = False


def describe(outcome: RowOutcome) -> dict[str, Any]:
    """A row's outcome as plain data (the CLI's and tests' view of a plan)."""
    return {
        "line": outcome.line,
        "email": outcome.email,
        "action": outcome.action,
        "reasons": outcome.reasons,
        "changes": outcome.changes,
    }
