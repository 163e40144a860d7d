"""Import and export of the courses/ folder format.

Import validates everything first (vle.library.reader) and writes nothing when
anything is invalid; then it upserts by slug in one transaction: courses by
their folder name, modules by slug within the course, items by slug within the
course (so moving a lesson to another module keeps learners' progress on it).
Modules and items no longer in the files are removed with their progress;
completions already recorded are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from vle.accounts.models import User
from vle.catalog.models import Course, Item, Module
from vle.errors import DomainError, NotFound
from vle.learning import services as learning
from vle.library.reader import CourseSpec, read_library
from vle.quizzes import gift
from vle.quizzes import services as quizzes
from vle.sanitize import markdown_to_html


class LibraryInvalid(DomainError):
    code = "invalid_library"

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class ImportResult:
    created: list[str]
    updated: list[str]


def import_paths(db_session: Session, paths: list[Path]) -> ImportResult:
    """Import every course under `paths`, or raise LibraryInvalid with every error."""
    library = read_library(paths)
    errors = list(library.errors)
    known_codes = (
        set().union(*(f.codes for f in library.frameworks)) if library.frameworks else None
    )
    trainers: dict[str, User] = {}
    for spec in library.courses:
        if known_codes is not None:
            for code in spec.competencies:
                if code not in known_codes:
                    errors.append(f"{spec.path / 'course.yaml'}: unknown competency code “{code}”")
        for email in spec.trainers:
            user = db_session.scalar(select(User).where(User.email == email.lower()))
            if user is None:
                errors.append(
                    f"{spec.path / 'course.yaml'}: no user with the email “{email}” (trainers)"
                )
            else:
                trainers[email] = user
    if errors:
        raise LibraryInvalid(errors)
    result = ImportResult(created=[], updated=[])
    for spec in library.courses:
        course = db_session.scalar(
            select(Course)
            .where(Course.slug == spec.slug)
            .options(selectinload(Course.modules).selectinload(Module.items))
        )
        if course is None:
            course = Course(slug=spec.slug)
            db_session.add(course)
            result.created.append(spec.slug)
        else:
            result.updated.append(spec.slug)
        _write_course(db_session, course, spec, [trainers[e] for e in spec.trainers])
    return result


def _write_course(
    db_session: Session, course: Course, spec: CourseSpec, trainers: list[User]
) -> None:
    course.title = spec.title
    course.summary = spec.summary
    course.language = spec.language
    course.status = spec.status
    course.enrolment_key = spec.enrolment_key
    course.starts, course.ends = spec.starts, spec.ends
    course.validity_months = spec.validity_months
    course.competencies = spec.competencies
    course.completion_rule = spec.completion
    if trainers:
        course.trainers = trainers
    modules = {m.slug: m for m in course.modules}
    items = {i.slug: i for m in course.modules for i in m.items}
    kept_modules: list[Module] = []
    for position, module_spec in enumerate(spec.modules, start=1):
        module = modules.pop(module_spec.slug, None) or Module(slug=module_spec.slug)
        module.position, module.prefix, module.title = (
            position,
            module_spec.prefix,
            module_spec.title,
        )
        kept_modules.append(module)
        kept_items: list[Item] = []
        for item_position, item_spec in enumerate(module_spec.items, start=1):
            item = items.pop(item_spec.slug, None) or Item(slug=item_spec.slug)
            item.position, item.prefix = item_position, item_spec.prefix
            item.kind, item.title = item_spec.kind, item_spec.title
            item.required, item.minutes = item_spec.required, item_spec.minutes
            item.source, item.settings = item_spec.source, item_spec.settings
            item.body_html = (
                markdown_to_html(item_spec.source) if item_spec.kind == "lesson" else ""
            )
            kept_items.append(item)
        module.items = kept_items
    course.modules = kept_modules  # orphans (and their items) are deleted
    for item in items.values():
        db_session.delete(item)
    db_session.flush()
    for module_spec, module in zip(spec.modules, course.modules, strict=True):
        for item_spec, item in zip(module_spec.items, module.items, strict=True):
            if item.kind == "quiz":
                quizzes.sync_questions(db_session, item, item_spec.questions)
    learning.recount_course(db_session, course)


def export_course(db_session: Session, slug: str, target: Path) -> Path:
    """Write course `slug` in the courses/ layout to `target`/<slug> (or to
    `target` itself when its name is the slug). Returns the course folder."""
    course = db_session.scalar(
        select(Course)
        .where(Course.slug == slug)
        .options(
            selectinload(Course.modules).selectinload(Module.items), selectinload(Course.trainers)
        )
    )
    if course is None:
        raise NotFound(f"There is no course “{slug}”.")
    folder = target if target.name == slug else target / slug
    folder.mkdir(parents=True, exist_ok=True)
    data: dict[str, object] = {"title": course.title}
    if course.summary:
        data["summary"] = course.summary
    data["language"] = course.language
    data["status"] = course.status
    for key in ("enrolment_key", "starts", "ends", "validity_months"):
        if getattr(course, key) is not None:
            data[key] = getattr(course, key)
    if course.competencies:
        data["competencies"] = list(course.competencies)
    data["completion"] = course.completion_rule
    if course.trainers:
        data["trainers"] = [t.email for t in course.trainers]
    _write_yaml(folder / "course.yaml", data)
    for module in course.modules:
        module_dir = folder / f"{module.prefix or f'{module.position:02d}'}-{module.slug}"
        module_dir.mkdir(exist_ok=True)
        _write_yaml(module_dir / "module.yaml", {"title": module.title})
        for item in module.items:
            stem = f"{item.prefix or f'{item.position:02d}'}-{item.slug}"
            if item.kind == "lesson":
                front: dict[str, object] = {"title": item.title, "required": item.required}
                if item.minutes is not None:
                    front["minutes"] = item.minutes
                header = yaml.safe_dump(front, allow_unicode=True, sort_keys=False)
                (module_dir / f"{stem}.md").write_text(
                    f"---\n{header}---\n{item.source}", encoding="utf-8"
                )
            elif item.kind == "quiz":
                questions = [
                    gift.Question.from_dict(q.spec) for q in quizzes.questions_of(db_session, item)
                ]
                (module_dir / f"{stem}.gift").write_text(gift.write(questions), encoding="utf-8")
                settings = {"title": item.title, "required": item.required}
                settings.update({k: v for k, v in item.settings.items() if v is not None})
                _write_yaml(module_dir / f"{stem}.yaml", settings)
    return folder


def _write_yaml(path: Path, data: dict[str, object]) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
