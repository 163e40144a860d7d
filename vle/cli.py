"""The `vle` command: a Flask CLI group gathering each domain's commands."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from vle import create_app, db
from vle.accounts import bulk, sso
from vle.accounts import services as accounts
from vle.accounts.passwords import invite as send_invitation
from vle.catalog.models import Course
from vle.demo import DEMO_ACCOUNTS, NotTheDemosOwn, remove_demo_data, seed_demo
from vle.errors import DomainError
from vle.inputs import has_control
from vle.learning import assignments
from vle.learning import tasks as learning_tasks
from vle.learning.models import Assignment
from vle.library import services as library
from vle.migrations import upgrade


def fail_cleanly(command: Callable[..., Any]) -> Callable[..., Any]:
    """Domain errors become one clear line on stderr and exit code 1."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DomainError as error:
            db.session().rollback()
            raise click.ClickException(str(error.message)) from None

    return wrapper


def _create_app() -> Flask:
    return create_app()


class VleGroup(FlaskGroup):
    """The `vle` group. Its commands are all its own (the app adds none), so
    listing them (`vle --help`) needs no app and works before the settings are
    complete. Arguments holding a control character are refused before any
    command runs: nothing stores or looks up a NUL."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.commands)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if any(has_control(arg) for arg in args):
            raise click.UsageError("An argument holds a control character (such as NUL).")
        return super().parse_args(ctx, args)


@click.group(cls=VleGroup, create_app=_create_app, add_default_commands=False)
def cli() -> None:
    """vle — a virtual learning environment for public-sector distance training."""


@cli.group("db")
def db_group() -> None:
    """The database schema."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Create or upgrade the schema with the Alembic migrations."""
    upgrade(current_app)
    click.echo("The database schema is up to date.")


@cli.group("courses")
def courses_group() -> None:
    """The course library on disk."""


@courses_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@with_appcontext
@fail_cleanly
def courses_import(paths: tuple[Path, ...]) -> None:
    """Import course folders or library folders (validated first; all or nothing)."""
    with db.transaction() as db_session:
        try:
            result = library.import_paths(
                db_session,
                list(paths),
                instance_path=current_app.instance_path,
                max_file_bytes=int(current_app.config["UPLOAD_MAX_MB"]) * 1024 * 1024,
            )
        except library.LibraryInvalid as error:
            for line in error.errors:
                click.echo(line, err=True)
            raise click.ClickException(
                f"{len(error.errors)} problem(s) found; nothing was imported."
            ) from None
    for code in result.frameworks:
        click.echo(f"competency framework {code}")
    for slug in result.created:
        click.echo(f"created {slug}")
    for slug in result.updated:
        click.echo(f"updated {slug}")


@courses_group.command("export")
@click.argument("slug")
@click.argument("path", type=click.Path(path_type=Path))
@with_appcontext
@fail_cleanly
def courses_export(slug: str, path: Path) -> None:
    """Write course SLUG to PATH in the courses/ layout."""
    folder = library.export_course(
        db.session(), slug, path, instance_path=current_app.instance_path
    )
    click.echo(f"exported {slug} to {folder}")


