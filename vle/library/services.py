"""Import and export of the courses/ folder format.

Import validates everything first (vle.library.reader) and writes nothing when
anything is invalid; then it upserts by slug in one transaction: courses by
their folder name, modules by slug within the course, items by slug within the
course (so moving a lesson to another module keeps learners' progress on it).
Modules and items no longer in the files are removed with their progress;
completions already recorded are kept.

File items: their bytes are checked by content when read (vle.uploads) and
kept in the instance folder (`vle.uploads.store`, content-addressed) when the
import writes; export writes them back from there. Both need the instance
folder (`instance_path`), given by the caller (the CLI, the editor's zip).

Competency frameworks (competencies/*.yaml) are written first, in place by
code (vle.competencies.frameworks.save_framework), then the courses, then each
course's competency links (course.yaml, a lesson's front matter, a quiz's
settings) replace the course's old links; evidence already recorded is never
touched. A linked code must be in a framework of the import or already in the
database.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from vle import uploads
from vle.accounts.models import Organisation, User
from vle.catalog import services as catalog
from vle.catalog.models import Course, Item, Module
from vle.competencies import frameworks as competency_frameworks
from vle.competencies.frameworks import FrameworkSpec, LinkSpec
from vle.competencies.models import Competency, Framework
from vle.errors import DomainError, NotFound
from vle.learning import services as learning
from vle.library.reader import (
    DEFAULT_MAX_FILE_BYTES,
    CourseSpec,
    Library,
    read_framework_file,
    read_library,
)
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
    frameworks: list[str] = field(default_factory=list)  # their codes


@dataclass
class CheckedLibrary:
    """What `check_paths` found: the library read, every problem (files and
    database: unknown competency codes, unknown trainers, frameworks that
    clash) and the trainers named by the courses' files."""

    library: Library
    errors: list[str]
    trainers: dict[str, User]
    relinked: set[int]
    issuers: dict[str, Organisation] = field(default_factory=dict)  # by code


