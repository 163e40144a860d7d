"""Competency frameworks as data (a spec) and in the database.

A `FrameworkSpec` is what a framework file says — `courses/competencies/*.yaml`
(read by vle.library.reader) or Moodle's CSV (vle.competencies.moodle_csv) —
and what `framework_spec` gives back from the database for export. One
validation (`problems`) serves both file formats, so a YAML file and a CSV
file are refused for the same reasons, each named with file and line.

`save_framework` writes a spec in place: the framework by its code, each
competency by its code, so ids stay and the evidence and ratings that rest
on them survive a re-import. A competency left out of the file is deleted
only when nothing refers to it; when learners hold evidence or ratings in it,
a plan or a badge names it or a course outside this import links it, the
import is refused with the reason (as Moodle refuses to delete a competency in
use) — an administrator never loses learners' records by editing a file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from vle.competencies import services
from vle.competencies.models import (
    Badge,
    Competency,
    CompetencyLink,
    Evidence,
    Framework,
    Outcome,
    PlanRating,
    PlanTemplateCompetency,
    RelatedCompetency,
    UserCompetency,
)
from vle.errors import Invalid

# Moodle's taxonomy words (core_competency\competency_framework::TAXONOMY_*):
# Moodle refuses any other, so vle does too and its files import there.
TAXONOMIES = (
    "behaviour", "competency", "concept", "domain", "indicator", "level", "outcome",
    "practice", "proficiency", "skill", "value",
)  # fmt: skip
OUTCOMES = tuple(outcome.value for outcome in Outcome)
# Levels of a tree at most: deep enough for any real framework, and the rule
# engine's cascade stays short.
MAX_DEPTH = 10
CODE_LENGTH = 100  # Moodle's ID number is 100 characters at most
TITLE_LENGTH = 300
VALUE_LENGTH = 100  # a scale value, as a rating holds it


@dataclass
class CompetencySpec:
    """One competency as a file states it. `rule`: None, "all" or
    {"points": N, "children": {CODE: {"points": P, "required": bool}}};
    `rule_outcome` what the rule does when met (Moodle's rule outcome:
    evidence, recommend or complete; complete when not given)."""

    code: str
    title: str
    description: str = ""
    rule: Any = None
    rule_outcome: str = Outcome.COMPLETE.value
    related: list[str] = field(default_factory=list)
    children: list[CompetencySpec] = field(default_factory=list)
    line: int | None = None  # where the file states it, for messages


@dataclass
class FrameworkSpec:
    """A framework as a file states it, with the defaults already applied
    (`proficient`: every value but the first; `default`: the first
    proficient value)."""

    code: str
    title: str
    scale: list[str]
    proficient: list[str]
    default: str
    description: str = ""
    taxonomies: list[str] = field(default_factory=list)
    competencies: list[CompetencySpec] = field(default_factory=list)
    source: str = ""  # the file, for messages
    line: int | None = None
    key_lines: dict[str, int] = field(default_factory=dict)  # of its own keys, in a YAML file

    def walk(self) -> Iterator[tuple[CompetencySpec, CompetencySpec | None, int]]:
        """Every competency depth-first (the file's order) with its parent and level (1: top)."""

        def visit(
            nodes: list[CompetencySpec], parent: CompetencySpec | None, level: int
        ) -> Iterator[tuple[CompetencySpec, CompetencySpec | None, int]]:
            for node in nodes:
                yield node, parent, level
                if level < MAX_DEPTH + 1:
                    yield from visit(node.children, node, level + 1)

        yield from visit(self.competencies, None, 1)

    @property
    def codes(self) -> set[str]:
        return {node.code for node, _parent, _level in self.walk()}

    def as_data(self) -> dict[str, Any]:
        """The YAML file's shape (keys at their defaults left out)."""
        data: dict[str, Any] = {"code": self.code, "title": self.title}
        if self.description:
            data["description"] = self.description
        data["scale"] = list(self.scale)
        data["proficient"] = list(self.proficient)
        data["default"] = self.default
        if self.taxonomies:
            data["taxonomies"] = list(self.taxonomies)
        data["competencies"] = [_node_data(node) for node in self.competencies]
        return data


def _node_data(node: CompetencySpec) -> dict[str, Any]:
    data: dict[str, Any] = {"code": node.code, "title": node.title}
    if node.description:
        data["description"] = node.description
    if node.rule is not None:
        data["rule"] = node.rule
        if node.rule_outcome != Outcome.COMPLETE:
            data["rule_outcome"] = node.rule_outcome
    if node.related:
        data["related"] = list(node.related)
    if node.children:
        data["children"] = [_node_data(child) for child in node.children]
    return data


class FrameworkInvalid(Invalid):
    """A framework file (or several) with problems: each is "file:line: reason"."""

    code = "invalid_framework"

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


def _at(spec: FrameworkSpec, line: int | None, message: str) -> str:
    where = spec.source or spec.code
    line = line or spec.line
    return f"{where}:{line}: {message}" if line else f"{where}: {message}"


# --- validation -------------------------------------------------------------------------------


def problems(spec: FrameworkSpec) -> list[str]:
    """Everything wrong with one framework on its own, each with file and line."""
    errors: list[str] = []
    add = errors.append

    def key(name: str) -> int | None:
        return spec.key_lines.get(name)

    if not spec.code:
        add(_at(spec, key("code"), "the framework needs a “code” (its ID number)"))
    elif len(spec.code) > CODE_LENGTH:
        add(_at(spec, key("code"), f"the framework's code is longer than {CODE_LENGTH} characters"))
    if not spec.title:
        add(_at(spec, key("title"), "the framework needs a “title”"))
    elif len(spec.title) > TITLE_LENGTH:
        add(
            _at(
                spec,
                key("title"),
                f"the framework's title is longer than {TITLE_LENGTH} characters",
            )
        )
    scale = spec.scale
    if len(scale) < 2:
        add(_at(spec, key("scale"), "the scale must list at least two values, lowest first"))
    for value in scale:
        if not value or "," in value:
            add(_at(spec, key("scale"), f"the scale value “{value}” must be non-empty and hold no comma "
                                "(Moodle separates a scale's values with commas)"))  # fmt: skip
    if any(len(value) > VALUE_LENGTH for value in scale):
        add(_at(spec, key("scale"), f"a scale value is longer than {VALUE_LENGTH} characters"))
    if len(set(scale)) != len(scale):
        add(_at(spec, key("scale"), "the scale names a value twice"))
    for value in spec.proficient:
        if value not in scale:
            add(_at(spec, key("proficient"), f"“{value}” (proficient) is not a value of the scale"))
    if not spec.proficient:
        add(
            _at(spec, key("proficient"), "at least one value of the scale must count as proficient")
        )
    if spec.default not in scale:
        add(_at(spec, key("default"), f"“{spec.default}” (default) is not a value of the scale"))
    for word in spec.taxonomies:
        if word not in TAXONOMIES:
            add(
                _at(
                    spec,
                    key("taxonomies"),
                    f"unknown taxonomy “{word}” (Moodle's words: {', '.join(TAXONOMIES)})",
                )
            )
    seen: dict[str, CompetencySpec] = {}
    for node, _parent, level in spec.walk():
        if not node.code or not node.title:
            add(_at(spec, node.line, "each competency needs a “code” and a “title”"))
        if len(node.code) > CODE_LENGTH:
            add(
                _at(
                    spec,
                    node.line,
                    f"the code “{node.code[:40]}…” is longer than {CODE_LENGTH} characters",
                )
            )
        if len(node.title) > TITLE_LENGTH:
            add(
                _at(
                    spec,
                    node.line,
                    f"“{node.code}”: the title is longer than {TITLE_LENGTH} characters",
                )
            )
        if node.code in seen:
            other = seen[node.code].line
            also = f" (also line {other})" if other else ""
            add(_at(spec, node.line, f"the competency code “{node.code}” is used twice{also}"))
        seen.setdefault(node.code, node)
        if level > MAX_DEPTH:
            add(
                _at(spec, node.line, f"the tree is deeper than {MAX_DEPTH} levels at “{node.code}”")
            )
        if node.rule_outcome not in OUTCOMES:
            add(_at(spec, node.line, f"“{node.code}”: the rule outcome must be one of "
                                     f"{', '.join(OUTCOMES)}, not “{node.rule_outcome}”"))  # fmt: skip
        errors.extend(_rule_problems(spec, node))
    for node, _parent, _level in spec.walk():
        for code in node.related:
            if code == node.code:
                add(_at(spec, node.line, f"“{node.code}” is named as related to itself"))
            elif code not in seen:
                add(_at(spec, node.line, f"“{node.code}”: the related competency “{code}” "
                                         "is not in this framework"))  # fmt: skip
    return errors


def _rule_problems(spec: FrameworkSpec, node: CompetencySpec) -> list[str]:
    rule = node.rule
    if rule is None:
        return []
    where = f"“{node.code}”: "
    if not node.children:
        return [_at(spec, node.line, where + "a rule needs children to look at; it has none")]
    if rule == "all":
        return []
    if not isinstance(rule, dict) or set(rule) - {"points", "children"} or "points" not in rule:
        return [_at(spec, node.line, where + "the rule must be “all” or "
                                             "{points: N, children: {CODE: {points: P, required: true|false}}}")]  # fmt: skip
    errors: list[str] = []
    threshold = rule.get("points")
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        errors.append(
            _at(spec, node.line, where + "the rule's points must be a whole number of at least 1")
        )
        threshold = None
    children = rule.get("children")
    if not isinstance(children, dict) or not children:
        return [
            *errors,
            _at(spec, node.line, where + "a points rule names its children and their points"),
        ]
    child_codes = {child.code for child in node.children}
    total = 0
    for code, entry in children.items():
        if code not in child_codes:
            errors.append(
                _at(
                    spec,
                    node.line,
                    where + f"the rule names “{code}”, which is not one of its children",
                )
            )
            continue
        if not isinstance(entry, dict) or set(entry) - {"points", "required"}:
            errors.append(
                _at(spec, node.line, where + f"“{code}” in the rule needs points and required")
            )
            continue
        points = entry.get("points", 0)
        if isinstance(points, bool) or not isinstance(points, int) or points < 0:
            errors.append(
                _at(
                    spec,
                    node.line,
                    where + f"“{code}”: points must be a whole number of at least 0",
                )
            )
            continue
        if not isinstance(entry.get("required", False), bool):
            errors.append(_at(spec, node.line, where + f"“{code}”: required must be true or false"))
            continue
        total += points
    if not errors and threshold is not None and total < threshold:
        errors.append(_at(spec, node.line, where + f"the rule can never be met: its children give "
                                                   f"{total} points at most, it asks for {threshold}"))  # fmt: skip
    return errors


def problems_together(specs: list[FrameworkSpec]) -> list[str]:
    """What is wrong between frameworks imported together: a framework code
    or a competency code given twice (codes are unique across frameworks)."""
    errors: list[str] = []
    frameworks: dict[str, FrameworkSpec] = {}
    owners: dict[str, FrameworkSpec] = {}
    for spec in specs:
        if spec.code in frameworks:
            errors.append(_at(spec, None, f"the framework code “{spec.code}” is also used by "
                                          f"{frameworks[spec.code].source or spec.code}"))  # fmt: skip
        frameworks.setdefault(spec.code, spec)
        for node, _parent, _level in spec.walk():
            owner = owners.setdefault(node.code, spec)
            if owner is not spec:
                errors.append(_at(spec, node.line, f"the competency code “{node.code}” is also used "
                                                   f"by the framework {owner.code} ({owner.source})"))  # fmt: skip
    return errors


def problems_with_database(db_session: Session, spec: FrameworkSpec) -> list[str]:
    """What saving `spec` would break in the database: a competency code
    another framework already holds (see also `removal_problems`)."""
    errors: list[str] = []
    codes = spec.codes
    taken = db_session.execute(
        select(Competency.code, Framework.code)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(Competency.code.in_(codes), Framework.code != spec.code)
    ).all()
    lines = {node.code: node.line for node, _p, _l in spec.walk()}
    for code, framework_code in taken:
        errors.append(_at(spec, lines.get(code), f"the competency code “{code}” is already used by "
                                                 f"the framework {framework_code}"))  # fmt: skip
    return errors


def removal_problems(
    db_session: Session, spec: FrameworkSpec, relinked_courses: set[int] | None = None
) -> list[str]:
    """Competencies of the stored framework that the file leaves out but
    something still refers to (learners' evidence or ratings, plans, badges,
    links of courses not being imported with it): the reasons, one each."""
    framework = db_session.scalar(select(Framework).where(Framework.code == spec.code))
    if framework is None:
        return []
    gone = dict(
        db_session.execute(
            select(Competency.id, Competency.code).where(
                Competency.framework_id == framework.id, Competency.code.not_in(spec.codes)
            )
        ).all()
    )
    if not gone:
        return []
    uses: dict[int, list[str]] = {}

    def note(query: Any, what: str) -> None:
        for competency_id, count in db_session.execute(query).all():
            uses.setdefault(competency_id, []).append(f"{count} {what}")

    ids = list(gone)
    note(select(UserCompetency.competency_id, func.count()).where(UserCompetency.competency_id.in_(ids))
         .group_by(UserCompetency.competency_id), "learner rating(s)")  # fmt: skip
    note(select(Evidence.competency_id, func.count()).where(Evidence.competency_id.in_(ids))
         .group_by(Evidence.competency_id), "piece(s) of evidence")  # fmt: skip
    note(select(PlanTemplateCompetency.competency_id, func.count())
         .where(PlanTemplateCompetency.competency_id.in_(ids))
         .group_by(PlanTemplateCompetency.competency_id), "learning plan template(s)")  # fmt: skip
    note(select(PlanRating.competency_id, func.count()).where(PlanRating.competency_id.in_(ids))
         .group_by(PlanRating.competency_id), "completed plan rating(s)")  # fmt: skip
    note(select(Badge.competency_id, func.count()).where(Badge.competency_id.in_(ids))
         .group_by(Badge.competency_id), "badge(s)")  # fmt: skip
    links = select(CompetencyLink.competency_id, func.count()).where(
        CompetencyLink.competency_id.in_(ids)
    )
    if relinked_courses:
        links = links.where(CompetencyLink.course_id.not_in(relinked_courses))
    note(links.group_by(CompetencyLink.competency_id), "course link(s)")
    return [
        _at(
            spec,
            None,
            f"the competency “{gone[competency_id]}” is no longer in the file but is in "
            f"use ({', '.join(what)}); put it back in the file — a competency in use "
            "is never deleted",
        )  # fmt: skip
        for competency_id, what in sorted(uses.items(), key=lambda item: gone[item[0]])
    ]


# --- the database -------------------------------------------------------------------------------


@dataclass
class SaveSummary:
    """What a save did (or, in a dry run, would do), for the command line."""

    framework_created: bool
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    deleted: list[str]
    framework_changed: bool = True  # its own words, scale or taxonomies


def plan_save(db_session: Session, spec: FrameworkSpec) -> SaveSummary:
    """What `save_framework(spec)` would create, update and delete, without
    writing. A competency counts as updated when its words, rule, relations,
    parent or place among its siblings change."""
    framework = db_session.scalar(select(Framework).where(Framework.code == spec.code))
    current = framework_spec(db_session, framework) if framework else None
    after = _normalised(spec)

    def places(tree: FrameworkSpec | None) -> dict[str, tuple[str | None, int]]:
        if tree is None:
            return {}
        found: dict[str, tuple[str | None, int]] = {}
        for node, parent, _level in tree.walk():
            siblings = parent.children if parent else tree.competencies
            found[node.code] = (parent.code if parent else None, siblings.index(node))
        return found

    before = {n.code: n for n, _p, _l in current.walk()} if current else {}
    places_before, places_after = places(current), places(after)
    summary = SaveSummary(framework is None, [], [], [], [])
    summary.framework_changed = current is None or _head(current) != _head(after)
    for node, _parent, _level in after.walk():
        old = before.get(node.code)
        if old is None:
            summary.created.append(node.code)
        elif (
            _node_data(_bare(old)) != _node_data(_bare(node))
            or places_before[node.code] != places_after[node.code]
        ):
            summary.updated.append(node.code)
        else:
            summary.unchanged.append(node.code)
    summary.deleted = sorted(set(before) - after.codes)
    return summary


def _head(spec: FrameworkSpec) -> dict[str, Any]:
    data = spec.as_data()
    data.pop("competencies")
    return data


def _bare(node: CompetencySpec) -> CompetencySpec:
    return CompetencySpec(
        code=node.code, title=node.title, description=node.description, rule=node.rule,
        rule_outcome=node.rule_outcome if node.rule is not None else Outcome.COMPLETE.value,
        related=sorted(node.related),
    )  # fmt: skip


def _normalised(spec: FrameworkSpec) -> FrameworkSpec:
    """The spec with relations listed both ways (as the database holds them)."""
    pairs = _pairs(spec)
    order = {node.code: i for i, (node, _p, _l) in enumerate(spec.walk())}

    def copy(node: CompetencySpec) -> CompetencySpec:
        related = sorted({b for a, b in pairs if a == node.code} | {a for a, b in pairs if b == node.code},
                         key=order.__getitem__)  # fmt: skip
        return CompetencySpec(
            code=node.code, title=node.title, description=node.description, rule=node.rule,
            rule_outcome=node.rule_outcome, related=related,
            children=[copy(child) for child in node.children], line=node.line,
        )  # fmt: skip

    return FrameworkSpec(
        code=spec.code, title=spec.title, scale=list(spec.scale), proficient=list(spec.proficient),
        default=spec.default, description=spec.description, taxonomies=list(spec.taxonomies),
        competencies=[copy(node) for node in spec.competencies], source=spec.source, line=spec.line,
    )  # fmt: skip


def _pairs(spec: FrameworkSpec) -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for node, _parent, _level in spec.walk():
        for code in node.related:
            if code != node.code:
                pairs.add((min(code, node.code), max(code, node.code)))
    return pairs


def save_framework(
    db_session: Session, spec: FrameworkSpec, relinked_courses: set[int] | None = None
) -> Framework:
    """Insert or update the framework `spec` describes, in place (by code),
    so ids — and the evidence and ratings on them — stay. Raises
    FrameworkInvalid (nothing written) when the spec is invalid, a code
    belongs to another framework, or a competency left out is in use.
    `relinked_courses`: courses whose links are being rewritten in the same
    import (their old links do not hold a competency in place)."""
    errors = problems(spec) or (
        problems_with_database(db_session, spec)
        + removal_problems(db_session, spec, relinked_courses)
    )
    if errors:
        raise FrameworkInvalid(errors)
    framework = db_session.scalar(select(Framework).where(Framework.code == spec.code))
    if framework is None:
        framework = Framework(code=spec.code)
        db_session.add(framework)
    proficient_changed = framework.proficient != list(spec.proficient) if framework.id else False
    framework.title = spec.title
    framework.description = spec.description
    framework.scale = list(spec.scale)
    framework.proficient = list(spec.proficient)
    framework.default_value = spec.default
    framework.taxonomies = list(spec.taxonomies)
    db_session.flush()
    existing = {
        c.code: c
        for c in db_session.scalars(
            select(Competency).where(Competency.framework_id == framework.id)
        )
    }
    rules_before = {code: c.rule for code, c in existing.items()}
    position = 0
    kept: dict[str, Competency] = {}
    for node, parent, _level in spec.walk():
        position += 1
        competency = existing.pop(node.code, None)
        if competency is None:
            competency = Competency(framework_id=framework.id, code=node.code)
            db_session.add(competency)
        competency.title = node.title
        competency.description = node.description
        competency.position = position
        competency.rule = node.rule
        competency.rule_outcome = node.rule_outcome
        competency.parent_id = kept[parent.code].id if parent is not None else None
        db_session.flush()
        kept[node.code] = competency
    # Left out of the file and in use by nothing (removal_problems checked).
    for competency in sorted(existing.values(), key=lambda c: -c.position):
        db_session.execute(
            delete(CompetencyLink).where(CompetencyLink.competency_id == competency.id)
        )
        db_session.execute(
            delete(RelatedCompetency).where(
                or_(RelatedCompetency.competency_id == competency.id,
                    RelatedCompetency.related_id == competency.id)
            )
        )  # fmt: skip
        # Children first (the highest positions), each by its own statement.
        db_session.execute(delete(Competency).where(Competency.id == competency.id))
    db_session.flush()
    ids = [c.id for c in kept.values()]
    db_session.execute(
        delete(RelatedCompetency).where(
            or_(RelatedCompetency.competency_id.in_(ids), RelatedCompetency.related_id.in_(ids))
        )
    )
    for a, b in sorted(_pairs(spec)):
        first, second = sorted((kept[a].id, kept[b].id))
        db_session.add(RelatedCompetency(competency_id=first, related_id=second))
    db_session.flush()
    db_session.expire(framework, ["competencies"])
    _bring_ratings_up_to_date(db_session, framework, kept, rules_before, proficient_changed)
    return framework


def _bring_ratings_up_to_date(
    db_session: Session,
    framework: Framework,
    competencies: dict[str, Competency],
    rules_before: dict[str, Any],
    proficient_changed: bool,
) -> None:
    """A re-import that changes which values count as proficient, or a
    parent's rule, changes what learners' existing evidence means: their
    stored ratings follow (their evidence itself is never touched)."""
    if proficient_changed:
        rows = db_session.execute(
            select(UserCompetency.user_id, UserCompetency.competency_id).where(
                UserCompetency.competency_id.in_([c.id for c in competencies.values()])
            )
        ).all()
        by_id = {c.id: c for c in competencies.values()}
        for user_id, competency_id in rows:
            services.rederive(db_session, user_id, by_id[competency_id])
    for code, competency in competencies.items():
        if competency.rule and competency.rule != rules_before.get(code):
            users = db_session.scalars(
                select(UserCompetency.user_id)
                .join(Competency, Competency.id == UserCompetency.competency_id)
                .where(Competency.parent_id == competency.id, UserCompetency.proficient.is_(True))
                .distinct()
            ).all()
            for user_id in users:
                services.evaluate_rule(db_session, user_id, competency)


def framework_spec(db_session: Session, framework: Framework) -> FrameworkSpec:
    """The stored framework as a spec (for export): the tree in its order,
    relations listed on both competencies of a pair."""
    competencies = list(
        db_session.scalars(
            select(Competency)
            .where(Competency.framework_id == framework.id)
            .order_by(Competency.position, Competency.id)
        )
    )
    by_id = {c.id: c for c in competencies}
    related: dict[int, list[int]] = {c.id: [] for c in competencies}
    for a, b in db_session.execute(
        select(RelatedCompetency.competency_id, RelatedCompetency.related_id).where(
            RelatedCompetency.competency_id.in_(list(by_id))
        )
    ).all():
        if a in by_id and b in by_id:
            related[a].append(b)
            related[b].append(a)
    nodes = {
        c.id: CompetencySpec(
            code=c.code,
            title=c.title,
            description=c.description or "",
            rule=c.rule,
            rule_outcome=c.rule_outcome or Outcome.COMPLETE.value,
            related=[
                by_id[r].code for r in sorted(related[c.id], key=lambda r: (by_id[r].position, r))
            ],
        )  # fmt: skip
        for c in competencies
    }
    roots: list[CompetencySpec] = []
    for competency in competencies:
        node = nodes[competency.id]
        if competency.parent_id in nodes:
            nodes[competency.parent_id].children.append(node)
        else:
            roots.append(node)
    return FrameworkSpec(
        code=framework.code, title=framework.title, scale=list(framework.scale),
        proficient=list(framework.proficient), default=framework.default_value,
        description=framework.description or "", taxonomies=list(framework.taxonomies or []),
        competencies=roots,
    )  # fmt: skip


# --- links ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkSpec:
    """A link as a course, lesson or quiz file declares it."""

    code: str
    outcome: str = Outcome.COMPLETE.value


def sync_links(
    db_session: Session,
    course_id: int,
    links: list[tuple[int | None, LinkSpec]],
) -> None:
    """Replace a course's links (course-level: item None; a lesson's or a
    quiz's: its item id) with `links`. Evidence already recorded is never
    touched: it keeps its own words and link. Codes must exist (checked
    before: the library import names the file of an unknown one)."""
    codes = {link.code for _item, link in links}
    ids = dict(
        db_session.execute(select(Competency.code, Competency.id).where(Competency.code.in_(codes))).all()
    ) if codes else {}  # fmt: skip
    wanted: dict[tuple[int | None, int], str] = {}
    for item_id, link in links:
        wanted[(item_id, ids[link.code])] = link.outcome
    current = {
        (row.item_id, row.competency_id): row
        for row in db_session.scalars(
            select(CompetencyLink).where(CompetencyLink.course_id == course_id)
        )
    }
    for key, row in current.items():
        if key not in wanted:
            db_session.delete(row)
        elif row.outcome != wanted[key]:
            row.outcome = wanted[key]
    for (item_id, competency_id), outcome in wanted.items():
        if (item_id, competency_id) not in current:
            db_session.add(CompetencyLink(course_id=course_id, item_id=item_id,
                                          competency_id=competency_id, outcome=outcome))  # fmt: skip
    db_session.flush()


def links_of(db_session: Session, course_id: int) -> dict[int | None, list[LinkSpec]]:
    """A course's links by item (None: the course itself), in the order they were written."""
    rows = db_session.execute(
        select(CompetencyLink.item_id, Competency.code, CompetencyLink.outcome)
        .join(Competency, Competency.id == CompetencyLink.competency_id)
        .where(CompetencyLink.course_id == course_id)
        .order_by(CompetencyLink.id)
    ).all()
    result: dict[int | None, list[LinkSpec]] = {}
    for item_id, code, outcome in rows:
        result.setdefault(item_id, []).append(LinkSpec(code, outcome))
    return result


def known_codes(db_session: Session) -> set[str]:
    return set(db_session.scalars(select(Competency.code)))


def framework_codes_of_course(db_session: Session, course_id: int) -> list[str]:
    """The codes of the frameworks a course links to (for exporting them beside it)."""
    return list(
        db_session.scalars(
            select(Framework.code)
            .join(Competency, Competency.framework_id == Framework.id)
            .join(CompetencyLink, CompetencyLink.competency_id == Competency.id)
            .where(CompetencyLink.course_id == course_id)
            .distinct()
            .order_by(Framework.code)
        )
    )
