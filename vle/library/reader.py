"""Reading and validating the courses/ folder format (see PRODUCT.md).

Everything is read and checked before anything is written: `read_library`
returns the courses it understood and every problem it found, each as
"file:line: reason". The importer writes only when the list is empty. An
invalid course.yaml does not stop the reading: the course's modules and items
are read too, so one run names every problem of every file (the course is
still not imported).

A module folder holds its items, each named NN-slug, by kind:

- a **lesson** is `NN-slug.md`: YAML front matter (`title`, `required`,
  `minutes`, `competencies`) and Markdown;
- a **quiz** is `NN-slug.gift`, with its title and settings in an optional
  `NN-slug.yaml` beside it;
- a **link** is `NN-slug.yaml` alone (no other file of that stem) with the
  keys `title`, `url` (http or https only), `required`, `minutes`,
  `description` (Markdown, optional) and `competencies`; a `.yaml` alone
  without `url` is taken for quiz settings whose quiz is missing;
- a **file** is the file itself, `NN-slug.<ext>` with an extension of
  `vle.uploads.ALLOWED` (PDF, images, audio, video, office documents, plain
  text and CSV). Its content decides (`vle.uploads.check_file`): a `.pdf`
  holding HTML is refused, and so is a file over the upload limit
  (`VLE_UPLOAD_MAX_MB`). An optional `NN-slug.yaml` beside it holds `title`,
  `required`, `filename` (the name a learner's download gets),
  `description` (Markdown) and `competencies`. The item's
  `settings["file"]` is `{"name", "sha256", "type", "size"}`; the importer
  keeps the bytes in the instance folder (`vle.uploads.store`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from vle import uploads
from vle.catalog.models import HOURS_MAX, hours_allowed
from vle.competencies.frameworks import (
    OUTCOMES,
    CompetencySpec,
    FrameworkSpec,
    LinkSpec,
    problems_together,
)
from vle.competencies.frameworks import problems as framework_problems
from vle.quizzes import gift

NAME = re.compile(r"^(?P<prefix>\d{1,4})-(?P<slug>[a-z0-9][a-z0-9-]*)$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LANGUAGES = {"en", "lt", "pl", "nb"}
STATUSES = {"draft", "published", "archived"}
COURSE_KEYS = {
    "title", "summary", "language", "status", "enrolment_key", "enrolment_key_hint", "starts",
    "ends", "validity_months", "hours", "issuer", "competencies", "completion", "trainers",
}  # fmt: skip
HINT_MAX = 200  # courses.enrolment_key_hint
COMPLETION_RULES = {"all_required"}
LESSON_KEYS = {"title", "required", "minutes", "competencies"}
QUIZ_KEYS = {
    "title", "required", "pass_mark", "attempts", "time_limit_minutes", "shuffle", "draw",
    "layout", "review", "grading", "competencies",
}  # fmt: skip
FRAMEWORK_KEYS = {
    "code", "title", "description", "scale", "proficient", "default", "taxonomies",
    "competencies",
}  # fmt: skip
# rule_outcome: what a parent's rule does when met — Moodle's "rule outcome"
# (evidence, recommend, complete); complete when left out. It carries a
# Moodle file's rule outcome through vle unchanged (docs/decisions/0018).
COMPETENCY_KEYS = {"code", "title", "description", "rule", "rule_outcome", "related", "children"}
LAYOUTS = {"all_on_one_page", "one_per_page"}
REVIEWS = {"after_submit", "after_close", "never"}
GRADINGS = {"highest", "last", "average"}
LINK_KEYS = {"title", "url", "required", "minutes", "description", "competencies"}
FILE_KEYS = {"title", "required", "filename", "description", "competencies"}
# The extensions a file item may have: what vle.uploads accepts, but not what
# names a lesson, a quiz or settings (.md is a lesson, never a file).
FILE_EXTENSIONS = {
    extension for extensions in uploads.ALLOWED.values() for extension in extensions
} - {"md", "gift", "yaml"}
DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024  # VLE_UPLOAD_MAX_MB's default


@dataclass
class ItemSpec:
    kind: str  # "lesson" | "quiz" | "link" | "file"
    slug: str
    prefix: str
    title: str
    path: Path
    required: bool = True
    minutes: int | None = None
    # Markdown body (lesson), GIFT text (quiz), the description (link, file; Markdown)
    source: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    questions: list[gift.Question] = field(default_factory=list)
    # competencies: in the front matter or the quiz's settings; where they are said.
    links: list[LinkSpec] = field(default_factory=list)
    links_at: str = ""


@dataclass
class ModuleSpec:
    slug: str
    prefix: str
    title: str
    path: Path
    items: list[ItemSpec] = field(default_factory=list)


@dataclass
class CourseSpec:
    slug: str
    path: Path
    title: str = ""
    summary: str = ""
    language: str = "en"
    status: str = "draft"
    enrolment_key: str | None = None
    enrolment_key_hint: str = ""
    starts: date | None = None
    ends: date | None = None
    validity_months: int | None = None
    hours: float | None = None
    issuer: str | None = None  # an organisation's code
    competencies: list[str] = field(default_factory=list)
    completion: str = "all_required"
    trainers: list[str] = field(default_factory=list)
    modules: list[ModuleSpec] = field(default_factory=list)
    links: list[LinkSpec] = field(default_factory=list)
    links_at: str = ""


@dataclass
class Library:
    courses: list[CourseSpec] = field(default_factory=list)
    frameworks: list[FrameworkSpec] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class _Problems:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def add(self, path: Path, line: int | None, message: str) -> None:
        self.errors.append(f"{path}:{line}: {message}" if line else f"{path}: {message}")


def _read_text(path: Path, problems: _Problems) -> str | None:
    """The file as text: strict UTF-8 (a BOM is allowed), no control characters."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.add(path, None, f"cannot be read ({exc.strerror})")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.add(path, line, "is not valid UTF-8")
        return None
    text = text.replace("\r\n", "\n")
    ok = True
    for number, line_text in enumerate(text.split("\n"), start=1):
        match = CONTROL.search(line_text)
        if match:
            char = (
                "NUL byte"
                if match.group() == "\x00"
                else f"control character U+{ord(match.group()):04X}"
            )
            problems.add(path, number, f"contains a {char}")
            ok = False
    return text if ok else None


