"""Forms of the quiz editor: the quiz's settings, a question of each type,
GIFT pasted or uploaded. The rules are the services' (question_bank.py);
these forms only carry the values and say what each field means."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from vle.authoring.question_bank import MAX_TIME_LIMIT, MAX_TITLE
from vle.forms import Form, choice

LAYOUT_CHOICES = [
    choice("all_on_one_page", _l("All questions on one page")),
    choice("one_per_page", _l("One question per page")),
]
REVIEW_CHOICES = [
    choice("after_submit", _l("Right after submitting")),
    choice("after_close", _l("After the learner has no attempt left or has passed")),
    choice("never", _l("Never (the score only)")),
]
GRADING_CHOICES = [
    choice("highest", _l("The highest score")),
    choice("last", _l("The last attempt")),
    choice("average", _l("The average of the attempts")),
]
TEXT_FORMAT_CHOICES = [
    choice("moodle", _l("Moodle auto-format (HTML allowed)")),
    choice("html", _l("HTML")),
    choice("markdown", _l("Markdown")),
    choice("plain", _l("Plain text")),
]
TEXT_HELP = _l(
    "Moodle auto-format and HTML: simple HTML is allowed, such as paragraphs, bold and italic "
    "(the b, strong, i and em tags), lists, links, tables and images; scripts, styles and "
    "anything else unsafe are removed when the question is shown. Markdown: **bold**, "
    "*italic*, lists and links. Plain text: shown exactly as written. Five underscores (_____) "
    "in the text mark where the answer goes in a missing-word question."
)


# Answers, feedback and pairs are text areas of one line: GIFT allows line
# breaks in them, and what the import accepts the editor must keep.
LINE = {"rows": 1}


class QuizSettingsForm(Form):
    """The quiz's title, whether it is required, and every setting of a quiz
    (PRODUCT.md, the course files' NN-slug.yaml)."""

    version = HiddenField()
    title = StringField(_l("Title"), validators=[Length(max=MAX_TITLE)])
    required = BooleanField(
        _l("Required"),
        default=True,
        description=_l("Learners must pass this quiz to complete the course."),
    )
    pass_mark = IntegerField(
        _l("Pass mark (%)"),
        validators=[Optional()],
        default=60,
        render_kw={"min": 0, "max": 100, "inputmode": "numeric"},
        description=_l("The score in percent that passes the quiz, from 0 to 100."),
    )
    attempts = IntegerField(
        _l("Attempts allowed"),
        validators=[Optional()],
        render_kw={"min": 1, "inputmode": "numeric"},
        description=_l("Leave empty for unlimited attempts."),
    )
    time_limit_minutes = IntegerField(
        _l("Time limit (minutes)"),
        validators=[Optional()],
        render_kw={"min": 1, "max": MAX_TIME_LIMIT, "inputmode": "numeric"},
        description=_l("From 1 to 1440 minutes; leave empty for no time limit."),
    )
    shuffle = BooleanField(
        _l("Shuffle"),
        description=_l(
            "Each attempt shows the questions, and the answers of each question, in a random "
            "order (text-only items are then left out)."
        ),
    )
    draw = IntegerField(
        _l("Draw questions at random"),
        validators=[Optional()],
        render_kw={"min": 1, "inputmode": "numeric"},
        description=_l(
            "How many of the questions each attempt asks, drawn at random; leave empty to ask "
            "them all. At most the number of questions."
        ),
    )
    layout = SelectField(_l("Layout"), choices=LAYOUT_CHOICES, default="all_on_one_page")
    review = SelectField(
        _l("Review"),
        choices=REVIEW_CHOICES,
        default="after_submit",
        description=_l("When learners may see their answers, the right ones and the feedback."),
    )
    grading = SelectField(_l("Grade that counts"), choices=GRADING_CHOICES, default="highest")

    def values(self) -> dict[str, Any]:
        """The settings as the service reads them."""
        return {
            name: self[name].data
            for name in (
                "pass_mark", "attempts", "time_limit_minutes", "shuffle", "draw",
                "layout", "review", "grading",
            )
        }  # fmt: skip


class AddQuizForm(QuizSettingsForm):
    pass


class GiftForm(Form):
    """GIFT pasted or uploaded, to append to the questions or to replace them."""

    version = HiddenField()
    gift = TextAreaField(
        _l("GIFT text"),
        description=_l(
            "Paste questions in Moodle's GIFT format, separated by blank lines, "
            "e.g. ::Capital::What is the capital of Lithuania?{=Vilnius ~Kaunas ~Riga}"
        ),
    )
    gift_file = FileField(
        _l("Or a GIFT file"),
        description=_l("A .gift or .txt file in UTF-8."),
        render_kw={"accept": ".gift,.txt,text/plain"},
    )
    mode = RadioField(
        _l("What to do with the questions"),
        choices=[
            choice("append", _l("Append to the questions")),
            choice("replace", _l("Replace all questions")),
        ],
        default="append",
    )


class DeleteQuestionForm(Form):
    version = HiddenField()


class MoveQuestionForm(Form):
    direction = HiddenField()


@lru_cache(maxsize=128)
def question_form(kind: str, rows: int) -> type[Form]:
    """The form class for a question of type `kind` with `rows` rows of
    answers (or pairs). Fields are flat (answer_1_text, answer_1_grade…) so
    that the shared conflict page can show and post each of them."""

    class QuestionForm(Form):
        version = HiddenField()
        title = StringField(
            _l("Question title (optional)"),
            validators=[Length(max=MAX_TITLE)],
            description=_l("A short name for trainers; learners do not see it."),
        )
        text_format = SelectField(
            _l("Text format"), choices=TEXT_FORMAT_CHOICES, default="moodle", description=TEXT_HELP
        )
        text = TextAreaField(
            _l("Text to read") if kind == "description" else _l("Question text"),
            render_kw={"rows": 5},
        )

    def add(name: str, field: Any) -> None:
        setattr(QuestionForm, name, field)

    if kind in ("single_choice", "multiple_choice", "short_answer"):
        grade_default = "100" if kind == "short_answer" else "0"
        for n in range(1, rows + 1):
            add(f"answer_{n}_text", TextAreaField(_l("Answer %(num)d", num=n), render_kw=LINE))
            add(
                f"answer_{n}_grade",
                StringField(
                    _l("Grade of answer %(num)d (%%)", num=n),
                    default=grade_default,
                    render_kw={"inputmode": "decimal", "size": 6},
                ),
            )
            add(
                f"answer_{n}_feedback",
                TextAreaField(_l("Feedback on answer %(num)d", num=n), render_kw=LINE),
            )
    elif kind == "numerical":
        for n in range(1, rows + 1):
            add(
                f"answer_{n}_value",
                StringField(_l("Number %(num)d", num=n), render_kw={"inputmode": "decimal"}),
            )
            add(
                f"answer_{n}_tolerance",
                StringField(
                    _l("Margin of error of number %(num)d", num=n),
                    render_kw={"inputmode": "decimal"},
                ),
            )
            add(
                f"answer_{n}_grade",
                StringField(
                    _l("Grade of number %(num)d (%%)", num=n),
                    default="100",
                    render_kw={"inputmode": "decimal", "size": 6},
                ),
            )
            add(
                f"answer_{n}_feedback",
                TextAreaField(_l("Feedback on number %(num)d", num=n), render_kw=LINE),
            )
    elif kind == "matching":
        for n in range(1, rows + 1):
            add(f"pair_{n}_stem", TextAreaField(_l("Item %(num)d", num=n), render_kw=LINE))
            add(f"pair_{n}_option", TextAreaField(_l("Its match %(num)d", num=n), render_kw=LINE))
    elif kind == "true_false":
        add(
            "correct",
            RadioField(
                _l("The right answer"),
                choices=[choice("true", _l("True")), choice("false", _l("False"))],
                validate_choice=False,
            ),
        )
        add(
            "feedback_true",
            TextAreaField(_l("Feedback for those who answer True"), render_kw={"rows": 2}),
        )
        add(
            "feedback_false",
            TextAreaField(_l("Feedback for those who answer False"), render_kw={"rows": 2}),
        )
    if kind != "description":
        add(
            "general_feedback",
            TextAreaField(
                _l("General feedback"),
                render_kw={"rows": 3},
                description=_l("Shown to every learner in the review, whatever they answered."),
            ),
        )
    QuestionForm.__name__ = f"QuestionForm_{kind}_{rows}"
    return QuestionForm
