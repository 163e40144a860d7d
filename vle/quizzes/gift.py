"""Moodle GIFT: read a quiz file into questions, and write questions back as GIFT.

A quiz in the course library is a plain GIFT file so that it opens in Moodle too.
The reader therefore follows Moodle's own importer (question/format/gift/format.php)
rule for rule: blank lines separate questions, `//` lines are comments, `::title::`,
`[format]` markers, the escapes ``\\~ \\= \\# \\{ \\} \\: \\n \\\\``, how the type is told
from the answer block, which answers carry which weight. Where Moodle would silently
import something other than what the author evidently meant (`{true}` as a short
answer, `=%50%` in a choice list as an answer text, a question nobody can get full
marks on), we refuse it with the line number instead, so that a file accepted here
imports the same way there.

The parsed questions are plain dataclasses; the database keeps each one as the JSON
of `Question.to_dict()`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

TYPES = (
    "single_choice",
    "multiple_choice",
    "true_false",
    "short_answer",
    "numerical",
    "matching",
    "essay",
    "description",
)
TEXT_FORMATS = ("moodle", "html", "markdown", "plain")
# What replaces the answer block of a missing-word question ("Grant is _____ in ...").
BLANK = "_____"

# Whitespace as Moodle's PHP trim() sees it (Python's str.strip() would also eat
# no-break spaces, which are part of the text).
_WS = " \t\n"
_LINE_WS = " \t"
# `\x` sequences and what they stand for; any other backslash is a literal backslash.
_ESCAPES = {"~": "~", "=": "=", "#": "#", "{": "{", "}": "}", ":": ":", "n": "\n", "\\": "\\"}
_SPECIAL = "\\~=#{}:"
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_WEIGHT_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")
# A `%...%` at the start of an answer; whether its inside is a valid weight is checked after.
_WEIGHT = re.compile(r"%([^%\s]*)%")
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
# Moodle reads `[id:...]` and `[tag:...]` from a question's comment lines.
_ID = re.compile(r"\[id:((?:\\\]|[^\][\x00-\x1f\x7f])+)\]")
_TAG = re.compile(r"\[tag:((?:\\\]|[^\]<>`\x00-\x1f\x7f])+)\]")


# --------------------------------------------------------------------------- model


@dataclass
class Choice:
    """An answer of a choice question, or an accepted answer of a short-answer one.

    `fraction` is the share of the mark it earns, -1..1. `text_format` and
    `feedback_format` are set only when the GIFT gave that part its own `[format]`
    marker different from the question's; None means "as the question text".
    """

    text: str
    fraction: float = 0.0
    feedback: str = ""
    text_format: str | None = None
    feedback_format: str | None = None


@dataclass
class NumericAnswer:
    """An accepted range of a numerical question: |response - value| <= tolerance.

    `value` None is Moodle's `*` answer: any other number (how GIFT's `~#feedback`
    for wrong answers is stored). `min`/`max` are kept when the GIFT wrote the
    answer as a range `a..b`, so that it is written back the same way.
    """

    value: float | None
    tolerance: float = 0.0
    fraction: float = 1.0
    feedback: str = ""
    min: float | None = None
    max: float | None = None
    feedback_format: str | None = None

    @classmethod
    def from_range(
        cls,
        low: float,
        high: float,
        fraction: float = 1.0,
        feedback: str = "",
        feedback_format: str | None = None,
    ) -> NumericAnswer:
        """The answer `{#low..high}` reads as."""
        return cls(
            value=(low + high) / 2,
            tolerance=(high - low) / 2,
            fraction=fraction,
            feedback=feedback,
            min=low,
            max=high,
            feedback_format=feedback_format,
        )


@dataclass
class MatchPair:
    """A line `=stem -> option` of a matching question. An empty stem is Moodle's
    extra wrong option (`= -> Chat`)."""

    stem: str
    option: str
    stem_format: str | None = None


@dataclass
class Question:
    """One question as GIFT describes it. Only the fields of its type are used."""

    type: str
    text: str
    title: str | None = None
    text_format: str = "moodle"
    category: str | None = None
    choices: list[Choice] = field(default_factory=list)
    numeric: list[NumericAnswer] = field(default_factory=list)
    pairs: list[MatchPair] = field(default_factory=list)
    correct: bool | None = None
    # True/false feedback by the learner's answer: `feedback_true` is shown to whoever
    # answered "true", whichever is right (Moodle's feedbacktrue/feedbackfalse).
    feedback_true: str = ""
    feedback_false: str = ""
    general_feedback: str = ""
    general_feedback_format: str | None = None
    feedback_true_format: str | None = None
    feedback_false_format: str | None = None
    idnumber: str | None = None
    tags: list[str] = field(default_factory=list)
    line: int = field(default=0, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (what the database stores as the question's spec)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Question:
        """Inverse of to_dict(); missing keys take their defaults, unknown keys are
        ignored (so a spec stored by an older or newer version still loads)."""

        def opt_float(value: Any) -> float | None:
            return None if value is None else float(value)

        return cls(
            type=str(data["type"]),
            text=str(data.get("text", "")),
            title=data.get("title"),
            text_format=str(data.get("text_format") or "moodle"),
            category=data.get("category"),
            choices=[
                Choice(
                    text=str(c["text"]),
                    fraction=float(c.get("fraction", 0.0)),
                    feedback=str(c.get("feedback", "")),
                    text_format=c.get("text_format"),
                    feedback_format=c.get("feedback_format"),
                )
                for c in data.get("choices") or []
            ],
            numeric=[
                NumericAnswer(
                    value=opt_float(n.get("value")),
                    tolerance=float(n.get("tolerance", 0.0)),
                    fraction=float(n.get("fraction", 1.0)),
                    feedback=str(n.get("feedback", "")),
                    min=opt_float(n.get("min")),
                    max=opt_float(n.get("max")),
                    feedback_format=n.get("feedback_format"),
                )
                for n in data.get("numeric") or []
            ],
            pairs=[
                MatchPair(
                    stem=str(p.get("stem", "")),
                    option=str(p["option"]),
                    stem_format=p.get("stem_format"),
                )
                for p in data.get("pairs") or []
            ],
            correct=None if data.get("correct") is None else bool(data["correct"]),
            feedback_true=str(data.get("feedback_true", "")),
            feedback_false=str(data.get("feedback_false", "")),
            general_feedback=str(data.get("general_feedback", "")),
            general_feedback_format=data.get("general_feedback_format"),
            feedback_true_format=data.get("feedback_true_format"),
            feedback_false_format=data.get("feedback_false_format"),
            idnumber=data.get("idnumber"),
            tags=[str(t) for t in data.get("tags") or []],
            line=int(data.get("line", 0)),
        )


class GiftError(ValueError):
    """The GIFT text has problems; `errors` lists each as (1-based line, reason)."""

    def __init__(self, errors: list[tuple[int, str]], source: str = "") -> None:
        self.errors = sorted(errors, key=lambda error: error[0])
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.source or "<gift>"
        return "\n".join(f"{where}:{line}: {message}" for line, message in self.errors)


# --------------------------------------------------------------------------- reading


class _Src:
    """Unescaped text that remembers, per character, whether it came from an escape
    (so `\\~` is never taken for a separator) and which line it was on."""

    __slots__ = ("chars", "literal", "lines", "line0")

    def __init__(self, chars: str, literal: list[bool], lines: list[int], line0: int) -> None:
        self.chars = chars
        self.literal = literal
        self.lines = lines
        self.line0 = line0

    @classmethod
    def unescape(cls, lines: list[tuple[int, str]]) -> _Src:
        chars: list[str] = []
        literal: list[bool] = []
        numbers: list[int] = []
        for index, (number, line) in enumerate(lines):
            if index:
                chars.append("\n")
                literal.append(False)
                numbers.append(lines[index - 1][0])
            i = 0
            while i < len(line):
                char = line[i]
                if char == "\\" and i + 1 < len(line) and line[i + 1] in _ESCAPES:
                    chars.append(_ESCAPES[line[i + 1]])
                    literal.append(True)
                    i += 2
                else:
                    chars.append(char)
                    literal.append(char == "\\")
                    i += 1
                numbers.append(number)
        return cls("".join(chars), literal, numbers, lines[0][0] if lines else 1)

    def __len__(self) -> int:
        return len(self.chars)

    def __getitem__(self, part: slice) -> _Src:
        start, stop, _ = part.indices(len(self.chars))
        return _Src(
            self.chars[start:stop],
            self.literal[start:stop],
            self.lines[start:stop],
            self.line_at(start),
        )

    def line_at(self, index: int) -> int:
        if not self.lines:
            return self.line0
        return self.lines[min(max(index, 0), len(self.lines) - 1)]

    @property
    def line(self) -> int:
        """Line of the first character that is not whitespace."""
        stripped = self.strip()
        return stripped.line_at(0) if len(stripped) else self.line_at(0)

    @property
    def text(self) -> str:
        return self.chars

    def special(self, index: int) -> bool:
        return not self.literal[index]

    def find(self, sub: str, start: int = 0) -> int:
        """Index of the first occurrence of `sub` written without escapes, or -1."""
        index = self.chars.find(sub, start)
        while index != -1 and any(self.literal[index : index + len(sub)]):
            index = self.chars.find(sub, index + 1)
        return index

    def rfind(self, sub: str) -> int:
        index = self.chars.rfind(sub)
        while index != -1 and any(self.literal[index : index + len(sub)]):
            index = self.chars.rfind(sub, 0, index + len(sub) - 1)
        return index

    def startswith(self, sub: str) -> bool:
        return self.chars.startswith(sub) and not any(self.literal[: len(sub)])

    def strip(self, chars: str = _WS) -> _Src:
        """Strip unescaped whitespace (an escaped `\\n` at the edge stays here)."""
        start, stop = 0, len(self.chars)
        while start < stop and self.chars[start] in chars and not self.literal[start]:
            start += 1
        while stop > start and self.chars[stop - 1] in chars and not self.literal[stop - 1]:
            stop -= 1
        return self[start:stop]

    def split(self, sep: str, maxsplit: int = -1) -> list[_Src]:
        pieces: list[_Src] = []
        start = 0
        index = self.find(sep)
        while index != -1 and (maxsplit < 0 or len(pieces) < maxsplit):
            pieces.append(self[start:index])
            start = index + len(sep)
            index = self.find(sep, start)
        pieces.append(self[start:])
        return pieces

    def split_once(self, sep: str) -> tuple[_Src, _Src | None]:
        """What precedes the first unescaped `sep`, and what follows it (None without one)."""
        head, *tail = self.split(sep, 1)
        return head, (tail[0] if tail else None)

    def split_before(self, markers: str) -> list[_Src]:
        """Cut before every unescaped marker character; the first piece is what
        precedes the first marker (often empty)."""
        cuts = [i for i, c in enumerate(self.chars) if c in markers and not self.literal[i]]
        bounds = [0, *cuts, len(self.chars)]
        return [self[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]

    def trim_lines(self) -> _Src:
        """Strip each physical line, as Moodle's file import does for every line."""
        pieces = [piece.strip(_LINE_WS) for piece in self.split("\n")]
        chars: list[str] = []
        literal: list[bool] = []
        numbers: list[int] = []
        for index, piece in enumerate(pieces):
            if index:
                chars.append("\n")
                literal.append(False)
                numbers.append(pieces[index - 1].line_at(len(pieces[index - 1])))
            chars.append(piece.chars)
            literal.extend(piece.literal)
            numbers.extend(piece.lines)
        return _Src("".join(chars), literal, numbers, self.line0)


