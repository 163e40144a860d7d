"""Reading and validating the courses/ folder format (see PRODUCT.md).

Everything is read and checked before anything is written: `read_library`
returns the courses it understood and every problem it found, each as
"file:line: reason". The importer writes only when the list is empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

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
    "title", "summary", "language", "status", "enrolment_key", "starts", "ends",
    "validity_months", "competencies", "completion", "trainers",
}  # fmt: skip
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


@dataclass
class ItemSpec:
    kind: str  # "lesson" | "quiz"
    slug: str
    prefix: str
    title: str
    path: Path
    required: bool = True
    minutes: int | None = None
    source: str = ""  # Markdown body (lesson) or GIFT text (quiz)
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
    starts: date | None = None
    ends: date | None = None
    validity_months: int | None = None
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
            "pass_mark": 60, "attempts": None, "time_limit_minutes": None, "shuffle": False,
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


def _read_module(path: Path, prefix: str, slug: str, problems: _Problems) -> ModuleSpec:
    title = slug.replace("-", " ").capitalize()
    module_yaml = path / "module.yaml"
    if module_yaml.exists():
        check = _yaml_file(module_yaml, {"title"}, problems)
        if check is not None:
            title = check.text("title") or title
    module = ModuleSpec(slug=slug, prefix=prefix, title=title, path=path)
    for entry in path.iterdir():
        if entry.is_file() and not entry.name.startswith(".") and entry.name != "module.yaml":
            stem = entry.name.split(".", 1)[0]
            if not NAME.match(stem):
                problems.add(
                    entry,
                    None,
                    "item files are named NN-slug.md or NN-slug.gift (lowercase letters, digits, hyphens)",
                )
            elif entry.suffix not in {".md", ".gift", ".yaml"}:
                problems.add(entry, None, "unknown item file type (lessons are .md, quizzes .gift)")
            elif entry.suffix == ".yaml" and not entry.with_suffix(".gift").exists():
                problems.add(
                    entry, None, "quiz settings without a quiz: no .gift file of the same name"
                )
    for entry, item_prefix, item_slug in _numbered(path):
        if entry.is_dir():
            problems.add(entry, None, "modules hold item files, not folders")
        elif entry.suffix == ".md":
            item = _read_lesson(entry, item_prefix, item_slug, problems)
            if item:
                module.items.append(item)
        elif entry.suffix == ".gift":
            item = _read_quiz(entry, item_prefix, item_slug, problems)
            if item:
                module.items.append(item)
    if not module.items and not any(e.suffix in {".md", ".gift"} for e, _p, _s in _numbered(path)):
        problems.add(path, None, "a module needs at least one lesson or quiz")
    return module


def read_course(path: Path, problems: _Problems) -> CourseSpec | None:
    slug = path.resolve().name
    if not SLUG.match(slug):
        problems.add(
            path, None, "a course folder's name is its slug: lowercase letters, digits and hyphens"
        )
        return None
    check = _yaml_file(path / "course.yaml", COURSE_KEYS, problems)
    if check is None:
        return None
    course = CourseSpec(
        slug=slug,
        path=path,
        title=check.text("title", required=True),
        summary=check.text("summary"),
        language=check.choice("language", LANGUAGES, "en"),
        status=check.choice("status", STATUSES, "draft"),
        enrolment_key=check.text("enrolment_key") or None,
        starts=check.day("starts"),
        ends=check.day("ends"),
        validity_months=check.integer("validity_months", 1, 600),
        completion=check.choice("completion", COMPLETION_RULES, "all_required"),
        trainers=check.text_list("trainers"),
        links=check.links(),
        links_at=check.where("competencies"),
    )
    course.competencies = [link.code for link in course.links]
    if course.starts and course.ends and course.ends < course.starts:
        check.error("ends", "“ends” is before “starts”")
    for entry in sorted(path.iterdir()):
        if entry.is_dir() and not entry.name.startswith(".") and not NAME.match(entry.name):
            problems.add(
                entry, None, "module folders are named NN-slug (lowercase letters, digits, hyphens)"
            )
    seen_items: dict[str, Path] = {}
    for entry, prefix, module_slug in _numbered(path):
        if not entry.is_dir():
            continue
        module = _read_module(entry, prefix, module_slug, problems)
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
    return course


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
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 (a SafeLoader)
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


def read_library(paths: list[Path]) -> Library:
    """Read every course folder and framework under `paths` and check them all."""
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
        course = read_course(course_dir, problems)
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