@courses_group.command("assign")
@click.argument("slug")
@click.option(
    "--organisation",
    "organisation_code",
    default=None,
    help="Everyone of this organisation's subtree, newcomers included.",
)
@click.option(
    "--role",
    default="learner",
    show_default=True,
    help="With --organisation: learner, trainer, admin, or any (every role).",
)
@click.option(
    "--users",
    "users_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A UTF-8 CSV file with an email column.",
)
@click.option("--due", default=None, help="Due date, YYYY-MM-DD (a past day is allowed).")
@click.option(
    "--dry-run/--commit",
    "dry_run",
    default=True,
    show_default=True,
    help="--dry-run (the default) only shows the outcome; --commit assigns.",
)
@with_appcontext
@fail_cleanly
def courses_assign(
    slug: str,
    organisation_code: str | None,
    role: str,
    users_file: Path | None,
    due: str | None,
    dry_run: bool,
) -> None:
    """Assign course SLUG (mandatory training) to everyone of an organisation
    subtree (--organisation, of --role) or to the people of a CSV file (--users).
    Exit code 1 when a line of the file is refused (with --commit the valid lines
    are assigned all the same)."""
    if (organisation_code is None) == (users_file is None):
        raise click.ClickException("Give either --organisation CODE or --users FILE.csv.")
    due_date = assignments.parse_due(due or "")
    db_session = db.session()
    course = db_session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        raise click.ClickException(f"There is no course {slug!r}.")
    if users_file is not None:
        try:
            data = users_file.read_bytes()
        except OSError as error:
            raise click.ClickException(f"Cannot read {users_file}: {error.strerror}.") from None
        entries = assignments.read_emails_csv(data)
        plan = assignments.plan_people(db_session, None, course, entries)
        for line in plan.lines:
            outcome = "assign" if line.ok else f"refused — {line.reason_text}"
            click.echo(f"line {line.line}: {outcome} {line.email}")
        if dry_run:
            click.echo(
                f"Dry run: {len(plan.valid)} to assign, {len(plan.refused)} refused. "
                "Nothing was written; --commit assigns the valid lines."
            )
        else:
            with db.transaction() as write_session:
                assignment, plan = assignments.assign_people(
                    write_session, None, course, entries, due_date
                )
            learning_tasks.queue_fill(assignment.id)  # their mails, by the worker
            click.echo(
                f"Assigned {assignment.assigned} (assignment {assignment.id}), "
                f"{len(plan.refused)} refused."
            )
        if plan.refused:
            sys.exit(1)
        return
    assert organisation_code is not None
    organisation = assignments.organisation_by_code(db_session, organisation_code)
    who = None if role == "any" else role
    count = assignments.plan_organisation(db_session, None, course, organisation, who)
    if dry_run:
        click.echo(
            f"Dry run: {count} people of {organisation.code} to assign now, and "
            "those who join it later. Nothing was written; --commit assigns."
        )
        return
    with db.transaction() as write_session:
        assignment = assignments.assign_organisation(
            write_session, None, course, organisation, who, due_date
        )
        assignment_id = assignment.id
    learning_tasks.queue_fill(assignment_id)  # by the worker (at once in tests)
    db_session.expire_all()
    done = db_session.get(Assignment, assignment_id)
    assert done is not None
    click.echo(
        f"Assignment {assignment_id} of {slug} to {organisation.code}: {done.status}, "
        f"{done.assigned} assigned so far; the worker enrols the rest and newcomers."
    )


@cli.group("organisations")
def organisations_group() -> None:
    """Organisations of the network."""


@organisations_group.command("create")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--parent", "parent_code", default=None, help="Code of the parent organisation.")
@click.option("--type", "kind", default="", help="e.g. municipality, school, library.")
@with_appcontext
@fail_cleanly
def organisations_create(code: str, name: str, parent_code: str | None, kind: str) -> None:
    """Create organisation CODE."""
    with db.transaction() as db_session:
        org = accounts.create_organisation(db_session, code, name, parent_code, kind)
    click.echo(f"created organisation {org.code}")


@organisations_group.command("sso")
@click.argument("code")
@click.option("--issuer", required=True, help="The provider's issuer URL (https).")
@click.option("--client-id", required=True, help="vle's client id at the provider.")
@click.option("--client-secret", required=True, help="Stored encrypted, never shown.")
@click.option(
    "--domain", "domains", multiple=True, required=True, help="An e-mail domain it signs in."
)
@click.argument("more_domains", nargs=-1, metavar="[DOMAIN]...")
@with_appcontext
@fail_cleanly
def organisations_sso(
    code: str,
    issuer: str,
    client_id: str,
    client_secret: str,
    domains: tuple[str, ...],
    more_domains: tuple[str, ...],
) -> None:
    """Sign in organisation CODE's people through its OpenID Connect provider.
    Register vle at the provider with the redirect URI <site>/login/sso/callback.
    Domains: `--domain a.lt --domain b.lt`, or `--domain a.lt b.lt`."""
    with db.transaction() as db_session:
        provider = sso.configure(
            db_session, None, code, issuer=issuer, client_id=client_id,
            client_secret=client_secret, domains=[*domains, *more_domains],
            secret_key=current_app.config["SECRET_KEY"],
        )  # fmt: skip
        covered = ", ".join(d.domain for d in provider.domains)
    click.echo(f"organisation {code} signs in {covered} through {provider.issuer}")