_Report = Callable[[int, str], None]


@dataclass
class _CategorySwitch:
    name: str | None


def parse(text: str, source: str = "") -> list[Question]:
    """Read GIFT text. Raises GiftError listing every problem found (with 1-based
    line numbers) and returns nothing if there is any."""
    errors: list[tuple[int, str]] = []
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate(lines, start=1):
        problem = _control_character(line)
        if problem:
            errors.append((number, problem))

    questions: list[Question] = []
    category: str | None = None
    for block in _blocks(lines):
        result = _read_block(block, category, errors)
        if isinstance(result, _CategorySwitch):
            category = result.name
        elif result is not None:
            questions.append(result)
    if errors:
        raise GiftError(errors, source)
    return questions


def _control_character(line: str) -> str | None:
    for column, char in enumerate(line, start=1):
        if char != "\t" and unicodedata.category(char) == "Cc":
            what = "a NUL byte" if char == "\0" else f"control character U+{ord(char):04X}"
            return f"{what} at column {column}: remove it (GIFT is text, tabs and line breaks)"
    return None


def _blocks(lines: list[str]) -> Iterable[list[tuple[int, str]]]:
    """Questions are separated by blank lines (Moodle's readquestions)."""
    block: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        if line.strip(_LINE_WS):
            block.append((number, line))
        elif block:
            yield block
            block = []
    if block:
        yield block