def check_paths(
    db_session: Session, paths: list[Path], max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> CheckedLibrary:
    """Read and check everything under `paths` as the import does, writing nothing."""
    library = read_library(paths, max_file_bytes)
    errors = list(library.errors)
    imported = {spec.code for spec in library.frameworks}
    known_codes = set(
        db_session.scalars(
            select(Competency.code)
            .join(Framework, Framework.id == Competency.framework_id)
            .where(Framework.code.not_in(imported))
        )
    )
    for framework_spec in library.frameworks:
        known_codes |= framework_spec.codes
    trainers: dict[str, User] = {}
    issuers: dict[str, Organisation] = {}
    for spec in library.courses:
        for where, links in _links_of_spec(spec):
            for link in links:
                if link.code not in known_codes:
                    errors.append(f"{where}: unknown competency code “{link.code}”")
        for email in spec.trainers:
            user = db_session.scalar(select(User).where(User.email == email.lower()))
            if user is None:
                errors.append(
                    f"{spec.path / 'course.yaml'}: no user with the email “{email}” (trainers)"
                )
            else:
                trainers[email] = user
        if spec.issuer is not None and spec.issuer not in issuers:
            organisation = db_session.scalar(
                select(Organisation).where(Organisation.code == spec.issuer)
            )
            if organisation is None:
                errors.append(
                    f"{spec.path / 'course.yaml'}: no organisation with the code “{spec.issuer}” (issuer)"
                )
            else:
                issuers[spec.issuer] = organisation
    relinked = set(
        db_session.scalars(
            select(Course.id).where(Course.slug.in_([spec.slug for spec in library.courses]))
        )
    )
    if not errors:
        for framework_spec in library.frameworks:
            errors += competency_frameworks.problems_with_database(db_session, framework_spec)
            errors += competency_frameworks.removal_problems(db_session, framework_spec, relinked)
    return CheckedLibrary(library, errors, trainers, relinked, issuers)


def import_paths(
    db_session: Session,
    paths: list[Path],
    instance_path: str | os.PathLike[str] | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> ImportResult:
    """Import every framework and course under `paths`, or raise LibraryInvalid
    with every error. File items' bytes are kept under `instance_path`; a
    library with file items needs it."""
    checked = check_paths(db_session, paths, max_file_bytes)
    return import_checked(db_session, checked, instance_path)


def import_checked(
    db_session: Session, checked: CheckedLibrary, instance_path: str | os.PathLike[str] | None
) -> ImportResult:
    """Write what `check_paths` read, or raise LibraryInvalid when it found a problem."""
    library, errors = checked.library, list(checked.errors)
    files = [
        item
        for spec in library.courses
        for module in spec.modules
        for item in module.items
        if item.kind == "file"
    ]
    if files and instance_path is None:
        errors.append(f"{files[0].path}: file items need the instance folder to be kept in")
    if errors:
        raise LibraryInvalid(errors)
    for item in files:
        # Content-addressed: the same bytes are kept once, and a failed
        # import leaves only unreferenced copies behind, never a wrong one.
        assert instance_path is not None
        uploads.store(instance_path, item.path.read_bytes())
    result = ImportResult(created=[], updated=[])
    for framework_spec in library.frameworks:
        competency_frameworks.save_framework(db_session, framework_spec, checked.relinked)
        result.frameworks.append(framework_spec.code)
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
        issuer = checked.issuers[spec.issuer] if spec.issuer is not None else None
        _write_course(
            db_session, course, spec, [checked.trainers[e] for e in spec.trainers], issuer
        )
    return result


def _links_of_spec(spec: CourseSpec) -> list[tuple[str, list[LinkSpec]]]:
    """Where each list of links of a course's files is written, and the list."""
    found = [(spec.links_at or str(spec.path / "course.yaml"), spec.links)]
    for module in spec.modules:
        for item in module.items:
            found.append((item.links_at or str(item.path), item.links))
    return found


def _write_course(
    db_session: Session,
    course: Course,
    spec: CourseSpec,
    trainers: list[User],
    issuer: Organisation | None,
) -> None:
    if course.id is not None:
        # What learners did on items the files no longer hold stays in their
        # history; copied before anything is flushed (the items' rows go then).
        kept = {item.slug for module in spec.modules for item in module.items}
        learning.keep_removed_progress(
            db_session,
            [item for module in course.modules for item in module.items if item.slug not in kept],
            course.id,
        )
    course.title = spec.title
    course.summary = spec.summary
    course.language = spec.language
    course.status = spec.status
    course.enrolment_key = spec.enrolment_key
    course.enrolment_key_hint = spec.enrolment_key_hint
    course.starts, course.ends = spec.starts, spec.ends
    course.validity_months = spec.validity_months
    course.hours = spec.hours
    course.issuer = issuer
    course.competencies = spec.competencies
    course.completion_rule = spec.completion
    if trainers:
        course.trainers = trainers
    catalog.bump_version(db_session, course)
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
        catalog.bump_version(db_session, module)
        kept_modules.append(module)
        kept_items: list[Item] = []
        for item_position, item_spec in enumerate(module_spec.items, start=1):
            item = items.pop(item_spec.slug, None) or Item(slug=item_spec.slug)
            item.position, item.prefix = item_position, item_spec.prefix
            # Rendering Markdown is most of an import's time: a lesson whose
            # text is as it was keeps the HTML it was given then.
            rendered = item.id is not None and (item.kind, item.source) == (
                item_spec.kind,
                item_spec.source,
            )
            item.kind, item.title = item_spec.kind, item_spec.title
            item.required, item.minutes = item_spec.required, item_spec.minutes
            item.source, item.settings = item_spec.source, item_spec.settings
            if not rendered:
                item.body_html = (
                    markdown_to_html(item_spec.source) if item_spec.kind != "quiz" else ""
                )
            catalog.bump_version(db_session, item)
            kept_items.append(item)
        module.items = kept_items
    course.modules = kept_modules  # orphans (and their items) are deleted
    for item in items.values():
        db_session.delete(item)
    db_session.flush()
    links: list[tuple[int | None, LinkSpec]] = [(None, link) for link in spec.links]
    for module_spec, module in zip(spec.modules, course.modules, strict=True):
        for item_spec, item in zip(module_spec.items, module.items, strict=True):
            if item.kind == "quiz":
                quizzes.sync_questions(db_session, item, item_spec.questions)
            links += [(item.id, link) for link in item_spec.links]
    competency_frameworks.sync_links(db_session, course.id, links)
    learning.recount_course(db_session, course)


def export_course(
    db_session: Session,
    slug: str,
    target: Path,
    instance_path: str | os.PathLike[str] | None = None,
) -> Path:
    """Write course `slug` in the courses/ layout to `target`/<slug> (or to
    `target` itself when its name is the slug). Returns the course folder.
    File items are copied from where the instance folder keeps them
    (`instance_path`, needed when the course has any)."""
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
    if course.enrolment_key_hint:
        data["enrolment_key_hint"] = course.enrolment_key_hint
    if course.hours is not None:
        # 8, not 8.0: the file reads as a person writes it, and reads back the same.
        data["hours"] = int(course.hours) if course.hours.is_integer() else course.hours
    if course.issuer is not None:
        data["issuer"] = course.issuer.code
    links = competency_frameworks.links_of(db_session, course.id)
    if links.get(None):
        data["competencies"] = _links_data(links[None])
    elif course.competencies:
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
                if links.get(item.id):
                    front["competencies"] = _links_data(links[item.id])
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
                if links.get(item.id):
                    settings["competencies"] = _links_data(links[item.id])
                _write_yaml(module_dir / f"{stem}.yaml", settings)
            elif item.kind == "link":
                link: dict[str, object] = {
                    "title": item.title,
                    "url": item.settings.get("url", ""),
                    "required": item.required,
                }
                if item.minutes is not None:
                    link["minutes"] = item.minutes
                _describe(link, item.source, links.get(item.id))
                _write_yaml(module_dir / f"{stem}.yaml", link)
            elif item.kind == "file":
                _export_file(module_dir, stem, item, links.get(item.id), instance_path)
    if folder != target:
        # Into a library folder: the frameworks it links go beside it, so
        # the folder imports on its own.
        for code in competency_frameworks.framework_codes_of_course(db_session, course.id):
            export_framework(db_session, code, _framework_path(target / "competencies", code))
    return folder


def _describe(data: dict[str, object], source: str, links: list[LinkSpec] | None) -> None:
    """A link's or a file's description and competencies, when it has them."""
    if source.strip():
        data["description"] = source.strip("\n") + "\n"
    if links:
        data["competencies"] = _links_data(links)


def _export_file(
    module_dir: Path,
    stem: str,
    item: Item,
    links: list[LinkSpec] | None,
    instance_path: str | os.PathLike[str] | None,
) -> None:
    """A file item: its bytes as NN-slug.<ext>, and NN-slug.yaml beside them."""
    stored = item.settings.get("file") or {}
    name = str(stored.get("name") or "")
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in _FILE_EXTENSIONS:
        extension = uploads.ALLOWED.get(str(stored.get("type")), ("",))[0]
    if instance_path is None or not extension:
        raise LibraryInvalid([f"{item.title}: the file item cannot be exported"])
    try:
        data = uploads.read(instance_path, str(stored.get("sha256")))
    except (OSError, ValueError):
        raise LibraryInvalid(
            [f"{item.title}: the file “{name}” is missing from the instance folder"]
        ) from None
    (module_dir / f"{stem}.{extension}").write_bytes(data)
    settings: dict[str, object] = {"title": item.title, "required": item.required}
    settings["filename"] = name
    _describe(settings, item.source, links)
    _write_yaml(module_dir / f"{stem}.yaml", settings)


_FILE_EXTENSIONS = {e for extensions in uploads.ALLOWED.values() for e in extensions} - {"md"}


def _links_data(links: list[LinkSpec]) -> list[object]:
    """Links as the files write them: the code alone when the outcome is complete."""
    return [
        link.code if link.outcome == "complete" else {"code": link.code, "outcome": link.outcome}
        for link in links
    ]


def _framework_path(folder: Path, code: str) -> Path:
    """The file of framework `code` in a competencies/ folder: the one that
    already holds it (whatever its name), else one named after the code."""
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and str(data.get("code", "")).strip() == code:
            return path
    return folder / framework_file_name(code)


def framework_file_name(code: str) -> str:
    """competencies/<name>.yaml for a framework code: lowercase, hyphens."""
    name = "-".join(part for part in re.split(r"[^a-z0-9]+", code.lower()) if part)
    return f"{name or 'framework'}.yaml"


def export_framework(db_session: Session, code: str, path: Path) -> Path:
    """Write framework `code` as a framework file (the YAML format) to `path`."""
    framework = db_session.scalar(select(Framework).where(Framework.code == code))
    if framework is None:
        raise NotFound(f"There is no competency framework “{code}”.")
    spec = competency_frameworks.framework_spec(db_session, framework)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_yaml(path, spec.as_data())
    return path


def read_framework(path: Path) -> FrameworkSpec:
    """One framework file (YAML) as a spec, or LibraryInvalid with every problem."""
    spec, errors = read_framework_file(path)
    if spec is None:
        raise LibraryInvalid(errors)
    return spec


def _write_yaml(path: Path, data: dict[str, object]) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
