"""The quiz editor's rules: a quiz item's settings and its question bank, as
the trainer edits them in the browser.

A quiz made in the browser is exactly what the course files make
(vle/library/reader.py `_read_quiz`, vle/library/services.py):

- `item.settings` holds the reader's keys, in its order, with its defaults:
  pass_mark (0–100, default 60), attempts (1 or more; None: unlimited),
  time_limit_minutes (1–1440; None: no limit), shuffle, draw (1 or more and
  at most the number of gradable questions; None: all of them), layout,
  review and grading (one of vle.quizzes.services' LAYOUTS, REVIEWS,
  GRADINGS);
- after every change of the questions `item.source` is their GIFT
  (`gift.write`) and the question rows follow them
  (`quizzes.sync_questions`, which keeps the id of the question at each
  position, so attempts keep their answers);
- a question is only ever stored if the GIFT reader reads it back as the very
  same question (`gift.parse(gift.write([q])) == [q]`): the editor can never
  store what the import would refuse;
- GIFT pasted or uploaded is read by the import's own reader, and refused
  with its line-numbered errors, whole: nothing changes.

Versions: every save (settings, a question, a GIFT import, a deletion)
expects the quiz item's version the editor was opened on and raises it
(vle/authoring/editing.py); an older one is a conflict. Moving a question
up or down moves rows with plain UPDATEs and raises no version, as moving
items does. Every change is recorded in the audit log (`editing.record`).

Forms reach these functions as plain dicts of the posted strings, so the
rules hold whatever sends them; problems come back as `QuestionInvalid` /
`SettingsInvalid` with one message per field name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from vle.accounts.models import User
from vle.authoring import contents, editing
from vle.catalog.models import Course, Item, Module
from vle.errors import Invalid, NotFound
from vle.inputs import has_control
from vle.learning import services as learning
from vle.quizzes import gift
from vle.quizzes import questions as question_types
from vle.quizzes import services as quizzes
from vle.quizzes.models import Answer
from vle.quizzes.models import Question as QuestionRow
from vle.sanitize import clean_html

# The reader's settings and defaults, in its order (vle/library/reader.py).
DEFAULT_SETTINGS: dict[str, Any] = {
    "pass_mark": 60,  # nosec B105 # the pass mark, not a password
    "attempts": None,
    "time_limit_minutes": None,
    "shuffle": False,
    "draw": None,
    "layout": "all_on_one_page",
    "review": "after_submit",
    "grading": "highest",
}
MAX_TIME_LIMIT = 24 * 60  # minutes, as the reader allows
MAX_TITLE = 300  # Item.title and Question.title
# Blank rows of answers (or pairs) a question form offers: at least this many
# in all, and always a few more than are filled ("more rows" by saving).
MIN_ROWS = 6
SPARE_ROWS = 3
# A GIFT upload's size when the app sets no UPLOAD_MAX_MB.
GIFT_MAX_BYTES = 1024 * 1024

# Question types the editor offers, in the order of its "Add a question" list.
TYPES = gift.TYPES
CHOICE_TYPES = ("single_choice", "multiple_choice")
ROW_TYPES = ("single_choice", "multiple_choice", "short_answer", "numerical", "matching")

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


class SettingsInvalid(Invalid):
    """The quiz's title or settings break a rule; `errors` by field name."""

    def __init__(self, errors: dict[str, Any]):
        super().__init__("; ".join(str(m) for m in errors.values()))
        self.errors = errors


class QuestionInvalid(Invalid):
    """A question from the form breaks a rule; `errors` by field name."""

    def __init__(self, errors: dict[str, Any]):
        super().__init__("; ".join(str(m) for m in errors.values()))
        self.errors = errors


class GiftInvalid(Invalid):
    """GIFT text the import would refuse: `errors` is every (line, reason)
    the reader found (`gift.GiftError.errors`), or line 0 for a problem with
    the file itself (its encoding, its size, no question in it)."""

    def __init__(self, errors: list[tuple[int, str]]):
        super().__init__("\n".join(f"{line}: {message}" for line, message in errors))
        self.errors = errors


# --------------------------------------------------------------------------- settings