def _is_comment(line: str) -> bool:
    return line.lstrip(_LINE_WS).startswith("//")


def _read_block(
    block: list[tuple[int, str]], category: str | None, errors: list[tuple[int, str]]
) -> Question | _CategorySwitch | None:
    comments = "\n".join(line for _, line in block if _is_comment(line))
    content = [(number, line.rstrip(_LINE_WS)) for number, line in block if not _is_comment(line)]
    if not content:
        return None

    first = content[0][1].lstrip(_LINE_WS)
    if first.startswith("$CATEGORY:"):
        if len(content) > 1:
            # Moodle would swallow the question into the category's name.
            errors.append(
                (content[1][0], "leave a blank line between a $CATEGORY: line and the question")
            )
            return None
        # Moodle takes the category name as written (it does not unescape it).
        return _CategorySwitch(first[len("$CATEGORY:") :].strip(_LINE_WS) or None)

    found: list[tuple[int, str]] = []

    def report(line: int, message: str) -> None:
        found.append((line, message))

    question = _read_question(_Src.unescape(content).strip(), report)
    errors.extend(found)
    if found or question is None:
        return None
    question.category = category
    question.line = content[0][0]
    question.idnumber, question.tags = _idnumber_and_tags(comments)
    return question


def _idnumber_and_tags(comments: str) -> tuple[str | None, list[str]]:
    match = _ID.search(comments)
    idnumber = match.group(1).replace("\\]", "]").strip() if match else ""
    tags = [tag.replace("\\]", "]").strip() for tag in _TAG.findall(comments)]
    return idnumber or None, [tag for tag in tags if tag]