@organisations_group.command("sso-remove")
@click.argument("code")
@with_appcontext
@fail_cleanly
def organisations_sso_remove(code: str) -> None:
    """Organisation CODE's people sign in with their passwords again."""
    with db.transaction() as db_session:
        removed = sso.remove(db_session, None, code)
    click.echo(
        f"organisation {code} "
        + ("no longer signs in through its provider" if removed else "had no provider")
    )


@cli.group("users")
def users_group() -> None:
    """User accounts."""


@users_group.command("create")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["learner", "trainer", "admin"]), required=True)
@click.option("--organisation", "organisation_code", required=True)
@click.option("--network", is_flag=True, help="An admin who sees the whole network.")
@click.option("--password", default=None, help="Generated and printed when left out.")
@click.option(
    "--invite",
    is_flag=True,
    help="Mail an invitation to choose a password instead (nobody else knows it).",
)
@with_appcontext
@fail_cleanly
def users_create(
    email: str,
    name: str,
    role: str,
    organisation_code: str,
    network: bool,
    password: str | None,
    invite: bool,
) -> None:
    """Create a user account."""
    if invite and password is not None:
        raise click.UsageError("Give --password or --invite, not both.")
    generated = password is None and not invite
    if generated:
        password = accounts.generate_password()
    with db.transaction() as db_session:
        user = accounts.create_user(
            db_session, email, name, role, organisation_code, password=password, network=network
        )
        if invite:
            send_invitation(db_session, None, user)
    click.echo(f"created {user.role} {user.email}")
    if invite:
        click.echo(f"invitation mailed to {user.email}")
    elif generated:
        click.echo(f"password: {password}")


@users_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--dry-run/--commit",
    "dry_run",
    default=True,
    show_default=True,
    help="--dry-run (the default) only shows what each line would do; "
    "--commit imports the valid lines.",
)
@click.option(
    "--invite",
    is_flag=True,
    help="With --commit: mail each account created without a password an invitation.",
)
@with_appcontext
@fail_cleanly
def users_import(file: Path, dry_run: bool, invite: bool) -> None:
    """Create and update accounts from a users CSV FILE (columns: email, name,
    role, organisation; optional active, language, password, must_change_password
    — see the README).

    Every line's outcome is printed with its line number. Exit code 1 when any
    line is refused (with --commit the valid lines are imported all the same)."""
    try:
        data = file.read_bytes()
    except OSError as error:
        raise click.ClickException(f"Cannot read {file}: {error.strerror}.") from None
    users_file = bulk.read_users_csv(data)
    with db.transaction() as db_session:
        plan = bulk.plan_import(db_session, None, users_file)
        if not dry_run:
            result = bulk.apply_import(db_session, None, plan, None, invite=invite)
    words = {"create": "create", "update": "update", "unchanged": "unchanged", "refuse": "refused"}
    for row in plan.rows:
        detail = ""
        if row.reasons:
            detail = " — " + " ".join(row.reasons)
        elif row.changes:
            detail = f" ({', '.join(row.changes)})"
        click.echo(f"line {row.line}: {words[row.action]} {row.email}{detail}")
    counts = (
        f"{plan.count('create')} to create, {plan.count('update')} to update, "
        f"{plan.count('unchanged')} unchanged, {plan.refused} refused"
    )
    if dry_run:
        click.echo(f"Dry run: {counts}. Nothing was written; --commit imports the valid lines.")
    else:
        click.echo(
            f"Imported: {counts.replace('to create', 'created').replace('to update', 'updated')}."
        )
        if result.invited:
            click.echo(f"{result.invited} invitation(s) mailed.")
    if plan.refused:
        sys.exit(1)


@users_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--organisation", "organisation_code", default=None, help="Only this subtree.")
@with_appcontext
@fail_cleanly
def users_export(file: Path, organisation_code: str | None) -> None:
    """Write the accounts to FILE in the users CSV format (importing it changes nothing)."""
    db_session = db.session()
    org = (
        accounts.organisation_by_code(db_session, organisation_code) if organisation_code else None
    )
    lines = bulk.export_csv_lines(bulk.users_for_export(db_session, None, org))
    if str(file) == "-":
        for line in lines:
            click.echo(line, nl=False)
        return
    try:
        with file.open("w", encoding="utf-8", newline="") as out:
            out.writelines(lines)
    except OSError as error:
        raise click.ClickException(f"Cannot write {file}: {error.strerror}.") from None


