"""The course as a whole in the trainer's editor: My courses by status, New
course, Copy, the course's settings and its publishing.

The rules are the course files' (vle/library/reader.py): the same slugs,
languages, lengths, date order, validity and completion rules, so a course
made here exports as files that import again. Every change is audited
(`editing.record`) and every save of the settings or the status checks the
version the trainer's form was opened on (`editing.expect_version`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from vle.accounts.models import Organisation, Role, User
from vle.authoring import editing
from vle.authoring import services as desk
from vle.authoring.services import CourseLine, FieldError
from vle.catalog.models import (
    HOURS_MAX,
    Course,
    CourseStatus,
    Item,
    Module,
    course_trainers,
    hours_allowed,
)
from vle.competencies import frameworks
from vle.competencies.frameworks import OUTCOMES, LinkSpec
from vle.competencies.models import Competency
from vle.errors import Forbidden, Invalid
from vle.learning.models import Enrolment
from vle.library.reader import COMPLETION_RULES, HINT_MAX, LANGUAGES, SLUG
from vle.quizzes import services as quizzes
from vle.quizzes.models import Question

TITLE_MAX = 300  # courses.title
SUMMARY_MAX = 20_000
KEY_MAX = 100  # courses.enrolment_key
VALIDITY_MIN, VALIDITY_MAX = 1, 600  # as course.yaml's validity_months
STATUS_ORDER = (CourseStatus.DRAFT, CourseStatus.PUBLISHED, CourseStatus.ARCHIVED)
# Where a course may go from where it is (PRODUCT.md: draft → published →
# archived, and back). A draft that never was published is not archived: it
# is simply not published.
MOVES = {
    CourseStatus.DRAFT: {CourseStatus.PUBLISHED},
    CourseStatus.PUBLISHED: {CourseStatus.ARCHIVED, CourseStatus.DRAFT},
    CourseStatus.ARCHIVED: {CourseStatus.PUBLISHED, CourseStatus.DRAFT},
}

# --------------------------------------------------------------------------- slugs


def free_slug(db_session: Session, base: str) -> str:
    """`base` if no course has it, else the first free `base-2`, `base-3`, …"""
    taken = set(
        db_session.scalars(
            select(Course.slug).where(
                (Course.slug == base) | Course.slug.startswith(f"{base[:90]}-", autoescape=True)
            )
        )
    )
    return editing.unique_slug(base, taken)


def _chosen_slug(db_session: Session, slug: str | None, title: str) -> str:
    """The slug the trainer gave (it must follow the rule and be free), or one
    derived from the title."""
    slug = (slug or "").strip()
    if not slug:
        return free_slug(db_session, editing.slug_from_title(title, "course"))
    if not SLUG.match(slug):
        raise FieldError(
            str(_l("Use lowercase letters a–z, digits and hyphens, starting with a letter or digit (at most 100).")),
            "slug",
        )  # fmt: skip
    if db_session.scalar(select(exists().where(Course.slug == slug))):
        raise FieldError(
            str(_l("Another course already has this short name; choose another or leave it empty.")),
            "slug",
        )  # fmt: skip
    return slug


def _title(title: str | None) -> str:
    title = (title or "").strip()
    if not title:
        raise FieldError(str(_l("A course needs a title.")), "title")
    if len(title) > TITLE_MAX:
        raise FieldError(str(_l("At most %(n)d characters.", n=TITLE_MAX)), "title")
    return title


def _language(language: str | None) -> str:
    if language not in LANGUAGES:
        raise FieldError(str(_l("Choose one of the languages offered.")), "language")
    return language


def _summary(summary: str | None) -> str:
    summary = (summary or "").strip()
    if len(summary) > SUMMARY_MAX:
        raise FieldError(str(_l("At most %(n)d characters.", n=SUMMARY_MAX)), "summary")
    return summary


def _may_author(user: User) -> None:
    if getattr(user, "role", None) not in (Role.TRAINER, Role.ADMIN):
        raise Forbidden(str(_l("Only trainers and administrators make courses.")))


# --------------------------------------------------------------------------- My courses


@dataclass
class Home:
    """My courses: the courses `user` teaches by status (draft, published,
    archived), and for an administrator the courses of their organisations'
    trainers."""

    by_status: dict[str, list[CourseLine]]
    organisations: list[OrganisationCourse] = field(default_factory=list)

    @property
    def teaches(self) -> bool:
        return any(self.by_status.values())


@dataclass(frozen=True)
class OrganisationCourse:
    course: Course
    learners: int
    editable: bool


def home(db_session: Session, user: User, today: date) -> Home:
    """The trainer's home: the courses `user` teaches, grouped by status with
    their counts (`services.my_courses`), and, for an administrator, every
    course with a trainer in their organisation subtree (a network
    administrator: every course) that they do not teach, by title, with its
    enrolled learners. A fixed number of queries."""
    lines = desk.my_courses(db_session, user, today)
    by_status: dict[str, list[CourseLine]] = {str(s): [] for s in STATUS_ORDER}
    for line in lines:
        by_status.setdefault(line.course.status, []).append(line)
    return Home(by_status, organisation_courses(db_session, user, {x.course.id for x in lines}))


def organisation_courses(
    db_session: Session, user: User, taught: set[int] | None = None
) -> list[OrganisationCourse]:
    """For an administrator: the courses with a trainer in their subtree
    (network administrators: all), except those in `taught`, by title, with
    the number of learners enrolled. Empty for anyone else."""
    if not getattr(user, "is_admin", False):
        return []
    query = select(Course).options(selectinload(Course.trainers)).order_by(Course.title, Course.id)
    if not user.is_network_admin:
        in_scope = (
            select(course_trainers.c.course_id)
            .join(User, User.id == course_trainers.c.user_id)
            .join(Organisation, Organisation.id == User.organisation_id)
            .where(Organisation.path.startswith(user.organisation.path, autoescape=True))
        )
        query = query.where(Course.id.in_(in_scope))
    if taught:
        query = query.where(Course.id.not_in(taught))
    courses = list(db_session.scalars(query))
    if not courses:
        return []
    counts = dict(
        db_session.execute(
            select(Enrolment.course_id, func.count(Enrolment.id))
            .where(Enrolment.course_id.in_([c.id for c in courses]), Enrolment.ended_at.is_(None))
            .group_by(Enrolment.course_id)
        ).all()
    )
    return [OrganisationCourse(c, counts.get(c.id, 0), c.can_edit(user)) for c in courses]


# --------------------------------------------------------------------------- new course


def create_course(
    db_session: Session,
    user: User,
    address: str | None,
    *,
    title: str,
    slug: str | None = None,
    language: str = "en",
    summary: str = "",
) -> Course:
    """A new draft course made by a trainer or an administrator, who is its
    trainer. Its slug is the one given (the files' rule, and free) or derived
    from the title (made unique with -2, -3, …). It starts with one empty
    module, "Module 1", for the editor to add items to."""
    _may_author(user)
    title = _title(title)
    language = _language(language)
    summary = _summary(summary)
    slug = _chosen_slug(db_session, slug, title)
    course = Course(
        slug=slug,
        title=title,
        summary=summary,
        language=language,
        status=CourseStatus.DRAFT,
        competencies=[],
        completion_rule="all_required",
        trainers=[user],
    )
    course.modules.append(Module(slug="module-1", position=1, title="Module 1", prefix="01"))
    db_session.add(course)
    editing.record(db_session, user, address, "course_created", course, {"slug": slug})
    return course


# --------------------------------------------------------------------------- copy


def copy_course(
    db_session: Session,
    user: User,
    address: str | None,
    source: Course,
    *,
    title: str,
    slug: str | None = None,
) -> Course:
    """A copy of `source`'s content as a new draft taught by `user`: its
    settings, modules, items (text, settings and file references alike), each
    quiz's questions and its competency links. No learners, enrolments,
    progress, attempts or assignments come along. Whoever may read the course
    in the editor (`editing.can_read`) may copy it."""
    _may_author(user)
    if not editing.can_read(source, user):
        raise Forbidden(str(_l("You may not copy this course.")))
    title = _title(title)
    slug = _chosen_slug(db_session, slug, title)
    course = Course(
        slug=slug,
        title=title,
        summary=source.summary,
        language=source.language,
        status=CourseStatus.DRAFT,
        enrolment_key=source.enrolment_key,
        enrolment_key_hint=source.enrolment_key_hint,
        starts=source.starts,
        ends=source.ends,
        validity_months=source.validity_months,
        hours=source.hours,
        issuer_id=source.issuer_id,
        competencies=list(source.competencies or []),
        completion_rule=source.completion_rule,
        trainers=[user],
    )
    copied: list[tuple[Item, Item]] = []
    for module in source.modules:
        new_module = Module(
            slug=module.slug, position=module.position, title=module.title, prefix=module.prefix
        )
        for item in module.items:
            new_item = Item(
                slug=item.slug,
                position=item.position,
                prefix=item.prefix,
                kind=item.kind,
                title=item.title,
                required=item.required,
                minutes=item.minutes,
                body_html=item.body_html,
                source=item.source,
                settings=copy.deepcopy(item.settings or {}),
            )
            new_module.items.append(new_item)
            copied.append((item, new_item))
        course.modules.append(new_module)
    db_session.add(course)
    db_session.flush()
    new_ids = {old.id: new.id for old, new in copied}
    quiz_ids = [old.id for old, _new in copied if old.kind == "quiz"]
    if quiz_ids:
        for question in db_session.scalars(
            select(Question).where(Question.item_id.in_(quiz_ids)).order_by(Question.id)
        ):
            db_session.add(
                Question(
                    item_id=new_ids[question.item_id],
                    position=question.position,
                    category=question.category,
                    type=question.type,
                    title=question.title,
                    text_html=question.text_html,
                    spec=copy.deepcopy(question.spec),
                )
            )
    links = [
        (None if item_id is None else new_ids[item_id], link)
        for item_id, item_links in frameworks.links_of(db_session, source.id).items()
        if item_id is None or item_id in new_ids
        for link in item_links
    ]
    frameworks.sync_links(db_session, course.id, links)
    editing.record(
        db_session, user, address, "course_copied", course, {"slug": slug, "from": source.slug}
    )
    return course


# --------------------------------------------------------------------------- settings


@dataclass
class Settings:
    """What the settings form holds. `remove_trainers`: user ids;
    `add_trainer`: an e-mail address or empty; `links`: the course-level
    competency links wanted (code, outcome) in order."""

    title: str
    summary: str = ""
    language: str = "en"
    enrolment_key: str | None = None
    enrolment_key_hint: str = ""
    starts: date | None = None
    ends: date | None = None
    validity_months: int | None = None
    completion_rule: str = "all_required"
    hours: float | None = None
    issuer_id: int | None = None
    remove_trainers: list[int] = field(default_factory=list)
    add_trainer: str = ""
    links: list[LinkSpec] = field(default_factory=list)


def course_links(db_session: Session, course: Course) -> list[tuple[Competency, str]]:
    """The course-level competency links (the competency, the outcome), in the
    order written."""
    links = frameworks.links_of(db_session, course.id).get(None, [])
    found = {
        c.code: c
        for c in db_session.scalars(
            select(Competency).where(Competency.code.in_([link.code for link in links]))
        )
    }
    return [(found[link.code], link.outcome) for link in links if link.code in found]


def competency_by_code(db_session: Session, code: str) -> Competency | None:
    return db_session.scalar(select(Competency).where(Competency.code == code.strip()))


def _root(organisation: Organisation) -> str:
    """The path of the top-level organisation of `organisation`'s tree ("/1/")."""
    first = organisation.path.strip("/").split("/")[0]
    return f"/{first}/"


def issuer_choices(db_session: Session, editor: User, course: Course) -> list[Organisation]:
    """The organisations the editor may name as the course's issuer, by name:
    those in the top-level tree of the editor or of one of the course's
    trainers (`_new_trainer`'s rule; a network administrator: any), and the
    issuer it has now."""
    query = select(Organisation).order_by(Organisation.name, Organisation.id)
    if not editor.is_network_admin:
        roots = {_root(t.organisation) for t in course.trainers} | {_root(editor.organisation)}
        query = query.where(
            or_(
                *(Organisation.path.startswith(root, autoescape=True) for root in sorted(roots)),
                Organisation.id == course.issuer_id,
            )
        )
    return list(db_session.scalars(query))


def _new_trainer(db_session: Session, editor: User, course: Course, email: str) -> User:
    """The person to add as a trainer: an active trainer or administrator
    whose organisation is in the top-level tree of one of the course's
    trainers or of the editor (a network administrator adds anyone)."""
    email = email.strip().lower()
    person = db_session.scalar(select(User).where(User.email == email))
    if person is None or person.is_erased:
        raise FieldError(
            str(_l("No one has the e-mail address “%(email)s”.", email=email)), "add_trainer"
        )
    if not person.active:
        raise FieldError(
            str(_l("%(email)s is deactivated and cannot teach.", email=email)), "add_trainer"
        )
    if person.role not in (Role.TRAINER, Role.ADMIN):
        raise FieldError(
            str(
                _l(
                    "%(email)s is a learner: only trainers and administrators teach a course.",
                    email=email,
                )
            ),
            "add_trainer",
        )
    if not editor.is_network_admin:
        roots = {_root(t.organisation) for t in course.trainers} | {_root(editor.organisation)}
        if not any(person.organisation.path.startswith(root) for root in roots):
            raise FieldError(
                str(
                    _l(
                        "%(email)s belongs to an organisation outside this course's organisations.",
                        email=email,
                    )
                ),
                "add_trainer",
            )
    return person  # fmt: skip


def save_settings(
    db_session: Session,
    user: User,
    address: str | None,
    course: Course,
    values: Settings,
    version: int | None,
) -> list[str]:
    """Save the course's settings from its settings form, opened on
    `version` (EditConflict when the course was saved since). The rules are
    course.yaml's: a title, a known language, a key of at most 100
    characters and its hint of at most 200, an end not before the start, a
    validity of 1–600 months, a known completion rule, a length in hours
    (`hours_allowed`), an issuer the editor may name (`issuer_choices`),
    known competency codes with known outcomes.
    Trainers are added by e-mail (`_new_trainer`'s rule) and removed by id;
    a course keeps one trainer at least unless a network administrator saves.
    Course-level competency links are replaced; the items' links stay.
    Returns the names of the fields changed (also in the audit entry);
    nothing is changed when anything is wrong."""
    title = _title(values.title)
    summary = _summary(values.summary)
    language = _language(values.language)
    key = (values.enrolment_key or "").strip() or None
    if key is not None and len(key) > KEY_MAX:
        raise FieldError(str(_l("At most %(n)d characters.", n=KEY_MAX)), "enrolment_key")
    hint = (values.enrolment_key_hint or "").strip()
    if len(hint) > HINT_MAX:
        raise FieldError(str(_l("At most %(n)d characters.", n=HINT_MAX)), "enrolment_key_hint")
    if values.hours is not None and not hours_allowed(values.hours):
        raise FieldError(
            str(_l("More than 0 and at most %(max)d hours, to one decimal place (8 or 1.5).",
                   max=HOURS_MAX)),
            "hours",
        )  # fmt: skip
    if values.issuer_id is not None and values.issuer_id not in {
        o.id for o in issuer_choices(db_session, user, course)
    }:
        raise FieldError(str(_l("Choose one of the organisations offered.")), "issuer")
    if values.starts and values.ends and values.ends < values.starts:
        raise FieldError(str(_l("The end date is before the start date.")), "ends")
    months = values.validity_months
    if months is not None and not VALIDITY_MIN <= months <= VALIDITY_MAX:
        raise FieldError(
            str(_l("A whole number of months from %(a)d to %(b)d.", a=VALIDITY_MIN, b=VALIDITY_MAX)),
            "validity_months",
        )  # fmt: skip
    if values.completion_rule not in COMPLETION_RULES:
        raise FieldError(str(_l("Choose one of the rules offered.")), "completion_rule")
    trainers = [t for t in course.trainers if t.id not in set(values.remove_trainers)]
    if values.add_trainer.strip():
        person = _new_trainer(db_session, user, course, values.add_trainer)
        if all(t.id != person.id for t in trainers):
            trainers.append(person)
    if not trainers and not user.is_network_admin:
        raise FieldError(
            str(_l("A course keeps one trainer at least: add another before removing the last.")),
            "add_trainer",
        )
    seen: set[str] = set()
    links: list[LinkSpec] = []
    for link in values.links:
        code = link.code.strip()
        if link.outcome not in OUTCOMES:
            raise FieldError(str(_l("Choose one of the outcomes offered.")), "add_outcome")
        if code in seen:
            continue
        if competency_by_code(db_session, code) is None:
            raise FieldError(
                str(_l("There is no competency with the code “%(code)s”.", code=code)), "add_competency"
            )  # fmt: skip
        seen.add(code)
        links.append(LinkSpec(code, link.outcome))
    editing.expect_version(course, version)
    all_links = frameworks.links_of(db_session, course.id)
    old_links = all_links.get(None, [])
    new_values = {
        "title": title,
        "summary": summary,
        "language": language,
        "enrolment_key": key,
        "enrolment_key_hint": hint,
        "starts": values.starts,
        "ends": values.ends,
        "validity_months": months,
        "completion_rule": values.completion_rule,
        "hours": values.hours,
        "issuer_id": values.issuer_id,
    }
    changed = [name for name, value in new_values.items() if getattr(course, name) != value]
    for name in changed:
        setattr(course, name, new_values[name])
    if [t.id for t in trainers] != [t.id for t in course.trainers]:
        changed.append("trainers")
        course.trainers = trainers
    if links != old_links:
        changed.append("competencies")
        course.competencies = [link.code for link in links]
        wanted: list[tuple[int | None, LinkSpec]] = [(None, link) for link in links]
        wanted += [
            (item_id, link)
            for item_id, item_links in all_links.items()
            if item_id is not None  # the items' own links stay as they are
            for link in item_links
        ]
        frameworks.sync_links(db_session, course.id, wanted)
    editing.record(db_session, user, address, "settings_saved", course, {"fields": changed})
    return changed


# --------------------------------------------------------------------------- publishing


def set_status(
    db_session: Session,
    user: User,
    address: str | None,
    course: Course,
    status: str,
    version: int | None,
) -> None:
    """Move the course between draft, published and archived (`MOVES`), from
    a page opened on `version`. A course without any item, or with a quiz
    without a question, is not published.
    Enrolments, progress and completions are never touched: an archived
    course keeps its learners' records, and a course back from draft its
    learners."""
    if status not in MOVES.get(CourseStatus(course.status), set()):
        raise Invalid(str(_l("A course cannot go from %(a)s to %(b)s.", a=status_name(course.status), b=status_name(status))))  # fmt: skip
    if status == CourseStatus.PUBLISHED and not course.items:
        raise Invalid(
            str(_l("A course without any item cannot be published: add a lesson, quiz, file or link first."))
        )  # fmt: skip
    empty = quizzes.without_questions(db_session, course.items)
    if status == CourseStatus.PUBLISHED and empty:
        raise Invalid(
            str(_l("The quiz “%(title)s” has no questions yet: add one before publishing the course.", title=empty[0].title))
        )  # fmt: skip
    editing.expect_version(course, version)
    old = course.status
    course.status = status
    editing.record(db_session, user, address, "status_changed", course, {"from": old, "to": status})


def status_name(status: str) -> str:
    return str(
        {
            CourseStatus.DRAFT: _l("draft"),
            CourseStatus.PUBLISHED: _l("published"),
            CourseStatus.ARCHIVED: _l("archived"),
        }.get(status, status)  # type: ignore[call-overload]
    )


def moves(course: Course) -> list[str]:
    """The statuses the course may go to now, in the order draft, published, archived."""
    allowed = MOVES.get(CourseStatus(course.status), set())
    return [str(s) for s in STATUS_ORDER if s in allowed]


def trainers_of(course: Course) -> list[User]:
    return sorted(course.trainers, key=lambda t: (t.name.lower(), t.email))