def _key_lines(text: str, offset: int = 0) -> dict[str, int]:
    """The line of each top-level key of a YAML mapping, for precise messages."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {
        str(key.value): key.start_mark.line + 1 + offset
        for key, _value in node.value
        if isinstance(key, yaml.ScalarNode)
    }


def _load_yaml(
    path: Path, text: str, problems: _Problems, offset: int = 0
) -> tuple[dict[str, Any] | None, dict[str, int]]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        # A mark at the end of the stream (an unclosed bracket) points past the
        # text; name its last line instead.
        last_line = max(text.count("\n"), 1)
        line = min(mark.line + 1, last_line) + offset if mark is not None else None
        reason = getattr(exc, "problem", None) or "invalid YAML"
        problems.add(path, line, f"invalid YAML: {reason}")
        return None, {}
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problems.add(path, 1 + offset, "must be a YAML mapping of keys to values")
        return None, {}
    return data, _key_lines(text, offset)


class _Checker:
    """Typed access to a YAML mapping that reports problems with their line."""

    def __init__(
        self, path: Path, data: dict[str, Any], lines: dict[str, int], problems: _Problems
    ):
        self.path, self.data, self.lines, self.problems = path, data, lines, problems

    def error(self, key: str | None, message: str) -> None:
        self.problems.add(self.path, self.lines.get(key or "", 1), message)

    def unknown(self, allowed: set[str]) -> None:
        for key in self.data:
            if key not in allowed:
                self.error(str(key), f"unknown key “{key}” (allowed: {', '.join(sorted(allowed))})")

    def text(self, key: str, required: bool = False, default: str = "") -> str:
        value = self.data.get(key)
        if value is None:
            if required:
                self.error(None, f"“{key}” is required")
            return default
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.error(key, f"“{key}” must be text")
            return default
        value = str(value).strip()
        if required and not value:
            self.error(key, f"“{key}” must not be empty")
        return value

    def choice(self, key: str, allowed: set[str], default: str) -> str:
        value = self.data.get(key, default)
        if value not in allowed:
            self.error(key, f"“{key}” must be one of {', '.join(sorted(allowed))}, not “{value}”")
            return default
        return str(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.error(key, f"“{key}” must be true or false")
            return default
        return value

    def integer(self, key: str, minimum: int, maximum: int | None = None) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < minimum
            or (maximum is not None and value > maximum)
        ):
            upper = f" and at most {maximum}" if maximum is not None else ""
            self.error(key, f"“{key}” must be a whole number of at least {minimum}{upper}")
            return None
        return value

    def hours(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not hours_allowed(value)
        ):
            self.error(
                key,
                f"“{key}” must be a number of hours above 0 and at most {HOURS_MAX}, "
                "with one decimal at most (8, 1.5)",
            )
            return None
        return float(value)

    def day(self, key: str) -> date | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.error(key, f"“{key}” must be a date like 2026-09-01")
            return None

    def links(self, key: str = "competencies") -> list[LinkSpec]:
        """A list of competency links: a code (outcome complete) or
        {code: CODE, outcome: evidence|recommend|complete}."""
        value = self.data.get(key)
        if value is None:
            return []
        shape = (
            f"“{key}” must be a list of codes or of {{code: CODE, outcome: {'|'.join(OUTCOMES)}}}"
        )
        if not isinstance(value, list):
            self.error(key, shape)
            return []
        links: list[LinkSpec] = []
        for entry in value:
            if isinstance(entry, str) and entry.strip():
                link = LinkSpec(entry.strip())
            elif (
                isinstance(entry, dict)
                and isinstance(entry.get("code"), str)
                and entry["code"].strip()
                and not set(entry) - {"code", "outcome"}
            ):
                outcome = entry.get("outcome", "complete")
                if outcome not in OUTCOMES:
                    self.error(key, f"“{entry['code']}”: the outcome must be one of "
                                    f"{', '.join(OUTCOMES)}, not “{outcome}”")  # fmt: skip
                    continue
                link = LinkSpec(entry["code"].strip(), outcome)
            else:
                self.error(key, shape)
                continue
            if any(other.code == link.code for other in links):
                self.error(key, f"the competency “{link.code}” is linked twice")
                continue
            links.append(link)
        return links

    def where(self, key: str) -> str:
        line = self.lines.get(key)
        return f"{self.path}:{line}" if line else str(self.path)

    def text_list(self, key: str) -> list[str]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(key, f"“{key}” must be a list of codes")
            return []
        return [v.strip() for v in value]


def _yaml_file(path: Path, allowed: set[str], problems: _Problems) -> _Checker | None:
    """A YAML file of keys to values (course.yaml, module.yaml, a quiz's
    settings, a framework), its unknown keys reported; None when it cannot be
    read or is no mapping (the problem reported)."""
    text = _read_text(path, problems)
    if text is None:
        return None
    data, lines = _load_yaml(path, text, problems)
    if data is None:
        return None
    check = _Checker(path, data, lines, problems)
    check.unknown(allowed)
    return check


def _split_front_matter(path: Path, text: str, problems: _Problems) -> tuple[str, str, int] | None:
    """(front matter, body, line where the body starts) of a lesson file."""
    if not text.startswith("---\n"):
        return "", text, 1
    end = text.find("\n---\n", 3)
    if end == -1:
        if text.endswith("\n---"):
            end = len(text) - 4
        else:
            problems.add(path, 1, "the front matter opened with --- is never closed")
            return None
    front = text[4 : end + 1]
    body = text[end + 5 :]
    return front, body, front.count("\n") + 3


def _read_lesson(path: Path, prefix: str, slug: str, problems: _Problems) -> ItemSpec | None:
    text = _read_text(path, problems)
    if text is None:
        return None
    parts = _split_front_matter(path, text, problems)
    if parts is None:
        return None
    front, body, _body_line = parts
    data, lines = _load_yaml(path, front, problems, offset=1)
    if data is None:
        return None
    check = _Checker(path, data, lines, problems)
    check.unknown(LESSON_KEYS)
    title = check.text("title")
    if not title:
        heading = re.search(r"^#\s+(.+?)\s*#*\s*$", body, re.MULTILINE)
        if heading:
            title = heading.group(1)
            # The page shows the title as its heading; don't repeat it in the body.
            body = body[: heading.start()] + body[heading.end() :]
        else:
            problems.add(
                path, 1, "a lesson needs a title: a “title” in its front matter or a # heading"
            )
            return None
    return ItemSpec(
        kind="lesson",
        slug=slug,
        prefix=prefix,
        title=title,
        path=path,
        required=check.boolean("required", True),
        minutes=check.integer("minutes", 0, 10_000),
        source=body.strip("\n") + "\n",
        links=check.links(),
        links_at=check.where("competencies"),
    )


def _read_quiz(path: Path, prefix: str, slug: str, problems: _Problems) -> ItemSpec | None:
    text = _read_text(path, problems)
    if text is None:
        return None
    try:
        questions = gift.parse(text, source=str(path))
    except gift.GiftError as exc:
        for line, message in exc.errors:
            problems.add(path, line, message)
        return None
    gradable = [q for q in questions if q.type != "description"]
    if not gradable:
        problems.add(path, 1, "a quiz needs at least one question")
        return None
    settings_path = path.with_suffix(".yaml")
    settings: dict[str, Any] = {}
    title = slug.replace("-", " ").capitalize()
    required = True
    links: list[LinkSpec] = []
    links_at = str(settings_path)
    if settings_path.exists():
        check = _yaml_file(settings_path, QUIZ_KEYS, problems)
        if check is None:
            return None
        title = check.text("title") or title
        required = check.boolean("required", True)
        links, links_at = check.links(), check.where("competencies")
        settings = {
            "pass_mark": check.integer("pass_mark", 0, 100) if "pass_mark" in check.data else 60,
            "attempts": check.integer("attempts", 1),
            "time_limit_minutes": check.integer("time_limit_minutes", 1, 24 * 60),
            "shuffle": check.boolean("shuffle", False),
            "draw": check.integer("draw", 1),
            "layout": check.choice("layout", LAYOUTS, "all_on_one_page"),
            "review": check.choice("review", REVIEWS, "after_submit"),
            "grading": check.choice("grading", GRADINGS, "highest"),
        }
        if settings["draw"] and settings["draw"] > len(gradable):
            check.error(
                "draw",
                f"“draw” asks for {settings['draw']} questions but the quiz has {len(gradable)}",
            )
    else:
        settings = {
            "pass_mark": 60, "attempts": None, "time_limit_minutes": None, "shuffle": False,  # nosec B105 # the pass mark, not a password
            "draw": None, "layout": "all_on_one_page", "review": "after_submit", "grading": "highest",
        }  # fmt: skip
    return ItemSpec(
        kind="quiz",
        slug=slug,
        prefix=prefix,
        title=title,
        path=path,
        required=required,
        source=text,
        settings=settings,
        questions=questions,
        links=links,
        links_at=links_at,
    )


def _description(check: _Checker) -> str:
    """A link's or file's description (Markdown), as the item's source."""
    value = check.data.get("description")
    if value is None:
        return ""
    if not isinstance(value, str):
        check.error("description", "“description” must be text (Markdown)")
        return ""
    value = value.strip("\n")
    return value + "\n" if value.strip() else ""