@users_group.command("token")
@click.argument("email")
@click.option("--name", default="", help="What the token is for.")
@click.option(
    "--days",
    default=accounts.TOKEN_DAYS,
    show_default=True,
    type=click.IntRange(1, 3650),
    help="How many days the token works (unless revoked before).",
)
@with_appcontext
@fail_cleanly
def users_token(email: str, name: str, days: int) -> None:
    """Create a personal API token for EMAIL and print it (alone) on stdout."""
    with db.transaction() as db_session:
        user = accounts.user_by_email(db_session, email)
        if user is None:
            raise click.ClickException(f"There is no user with the email {email}.")
        token = accounts.create_token(db_session, user, name, days=days)
    click.echo(token)


@cli.group("report")
def report_group() -> None:
    """Reports (operator level: the whole network unless --organisation narrows it)."""


@report_group.command("completion")
@click.option("--organisation", default=None, help="Organisation code: it and its subtree.")
@click.option("--course", default=None, help="Course slug.")
@click.option("--since", default=None, metavar="YYYY-MM-DD", help="Enrolled or completed from.")
@click.option("--until", default=None, metavar="YYYY-MM-DD", help="Enrolled or completed until.")
@click.option(
    "--status", default=None, help="not_started, in_progress, completed, expired or overdue."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "csv-excel", "xlsx", "json"]),
    required=True,
    help='csv: plain CSV ("," and "."); csv-excel: CSV for Excel in --language '
    '(";" and "," in lt, pl and nb).',
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="The file to write (- for standard output).",
)
@click.option("--sort", default=None, help="Column to sort by, e.g. course or -enrolled.")
@click.option("--language", default=None, help="Language of CSV/XLSX headers and statuses.")
@click.option("--timezone", "timezone_name", default=None, help="Time zone of days and times.")
@with_appcontext
@fail_cleanly
def report_completion(
    organisation: str | None,
    course: str | None,
    since: str | None,
    until: str | None,
    status: str | None,
    fmt: str,
    output: Path,
    sort: str | None,
    language: str | None,
    timezone_name: str | None,
) -> None:
    """Write the completion report, one row per learner and course enrolment."""
    from flask_babel import force_locale

    from vle.reports import services as reports

    config = current_app.config
    language = language or config["DEFAULT_LANGUAGE"]
    if language not in config["LANGUAGES"]:
        raise click.ClickException(f"--language must be one of {', '.join(config['LANGUAGES'])}.")
    timezone_name = timezone_name or config["DEFAULT_TIMEZONE"]
    tz = reports.zone(timezone_name)
    if str(tz) != timezone_name:
        raise click.ClickException(f"Unknown time zone {timezone_name!r}, e.g. Europe/Vilnius.")
    db_session = db.session()
    with force_locale(language):
        filters = reports.resolve_filters(
            db_session, reports.OPERATOR, organisation=organisation, course=course,
            since=since, until=until, status=status, tz=tz,
        )  # fmt: skip
        with db.transaction() as audit_session:
            reports.record_export(
                audit_session, None, None, fmt, filters, reports.OPERATOR,
                reports.parse_sort(sort), "cli",
            )  # fmt: skip
        written = reports.completion_totals(db_session, filters, reports.OPERATOR).enrolled
        chunks = reports.export_chunks(
            fmt, lambda: db_session, filters, reports.OPERATOR, reports.parse_sort(sort), tz
        )
        if str(output) == "-":
            for chunk in chunks:
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
        else:
            # Written beside the target and renamed: never a half-written report.
            partial = output.with_name(output.name + ".part")
            try:
                with partial.open("wb") as file:
                    for chunk in chunks:
                        file.write(chunk)
                partial.replace(output)
            except OSError as error:
                partial.unlink(missing_ok=True)
                raise click.ClickException(f"Cannot write {output}: {error.strerror}.") from None
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
    click.echo(f"{written} row(s) written to {output}.", err=True)