def _read_question(src: _Src, report: _Report) -> Question | None:
    title: str | None = None
    if src.startswith("::"):
        end = src.find("::", 2)
        if end == -1:
            report(src.line, "the question title opened with '::' is not closed with '::'")
            return None
        title = src[2:end].text.strip(_WS) or None
        src = src[end + 2 :].strip()

    start, stop = src.find("{"), src.find("}")
    if start == -1 and stop == -1:
        text_format, text = _formatted(src.text, "moodle")
        if not text:
            report(src.line, "the question has no text")
            return None
        return Question(type="description", text=text, title=title, text_format=text_format)
    if start == -1:
        report(src.line_at(stop), "'}' without an opening '{' (write \\} for a literal brace)")
        return None
    if stop == -1:
        report(
            src.line_at(start),
            "'{' is never closed: end the answers with '}' (and no blank line inside them)",
        )
        return None
    if stop < start:
        report(src.line_at(stop), "'}' before '{' (write \\} for a literal brace)")
        return None
    nested = src.find("{", start + 1)
    if nested != -1 and nested < stop:
        report(src.line_at(nested), "'{' inside the answers (write \\{ for a literal brace)")
        return None
    extra = min((i for i in (src.find("{", stop), src.find("}", stop + 1)) if i != -1), default=-1)
    if extra != -1:
        report(
            src.line_at(extra),
            "a question has one answer block {...}; write \\{ and \\} for literal braces",
        )
        return None

    head, tail = src[:start], src[stop + 1 :]
    # Text after the answers makes it a missing-word question (Moodle's rule).
    raw_text = head.text + (BLANK + tail.text if tail.text.strip(_WS) else "")
    text_format, text = _formatted(raw_text, "moodle")
    if not text:
        report(src.line_at(start), "the question has no text before its answers")
        return None

    inner = src[start + 1 : stop].trim_lines().strip()
    general_feedback, general_format = "", None
    separator = inner.rfind("####")
    if separator != -1:
        general_format, general_feedback = _part(inner[separator + 4 :], text_format)
        inner = inner[:separator].strip()

    question = Question(
        type="essay",
        text=text,
        title=title,
        text_format=text_format,
        general_feedback=general_feedback,
        general_feedback_format=general_format,
    )
    _read_answers(question, inner, report)
    return question


def _read_answers(question: Question, inner: _Src, report: _Report) -> None:
    """Tell the type from the answer block as Moodle does, then read the answers."""
    text = inner.text
    if not text:
        question.type = "essay"
    elif inner.startswith("#"):
        question.type = "numerical"
        _read_numerical(question, inner[1:], report)
    elif inner.find("~") != -1:
        _read_choices(question, inner, report)
    elif inner.find("=") != -1 and inner.find("->") != -1:
        question.type = "matching"
        _read_matching(question, inner, report)
    else:
        hash_at = inner.find("#")
        verdict = (inner[:hash_at] if hash_at > 0 else inner).strip().text
        if verdict in _TRUE_FALSE:
            question.type = "true_false"
            _read_true_false(question, inner, report)
        elif verdict.upper() in _TRUE_FALSE:
            # Moodle only knows the capitals and would import {true} as a short answer.
            report(
                inner.line,
                f"write true/false answers in capitals ({{T}}, {{TRUE}}, {{F}}, {{FALSE}}), "
                f"or {{={verdict}}} for a short answer, not {{{verdict}}}",
            )
        else:
            question.type = "short_answer"
            _read_short_answers(question, inner, report)


