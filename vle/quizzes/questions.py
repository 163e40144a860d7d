"""Question types: how each kind of question is shown, answered and graded.

One class per type, registered in QUESTION_TYPES by its GIFT type name, all with
the same interface (the idea of CTFd's BaseChallenge registry), so that attempts,
the API and the review pages never branch on the type themselves:

- `public(question, choice_order)` — what a learner may see before review: the
  API shape `{"type", "text"}` plus `choices` or `stems`/`options`, never a
  fraction or feedback;
- `normalise(question, raw)` — check the shape of a submitted answer and give
  the value to store, or raise AnswerError;
- `grade(question, value)` — the fraction 0..1 earned, None when a person must
  grade (a non-empty essay) or nothing is gradable (a description);
- `feedback(question, value)` and `correct_answer(question)` — for review.

Each type also has a `label` (its name for trainers, e.g. "Short answer").

Choice ids are stable strings independent of how the choices are displayed, so a
shuffled order never changes what an answer means: "c1", "c2"... by the choices'
order in the GIFT file; "true"/"false"; matching stems "s1"... in file order and
options "o1"... for the distinct option texts in alphabetical order (by first
appearance they would pair o1 with s1, o2 with s2, and give the answer away).

Everything here is pure: no database, no request. The words a person reads
(an answer's problem, the right answer, a type's label) go through gettext, so
they come in the request's language; outside a request they are English.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from babel.lists import format_list
from babel.numbers import format_decimal
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from vle.inputs import has_control
from vle.quizzes.gift import Choice, NumericAnswer, Question

# The longest short-answer or essay answer we store (characters).
MAX_ANSWER_LENGTH = 10_000

# A learner's number: optional sign, digits with a dot or a comma for decimals,
# optional exponent. Anything else is kept as typed and graded as wrong.
_RESPONSE_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# Relative slack for float rounding at the edges of a tolerance (3.1415 ± 0.0005
# must accept 3.142 even though the sum is 3.1420000000000003).
_EDGE = 1e-12


class AnswerError(ValueError):
    """A submitted answer has the wrong shape for its question. `message` is
    lazily translated: it becomes text in the language of the request that
    shows it (a phrase that completes "This answer cannot be saved: ...")."""

    def __init__(self, message: Any) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


def _shown(value: Any) -> str:
    """A learner's value quoted in a message, cut short so that a long one does
    not flood the page."""
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


QUESTION_TYPES: dict[str, type[QuestionType]] = {}
# A display order of ids, as shuffle_ids() gives it (None: the natural order).
Order = Sequence[str] | None


def register(cls: type[QuestionType]) -> type[QuestionType]:
    """Class decorator: make a question type available under its `name`."""
    QUESTION_TYPES[cls.name] = cls
    return cls


def question_type(question: Question | Mapping[str, Any]) -> type[QuestionType]:
    """The class that handles this question's type."""
    kind = question.type if isinstance(question, Question) else question.get("type")
    try:
        return QUESTION_TYPES[str(kind)]
    except KeyError:
        raise ValueError(f"unknown question type {kind!r}") from None


def _as_question(question: Question | Mapping[str, Any]) -> Question:
    return question if isinstance(question, Question) else Question.from_dict(dict(question))


# Module-level shortcuts, so callers need not look the class up themselves.


def public(question: Question | Mapping[str, Any], choice_order: Order = None) -> dict[str, Any]:
    """The learner's view of a question (see QuestionType.public)."""
    q = _as_question(question)
    return question_type(q).public(q, choice_order)


def normalise(question: Question | Mapping[str, Any], raw: Any) -> Any:
    """The value to store for a submitted answer; raises AnswerError."""
    q = _as_question(question)
    return question_type(q).normalise(q, raw)


def grade(question: Question | Mapping[str, Any], value: Any) -> float | None:
    """Fraction 0..1 a stored answer earns; None when a person must grade."""
    q = _as_question(question)
    return question_type(q).grade(q, value)


def feedback(question: Question | Mapping[str, Any], value: Any) -> list[str]:
    """Per-answer feedback for review."""
    q = _as_question(question)
    return question_type(q).feedback(q, value)