@report_group.command("competencies")
@click.option("--organisation", default=None, help="Organisation code: it and its subtree.")
@click.option("--framework", default=None, help="Framework code.")
@click.option("--competency", default=None, help="Competency code.")
@click.option("--rating", default=None, help="A scale value, proficient or not_proficient.")
@click.option("--since", default=None, metavar="YYYY-MM-DD", help="Rated from.")
@click.option("--until", default=None, metavar="YYYY-MM-DD", help="Rated until.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "csv-excel", "xlsx", "json"]),
    required=True,
    help='csv: plain CSV ("," and "."); csv-excel: CSV for Excel in --language '
    '(";" and "," in lt, pl and nb).',
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="The file to write (- for standard output).",
)
@click.option("--sort", default=None, help="Column to sort by, e.g. competency or -rated.")
@click.option("--language", default=None, help="Language of CSV/XLSX headers and words.")
@click.option("--timezone", "timezone_name", default=None, help="Time zone of days and times.")
@with_appcontext
@fail_cleanly
def report_competencies(
    organisation: str | None,
    framework: str | None,
    competency: str | None,
    rating: str | None,
    since: str | None,
    until: str | None,
    fmt: str,
    output: Path,
    sort: str | None,
    language: str | None,
    timezone_name: str | None,
) -> None:
    """Write the competency report, one row per learner and competency."""
    from flask_babel import force_locale

    from vle.reports import competencies as report
    from vle.reports import scope

    config = current_app.config
    language = language or config["DEFAULT_LANGUAGE"]
    if language not in config["LANGUAGES"]:
        raise click.ClickException(f"--language must be one of {', '.join(config['LANGUAGES'])}.")
    timezone_name = timezone_name or config["DEFAULT_TIMEZONE"]
    tz = scope.zone(timezone_name)
    if str(tz) != timezone_name:
        raise click.ClickException(f"Unknown time zone {timezone_name!r}, e.g. Europe/Vilnius.")
    db_session = db.session()
    with force_locale(language):
        filters = report.resolve_filters(
            db_session, scope.OPERATOR, organisation=organisation, framework=framework,
            competency=competency, rating=rating, since=since, until=until, tz=tz,
        )  # fmt: skip
        order = report.parse_sort(sort)
        with db.transaction() as audit_session:
            report.record_export(
                audit_session, None, None, fmt, filters, scope.OPERATOR, order, "cli"
            )
        written = report.competency_total(db_session, filters, scope.OPERATOR)
        chunks = report.export_chunks(fmt, lambda: db_session, filters, scope.OPERATOR, order, tz)
        if str(output) == "-":
            for chunk in chunks:
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
        else:
            # Written beside the target and renamed: never a half-written report.
            partial = output.with_name(output.name + ".part")
            try:
                with partial.open("wb") as file:
                    for chunk in chunks:
                        file.write(chunk)
                partial.replace(output)
            except OSError as error:
                partial.unlink(missing_ok=True)
                raise click.ClickException(f"Cannot write {output}: {error.strerror}.") from None
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
    click.echo(f"{written} row(s) written to {output}.", err=True)


@cli.group("competencies")
def competencies_group() -> None:
    """Competency frameworks: Moodle's CSV file or vle's YAML, both ways."""


