"""Moodle's competency framework file (admin/tool/lpimportcsv), both ways.

The file has 14 columns, read by position (Moodle translates the header, so
its words mean nothing; line 1 is the header all the same):

  0 Parent ID number   1 ID number   2 Short name   3 Description
  4 Description format (0 Moodle, 1 HTML, 2 plain, 4 Markdown)
  5 Scale values (comma-separated, lowest first)
  6 Scale configuration: [{"scaleid": …}, {"id": 1, "scaledefault": 1, "proficient": 1}, …],
    ids being 1-based positions in the scale values
  7 Rule type: core_competency\\competency_rule_all | core_competency\\competency_rule_points
  8 Rule outcome: core_competency\\competency::OUTCOME_* — 0 none, 1 evidence,
    2 complete, 3 recommend
  9 Rule config: "null", or for points {"base": {"points": N}, "competencies":
    [{"id": <Exported ID of a child>, "points": P, "required": 0|1}]}
  10 Cross-referenced (related) competency ID numbers, comma-separated, a comma
    inside one written %2C
  11 Exported ID (what the points rule refers to)   12 Is framework (1 on one row)
  13 Taxonomy (the framework row: one word per level, comma-separated)

Reading takes UTF-8 only (a BOM is allowed); any other encoding, a row of
another column count, invalid JSON, no framework row, an unknown parent or
parents in a cycle are errors naming the file and the line, and the framework
is then refused whole. Writing gives Moodle's English header (as PRODUCT.md
quotes it), no BOM, rows quoted as Moodle's own exporter (PHP's fputcsv)
quotes them. vle keeps descriptions as plain text: an HTML description is
turned into text on the way in; vle writes format 2 (plain).
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

import bleach

from vle.competencies.frameworks import (
    CompetencySpec,
    FrameworkInvalid,
    FrameworkSpec,
    problems,
)
from vle.competencies.models import Outcome

HEADER = [
    "Parent ID number", "ID number", "Short name", "Description", "Description format",
    "Scale values", "Scale configuration", "Rule type (optional)", "Rule outcome (optional)",
    "Rule config (optional)", "Cross-referenced competency ID numbers", "Exported ID (optional)",
    "Is framework", "Taxonomy",
]  # fmt: skip
COLUMNS = len(HEADER)
RULE_ALL = "core_competency\\competency_rule_all"
RULE_POINTS = "core_competency\\competency_rule_points"
# core_competency\competency::OUTCOME_* (a competency's rule outcome; not the
# course-competency numbering, where 2 and 3 are the other way round).
OUTCOME_NUMBERS = {Outcome.EVIDENCE.value: 1, Outcome.COMPLETE.value: 2, Outcome.RECOMMEND.value: 3}
OUTCOMES_BY_NUMBER = {number: outcome for outcome, number in OUTCOME_NUMBERS.items()}
FORMAT_MOODLE, FORMAT_HTML, FORMAT_PLAIN, FORMAT_MARKDOWN = 0, 1, 2, 4
MOODLE_SHORT_NAME = 100  # Moodle shortens a longer short name on import
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LINE_BREAK = re.compile(r"<\s*br\s*/?\s*>", re.IGNORECASE)
BLOCK_END = re.compile(r"<\s*(/p|/div|/li|/h[1-6]|/tr)\s*>", re.IGNORECASE)


@dataclass
class MoodleFile:
    """A framework read from Moodle's file, and what vle could not carry
    (it imports all the same)."""

    spec: FrameworkSpec
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Row:
    line: int
    cells: list[str]

    def __getitem__(self, index: int) -> str:
        return self.cells[index].strip()


def read(data: bytes, source: str) -> MoodleFile:
    """Moodle's competency framework file as a spec, or FrameworkInvalid with
    every problem ("file:line: reason"); nothing is kept from a refused file."""
    errors: list[str] = []
    warnings: list[str] = []

    def error(line: int | None, message: str) -> None:
        errors.append(f"{source}:{line}: {message}" if line else f"{source}: {message}")

    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        error(line, "is not valid UTF-8: save the file as UTF-8 (CSV UTF-8 in Excel); "
                    "other encodings are never guessed")  # fmt: skip
        raise FrameworkInvalid(errors) from None
    for number, line_text in enumerate(text.split("\n"), start=1):
        if CONTROL.search(line_text):
            error(number, "contains a control character (such as NUL)")
    if errors:
        raise FrameworkInvalid(errors)
    rows = _records(text, error)
    if errors:
        raise FrameworkInvalid(errors)
    if not rows:
        error(None, "is empty: Moodle's competency framework file has a header line and rows")
        raise FrameworkInvalid(errors)
    for row in rows:
        if len(row.cells) != COLUMNS:
            error(row.line, f"has {len(row.cells)} columns; Moodle's competency framework "
                            f"file has {COLUMNS}")  # fmt: skip
    if errors:
        raise FrameworkInvalid(errors)
    framework_row: _Row | None = None
    competency_rows: list[_Row] = []
    for row in rows[1:]:  # line 1 is the header, whatever its words
        flag = row[12].lower()
        if flag in {"1", "true"}:
            if framework_row is not None:
                error(row.line, f"a second framework row (also line {framework_row.line}); "
                                "a file holds one framework")  # fmt: skip
            framework_row = row
        elif flag in {"", "0", "false"}:
            competency_rows.append(row)
        else:
            error(row.line, f"“Is framework” must be 1 or empty, not “{row[12]}”")
    if framework_row is None:
        error(None, "has no framework row (a row whose “Is framework” column is 1)")
        raise FrameworkInvalid(errors)
    spec = _framework(framework_row, source, error)
    by_code: dict[str, tuple[_Row, CompetencySpec]] = {}
    export_ids: dict[str, str] = {}
    for row in competency_rows:
        code, title = row[1], row[2]
        if not code:
            error(row.line, "a competency needs its ID number (column 2)")
            continue
        if not title:
            error(row.line, f"“{code}” needs a short name (column 3)")
        if code in by_code:
            error(
                row.line,
                f"the ID number “{code}” is used twice (also line {by_code[code][0].line})",
            )
            continue
        if row[5] and _split_scale(row[5]) != spec.scale:
            warnings.append(f"{source}:{row.line}: “{code}” has its own scale in Moodle; vle rates "
                            "every competency of a framework on the framework's scale")  # fmt: skip
        node = CompetencySpec(
            code=code, title=title, description=_description(row, error),
            related=[part.strip().replace("%2C", ",") for part in row[10].split(",") if part.strip()],
            line=row.line,
        )  # fmt: skip
        by_code[code] = (row, node)
        if row[11]:
            if row[11] in export_ids:
                error(
                    row.line,
                    f"the Exported ID “{row[11]}” is used twice (also by “{export_ids[row[11]]}”)",
                )
            export_ids[row[11]] = code
    _build_tree(spec, by_code, error)
    for row, node in by_code.values():
        _rule(row, node, export_ids, error, warnings, source)
    if not errors:
        errors.extend(problems(spec))
    if errors:
        raise FrameworkInvalid(errors)
    return MoodleFile(spec, warnings)


def _records(text: str, error: Any) -> list[_Row]:
    """The file's records with the line each starts on (a quoted cell may span lines)."""
    first_line = text.split("\n", 1)[0]
    delimiter = ","
    for candidate in (",", ";", "\t"):
        if len(next(csv.reader([first_line], delimiter=candidate), [])) == COLUMNS:
            delimiter = candidate
            break
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[_Row] = []
    start = 1
    try:
        for cells in reader:
            if cells and any(cell.strip() for cell in cells):
                rows.append(_Row(start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        error(start, f"is not valid CSV ({exc})")
    return rows


def _split_scale(values: str) -> list[str]:
    return [value.strip() for value in values.split(",")]


def _description(row: _Row, error: Any) -> str:
    text = row.cells[3].strip()
    raw = row[4]
    try:
        fmt = int(raw) if raw else FORMAT_MOODLE
    except ValueError:
        fmt = -1
    if fmt not in {FORMAT_MOODLE, FORMAT_HTML, FORMAT_PLAIN, FORMAT_MARKDOWN}:
        error(
            row.line, f"the description format must be 0, 1, 2 or 4 (Moodle's formats), not “{raw}”"
        )
        return text
    if fmt == FORMAT_HTML or (fmt == FORMAT_MOODLE and "<" in text):
        return _html_to_text(text)
    return text


def _html_to_text(value: str) -> str:
    # Paragraphs and blocks end with a blank line, as plain text writes them.
    text = BLOCK_END.sub("\n\n", LINE_BREAK.sub("\n", value))
    text = html.unescape(bleach.clean(text, tags=set(), strip=True))
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _framework(row: _Row, source: str, error: Any) -> FrameworkSpec:
    scale = _split_scale(row[5]) if row[5] else []
    proficient: list[str] = []
    default = ""
    try:
        config = json.loads(row[6]) if row[6] else None
    except json.JSONDecodeError as exc:
        error(row.line, f"the scale configuration is not valid JSON ({exc.msg})")
        config = None
    else:
        shape = ("the scale configuration must be Moodle's list [{\"scaleid\": …}, "
                 "{\"id\": 1, \"scaledefault\": 1, \"proficient\": 1}, …]")  # fmt: skip
        if not row[6]:
            error(row.line, "the framework row needs a scale configuration (column 7)")
        elif not isinstance(config, list) or not config or not isinstance(config[0], dict):
            error(row.line, shape)
        else:
            for entry in config[1:]:
                if not isinstance(entry, dict) or "id" not in entry:
                    error(row.line, shape)
                    break
                try:
                    position = int(entry["id"])
                except (TypeError, ValueError):
                    position = 0
                if not 1 <= position <= len(scale):
                    error(row.line, f"the scale configuration names value {entry['id']}, but the "
                                    f"scale has {len(scale)} values")  # fmt: skip
                    continue
                value = scale[position - 1]
                if _truthy(entry.get("proficient")) and value not in proficient:
                    proficient.append(value)
                if _truthy(entry.get("scaledefault")) and not default:
                    default = value
            if not default:
                error(
                    row.line, "the scale configuration marks no value as the default (scaledefault)"
                )
            if not proficient:
                error(row.line, "the scale configuration marks no value as proficient")
    proficient.sort(key=scale.index)
    taxonomies = [word.strip() or "competency" for word in row[13].split(",")] if row[13] else []
    return FrameworkSpec(
        code=row[1], title=row[2], scale=scale, proficient=proficient, default=default,
        description=_description(row, error), taxonomies=taxonomies, source=source, line=row.line,
    )  # fmt: skip


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip() not in {"", "0", "false"}
    return bool(value)


def _build_tree(
    spec: FrameworkSpec, by_code: dict[str, tuple[_Row, CompetencySpec]], error: Any
) -> None:
    """Hang each competency under its parent (by ID number), in the file's order."""
    parent_of = {code: row[0] for code, (row, _node) in by_code.items()}
    reported: set[str] = set()
    for code, (row, _node) in by_code.items():
        parent = parent_of[code]
        if parent and parent not in by_code:
            error(
                row.line,
                f"the parent ID number “{parent}” of “{code}” is no competency of this file",
            )
            continue
        chain = [code]
        while parent_of.get(chain[-1]) and parent_of[chain[-1]] in by_code:
            following = parent_of[chain[-1]]
            if following in chain:
                cycle = chain[chain.index(following) :] + [following]
                if not reported & set(cycle):
                    error(row.line, f"parents form a cycle: {' → '.join(cycle)}")
                    reported.update(cycle)
                break
            chain.append(following)
    if reported:
        return
    for code, (_row, node) in by_code.items():
        parent = parent_of[code]
        if not parent:
            spec.competencies.append(node)
        elif parent in by_code:
            by_code[parent][1].children.append(node)


def _rule(
    row: _Row,
    node: CompetencySpec,
    export_ids: dict[str, str],
    error: Any,
    warnings: list[str],
    source: str,
) -> None:
    kind = row[7]
    if not kind:
        return
    name = kind.rsplit("\\", 1)[-1]
    if name not in {"competency_rule_all", "competency_rule_points"}:
        error(row.line, f"unknown rule type “{kind}” (Moodle's: {RULE_ALL}, {RULE_POINTS})")
        return
    try:
        number = int(row[8] or "0")
    except ValueError:
        number = -1
    if number == 0:
        warnings.append(f"{source}:{row.line}: “{node.code}”: a rule whose outcome is “none” does "
                        "nothing; it is left out")  # fmt: skip
        return
    if number not in OUTCOMES_BY_NUMBER:
        error(row.line, f"the rule outcome must be 0, 1, 2 or 3 (none, evidence, complete, "
                        f"recommend), not “{row[8]}”")  # fmt: skip
        return
    node.rule_outcome = OUTCOMES_BY_NUMBER[number]
    if name == "competency_rule_all":
        node.rule = "all"
        return
    try:
        config = json.loads(row[9])
    except json.JSONDecodeError as exc:
        error(row.line, f"the rule config is not valid JSON ({exc.msg})")
        return
    shape = ("a points rule's config must be {\"base\": {\"points\": N}, \"competencies\": "
             "[{\"id\": …, \"points\": P, \"required\": 0|1}]}")  # fmt: skip
    if (
        not isinstance(config, dict)
        or not isinstance(config.get("base"), dict)
        or not isinstance(config.get("competencies"), list)
    ):
        error(row.line, shape)
        return
    threshold = _whole(config["base"].get("points"))
    children: dict[str, dict[str, Any]] = {}
    for entry in config["competencies"]:
        if not isinstance(entry, dict) or "id" not in entry:
            error(row.line, shape)
            return
        code = export_ids.get(str(entry["id"]).strip())
        if code is None:
            error(row.line, f"the points rule names the Exported ID “{entry['id']}”, which no row "
                            "of this file has")  # fmt: skip
            return
        points = _whole(entry.get("points"))
        if points is None:
            error(row.line, f"the points of “{code}” in the rule must be a whole number")
            return
        children[code] = {"points": points, "required": _truthy(entry.get("required"))}
    if threshold is None:
        error(row.line, "the points rule's base points must be a whole number")
        return
    node.rule = {"points": threshold, "children": children}


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


# --- writing ----------------------------------------------------------------------------------


def _cell(value: str) -> str:
    """A cell as PHP's fputcsv (Moodle's exporter) writes it: quoted when it
    holds a delimiter, a quote, a backslash, a line break, a tab or a space."""
    if any(char in value for char in ',"\\\n\r\t '):
        return '"' + value.replace('"', '""') + '"'
    return value


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def write(spec: FrameworkSpec) -> str:
    """The framework as Moodle's competency framework file (text; write it as
    UTF-8 without a BOM). Exported IDs are the competencies' 1-based
    positions in the file, which the points rules refer to."""
    lines = [",".join(f'"{name}"' for name in HEADER)]
    scale_config = [{"scaleid": "0"}] + [
        {"id": position, "scaledefault": int(value == spec.default),
         "proficient": int(value in spec.proficient)}
        for position, value in enumerate(spec.scale, start=1)
    ]  # fmt: skip
    lines.append(_line(["", spec.code, spec.title, spec.description, str(FORMAT_PLAIN),
                        ",".join(spec.scale), _json(scale_config), "", "", "", "", "", "1",
                        ",".join(spec.taxonomies)]))  # fmt: skip
    walked = list(spec.walk())
    export_id = {node.code: str(position) for position, (node, _p, _l) in enumerate(walked, 1)}
    for node, parent, _level in walked:
        rule_type, outcome, config = "", "0", "null"
        if node.rule == "all":
            rule_type, outcome = RULE_ALL, str(OUTCOME_NUMBERS[node.rule_outcome])
        elif isinstance(node.rule, dict):
            rule_type, outcome = RULE_POINTS, str(OUTCOME_NUMBERS[node.rule_outcome])
            config = _json({
                "base": {"points": node.rule["points"]},
                "competencies": [
                    {"id": int(export_id[code]), "points": entry.get("points", 0),
                     "required": int(bool(entry.get("required")))}
                    for code, entry in node.rule["children"].items()
                ],
            })  # fmt: skip
        related = ",".join(code.replace(",", "%2C") for code in node.related)
        lines.append(_line([parent.code if parent else "", node.code, node.title, node.description,
                            str(FORMAT_PLAIN), "", "", rule_type, outcome, config, related,
                            export_id[node.code], "", ""]))  # fmt: skip
    return "\n".join(lines) + "\n"


def notes_for_moodle(spec: FrameworkSpec) -> list[str]:
    """What Moodle will change when it imports the file vle writes: it
    shortens a short name (title) and an ID number to 100 characters."""
    notes = []
    for code, title in [(spec.code, spec.title)] + [(n.code, n.title) for n, _p, _l in spec.walk()]:
        if len(title) > MOODLE_SHORT_NAME:
            notes.append(f"“{code}”: Moodle shortens its title to {MOODLE_SHORT_NAME} characters")
    return notes


def _line(cells: list[str]) -> str:
    return ",".join(_cell(cell) for cell in cells)