def _read_choices(question: Question, inner: _Src, report: _Report) -> None:
    # Moodle: a list with a `=` answer is single choice, one without is multiple answer.
    single = inner.find("=") != -1
    question.type = "single_choice" if single else "multiple_choice"
    pieces = inner.split_before("~=")
    if pieces[0].strip().text:
        report(pieces[0].line, "start each answer with = (right) or ~ (wrong or weighted)")
    for piece in pieces[1:]:
        marker, body = piece.text[0], piece[1:].strip()
        if marker == "=":
            if _WEIGHT.match(body.text):
                report(
                    body.line,
                    "in a choice list = always means 100%; write partial credit as ~%50%answer",
                )
                continue
            fraction: float | None = 1.0
        else:
            fraction, body = _weight(body, 0.0, report)
        choice = _choice(body, fraction, question.text_format, report)
        if choice is not None:
            question.choices.append(choice)
    if len(pieces) - 1 < 2:
        report(inner.line, "a choice question needs at least 2 answers")
        return
    if single:
        return
    positive = sum(choice.fraction for choice in question.choices if choice.fraction > 0)
    if question.choices and round(positive, 2) < 1:
        report(
            inner.line,
            f"the answers' weights add up to {positive * 100:g}%, so nobody can score 100%: "
            "give the right answers weights that make 100%",
        )


def _read_short_answers(question: Question, inner: _Src, report: _Report) -> None:
    pieces = inner.split("=")
    # Moodle accepts a first answer without `=` ({four}); later ones follow a `=`.
    if not pieces[0].strip().text:
        pieces = pieces[1:]
    for piece in pieces:
        fraction, body = _weight(piece.strip(), 1.0, report)
        choice = _choice(body, fraction, question.text_format, report)
        if choice is not None and ("->" in choice.text or "->" in choice.feedback):
            # Moodle would take it as text, but GIFT has no escape for '->', so
            # such a question could not be written back: refuse it here.
            report(piece.line, "'->' belongs to matching questions ({=question -> answer})")
        elif choice is not None:
            question.choices.append(choice)
    if not pieces:
        report(inner.line, "a short-answer question needs at least one answer")
    elif question.choices and max(c.fraction for c in question.choices) < 1:
        report(inner.line, "no answer earns full marks: mark one with = (or =%100%)")


def _choice(body: _Src, fraction: float | None, default: str, report: _Report) -> Choice | None:
    answer, feedback = body.split_once("#")
    text_format, text = _part(answer, default)
    if not text:
        report(body.line, "an answer is empty")
        return None
    feedback_format, feedback_text = _part(feedback, default) if feedback else (None, "")
    if fraction is None:
        return None
    return Choice(text, fraction, feedback_text, text_format, feedback_format)


def _weight(body: _Src, default: float, report: _Report) -> tuple[float | None, _Src]:
    """Read a leading `%n%` weight; (None, body) after reporting a bad one."""
    match = _WEIGHT.match(body.text)
    if not match:
        return default, body
    number = match.group(1)
    if _WEIGHT_NUMBER.fullmatch(number) and -100 <= float(number) <= 100:
        # Decimal, so that %33.33333% is exactly the float 0.3333333.
        return float(Decimal(number) / 100), body[match.end() :].strip()
    report(
        body.line,
        f"bad answer weight %{number}%: use a percentage from -100 to 100, e.g. %50% or %-33.3%",
    )
    return None, body[match.end() :].strip()


def _read_true_false(question: Question, inner: _Src, report: _Report) -> None:
    verdict, feedback = inner.split_once("#")
    wrong, right = feedback.split_once("#") if feedback is not None else (None, None)
    question.correct = _TRUE_FALSE[verdict.strip().text]
    wrong_format, wrong_text = _part(wrong, question.text_format) if wrong else (None, "")
    right_format, right_text = _part(right, question.text_format) if right else (None, "")
    # Moodle's {T#wrong#right}: the first feedback is for a wrong answer, the second
    # for a right one; stored by the answer the learner gave.
    if question.correct:
        question.feedback_true, question.feedback_true_format = right_text, right_format
        question.feedback_false, question.feedback_false_format = wrong_text, wrong_format
    else:
        question.feedback_true, question.feedback_true_format = wrong_text, wrong_format
        question.feedback_false, question.feedback_false_format = right_text, right_format