def _integer(raw: Any) -> int | None | str:
    """A posted whole number: the int, None when empty, the text when it is not one."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, int):
        return raw
    text = str(raw).strip()
    return int(text) if re.fullmatch(r"[+-]?\d{1,9}", text) else text


def check_settings(
    values: Mapping[str, Any], gradable: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The settings as `item.settings` holds them, and the problems by field.

    The reader's rules: pass_mark a whole number 0–100 (empty: 60);
    attempts empty (unlimited) or 1 or more; time_limit_minutes empty (none)
    or 1–1440; draw empty (every question) or 1 up to `gradable`, the
    number of questions that count (a description does not); layout,
    review and grading one of the known values (empty: the default)."""
    errors: dict[str, Any] = {}
    settings = dict(DEFAULT_SETTINGS)
    pass_mark = _integer(values.get("pass_mark"))
    if pass_mark is None:
        settings["pass_mark"] = DEFAULT_SETTINGS["pass_mark"]
    elif isinstance(pass_mark, str) or not 0 <= pass_mark <= 100:
        errors["pass_mark"] = _l("The pass mark is a whole number from 0 to 100.")
    else:
        settings["pass_mark"] = pass_mark
    attempts = _integer(values.get("attempts"))
    if isinstance(attempts, str) or (attempts is not None and attempts < 1):
        errors["attempts"] = _l("Attempts allowed is a whole number, 1 or more (empty: unlimited).")
    else:
        settings["attempts"] = attempts
    minutes = _integer(values.get("time_limit_minutes"))
    if isinstance(minutes, str) or (minutes is not None and not 1 <= minutes <= MAX_TIME_LIMIT):
        errors["time_limit_minutes"] = _l(
            "The time limit is a whole number of minutes from 1 to %(max)d (empty: no limit).",
            max=MAX_TIME_LIMIT,
        )
    else:
        settings["time_limit_minutes"] = minutes
    settings["shuffle"] = bool(values.get("shuffle"))
    draw = _integer(values.get("draw"))
    if isinstance(draw, str) or (draw is not None and draw < 1):
        errors["draw"] = _l("Draw is a whole number, 1 or more (empty: every question).")
    elif draw is not None and draw > gradable:
        errors["draw"] = (
            _l("The quiz has no questions yet: leave Draw empty until it has.")
            if gradable == 0
            else _l(
                "Draw asks for %(draw)d questions but the quiz has %(count)d.",
                draw=draw,
                count=gradable,
            )
        )
    else:
        settings["draw"] = draw
    for key, allowed in (
        ("layout", quizzes.LAYOUTS),
        ("review", quizzes.REVIEWS),
        ("grading", quizzes.GRADINGS),
    ):
        value = values.get(key) or DEFAULT_SETTINGS[key]
        if value not in allowed:
            errors[key] = _l("Choose one of the listed values.")
        else:
            settings[key] = value
    return settings, errors


def _check_title(title: Any, errors: dict[str, Any]) -> str:
    text = str(title or "").strip()
    if not text:
        errors["title"] = _l("Give the quiz a title.")
    elif len(text) > MAX_TITLE:
        errors["title"] = _l("The title is too long: at most %(max)d characters.", max=MAX_TITLE)
    elif has_control(text):
        errors["title"] = _l("Control characters (such as NUL) are not allowed here.")
    return text


def add_quiz(
    db_session: Session,
    user: User,
    address: str | None,
    course: Course,
    module: Module,
    title: Any,
    required: bool,
    values: Mapping[str, Any],
) -> Item:
    """A new quiz item at the end of `module`, with no question yet: its slug
    from the title, unique in the course; its number after the module's last
    item. Learners cannot start it until it has a question that counts."""
    errors: dict[str, Any] = {}
    text = _check_title(title, errors)
    settings, problems = check_settings(values, gradable=0)
    errors.update(problems)
    if errors:
        raise SettingsInvalid(errors)
    item = Item(
        kind="quiz",
        title=text,
        required=bool(required),
        source="",
        body_html="",
        settings=settings,
    )
    contents.append_item(db_session, course, module, item)
    editing.record(
        db_session, user, address, "quiz.add", course,
        {"item": item.id, "slug": item.slug, "module": module.id},
    )  # fmt: skip
    learning.recount_course(db_session, course)
    return item