@competencies_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--dry-run/--commit",
    "dry_run",
    default=True,
    show_default=True,
    help="--dry-run (the default) only shows what would change; --commit imports.",
)
@with_appcontext
@fail_cleanly
def competencies_import(file: Path, dry_run: bool) -> None:
    """Import a competency framework from FILE: Moodle's competency framework
    CSV (.csv) or a framework file (.yaml). Updated in place by its code:
    learners' evidence and ratings are kept. Nothing is written when anything
    is wrong (every problem is printed with its line; exit code 1)."""
    from vle.competencies import frameworks, moodle_csv

    warnings: list[str] = []
    try:
        if file.suffix.lower() == ".csv":
            try:
                data = file.read_bytes()
            except OSError as error:
                raise click.ClickException(f"Cannot read {file}: {error.strerror}.") from None
            moodle_file = moodle_csv.read(data, str(file))
            spec, warnings = moodle_file.spec, moodle_file.warnings
        elif file.suffix.lower() in {".yaml", ".yml"}:
            spec = library.read_framework(file)
        else:
            raise click.ClickException(
                "Give Moodle's competency framework file (.csv) or a framework file (.yaml)."
            )
        db_session = db.session()
        errors = frameworks.problems_with_database(db_session, spec)
        errors += frameworks.removal_problems(db_session, spec)
        if errors:
            raise frameworks.FrameworkInvalid(errors)
    except (frameworks.FrameworkInvalid, library.LibraryInvalid) as error:
        for line in error.errors:
            click.echo(line, err=True)
        raise click.ClickException(
            f"{len(error.errors)} problem(s) found; nothing was imported."
        ) from None
    for line in warnings:
        click.echo(f"note: {line}", err=True)
    plan = frameworks.plan_save(db_session, spec)
    verb = (
        "create"
        if plan.framework_created
        else ("update" if plan.framework_changed else "unchanged")
    )
    click.echo(f"framework {spec.code} ({spec.title}): {verb}")
    for word, codes in (("create", plan.created), ("update", plan.updated),
                        ("delete", plan.deleted)):  # fmt: skip
        for code in codes:
            click.echo(f"  {word} {code}")
    counts = (
        f"{len(plan.created)} to create, {len(plan.updated)} to update, "
        f"{len(plan.unchanged)} unchanged, {len(plan.deleted)} to delete"
    )
    if dry_run:
        db_session.rollback()
        click.echo(f"Dry run: {counts}. Nothing was written; --commit imports it.")
        return
    db_session.rollback()
    with db.transaction() as write_session:
        frameworks.save_framework(write_session, spec)
    click.echo(
        "Imported: " + counts.replace("to create", "created").replace("to update", "updated")
        .replace("to delete", "deleted") + "."
    )  # fmt: skip


@competencies_group.command("export")
@click.argument("code")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
@fail_cleanly
def competencies_export(code: str, file: Path) -> None:
    """Write framework CODE to FILE: Moodle's competency framework CSV (.csv,
    imports into Moodle's admin/tool/lpimportcsv) or a framework file (.yaml)."""
    from vle.competencies import frameworks, moodle_csv
    from vle.competencies import services as competencies

    suffix = file.suffix.lower()
    if suffix not in {".csv", ".yaml", ".yml"}:
        raise click.ClickException("Give a .csv (Moodle's file) or a .yaml file to write.")
    db_session = db.session()
    framework = competencies.framework_by_code(db_session, code)
    spec = frameworks.framework_spec(db_session, framework)
    try:
        if suffix == ".csv":
            with file.open("w", encoding="utf-8", newline="") as out:
                out.write(moodle_csv.write(spec))
            for note in moodle_csv.notes_for_moodle(spec):
                click.echo(f"note: {note}", err=True)
        else:
            library.export_framework(db_session, code, file)
    except OSError as error:
        raise click.ClickException(f"Cannot write {file}: {error.strerror}.") from None
    click.echo(f"exported {code} ({len(spec.codes)} competencies) to {file}")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--connections",
    type=click.IntRange(1, 10_000),
    help="Open connections a worker holds at most (default: gunicorn's, 1000). A few per "
    "thread spread kept-alive connections (a proxy's upstream pool) across the workers.",
)
def serve(host: str, port: int, workers: int, threads: int, connections: int | None) -> None:
    """Serve vle with gunicorn (production)."""
    from vle.server import run

    run(host=host, port=port, workers=workers, threads=threads, connections=connections)