def _read_matching(question: Question, inner: _Src, report: _Report) -> None:
    pieces = inner.split("=")
    if pieces[0].strip().text:
        report(pieces[0].line, "start each pair with = (=question -> answer)")
    for piece in pieces[1:]:
        arrow = piece.find("->")
        if arrow == -1:
            report(piece.line, "a matching pair needs '->' between the question and its answer")
            continue
        stem_format, stem = _part(piece[:arrow], question.text_format)
        option = piece[arrow + 2 :].text.strip(_WS)
        if not option:
            report(piece.line, "a matching pair needs an answer after '->'")
            continue
        question.pairs.append(MatchPair(stem, option, stem_format))
    stems = [pair for pair in question.pairs if pair.stem]
    if len(stems) < 2:
        report(inner.line, "a matching question needs at least 2 pairs (=question -> answer)")


def _read_numerical(question: Question, body: _Src, report: _Report) -> None:
    wrong: _Src | None = None
    tilde = body.find("~")
    if tilde != -1:
        body, wrong = body[:tilde], body[tilde + 1 :].strip()
    pieces = body.split("=")
    if not pieces[0].strip().text:
        pieces = pieces[1:]
    all_read = True
    for piece in pieces:
        fraction, rest = _weight(piece.strip(), 1.0, report)
        number, feedback = rest.split_once("#")
        feedback_format, feedback_text = (
            _part(feedback, question.text_format) if feedback else (None, "")
        )
        answer = _numeric_answer(number.strip(), report)
        if answer is None or fraction is None:
            all_read = False
            continue
        answer.fraction = fraction
        answer.feedback, answer.feedback_format = feedback_text, feedback_format
        question.numeric.append(answer)
    if wrong is not None:
        if wrong.text and not wrong.startswith("#"):
            report(wrong.line, "after ~ in a numerical question write #feedback for wrong answers")
        else:
            feedback_format, feedback_text = (
                _part(wrong[1:], question.text_format) if wrong.text else (None, "")
            )
            question.numeric.append(
                NumericAnswer(None, 0.0, 0.0, feedback_text, feedback_format=feedback_format)
            )
    if not any(answer.value is not None for answer in question.numeric):
        if all_read:
            report(body.line, "a numerical question needs a number, e.g. {#42} or {#3.14:0.01}")
    elif max(answer.fraction for answer in question.numeric) < 1:
        report(body.line, "no answer earns full marks: give one without a weight (or =%100%)")


def _numeric_answer(src: _Src, report: _Report) -> NumericAnswer | None:
    text = src.text
    if text == "*":
        return NumericAnswer(None)
    dots, colon = src.find(".."), src.find(":")
    if dots > 0:
        low, high = _number(text[:dots], src, report), _number(text[dots + 2 :], src, report)
        if low is None or high is None:
            return None
        if low > high:
            report(src.line, f"the range {text} runs backwards: write the smaller number first")
            return None
        return NumericAnswer.from_range(low, high)
    if colon > 0:
        value, tolerance = (
            _number(text[:colon], src, report),
            _number(text[colon + 1 :], src, report),
        )
        if value is None or tolerance is None:
            return None
        if tolerance < 0:
            report(src.line, f"the margin of error in {text} must not be negative")
            return None
        return NumericAnswer(value, tolerance)
    value = _number(text, src, report)
    return None if value is None else NumericAnswer(value)


def _number(text: str, src: _Src, report: _Report) -> float | None:
    text = text.strip(_WS)
    if not text:
        report(src.line, "a number is missing (numerical answers look like 42, 3.14:0.01 or 1..5)")
        return None
    if not _NUMBER.fullmatch(text):
        hint = " (use a dot for decimals)" if re.fullmatch(r"[+-]?\d+,\d+", text) else ""
        report(src.line, f"'{text}' is not a number{hint}")
        return None
    value = float(text)
    if not math.isfinite(value):
        report(src.line, f"'{text}' is too large a number")
        return None
    return value


def _part(src: _Src, default: str) -> tuple[str | None, str]:
    """Text of an answer, feedback or stem, with its own format if its `[format]`
    marker differs from the question's (None otherwise)."""
    text_format, text = _formatted(src.text, default)
    return (text_format if text_format != default and text else None), text


def _formatted(text: str, default: str) -> tuple[str, str]:
    """Split a leading `[html]`/`[markdown]`/`[plain]`/`[moodle]` marker off
    (Moodle's parse_text_with_format); anything else in brackets is text."""
    text = text.strip(_WS)
    if text.startswith("["):
        end = text.find("]")
        if end != -1 and text[1:end] in TEXT_FORMATS:
            return text[1:end], text[end + 1 :].strip(_WS)
    return default, text


# --------------------------------------------------------------------------- writing