def save_settings(
    db_session: Session,
    user: User,
    address: str | None,
    course: Course,
    item: Item,
    based_on: int | None,
    title: Any,
    required: bool,
    values: Mapping[str, Any],
) -> None:
    """The quiz's title, whether it is required, and its settings, by the
    reader's rules (`check_settings`); a conflict if `based_on` is not the
    quiz's version now."""
    errors: dict[str, Any] = {}
    text = _check_title(title, errors)
    settings, problems = check_settings(values, gradable_count(db_session, item))
    errors.update(problems)
    if errors:
        raise SettingsInvalid(errors)
    editing.expect_version(item, based_on)
    changed = [k for k in DEFAULT_SETTINGS if (item.settings or {}).get(k) != settings[k]]
    changed += [k for k, old, new in (("title", item.title, text), ("required", item.required, bool(required))) if old != new]  # fmt: skip
    item.title, item.required, item.settings = text, bool(required), settings
    db_session.flush()
    editing.record(
        db_session, user, address, "quiz.settings", course, {"item": item.id, "fields": changed}
    )
    if "required" in changed:
        learning.recount_course(db_session, course)


def settings_of(item: Item) -> dict[str, Any]:
    """The quiz's settings as the editor's form shows them (every key)."""
    return {**DEFAULT_SETTINGS, **(item.settings or {})}


# --------------------------------------------------------------------------- the bank


def quiz_of(course: Course, item_id: int) -> Item:
    """Quiz item `item_id` of the course (NotFound for another item or kind)."""
    item = editing.item_of(course, item_id)
    if item.kind != "quiz":
        raise NotFound(str(_l("There is no such quiz in this course.")))
    return item


def rows_of(db_session: Session, item: Item) -> list[QuestionRow]:
    """The quiz's question rows in order."""
    return quizzes.questions_of(db_session, item)


def gradable_count(db_session: Session, item: Item) -> int:
    return sum(1 for row in rows_of(db_session, item) if quizzes.is_gradable(row))


def row_of(db_session: Session, item: Item, question_id: int) -> QuestionRow:
    """Question `question_id` of the quiz (NotFound for another quiz's)."""
    row = db_session.get(QuestionRow, question_id)
    if row is None or row.item_id != item.id:
        raise NotFound(str(_l("There is no such question in this quiz.")))
    return row


def answered_by(db_session: Session, question_id: int) -> int:
    """How many attempts gave an answer to the question (they lose it with it)."""
    return int(
        db_session.scalar(
            select(func.count(func.distinct(Answer.attempt_id))).where(
                Answer.question_id == question_id
            )
        )
        or 0
    )


def _store(db_session: Session, item: Item, questions: list[gift.Question]) -> None:
    """The quiz's questions become `questions`: its GIFT, and its rows."""
    item.source = gift.write(questions)
    quizzes.sync_questions(db_session, item, questions)


def _draw_fits(item: Item, questions: list[gift.Question]) -> None:
    draw = (item.settings or {}).get("draw")
    gradable = sum(1 for q in questions if q.type != "description")
    if draw and draw > gradable:
        raise Invalid(
            str(
                _l(
                    "The quiz draws %(draw)d questions at random and would have %(count)d: "
                    "lower Draw in the settings first.",
                    draw=draw,
                    count=gradable,
                )
            )
        )


def save_question(
    db_session: Session,
    user: User,
    address: str | None,
    course: Course,
    item: Item,
    based_on: int | None,
    question: gift.Question,
    question_id: int | None = None,
) -> QuestionRow:
    """Add `question` at the end of the quiz (question_id None), or put it in
    the place of question `question_id`, which keeps its id (and its
    attempts' answers). The question is checked first (`checked`)."""
    question = checked(question)
    editing.expect_version(item, based_on)
    rows = rows_of(db_session, item)
    questions = [quizzes.parsed(row) for row in rows]
    if question_id is None:
        questions.append(question)
        position, action = len(questions), "quiz.question_add"
    else:
        place = next((i for i, row in enumerate(rows) if row.id == question_id), None)
        if place is None:
            raise NotFound(str(_l("There is no such question in this quiz.")))
        question.category = questions[place].category
        questions[place] = question
        position, action = place + 1, "quiz.question_edit"
    _store(db_session, item, questions)
    editing.record(
        db_session, user, address, action, course,
        {"item": item.id, "position": position, "type": question.type},
    )  # fmt: skip
    return next(row for row in rows_of(db_session, item) if row.position == position)