@cli.command("demo")
@click.option("--no-serve", is_flag=True, help="Stop once the demo data is in place.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--fresh",
    is_flag=True,
    help="Start afresh: remove the demo's database, queue and uploaded files first.",
)
@with_appcontext
@fail_cleanly
def demo(no_serve: bool, port: int, fresh: bool) -> None:
    """From nothing to a running demo site on SQLite (idempotent)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if fresh:
        try:
            removed = remove_demo_data(app)
        except NotTheDemosOwn as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Started afresh: removed {len(removed)} files and folders of the old demo.")
    upgrade(app)
    with db.transaction() as db_session:
        seed_demo(db_session, Path(app.config["COURSES_PATH"]), app.instance_path)
    click.echo("Demo accounts (email / password):")
    for account in DEMO_ACCOUNTS:
        click.echo(f"  {account.role:8} {account.email:28} {account.password}")
    if no_serve:
        return
    from vle.mail.queue import start_worker, stop_worker
    from vle.server import run

    # Links in mails lead to this demo (unless VLE_BASE_URL says otherwise).
    os.environ.setdefault("VLE_BASE_URL", f"http://127.0.0.1:{port}")
    click.echo(f"Serving on http://127.0.0.1:{port}, with a worker for mail (Ctrl+C stops both)")
    worker = start_worker(app)
    try:
        run(host="127.0.0.1", port=port, workers=1, threads=8)
    finally:
        stop_worker(worker)


@cli.command("worker")
@click.option(
    "--threads", default=2, show_default=True, type=click.IntRange(1, 32), help="Tasks run at once."
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
@with_appcontext
def worker(threads: int, log_level: str) -> None:
    """The background worker: mail, assignments and the periodic tasks (Ctrl+C stops)."""
    from vle.mail.queue import run_consumer

    run_consumer(threads, log_level)


@cli.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
@fail_cleanly
def backup(file: Path) -> None:
    """Back up the whole database and the instance folder's files (uploads,
    badge keys) into FILE, while the site runs."""
    from vle.operations import services as operations

    manifest = operations.backup(db.get_database().engine, current_app.instance_path, file)
    click.echo(
        f"Backed up the {manifest.database} database (schema {manifest.revision}) "
        f"and {manifest.files} files to {file}."
    )


@cli.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that is not empty.")
@with_appcontext
@fail_cleanly
def restore(file: Path, force: bool) -> None:
    """Restore a backup made by `vle backup`: the database and the instance
    folder's files. A database that holds any row is replaced only with --force."""
    from vle.operations import services as operations

    manifest = operations.restore(db.get_database().engine, current_app.instance_path, file, force)
    click.echo(
        f"Restored the {manifest.database} database (schema {manifest.revision}, "
        f"backed up {manifest.created}) and {manifest.files} files from {file}."
    )
    if operations.is_older_than_this_vle(manifest):
        click.echo("Its schema is older than this vle's: run `vle db upgrade` next.")


@cli.group("badges")
def badges_group() -> None:
    """Open Badges: the keys that sign the badges' credentials."""


@badges_group.command("new-key")
@with_appcontext
def badges_new_key() -> None:
    """Generate a new signing key into the instance folder's badge-keys/ (file
    mode 0600). It signs every credential from now on; the older keys stay
    published, so the credentials they signed still verify (remove an old
    key's file only when those may stop verifying)."""
    from vle.competencies import keys

    if current_app.config.get("BADGE_KEY_FILE"):
        raise click.ClickException(
            "VLE_BADGE_KEY_FILE names the keys: put the new key's file first in it instead."
        )
    try:
        path = keys.new_key(keys.key_folder(current_app.config))
        ring = keys.keyring(current_app.config)
    except (OSError, keys.BadgeKeyError) as error:
        raise click.ClickException(str(error)) from None
    assert ring is not None  # noqa: S101 - just written
    click.echo(
        f"{path} signs from now on (key {ring.signing_kid}); {len(ring.published)} key(s) published."
    )


@cli.group("search")
def search_group() -> None:
    """The search over posts, courses and the directory."""


@search_group.command("reindex")
@with_appcontext
@fail_cleanly
def search_reindex() -> None:
    """Index every course, organisation and post afresh (existing data, after upgrades)."""
    from vle.community import search

    with db.transaction() as db_session:
        count = search.reindex(db_session)
    click.echo(f"indexed {count} documents")


@cli.group("monitoring")
def monitoring_group() -> None:
    """The network's monitoring figures."""


@monitoring_group.command("refresh")
@with_appcontext
@fail_cleanly
def monitoring_refresh() -> None:
    """Count the monitoring figures and the cooperating pairs afresh now (the
    worker does every five minutes)."""
    from vle.monitoring import precomputed

    count = precomputed.refresh(everything=True)
    click.echo(f"counted {count} sets of figures")


def main() -> None:
    # `vle demo` runs on the demo settings (SQLite, its own secret key) unless told otherwise.
    if len(sys.argv) > 1 and sys.argv[1] == "demo":
        os.environ.setdefault("VLE_ENV", "demo")
    try:
        cli.main(prog_name="vle")
    except RuntimeError as error:  # configuration problems: one line, no traceback
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)


if __name__ == "__main__":  # `python -m vle.cli`, as vle demo starts its worker
    main()