def write(questions: Iterable[Question]) -> str:
    """GIFT text for the questions, which parse() reads back as equal questions.

    Raises ValueError for what GIFT cannot express (for example '->' in a matching
    question's stem, control characters, an unknown type)."""
    blocks: list[str] = []
    category: str | None = None
    for question in questions:
        if (question.category or None) != category:
            category = question.category or None
            if category is not None and ("\n" in category or _has_control(category)):
                raise ValueError(f"a category name must be one line of text: {category!r}")
            blocks.append(f"$CATEGORY: {category or ''}".rstrip())
        blocks.append(_write_question(question))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _has_control(text: str) -> bool:
    return any(c not in "\t\n" and unicodedata.category(c) == "Cc" for c in text)


def _check_writable(question: Question) -> None:
    if question.type not in TYPES:
        raise ValueError(f"unknown question type {question.type!r}")
    if question.text_format not in TEXT_FORMATS:
        raise ValueError(f"unknown text format {question.text_format!r}")
    if not question.text.strip(_WS):
        raise ValueError("a question needs text")
    texts = [question.text, question.title or "", question.general_feedback]
    texts += [t for c in question.choices for t in (c.text, c.feedback)]
    texts += [n.feedback for n in question.numeric]
    texts += [t for p in question.pairs for t in (p.stem, p.option)]
    texts += [question.feedback_true, question.feedback_false]
    if any(_has_control(text) for text in texts):
        raise ValueError("control characters cannot be written to GIFT")
    if question.type == "short_answer" and any(
        "->" in text for c in question.choices for text in (c.text, c.feedback)
    ):
        # `=` and `->` in one answer block make Moodle read it as a matching question.
        raise ValueError("GIFT cannot write '->' in a short answer or its feedback")
    if question.type == "matching" and any("->" in pair.stem for pair in question.pairs):
        raise ValueError("GIFT cannot write '->' in a matching question's stem")
    if question.type == "single_choice" and not any(c.fraction == 1 for c in question.choices):
        raise ValueError("a single-choice question needs an answer worth 100%")


def _write_question(question: Question) -> str:
    _check_writable(question)
    lines: list[str] = []
    meta = _meta_comment(question)
    if meta:
        lines.append(meta)
    head = f"::{_encode(question.title, oneline=True)}::" if question.title else ""
    marker = ""
    if question.text_format != "moodle":
        marker = f"[{question.text_format}]"
    elif question.text.startswith("[") or (not head and question.text.startswith("//")):
        # Keep a leading "[...]" from reading as a format, and "//" as a comment.
        marker = "[moodle]"
    lead = head + marker
    if question.type == "description":
        lines.append(lead + _encode(question.text, keep_indent=True, lead=lead))
        return "\n".join(lines)

    blank = question.text.find(BLANK)
    if blank != -1 and question.text[blank + len(BLANK) :]:
        before, after = question.text[:blank], question.text[blank + len(BLANK) :]
    else:
        before, after = question.text, ""
    text = lead + _encode(before, keep_indent=True, lead=lead)
    text += _answers(question)
    text += _encode(after, keep_indent=True, lead="}")
    lines.append(text)
    return "\n".join(lines)


def _meta_comment(question: Question) -> str:
    bits = []
    values = ([("id", question.idnumber)] if question.idnumber else []) + [
        ("tag", tag) for tag in question.tags
    ]
    for kind, value in values:
        if "\n" in value or _has_control(value) or value.endswith("\\") or value != value.strip():
            raise ValueError(f"cannot write the {kind} {value!r}")
        if kind == "tag" and any(c in value for c in "<>`"):
            raise ValueError(f"a tag cannot contain < > or `: {value!r}")
        escaped = value.replace("]", "\\]")
        bits.append(f"[{kind}:{escaped}]")
    return "// " + " ".join(bits) if bits else ""