def delete_question(
    db_session: Session,
    user: User,
    address: str | None,
    course: Course,
    item: Item,
    based_on: int | None,
    question_id: int,
) -> None:
    """Delete question `question_id` with the answers attempts gave to it;
    the questions after it move up and keep their ids."""
    editing.expect_version(item, based_on)
    rows = rows_of(db_session, item)
    row = next((r for r in rows if r.id == question_id), None)
    if row is None:
        raise NotFound(str(_l("There is no such question in this quiz.")))
    kept = [r for r in rows if r.id != question_id]
    _draw_fits(item, [quizzes.parsed(r) for r in kept])
    answered = answered_by(db_session, question_id)
    db_session.delete(row)
    db_session.flush()
    _renumber(db_session, item, [r.id for r in kept])
    _store(db_session, item, [quizzes.parsed(r) for r in rows_of(db_session, item)])
    editing.record(
        db_session, user, address, "quiz.question_delete", course,
        {"item": item.id, "position": row.position, "type": row.type, "answered_by": answered},
    )  # fmt: skip


def _renumber(db_session: Session, item: Item, ids: list[int]) -> None:
    """Rows `ids` take positions 1, 2… in that order, by plain UPDATEs
    (through negative positions: (item, position) is unique at every row)."""
    db_session.flush()
    plain = {"synchronize_session": False}
    for position, row_id in enumerate(ids, start=1):
        db_session.execute(
            update(QuestionRow).where(QuestionRow.id == row_id).values(position=-position),
            execution_options=plain,
        )
    db_session.execute(
        update(QuestionRow)
        .where(QuestionRow.item_id == item.id, QuestionRow.position < 0)
        .values(position=-QuestionRow.position),
        execution_options=plain,
    )
    db_session.expire_all()


def move_question(
    db_session: Session,
    user: User,
    address: str | None,
    course: Course,
    item: Item,
    question_id: int,
    direction: str,
) -> bool:
    """Move a question one place up or down (False at the edge: nothing to
    do). It keeps its id, so attempts keep their answers with it; the GIFT
    follows the new order. Like moving items, a move raises no version."""
    rows = rows_of(db_session, item)
    index = next((i for i, r in enumerate(rows) if r.id == question_id), None)
    if index is None:
        raise NotFound(str(_l("There is no such question in this quiz.")))
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(rows):
        return False
    ids = [r.id for r in rows]
    ids[index], ids[other] = ids[other], ids[index]
    _renumber(db_session, item, ids)
    questions = [quizzes.parsed(r) for r in rows_of(db_session, item)]
    db_session.execute(
        update(Item).where(Item.id == item.id).values(source=gift.write(questions)),
        execution_options={"synchronize_session": False},
    )
    db_session.expire(item)
    editing.record(
        db_session, user, address, "quiz.question_move", course,
        {"item": item.id, "from": index + 1, "to": other + 1},
    )  # fmt: skip
    return True


def import_gift(
    db_session: Session,
    user: User,
    address: str | None,
    course: Course,
    item: Item,
    based_on: int | None,
    text: str,
    replace: bool,
) -> int:
    """Read GIFT as the import does and append its questions to the quiz's,
    or replace them all (a replaced question's id stays with its position,
    as a re-import keeps it). GiftInvalid with every line-numbered error,
    and nothing changed, if the reader refuses it. Returns how many
    questions were read."""
    try:
        found = gift.parse(text)
    except gift.GiftError as error:
        raise GiftInvalid(error.errors) from error
    if not found:
        raise GiftInvalid([(0, str(_l("There is no question in this GIFT.")))])
    editing.expect_version(item, based_on)
    old = [quizzes.parsed(row) for row in rows_of(db_session, item)]
    questions = found if replace else old + found
    try:
        _draw_fits(item, questions)
    except Invalid as error:
        raise GiftInvalid([(0, str(error.message))]) from error
    _store(db_session, item, questions)
    editing.record(
        db_session, user, address, "quiz.gift_replace" if replace else "quiz.gift_append", course,
        {"item": item.id, "questions": len(found)},
    )  # fmt: skip
    return len(found)