def _web_address(check: _Checker) -> str:
    """A link's `url`: http or https with a host, nothing else (no javascript:)."""
    url = check.text("url", required=True)
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), parts.hostname
    except ValueError:
        scheme, host = "", None
    if scheme not in {"http", "https"} or not host or any(c.isspace() for c in url):
        check.error(
            "url", f"“url” must be a web address starting with http:// or https://, not “{url}”"
        )
        return ""
    return url


def _read_link(
    path: Path, prefix: str, slug: str, check: _Checker, problems: _Problems
) -> ItemSpec | None:
    """A link item: NN-slug.yaml alone, with a `url`."""
    before = len(problems.errors)
    check.unknown(LINK_KEYS)
    url = _web_address(check)
    item = ItemSpec(
        kind="link",
        slug=slug,
        prefix=prefix,
        title=check.text("title") or slug.replace("-", " ").capitalize(),
        path=path,
        required=check.boolean("required", True),
        minutes=check.integer("minutes", 0, 10_000),
        source=_description(check),
        settings={"url": url},
        links=check.links(),
        links_at=check.where("competencies"),
    )
    return item if len(problems.errors) == before else None


def _read_file(
    path: Path, prefix: str, slug: str, max_bytes: int, problems: _Problems
) -> ItemSpec | None:
    """A file item: the file NN-slug.<ext>, checked by content, with an
    optional NN-slug.yaml beside it."""
    before = len(problems.errors)
    try:
        size = path.stat().st_size
        if size > max_bytes:  # not read into memory at all
            raise uploads.UploadRefused(
                f"the file is too large: at most {uploads.megabytes(max_bytes)} is allowed"
            )
        data = path.read_bytes()
        media_type, extension = uploads.check_file(path.name, data, max_bytes)
    except OSError as exc:
        problems.add(path, None, f"cannot be read ({exc.strerror})")
        return None
    except uploads.UploadRefused as refused:
        problems.add(path, None, str(refused.message))
        return None
    title = slug.replace("-", " ").capitalize()
    required = True
    name = f"{slug}.{extension}"
    source = ""
    links: list[LinkSpec] = []
    settings_path = path.with_name(f"{path.name.split('.', 1)[0]}.yaml")
    links_at = str(settings_path)
    if settings_path.exists():
        check = _yaml_file(settings_path, FILE_KEYS, problems)
        if check is not None:
            title = check.text("title") or title
            required = check.boolean("required", True)
            name = check.text("filename") or name
            source = _description(check)
            links, links_at = check.links(), check.where("competencies")
    if len(problems.errors) != before:
        return None
    return ItemSpec(
        kind="file",
        slug=slug,
        prefix=prefix,
        title=title,
        path=path,
        required=required,
        source=source,
        settings={
            "file": {
                "name": uploads.safe_name(name, extension),
                "sha256": hashlib.sha256(data).hexdigest(),
                "type": media_type,
                "size": len(data),
            }
        },
        links=links,
        links_at=links_at,
    )