def correct_answer(question: Question | Mapping[str, Any]) -> str:
    """The right answer in words, for review."""
    q = _as_question(question)
    return question_type(q).correct_answer(q)


def penalty(question: Question | Mapping[str, Any]) -> float:
    """How much a wrong answer can take away (0..1 of the question's mark)."""
    q = _as_question(question)
    return question_type(q).penalty(q)


def type_label(name: str) -> str:
    """A question type's name for trainers, in the request's language (the
    type's own name for a type this version does not know)."""
    cls = QUESTION_TYPES.get(name)
    return str(cls.label) if cls else name


def is_gradable(question: Question | Mapping[str, Any]) -> bool:
    """Whether the question counts towards a quiz's score (descriptions do not)."""
    return question_type(question).gradable


def shuffle_ids(question: Question | Mapping[str, Any], rng: random.Random) -> list[str]:
    """A random display order of the question's shuffleable ids, to store with the
    attempt and pass back to public(). Empty for types with nothing to shuffle."""
    q = _as_question(question)
    ids = question_type(q).shuffleable_ids(q)
    rng.shuffle(ids)
    return ids


def _ordered(ids: list[str], order: Order) -> list[str]:
    """`ids` in the caller's order. Ids the order does not know come last and ids
    it has but the question no longer has are dropped, so an order stored with an
    attempt survives the question being edited."""
    if not order:
        return ids
    known = set(ids)
    seen: set[str] = set()
    result = []
    for item in order:
        if item in known and item not in seen:
            result.append(item)
            seen.add(item)
    return result + [item for item in ids if item not in seen]


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def _text_answer(raw: Any, multiline: bool = False) -> str:
    """A free-text answer: a string (numbers are accepted as their text).
    `multiline`: an essay, which may hold tabs and line breaks."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise AnswerError(_l("the answer must be text"))
    text = raw if isinstance(raw, str) else str(raw)
    if has_control(text, multiline=multiline):
        raise AnswerError(_l("it holds a control character (such as NUL)"))
    if len(text) > MAX_ANSWER_LENGTH:
        raise AnswerError(
            _l(
                "the answer is too long: at most %(max)s characters, this one has %(length)s",
                max=number_text(MAX_ANSWER_LENGTH, grouped=True),
                length=number_text(len(text), grouped=True),
            )
        )
    return text


def _either(texts: Sequence[str]) -> str:
    """Alternatives in words: "A", "A or B", "A or B or C"."""
    result = ""
    for index, text in enumerate(texts):
        result = text if index == 0 else _("%(first)s or %(second)s", first=result, second=text)
    return result


# --------------------------------------------------------------------------- types


class QuestionType:
    """The interface every question type implements."""

    name: ClassVar[str]
    label: ClassVar[Any]  # the type's name for trainers (lazily translated)
    # False for types that take no answer and never count towards a score.
    gradable: ClassVar[bool] = True

    @classmethod
    def public(cls, question: Question, choice_order: Order = None) -> dict[str, Any]:
        """What the learner sees before review (no fractions, no feedback)."""
        return {"type": question.type, "text": question.text}

    @classmethod
    def shuffleable_ids(cls, question: Question) -> list[str]:
        """Ids whose display order may be shuffled."""
        return []

    @classmethod
    def normalise(cls, question: Question, raw: Any) -> Any:
        """The value to store for a submitted answer; None clears the answer.
        Raises AnswerError when the answer has the wrong shape."""
        raise NotImplementedError

    @classmethod
    def grade(cls, question: Question, value: Any) -> float | None:
        """Fraction 0..1 earned by a stored answer (None: not machine-graded).
        Deterministic, and never raises for a stored value that no longer fits
        the question (it was edited): that simply earns nothing."""
        raise NotImplementedError

    @classmethod
    def feedback(cls, question: Question, value: Any) -> list[str]:
        """The per-answer feedback for review (the general feedback is
        `question.general_feedback`, shown or not by the quiz's review options)."""
        return []

    @classmethod
    def correct_answer(cls, question: Question) -> str:
        """A human description of the right answer, for review."""
        return ""

    @classmethod
    def penalty(cls, question: Question) -> float:
        """The most a wrong answer can take away, as a share of the question's
        mark (0: wrong answers lose nothing beyond what they do not earn)."""
        return 0.0


class _ChoiceType(QuestionType):
    """Shared by single and multiple choice: choices "c1", "c2"... in file order."""

    @staticmethod
    def choice_ids(question: Question) -> list[str]:
        return [f"c{index}" for index in range(1, len(question.choices) + 1)]

    @classmethod
    def _by_id(cls, question: Question) -> dict[str, Choice]:
        return dict(zip(cls.choice_ids(question), question.choices, strict=True))

    @classmethod
    def public(cls, question: Question, choice_order: Order = None) -> dict[str, Any]:
        by_id = cls._by_id(question)
        ids = _ordered(list(by_id), choice_order)
        return {
            "type": question.type,
            "text": question.text,
            "choices": [{"id": choice_id, "text": by_id[choice_id].text} for choice_id in ids],
        }

    @classmethod
    def shuffleable_ids(cls, question: Question) -> list[str]:
        return cls.choice_ids(question)

    @classmethod
    def _check_id(cls, question: Question, choice_id: Any) -> str:
        if not isinstance(choice_id, str):
            raise AnswerError(_l('a choice is given by its id, a string such as "c1"'))
        if choice_id not in cls._by_id(question):
            raise AnswerError(
                _l("%(choice)s is not a choice of this question", choice=_shown(choice_id))
            )
        return choice_id


@register
class SingleChoice(_ChoiceType):
    name = "single_choice"
    label = _l("Single choice")

    @classmethod
    def normalise(cls, question: Question, raw: Any) -> str | None:
        return None if raw is None else cls._check_id(question, raw)

    @classmethod
    def grade(cls, question: Question, value: Any) -> float:
        chosen = cls._by_id(question).get(value) if isinstance(value, str) else None
        # A negative weight penalises only within multiple answers; one pick scores >= 0.
        return _clamp(chosen.fraction) if chosen else 0.0

    @classmethod
    def feedback(cls, question: Question, value: Any) -> list[str]:
        chosen = cls._by_id(question).get(value) if isinstance(value, str) else None
        return [chosen.feedback] if chosen and chosen.feedback else []

    @classmethod
    def correct_answer(cls, question: Question) -> str:
        best = max((choice.fraction for choice in question.choices), default=0.0)
        return _either([c.text for c in question.choices if c.fraction == best])


@register
class MultipleChoice(_ChoiceType):
    name = "multiple_choice"
    label = _l("Multiple choice")

    @classmethod
    def normalise(cls, question: Question, raw: Any) -> list[str] | None:
        if raw is None:
            return None
        if isinstance(raw, str) or not isinstance(raw, Sequence):
            raise AnswerError(_l("a multiple-answer question takes a list of choice ids"))
        chosen = {cls._check_id(question, choice_id) for choice_id in raw}
        # Stored in file order so that equal answers compare equal.
        return [choice_id for choice_id in cls.choice_ids(question) if choice_id in chosen]

    @classmethod
    def _chosen(cls, question: Question, value: Any) -> list[Choice]:
        if not isinstance(value, list | tuple):
            return []
        by_id = cls._by_id(question)
        ids = {item for item in value if isinstance(item, str) and item in by_id}
        return [by_id[choice_id] for choice_id in by_id if choice_id in ids]

    @classmethod
    def grade(cls, question: Question, value: Any) -> float:
        # Moodle's multiple response: chosen weights add up (wrong ones subtract).
        return _clamp(sum(choice.fraction for choice in cls._chosen(question, value)))

    @classmethod
    def feedback(cls, question: Question, value: Any) -> list[str]:
        return [choice.feedback for choice in cls._chosen(question, value) if choice.feedback]

    @classmethod
    def correct_answer(cls, question: Question) -> str:
        return ", ".join(c.text for c in question.choices if c.fraction > 0)

    @classmethod
    def penalty(cls, question: Question) -> float:
        # Only here do negative weights count (grade() adds them up); the score
        # of the question never drops below 0.
        return max([0.0, *(-choice.fraction for choice in question.choices)])


@register
class TrueFalse(QuestionType):
    name = "true_false"
    label = _l("True/false")
    _IDS = ("true", "false")

    @staticmethod
    def _text(choice_id: str) -> str:
        return _("True") if choice_id == "true" else _("False")

    @classmethod
    def public(cls, question: Question, choice_order: Order = None) -> dict[str, Any]:
        ids = _ordered(list(cls._IDS), choice_order)
        return {
            "type": question.type,
            "text": question.text,
            "choices": [{"id": choice_id, "text": cls._text(choice_id)} for choice_id in ids],
        }

    @classmethod
    def normalise(cls, question: Question, raw: Any) -> str | None:
        if raw is None:
            return None
        if isinstance(raw, bool):  # a JSON true/false is clear enough
            return "true" if raw else "false"
        if raw not in cls._IDS:
            raise AnswerError(_l('a true/false question takes "true" or "false"'))
        return str(raw)

    @classmethod
    def grade(cls, question: Question, value: Any) -> float:
        right = "true" if question.correct else "false"
        return 1.0 if value == right else 0.0

    @classmethod
    def feedback(cls, question: Question, value: Any) -> list[str]:
        text = {"true": question.feedback_true, "false": question.feedback_false}.get(value, "")
        return [text] if text else []

    @classmethod
    def correct_answer(cls, question: Question) -> str:
        return cls._text("true" if question.correct else "false")


def _normalise_text(text: str) -> str:
    """Compare free text as a person would: same Unicode form, ends trimmed, inner
    runs of whitespace as one space, case ignored."""
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


def _wildcard_matches(pattern: str, response: str) -> bool:
    """Moodle's short-answer match: `*` stands for any run of characters (`\\*` is
    a literal star), the rest is compared as _normalise_text() does."""
    bits = re.split(r"(?<!\\)\*+", _normalise_text(pattern))
    regex = ".*".join(re.escape(bit.replace("\\*", "*")) for bit in bits)
    return re.fullmatch(regex, _normalise_text(response), flags=re.DOTALL) is not None


@register
class ShortAnswer(QuestionType):
    name = "short_answer"
    label = _l("Short answer")

    @classmethod
    def normalise(cls, question: Question, raw: Any) -> str | None:
        return None if raw is None else _text_answer(raw)

    @classmethod
    def _best(cls, question: Question, value: Any) -> Choice | None:
        if not isinstance(value, str) or not value.strip():
            return None
        matching = [c for c in question.choices if _wildcard_matches(c.text, value)]
        # The best matching answer counts, not the first (an early `*` must not
        # hide a later right answer).
        return max(matching, key=lambda choice: choice.fraction, default=None)

    @classmethod
    def grade(cls, question: Question, value: Any) -> float:
        best = cls._best(question, value)
        return _clamp(best.fraction) if best else 0.0

    @classmethod
    def feedback(cls, question: Question, value: Any) -> list[str]:
        best = cls._best(question, value)
        return [best.feedback] if best and best.feedback else []

    @classmethod
    def correct_answer(cls, question: Question) -> str:
        return _either([describe_pattern(c.text) for c in question.choices if c.fraction == 1])


def is_pattern(text: str) -> bool:
    """Whether a short answer's accepted text has a `*` wildcard (not an escaped `\\*`)."""
    return re.search(r"(?<!\\)\*", text) is not None


def describe_pattern(pattern: str) -> str:
    """A short answer's accepted pattern in words, never its `*` syntax: "Nemunas",
    "any answer starting with “photo”", "any answer containing “cell” and ending
    with “s”"."""
    bits = [bit.replace("\\*", "*").strip() for bit in re.split(r"(?<!\\)\*+", pattern)]
    if len(bits) == 1:
        return bits[0]
    parts = []
    if bits[0]:
        parts.append(_("starting with “%(text)s”", text=bits[0]))
    parts.extend(_("containing “%(text)s”", text=bit) for bit in bits[1:-1] if bit)
    if bits[-1]:
        parts.append(_("ending with “%(text)s”", text=bits[-1]))
    if not parts:
        return _("any answer")
    return _("any answer %(conditions)s", conditions=_all_of(parts))


def _all_of(texts: Sequence[str]) -> str:
    """Conditions that all hold, in words: "A", "A and B", "A, B and C"."""
    return format_list(list(texts), locale=get_locale() or "en")


def _number_text(raw: str) -> str | None:
    """A learner's text written as a number, in the form float() reads (or None).
    Accepts surrounding spaces, a decimal comma ("3,5") or a Unicode minus sign."""
    text = raw.strip().replace("\u2212", "-")
    if "," in text:
        if "." in text or text.count(",") > 1:
            return None  # "1,234.5" or "1,2,3": ambiguous, so not a number
        text = text.replace(",", ".")
    return text if _RESPONSE_NUMBER.fullmatch(text) else None


def parse_number(raw: Any) -> float | None:
    """A learner's numerical answer as a finite number, or None when it is not one
    (a number, or a string as _number_text reads it)."""
    if isinstance(raw, bool):
        return None
    text = _number_text(raw) if isinstance(raw, str) else None
    if text is None and not isinstance(raw, int | float):
        return None
    try:
        value = float(raw if text is None else text)
    except OverflowError:  # an integer beyond any float
        return None
    return value if math.isfinite(value) else None


# What Python would read as a number that is none: saved, it would be written
# out as `Infinity` or `NaN`, which is not JSON.
_NOT_FINITE = re.compile(r"[+\-\u2212]?(?:nan|inf|infinity)", re.IGNORECASE)


def within(answer: NumericAnswer, number: float) -> bool:
    """Whether `number` falls in the answer's accepted range (`*` takes any)."""
    if answer.value is None:
        return True
    if answer.min is not None and answer.max is not None:
        low, high = answer.min, answer.max
    else:
        low, high = answer.value - answer.tolerance, answer.value + answer.tolerance
    slack = _EDGE * max(abs(low), abs(high))
    return low - slack <= number <= high + slack


@register
class Numerical(QuestionType):
    name = "numerical"
    label = _l("Numerical")

    @classmethod
    def normalise(cls, question: Question, raw: Any) -> float | int | str | None:
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise AnswerError(_l("a numerical question takes a number or a numeric string"))
        text = _text_answer(raw) if isinstance(raw, str) else None
        # A number too large to grade (10**500, 1e400), NaN or Infinity is refused;
        # any other malformed number is kept as typed (it is what the learner
        # wrote, and review shows it) and simply grades as wrong.
        if text is None or _number_text(text) is not None or _NOT_FINITE.fullmatch(text.strip()):
            if parse_number(raw) is None:
                raise AnswerError(_l("the number is too large, or not a finite number"))
        return raw if text is None else text

    @classmethod
    def _best(cls, question: Question, value: Any) -> NumericAnswer | None:
        number = parse_number(value)
        if number is None:
            return None
        matching = [answer for answer in question.numeric if within(answer, number)]
        # Best fraction first; on a tie a real answer beats the catch-all `*`.
        return max(
            matching,
            key=lambda answer: (answer.fraction, answer.value is not None),
            default=None,
        )

    @classmethod
    def grade(cls, question: Question, value: Any) -> float:
        best = cls._best(question, value)
        return _clamp(best.fraction) if best else 0.0

    @classmethod
    def feedback(cls, question: Question, value: Any) -> list[str]:
        best = cls._best(question, value)
        if best is None and value is not None:
            # Not a number, or no range took it: Moodle's `~#...` feedback is for this.
            best = next((a for a in question.numeric if a.value is None), None)
        return [best.feedback] if best and best.feedback else []

    @classmethod
    def correct_answer(cls, question: Question) -> str:
        return _either(
            [
                _describe_range(answer)
                for answer in question.numeric
                if answer.value is not None and answer.fraction == 1
            ]
        )


def number_text(value: float, grouped: bool = False) -> str:
    """A number as the request's locale writes it ("3.5", "3,5"), every digit
    the author gave kept; without thousands separators unless `grouped` (a
    year stays 2004). Outside a request, in English."""
    if not math.isfinite(value) or abs(value) >= 1e15:
        return f"{value:g}"
    return format_decimal(
        value,
        format="#,##0.#" if grouped else "0.#",
        locale=get_locale() or "en",
        decimal_quantization=False,
    )


def _describe_range(answer: NumericAnswer) -> str:
    assert answer.value is not None
    if answer.min is not None and answer.max is not None:
        return _("%(low)s to %(high)s", low=number_text(answer.min), high=number_text(answer.max))
    if answer.tolerance:
        return f"{number_text(answer.value)} ± {number_text(answer.tolerance)}"
    return number_text(answer.value)


@register
class Matching(QuestionType):
    name = "matching"
    label = _l("Matching")

    @staticmethod
    def stems(question: Question) -> dict[str, str]:
        """Stem id → stem text, for the pairs that have a stem."""
        texts = [pair.stem for pair in question.pairs if pair.stem]
        return {f"s{index}": text for index, text in enumerate(texts, start=1)}

    @staticmethod
    def options(question: Question) -> dict[str, str]:
        """Option id → option text, distinct texts in alphabetical order."""
        texts = sorted({pair.option for pair in question.pairs}, key=lambda t: (t.casefold(), t))
        return {f"o{index}": text for index, text in enumerate(texts, start=1)}

    @classmethod
    def key(cls, question: Question) -> dict[str, str]:
        """Stem id → id of its right option."""
        option_ids = {text: option_id for option_id, text in cls.options(question).items()}
        pairs = [pair for pair in question.pairs if pair.stem]
        return {
            stem_id: option_ids[pair.option]
            for stem_id, pair in zip(cls.stems(question), pairs, strict=True)
        }

    @classmethod
    def public(cls, question: Question, choice_order: Order = None) -> dict[str, Any]:
        stems, options = cls.stems(question), cls.options(question)
        order = list(choice_order or [])
        return {
            "type": question.type,
            "text": question.text,
            "stems": [{"id": i, "text": stems[i]} for i in _ordered(list(stems), order)],
            "options": [{"id": i, "text": options[i]} for i in _ordered(list(options), order)],
        }

    @classmethod
    def shuffleable_ids(cls, question: Question) -> list[str]:
        # Stems keep the author's order (they often build on each other); the
        # options are what gets shuffled, as in Moodle.
        return list(cls.options(question))

    @classmethod
    def normalise(cls, question: Question, raw: Any) -> dict[str, str] | None:
        if raw is None:
            return None
        if not isinstance(raw, Mapping):
            raise AnswerError(_l("a matching question takes an object {stem id: option id}"))
        stems, options = cls.stems(question), cls.options(question)
        for stem_id, option_id in raw.items():
            if stem_id not in stems:
                raise AnswerError(
                    _l("%(stem)s is not a stem of this question", stem=_shown(stem_id))
                )
            known = isinstance(option_id, str) and option_id in options
            if option_id is not None and not known:
                raise AnswerError(
                    _l("%(option)s is not an option of this question", option=_shown(option_id))
                )
        # Unanswered stems (null) are left out; stems kept in their order.
        return {s: raw[s] for s in stems if s in raw and raw[s] is not None}

    @classmethod
    def grade(cls, question: Question, value: Any) -> float:
        key = cls.key(question)
        if not key or not isinstance(value, Mapping):
            return 0.0
        right = sum(1 for stem_id, option_id in key.items() if value.get(stem_id) == option_id)
        return right / len(key)

    @classmethod
    def correct_answer(cls, question: Question) -> str:
        return "; ".join(f"{pair.stem} → {pair.option}" for pair in question.pairs if pair.stem)


@register
class Essay(QuestionType):
    name = "essay"
    label = _l("Essay")

    @classmethod
    def normalise(cls, question: Question, raw: Any) -> str | None:
        return None if raw is None else _text_answer(raw, multiline=True)

    @classmethod
    def grade(cls, question: Question, value: Any) -> float | None:
        # A trainer grades what was written; nothing written earns nothing, and
        # needs no trainer to say so.
        if isinstance(value, str) and value.strip():
            return None
        return 0.0


@register
class Description(QuestionType):
    """Text between questions: takes no answer and is not part of the score."""

    name = "description"
    label = _l("Text to read")
    gradable = False

    @classmethod
    def normalise(cls, question: Question, raw: Any) -> None:
        if raw is not None:
            raise AnswerError(_l("this item is text to read and takes no answer"))
        return None

    @classmethod
    def grade(cls, question: Question, value: Any) -> None:
        return None