def gift_text(data: bytes, limit: int) -> str:
    """An uploaded GIFT file's text: strict UTF-8 (with or without BOM), at
    most `limit` bytes. GiftInvalid otherwise (never guessed)."""
    if len(data) > limit:
        raise GiftInvalid(
            [(0, str(_l("The file is too large: at most %(size)s.", size=_size(limit))))]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise GiftInvalid(
            [(line, str(_l("The file is not UTF-8 text: save it as UTF-8 and upload it again.")))]
        ) from error


def _size(limit: int) -> str:
    megabytes = limit / (1024 * 1024)
    return f"{megabytes:g} MB"


# --------------------------------------------------------------------------- a question from the form


def checked(question: gift.Question) -> gift.Question:
    """`question` if the GIFT reader reads it back as the same question;
    QuestionInvalid (on the text) otherwise."""
    try:
        again = gift.parse(gift.write([question]))
    except (ValueError, gift.GiftError) as error:
        reasons = (
            "; ".join(m for _, m in error.errors)
            if isinstance(error, gift.GiftError)
            else str(error)
        )
        raise QuestionInvalid(
            {"text": _l("This question cannot be saved as GIFT: %(reason)s", reason=reasons)}
        ) from error
    if len(again) != 1 or again[0] != question:
        raise QuestionInvalid(
            {"text": _l("GIFT would read this question back differently; check its texts.")}
        )
    return question


def _clean(value: Any) -> str:
    """A posted text: line breaks as \\n, ends trimmed (as the GIFT reader trims)."""
    return str(value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _percent(raw: str, default: float) -> float | None:
    """A grade in percent ("100", "50", "-25", "33.333", "50 %") as a fraction
    -1..1; `default` when empty; None when it is not one."""
    text = raw.strip().rstrip("%").strip().replace(",", ".")
    if not text:
        return default
    if not re.fullmatch(r"-?(?:\d+(?:\.\d*)?|\.\d+)", text):
        return None
    value = Decimal(text)
    if not -100 <= value <= 100:
        return None
    # As the reader reads %33.333%: exactly that decimal, as a float.
    return float(value / 100)


def _number(raw: str) -> float | None:
    text = raw.strip().replace("\u2212", "-")
    if re.fullmatch(r"[+-]?\d+,\d+", text):
        text = text.replace(",", ".")
    if not _NUMBER.fullmatch(text):
        return None
    try:
        value = float(Decimal(text))
    except (InvalidOperation, OverflowError):
        return None
    return value if abs(value) < 1e300 else None


def row_count(kind: str, question: gift.Question | None) -> int:
    """How many rows of answers (or pairs) the form for a question offers."""
    if kind not in ROW_TYPES:
        return 0
    filled = 0
    if question is not None:
        filled = (
            len(question.pairs)
            if kind == "matching"
            else len(question.numeric if kind == "numerical" else question.choices)
        )
    return max(MIN_ROWS, filled + SPARE_ROWS)


def form_values(question: gift.Question) -> dict[str, Any]:
    """A stored question as the form's fields (the inverse of `question_from_form`)."""
    values: dict[str, Any] = {
        "title": question.title or "",
        "text": question.text,
        "text_format": question.text_format,
        "general_feedback": question.general_feedback,
    }
    if question.type in CHOICE_TYPES or question.type == "short_answer":
        for n, choice in enumerate(question.choices, start=1):
            values[f"answer_{n}_text"] = choice.text
            values[f"answer_{n}_grade"] = _percent_text(choice.fraction)
            values[f"answer_{n}_feedback"] = choice.feedback
    elif question.type == "numerical":
        for n, answer in enumerate(question.numeric, start=1):
            values[f"answer_{n}_value"] = "*" if answer.value is None else _plain(answer.value)
            values[f"answer_{n}_tolerance"] = _plain(answer.tolerance) if answer.tolerance else ""
            values[f"answer_{n}_grade"] = _percent_text(answer.fraction)
            values[f"answer_{n}_feedback"] = answer.feedback
    elif question.type == "matching":
        for n, pair in enumerate(question.pairs, start=1):
            values[f"pair_{n}_stem"] = pair.stem
            values[f"pair_{n}_option"] = pair.option
    elif question.type == "true_false":
        values["correct"] = "true" if question.correct else "false"
        values["feedback_true"] = question.feedback_true
        values["feedback_false"] = question.feedback_false
    return values


def _percent_text(fraction: float) -> str:
    return gift._weight_text(fraction)


def _plain(value: float) -> str:
    return str(int(value)) if value == int(value) and abs(value) < 1e15 else repr(value)


def _rows(
    values: Mapping[str, Any], prefix: str, parts: tuple[str, ...]
) -> list[tuple[int, dict[str, str]]]:
    numbers = sorted(
        {
            int(m.group(1))
            for key in values
            if (m := re.fullmatch(rf"{prefix}_(\d{{1,3}})_({'|'.join(parts)})", key))
        }
    )
    found = []
    for n in numbers:
        row = {part: _clean(values.get(f"{prefix}_{n}_{part}")) for part in parts}
        found.append((n, row))
    return found


def question_from_form(
    kind: str, values: Mapping[str, Any], original: gift.Question | None = None
) -> gift.Question:
    """The question a form describes, by the GIFT reader's rules for its type,
    checked by the round trip (`checked`); QuestionInvalid with a message per
    field otherwise. `original`: the stored question being edited, whose
    category, id number, tags and per-part text formats stay as they were."""
    if kind not in TYPES:
        raise NotFound(str(_l("There is no such question type.")))
    errors: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, str) and has_control(value, multiline=key not in ("title",)):
            errors[key] = _l("Control characters (such as NUL) are not allowed here.")
    if errors:
        raise QuestionInvalid(errors)
    title = _clean(values.get("title")) or None
    if title and len(title) > MAX_TITLE:
        errors["title"] = _l("The title is too long: at most %(max)d characters.", max=MAX_TITLE)
    text = _clean(values.get("text"))
    if not text:
        errors["text"] = _l("Write the question's text.")
    text_format = values.get("text_format") or (original.text_format if original else "moodle")
    if text_format not in gift.TEXT_FORMATS:
        errors["text_format"] = _l("Choose one of the listed values.")
        text_format = "moodle"
    question = gift.Question(type=kind, text=text, title=title, text_format=text_format)
    if kind not in ("description",):
        question.general_feedback = _clean(values.get("general_feedback"))
    if kind in CHOICE_TYPES:
        _choices(question, values, errors)
    elif kind == "short_answer":
        _short_answers(question, values, errors)
    elif kind == "numerical":
        _numeric(question, values, errors)
    elif kind == "matching":
        _pairs(question, values, errors)
    elif kind == "true_false":
        _true_false(question, values, errors)
    if errors:
        raise QuestionInvalid(errors)
    if original is not None and original.type == kind:
        _keep_formats(question, original)
    return checked(question)


def _choices(question: gift.Question, values: Mapping[str, Any], errors: dict[str, Any]) -> None:
    first = None
    for n, row in _rows(values, "answer", ("text", "grade", "feedback")):
        if not row["text"]:
            if row["feedback"]:
                errors[f"answer_{n}_text"] = _l("Write the answer, or leave the whole row empty.")
            continue
        first = first or n
        fraction = _percent(row["grade"], 0.0)
        if fraction is None:
            errors[f"answer_{n}_grade"] = _l(
                "A grade is a percentage from -100 to 100, e.g. 100, 50 or -25."
            )
            continue
        question.choices.append(gift.Choice(row["text"], fraction, row["feedback"]))
    where = f"answer_{first or 1}_text"
    if errors:
        return
    if len(question.choices) < 2:
        errors[where] = _l("A choice question needs at least 2 answers.")
    elif question.type == "single_choice":
        if not any(c.fraction == 1 for c in question.choices):
            errors[f"answer_{first}_grade"] = _l(
                "Mark the right answer with the grade 100 (a single-choice question needs one)."
            )
    else:
        positive = sum(c.fraction for c in question.choices if c.fraction > 0)
        if round(positive, 2) < 1:
            total = format(positive * 100, "g")
            errors[f"answer_{first}_grade"] = _l(
                "The right answers' grades add up to %(sum)s%%, so nobody can score 100%%: "
                "give the right answers grades that add up to 100.",
                sum=total,
            )


def _short_answers(
    question: gift.Question, values: Mapping[str, Any], errors: dict[str, Any]
) -> None:
    first = None
    for n, row in _rows(values, "answer", ("text", "grade", "feedback")):
        if not row["text"]:
            if row["feedback"]:
                errors[f"answer_{n}_text"] = _l("Write the answer, or leave the whole row empty.")
            continue
        first = first or n
        fraction = _percent(row["grade"], 1.0)
        if fraction is None:
            errors[f"answer_{n}_grade"] = _l(
                "A grade is a percentage from -100 to 100, e.g. 100, 50 or -25."
            )
        elif "->" in row["text"]:
            errors[f"answer_{n}_text"] = _l("“->” cannot be part of a short answer in GIFT.")
        elif "->" in row["feedback"]:
            errors[f"answer_{n}_feedback"] = _l("“->” cannot be part of this feedback in GIFT.")
        else:
            question.choices.append(gift.Choice(row["text"], fraction, row["feedback"]))
    if errors:
        return
    if not question.choices:
        errors["answer_1_text"] = _l("Give at least one accepted answer.")
    elif max(c.fraction for c in question.choices) < 1:
        errors[f"answer_{first}_grade"] = _l("No answer earns full marks: give one the grade 100.")


def _numeric(question: gift.Question, values: Mapping[str, Any], errors: dict[str, Any]) -> None:
    first = None
    for n, row in _rows(values, "answer", ("value", "tolerance", "grade", "feedback")):
        if not row["value"]:
            if row["feedback"] or row["tolerance"]:
                errors[f"answer_{n}_value"] = _l("Write the number, or leave the whole row empty.")
            continue
        first = first or n
        fraction = _percent(row["grade"], 1.0)
        if fraction is None:
            errors[f"answer_{n}_grade"] = _l(
                "A grade is a percentage from -100 to 100, e.g. 100, 50 or -25."
            )
            continue
        if row["value"] == "*":
            question.numeric.append(gift.NumericAnswer(None, 0.0, fraction, row["feedback"]))
            continue
        value = _number(row["value"])
        tolerance = _number(row["tolerance"]) if row["tolerance"] else 0.0
        if value is None:
            errors[f"answer_{n}_value"] = _l("Write a number, e.g. 42 or 3.14 (or * for any).")
        elif tolerance is None or tolerance < 0:
            errors[f"answer_{n}_tolerance"] = _l("The margin of error is a number, 0 or more.")
        else:
            question.numeric.append(gift.NumericAnswer(value, tolerance, fraction, row["feedback"]))
    if errors:
        return
    if not any(a.value is not None for a in question.numeric):
        errors[f"answer_{first or 1}_value"] = _l("Give the right number.")
    elif max(a.fraction for a in question.numeric) < 1:
        errors[f"answer_{first}_grade"] = _l("No answer earns full marks: give one the grade 100.")


def _pairs(question: gift.Question, values: Mapping[str, Any], errors: dict[str, Any]) -> None:
    for n, row in _rows(values, "pair", ("stem", "option")):
        if not row["stem"] and not row["option"]:
            continue
        if not row["option"]:
            errors[f"pair_{n}_option"] = _l("Give the answer that matches this item.")
        elif "->" in row["stem"]:
            errors[f"pair_{n}_stem"] = _l("“->” cannot be part of an item to match in GIFT.")
        else:
            question.pairs.append(gift.MatchPair(row["stem"], row["option"]))
    if errors:
        return
    if sum(1 for p in question.pairs if p.stem) < 2:
        errors["pair_1_stem"] = _l("A matching question needs at least 2 pairs.")


def _true_false(question: gift.Question, values: Mapping[str, Any], errors: dict[str, Any]) -> None:
    correct = values.get("correct")
    if correct not in ("true", "false"):
        errors["correct"] = _l("Choose the right answer: true or false.")
        return
    question.correct = correct == "true"
    question.feedback_true = _clean(values.get("feedback_true"))
    question.feedback_false = _clean(values.get("feedback_false"))


def _keep_formats(question: gift.Question, original: gift.Question) -> None:
    """What the form does not show stays as stored: the question's category,
    id number and tags, and the text formats of parts whose text is unchanged."""
    question.category, question.idnumber = original.category, original.idnumber
    question.tags = list(original.tags)
    if question.general_feedback == original.general_feedback:
        question.general_feedback_format = original.general_feedback_format
    if question.feedback_true == original.feedback_true:
        question.feedback_true_format = original.feedback_true_format
    if question.feedback_false == original.feedback_false:
        question.feedback_false_format = original.feedback_false_format
    choices = {c.text: c for c in original.choices}
    for choice in question.choices:
        before = choices.get(choice.text)
        if before is not None:
            choice.text_format = before.text_format
            if before.feedback == choice.feedback:
                choice.feedback_format = before.feedback_format
    numeric = {(a.value, a.tolerance): a for a in original.numeric}
    for answer in question.numeric:
        before_numeric = numeric.get((answer.value, answer.tolerance))
        if before_numeric is not None:
            answer.min, answer.max = before_numeric.min, before_numeric.max
            if before_numeric.feedback == answer.feedback:
                answer.feedback_format = before_numeric.feedback_format
    stems = {p.stem: p for p in original.pairs}
    for pair in question.pairs:
        before_pair = stems.get(pair.stem)
        if before_pair is not None:
            pair.stem_format = before_pair.stem_format
    # A part's own format equal to the question's is no format of its own.
    own = question.text_format
    for part, key in (
        *((c, "text_format") for c in question.choices),
        *((c, "feedback_format") for c in question.choices),
        *((a, "feedback_format") for a in question.numeric),
        *((p, "stem_format") for p in question.pairs),
        (question, "general_feedback_format"),
        (question, "feedback_true_format"),
        (question, "feedback_false_format"),
    ):
        if getattr(part, key) == own:
            setattr(part, key, None)


# --------------------------------------------------------------------------- the trainer's key


def answer_key(row: QuestionRow) -> dict[str, Any]:
    """What the preview shows the trainer below the question: the right
    answer in words (`questions.correct_answer`), each answer with its grade
    and feedback, and the general feedback, as safe HTML."""
    spec = quizzes.parsed(row)
    fmt = spec.text_format
    key: dict[str, Any] = {"correct_html": "", "answers": [], "pairs": [], "general_html": ""}
    try:
        correct = question_types.correct_answer(spec)
    except ValueError:
        correct = ""
    key["correct_html"] = clean_html(correct) if correct else ""
    if spec.type in CHOICE_TYPES:
        key["answers"] = [
            {
                "text_html": quizzes.render_inline(c.text, c.text_format or fmt),
                "grade": _percent_text(c.fraction),
                "feedback_html": quizzes.render_inline(c.feedback, c.feedback_format or fmt)
                if c.feedback
                else "",
            }
            for c in spec.choices
        ]
    elif spec.type == "short_answer":
        key["answers"] = [
            {
                "text_html": escape(c.text),
                "grade": _percent_text(c.fraction),
                "feedback_html": quizzes.render_inline(c.feedback, c.feedback_format or fmt)
                if c.feedback
                else "",
            }
            for c in spec.choices
        ]
    elif spec.type == "numerical":
        key["answers"] = [
            {
                "text_html": escape(_range_text(a)),
                "grade": _percent_text(a.fraction),
                "feedback_html": quizzes.render_inline(a.feedback, a.feedback_format or fmt)
                if a.feedback
                else "",
            }
            for a in spec.numeric
        ]
    elif spec.type == "matching":
        key["pairs"] = [
            {
                "stem_html": quizzes.render_inline(p.stem, p.stem_format or fmt) if p.stem else "",
                "option": p.option,
            }
            for p in spec.pairs
        ]
    elif spec.type == "true_false":
        key["answers"] = [
            {
                "text_html": escape(str(_l("True"))),
                "grade": "100" if spec.correct else "0",
                "feedback_html": quizzes.render_inline(
                    spec.feedback_true, spec.feedback_true_format or fmt
                )
                if spec.feedback_true
                else "",
            },
            {
                "text_html": escape(str(_l("False"))),
                "grade": "0" if spec.correct else "100",
                "feedback_html": quizzes.render_inline(
                    spec.feedback_false, spec.feedback_false_format or fmt
                )
                if spec.feedback_false
                else "",
            },
        ]
    if spec.general_feedback:
        key["general_html"] = quizzes.render_text(
            spec.general_feedback, spec.general_feedback_format or fmt
        )
    return key


def _range_text(answer: gift.NumericAnswer) -> str:
    if answer.value is None:
        return str(_l("Any other number"))
    if answer.min is not None and answer.max is not None:
        return str(
            _l(
                "%(low)s to %(high)s",
                low=question_types.number_text(answer.min),
                high=question_types.number_text(answer.max),
            )
        )
    if answer.tolerance:
        return f"{question_types.number_text(answer.value)} ± {question_types.number_text(answer.tolerance)}"
    return question_types.number_text(answer.value)