def _answers(question: Question) -> str:
    """The `{...}` block of a question."""
    kind = question.type
    default = question.text_format
    general = ""
    if question.general_feedback:
        general = "####" + _write_part(
            question.general_feedback, question.general_feedback_format, default
        )

    if kind == "essay":
        return "{" + general + "}"
    if kind == "true_false":
        if question.correct:
            right = _write_part(question.feedback_true, question.feedback_true_format, default)
            wrong = _write_part(question.feedback_false, question.feedback_false_format, default)
        else:
            right = _write_part(question.feedback_false, question.feedback_false_format, default)
            wrong = _write_part(question.feedback_true, question.feedback_true_format, default)
        body = "TRUE" if question.correct else "FALSE"
        if wrong or right:
            body += "#" + wrong
        if right:
            body += "#" + right
        return "{" + body + general + "}"

    lines: list[str] = []
    if kind in ("single_choice", "multiple_choice"):
        single = kind == "single_choice"
        prefixes = []
        for choice in question.choices:
            if single and choice.fraction == 1:
                prefixes.append("=")
            elif choice.fraction == 0:
                prefixes.append("~")
            else:
                prefixes.append(f"~%{_weight_text(choice.fraction)}%")
        if single and "~" not in "".join(prefixes):
            # Without a `~` the block would read as a short answer.
            prefixes[-1] = "~%100%"
        for prefix, choice in zip(prefixes, question.choices, strict=True):
            lines.append(prefix + _write_choice(choice, default))
    elif kind == "short_answer":
        for choice in question.choices:
            weight = "" if choice.fraction == 1 else f"%{_weight_text(choice.fraction)}%"
            lines.append("=" + weight + _write_choice(choice, default))
    elif kind == "numerical":
        lines.extend(_numeric_lines(question))
    elif kind == "matching":
        for pair in question.pairs:
            stem = _write_part(pair.stem, pair.stem_format, default)
            option = _encode(pair.option, lead=" -> ")
            lines.append(f"={stem} -> {option}")
    if general:
        lines.append(general)
    opening = "{#" if kind == "numerical" else "{"
    return opening + "\n" + "".join(f"\t{line}\n" for line in lines) + "}"


def _numeric_lines(question: Question) -> list[str]:
    lines = []
    last = len(question.numeric) - 1
    for index, answer in enumerate(question.numeric):
        feedback = _write_part(answer.feedback, answer.feedback_format, question.text_format)
        if answer.value is None and answer.fraction == 0 and index == last:
            # Moodle's own way to give feedback to every other (wrong) answer.
            lines.append("~" + ("#" + feedback if feedback else ""))
            continue
        weight = "" if answer.fraction == 1 else f"%{_weight_text(answer.fraction)}%"
        if answer.value is None:
            number = "*"
        elif answer.min is not None and answer.max is not None:
            number = f"{_number_text(answer.min)}..{_number_text(answer.max)}"
        elif answer.tolerance:
            number = f"{_number_text(answer.value)}:{_number_text(answer.tolerance)}"
        else:
            number = _number_text(answer.value)
        lines.append(f"={weight}{number}" + ("#" + feedback if feedback else ""))
    return lines


def _write_choice(choice: Choice, default: str) -> str:
    text = _write_part(choice.text, choice.text_format, default, guard_weight=True)
    if choice.feedback:
        text += "#" + _write_part(choice.feedback, choice.feedback_format, default)
    return text


def _write_part(
    text: str, text_format: str | None, default: str, guard_weight: bool = False
) -> str:
    """An answer, feedback or stem with its `[format]` marker when it needs one:
    its own format, or the question's in front of text that would otherwise read
    as a marker (or, for answers, as a `%weight%`)."""
    if not text:
        return ""
    marker = ""
    if text_format and text_format != default:
        marker = f"[{text_format}]"
    elif text.startswith("[") or (guard_weight and text.startswith("%")):
        marker = f"[{default}]"
    return marker + _encode(text, lead="=")


def _encode(text: str, keep_indent: bool = False, lead: str = "x", oneline: bool = False) -> str:
    """Escape GIFT's special characters and lay out line breaks.

    A line break becomes a real one where the reader gives it back unchanged, and
    the escape `\\n` where it would not: where it would leave a blank line (which
    ends the question), a line starting with `//` (a comment), or whitespace at a
    line's edge (trimmed; indentation survives only in the question text).
    `lead` is what precedes the text on its first line."""
    segments = text.split("\n")
    out = [_escape(segments[0])]
    line = lead + out[0]
    for segment in segments[1:]:
        encoded = _escape(segment)
        physical = (
            not oneline
            and line.strip(_LINE_WS) != ""
            and not line.endswith((" ", "\t"))
            and segment.strip(_LINE_WS) != ""
            and not segment.lstrip(_LINE_WS).startswith("//")
            and (keep_indent or not segment.startswith((" ", "\t")))
        )
        if physical:
            out.append("\n" + encoded)
            line = encoded
        else:
            out.append("\\n" + encoded)
            line += "\\n" + encoded
    return "".join(out)


def _escape(text: str) -> str:
    return "".join("\\" + c if c in _SPECIAL else c for c in text)


def _weight_text(fraction: float) -> str:
    """The shortest percentage that reads back as exactly this fraction."""
    percent = fraction * 100
    text = repr(percent)
    for digits in range(16):
        candidate = f"{percent:.{digits}f}"
        if float(Decimal(candidate) / 100) == fraction:
            text = candidate
            break
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _number_text(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)