def _extension(path: Path) -> str:
    """Everything after the first dot of a file's name, lower-case."""
    return path.name.split(".", 1)[1].lower() if "." in path.name else ""


def _numbered(folder: Path) -> list[tuple[Path, str, str]]:
    """Entries named NN-slug, in number order, with (path, prefix, slug)."""
    entries = []
    for entry in folder.iterdir():
        if entry.name.startswith("."):
            continue
        match = NAME.match(entry.name.split(".", 1)[0] if entry.is_file() else entry.name)
        if match:
            entries.append((entry, match.group("prefix"), match.group("slug")))
    return sorted(entries, key=lambda e: (int(e[1]), e[0].name))


def _read_module(
    path: Path,
    prefix: str,
    slug: str,
    problems: _Problems,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> ModuleSpec:
    title = slug.replace("-", " ").capitalize()
    module_yaml = path / "module.yaml"
    if module_yaml.exists():
        check = _yaml_file(module_yaml, {"title"}, problems)
        if check is not None:
            title = check.text("title") or title
    module = ModuleSpec(slug=slug, prefix=prefix, title=title, path=path)
    # The item files of each stem (NN-slug), by extension.
    stems: dict[str, set[str]] = {}
    for entry in path.iterdir():
        if entry.is_file() and not entry.name.startswith(".") and entry.name != "module.yaml":
            stem = entry.name.split(".", 1)[0]
            extension = _extension(entry)
            if not NAME.match(stem):
                problems.add(
                    entry,
                    None,
                    "item files are named NN-slug.md or NN-slug.gift (lowercase letters, digits, hyphens)",
                )
            elif extension not in {"md", "gift", "yaml"} | FILE_EXTENSIONS:
                problems.add(
                    entry,
                    None,
                    "unknown item file type (lessons are .md, quizzes .gift, links .yaml, "
                    f"files one of .{', .'.join(sorted(FILE_EXTENSIONS))})",
                )
            else:
                stems.setdefault(stem, set()).add(extension)
    for entry, item_prefix, item_slug in _numbered(path):
        extension = _extension(entry)
        others = stems.get(entry.name.split(".", 1)[0], set()) - {extension}
        item: ItemSpec | None = None
        if entry.is_dir():
            problems.add(entry, None, "modules hold item files, not folders")
        elif extension == "md":
            item = _read_lesson(entry, item_prefix, item_slug, problems)
        elif extension == "gift":
            item = _read_quiz(entry, item_prefix, item_slug, problems)
        elif extension in FILE_EXTENSIONS:
            item = _read_file(entry, item_prefix, item_slug, max_file_bytes, problems)
        elif extension == "yaml" and "gift" in others:
            continue  # the quiz's settings, read with the quiz
        elif extension == "yaml" and others & FILE_EXTENSIONS:
            continue  # the file's settings, read with the file
        elif extension == "yaml" and "md" in others:
            problems.add(
                entry,
                None,
                "a lesson's settings sit in its front matter, not in a .yaml file beside it",
            )
        elif extension == "yaml":
            item = _read_link_or_stray(entry, item_prefix, item_slug, problems)
        if item:
            module.items.append(item)
    if not module.items and not any(stems.values()):
        problems.add(path, None, "a module needs at least one item (a lesson, quiz, file or link)")
    return module


def _read_link_or_stray(path: Path, prefix: str, slug: str, problems: _Problems) -> ItemSpec | None:
    """A .yaml file alone: a link when it has a `url`; else quiz settings
    whose quiz is missing (what such a file was before links existed)."""
    text = _read_text(path, problems)
    if text is None:
        return None
    data, lines = _load_yaml(path, text, problems)
    if data is None:
        return None
    if "url" not in data:
        problems.add(path, None, "quiz settings without a quiz: no .gift file of the same name")
        return None
    return _read_link(path, prefix, slug, _Checker(path, data, lines, problems), problems)


def read_course(
    path: Path, problems: _Problems, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> CourseSpec | None:
    """The course in folder `path`, or None when its name or course.yaml is
    invalid. Its modules and items are read either way, so that every
    problem of every file is reported in one run."""
    slug = path.resolve().name
    valid = True
    if not SLUG.match(slug):
        problems.add(
            path, None, "a course folder's name is its slug: lowercase letters, digits and hyphens"
        )
        valid = False
    check = _yaml_file(path / "course.yaml", COURSE_KEYS, problems)
    if check is None:
        valid = False
        check = _Checker(path / "course.yaml", {}, {}, _Problems())  # problems already said
    course = CourseSpec(
        slug=slug,
        path=path,
        title=check.text("title", required=True),
        summary=check.text("summary"),
        language=check.choice("language", LANGUAGES, "en"),
        status=check.choice("status", STATUSES, "draft"),
        enrolment_key=check.text("enrolment_key") or None,
        enrolment_key_hint=check.text("enrolment_key_hint"),
        starts=check.day("starts"),
        ends=check.day("ends"),
        validity_months=check.integer("validity_months", 1, 600),
        hours=check.hours("hours"),
        issuer=check.text("issuer") or None,
        completion=check.choice("completion", COMPLETION_RULES, "all_required"),
        trainers=check.text_list("trainers"),
        links=check.links(),
        links_at=check.where("competencies"),
    )
    course.competencies = [link.code for link in course.links]
    if course.starts and course.ends and course.ends < course.starts:
        check.error("ends", "“ends” is before “starts”")
    if len(course.enrolment_key_hint) > HINT_MAX:
        check.error(
            "enrolment_key_hint", f"“enrolment_key_hint” is longer than {HINT_MAX} characters"
        )
    for entry in sorted(path.iterdir()):
        if entry.is_dir() and not entry.name.startswith(".") and not NAME.match(entry.name):
            problems.add(
                entry, None, "module folders are named NN-slug (lowercase letters, digits, hyphens)"
            )
    seen_items: dict[str, Path] = {}
    for entry, prefix, module_slug in _numbered(path):
        if not entry.is_dir():
            continue
        module = _read_module(entry, prefix, module_slug, problems, max_file_bytes)
        for item in module.items:
            if item.slug in seen_items:
                problems.add(
                    item.path,
                    None,
                    f"the item name “{item.slug}” is used twice in this course (also {seen_items[item.slug]})",
                )
            seen_items[item.slug] = item.path
        course.modules.append(module)
    if not course.modules:
        problems.add(path, None, "a course needs at least one module folder (NN-slug)")
    return course if valid else None


class _LineLoader(yaml.SafeLoader):
    """A safe loader that notes each mapping's line under the key LINE."""


LINE = object()  # a key no file can hold


def _mapping_with_line(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    data = loader.construct_mapping(node, deep=True)
    data[LINE] = node.start_mark.line + 1
    return data


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def read_framework_file(path: Path) -> tuple[FrameworkSpec | None, list[str]]:
    """One framework file (courses/competencies/*.yaml) as a spec, checked on
    its own: (spec, []) or (None, every problem with file and line)."""
    problems_ = _Problems()
    spec = _read_framework(path, problems_)
    return (spec if not problems_.errors else None), problems_.errors


def _read_framework(path: Path, problems_: _Problems) -> FrameworkSpec | None:
    text = _read_text(path, problems_)
    if text is None:
        return None
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 (a SafeLoader)  # nosec B506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        last_line = max(text.count("\n"), 1)
        line = min(mark.line + 1, last_line) if mark is not None else None
        problems_.add(
            path, line, f"invalid YAML: {getattr(exc, 'problem', None) or 'invalid YAML'}"
        )
        return None
    if not isinstance(data, dict):
        problems_.add(path, 1, "must be a YAML mapping of keys to values")
        return None
    data.pop(LINE, None)
    check = _Checker(path, data, _key_lines(text), problems_)
    check.unknown(FRAMEWORK_KEYS)
    before = len(problems_.errors)
    code = check.text("code", required=True)
    title = check.text("title", required=True)
    scale = data.get("scale")
    if not isinstance(scale, list) or len(scale) < 2 or not all(isinstance(s, str) for s in scale):
        check.error("scale", "“scale” must list at least two ratings, lowest first")
        scale = []
    scale = [s.strip() for s in scale]
    proficient = data.get("proficient", scale[1:])
    if not isinstance(proficient, list) or not all(isinstance(s, str) for s in proficient):
        check.error("proficient", "“proficient” must list values of the scale")
        proficient = []
    default = data.get("default", proficient[0] if proficient else "")
    if not isinstance(default, str):
        check.error("default", "“default” must be one value of the scale")
        default = ""
    taxonomies = data.get("taxonomies", [])
    if not isinstance(taxonomies, list) or not all(isinstance(s, str) for s in taxonomies):
        check.error("taxonomies", "“taxonomies” must list one word per level of the tree")
        taxonomies = []

    def node(entry: Any, line: int | None) -> CompetencySpec | None:
        if not isinstance(entry, dict):
            problems_.add(path, line, "each competency is a mapping with a “code” and a “title”")
            return None
        line = entry.pop(LINE, line)
        for key in entry:
            if key not in COMPETENCY_KEYS:
                problems_.add(path, line, f"unknown key “{key}” in a competency "
                                          f"(allowed: {', '.join(sorted(COMPETENCY_KEYS))})")  # fmt: skip
        code, title = entry.get("code"), entry.get("title")
        if not isinstance(code, str | int) or isinstance(code, bool) or not str(code).strip():
            problems_.add(path, line, "each competency needs a “code”")
            return None
        if not isinstance(title, str | int) or not str(title).strip():
            problems_.add(path, line, f"the competency “{code}” needs a “title”")
        description = entry.get("description") or ""
        if not isinstance(description, str):
            problems_.add(path, line, f"“{code}”: the description must be text")
            description = ""
        related = entry.get("related") or []
        if not isinstance(related, list) or not all(isinstance(r, str) for r in related):
            problems_.add(path, line, f"“{code}”: “related” must list competency codes")
            related = []
        outcome = entry.get("rule_outcome", "complete")
        if "rule_outcome" in entry and "rule" not in entry:
            problems_.add(path, line, f"“{code}”: “rule_outcome” without a “rule”")
        rule = entry.get("rule")
        if isinstance(rule, dict):
            rule = _plain(rule)
            if isinstance(rule.get("children"), dict):  # codes are text, even 101
                rule["children"] = {str(k).strip(): v for k, v in rule["children"].items()}
        return CompetencySpec(
            code=str(code).strip(),
            title=str(title or "").strip(),
            description=description.strip(),
            rule=rule,
            rule_outcome=str(outcome),
            related=[r.strip() for r in related],
            children=nodes(entry.get("children"), line, f"“{code}”: “children”"),
            line=line,
        )

    def nodes(entries: Any, line: int | None, what: str) -> list[CompetencySpec]:
        if entries is None:
            return []
        if not isinstance(entries, list):
            problems_.add(path, line, f"{what} must be a list")
            return []
        found = [node(entry, line) for entry in entries]
        return [n for n in found if n is not None]

    spec = FrameworkSpec(
        code=code,
        title=title,
        scale=scale,
        proficient=[p.strip() for p in proficient],
        default=default.strip(),
        description=check.text("description"),
        taxonomies=[t.strip() for t in taxonomies],
        competencies=nodes(
            data.get("competencies", []), check.lines.get("competencies"), "“competencies”"
        ),  # fmt: skip
        source=str(path),
        key_lines=dict(check.lines),
    )
    if len(problems_.errors) == before:
        problems_.errors.extend(framework_problems(spec))
    return spec


def _plain(value: Any) -> Any:
    """A rule without the loader's line notes."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != LINE}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def read_library(paths: list[Path], max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Library:
    """Read every course folder and framework under `paths` and check them all.
    `max_file_bytes`: the largest file item accepted (VLE_UPLOAD_MAX_MB)."""
    problems = _Problems()
    library = Library()
    course_dirs: list[Path] = []
    framework_files: list[Path] = []
    for path in paths:
        if not path.exists():
            problems.add(path, None, "no such file or folder")
        elif not path.is_dir():
            problems.add(path, None, "is not a folder (give a course folder or a library folder)")
        elif (path / "course.yaml").exists():
            course_dirs.append(path)
        elif path.name == "competencies":
            framework_files.extend(sorted(path.glob("*.yaml")))
        else:
            found = False
            for child in sorted(path.iterdir()):
                if child.is_dir() and (child / "course.yaml").exists():
                    course_dirs.append(child)
                    found = True
                elif child.is_dir() and child.name == "competencies":
                    framework_files.extend(sorted(child.glob("*.yaml")))
                    found = True
            if not found:
                problems.add(
                    path, None, "holds no course (no course.yaml) and no competencies/ folder"
                )
    slugs: dict[str, Path] = {}
    for course_dir in course_dirs:
        course = read_course(course_dir, problems, max_file_bytes)
        if course is None:
            continue
        if course.slug in slugs:
            problems.add(
                course_dir,
                None,
                f"the course “{course.slug}” is given twice (also {slugs[course.slug]})",
            )
        slugs[course.slug] = course_dir
        library.courses.append(course)
    for framework_file in framework_files:
        framework = _read_framework(framework_file, problems)
        if framework:
            library.frameworks.append(framework)
    problems.errors.extend(problems_together(library.frameworks))
    library.errors = problems.errors
    return library
