"""Forms of the trainer's home."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from vle.catalog.services import LANGUAGE_NAMES
from vle.forms import Form, choice

REASON = _l("Reason")


class HoursField(StringField):
    """A number of hours as people type it: "8", "1.5" or "1,5" (None when empty)."""

    data: float | None

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else f"{self.data:g}"

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = (valuelist[0] if valuelist else "").strip().replace(",", ".")
        self.data = None
        if not text:
            return
        try:
            self.data = float(text)
        except ValueError:
            raise ValueError(_l("Type a number of hours, such as 8 or 1.5.")) from None
        if self.data != self.data or self.data in (float("inf"), float("-inf")):  # nan, inf
            self.data = None
            raise ValueError(_l("Type a number of hours, such as 8 or 1.5."))


class GridFilterForm(Form):
    """The progress grid's filters, sent with GET (a URL to bookmark; no CSRF).
    Values are checked by the service."""

    class Meta:
        csrf = False

    organisation = SelectField(_l("Organisation"), choices=[], validate_choice=False)
    status = SelectField(_l("Status"), choices=[], validate_choice=False)
    sort = HiddenField()
    direction = HiddenField()


class ManualCompletionForm(Form):
    learner = SelectField(_l("Learner"), choices=[], validate_choice=False)
    reason = TextAreaField(
        REASON,
        validators=[DataRequired(), Length(max=500)],
        description=_l("For example: attended the face-to-face session on 3 March."),
    )


class ResetAttemptForm(Form):
    attempt = SelectField(_l("Attempt"), choices=[], validate_choice=False)
    reason = TextAreaField(
        REASON,
        validators=[DataRequired(), Length(max=500)],
        description=_l("Why the learner may start again; kept with the attempt."),
    )


# --------------------------------------------------------------------------- the course (helper A)

LANGUAGE_CHOICES = [choice(code, name) for code, name in LANGUAGE_NAMES.items()]
COMPLETION_CHOICES = [
    choice("all_required", _l("Every required item completed and every required quiz passed")),
]
OUTCOME_CHOICES = [
    choice("complete", _l("Rates it (completion makes it met)")),
    choice("evidence", _l("Logs evidence")),
    choice("recommend", _l("Asks for a review")),
]
STATUS_CHOICES = [
    choice("draft", _l("Draft")),
    choice("published", _l("Published")),
    choice("archived", _l("Archived")),
]
SLUG_HELP = _l(
    "The course's address: /courses/<short name>. Lowercase letters a–z, digits and hyphens. "
    "Leave it empty to make one from the title."
)


class NewCourseForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    slug = StringField(
        _l("Short name"), validators=[Optional(), Length(max=100)], description=SLUG_HELP
    )
    language = SelectField(_l("Language of the course"), choices=LANGUAGE_CHOICES, default="en")
    summary = TextAreaField(_l("Summary"), validators=[Length(max=20_000)])


class CopyCourseForm(Form):
    title = StringField(_l("Title of the copy"), validators=[DataRequired(), Length(max=300)])
    slug = StringField(
        _l("Short name"), validators=[Optional(), Length(max=100)], description=SLUG_HELP
    )


class CourseSettingsForm(Form):
    """The course's settings. The settings page adds, per course, a Remove
    checkbox for each trainer (`remove_trainer_<user id>`) and an outcome and
    a Remove checkbox for each linked competency (`outcome_<id>`,
    `remove_competency_<id>`): see `settings_form`."""

    version = HiddenField()
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    summary = TextAreaField(_l("Summary"), validators=[Length(max=20_000)])
    language = SelectField(_l("Language of the course"), choices=LANGUAGE_CHOICES)
    enrolment_key = StringField(
        _l("Enrolment key"),
        validators=[Optional(), Length(max=100)],
        description=_l("Learners type it to enrol. Leave it empty for open enrolment."),
    )
    enrolment_key_hint = StringField(
        _l("Enrolment key hint"),
        validators=[Optional(), Length(max=200)],
        description=_l(
            "Shown to learners beside the key's field, to tell them where to find the key. "
            "Never the key itself."
        ),
    )
    starts = DateField(_l("Starts on"), validators=[Optional()])
    ends = DateField(_l("Ends on"), validators=[Optional()])
    validity_months = IntegerField(
        _l("Validity in months"),
        validators=[Optional(), NumberRange(min=1, max=600)],
        description=_l(
            "A completion is valid this long, then the learner takes the course again. "
            "Leave it empty if it never expires."
        ),
    )
    completion_rule = SelectField(_l("Completion rule"), choices=COMPLETION_CHOICES)
    hours = HoursField(
        _l("Length in hours"),
        description=_l(
            "Stated on the certificate, e.g. 8 or 1.5. "
            "Leave it empty if the certificate should not state it."
        ),
        render_kw={"inputmode": "decimal"},
    )
    issuer = SelectField(
        _l("Issuing organisation"),
        choices=[],  # the organisations the editor may name: see course_views._form_for
        default="",
        description=_l("Its name, logo and signature are on the course's certificates."),
    )
    add_trainer = EmailField(
        _l("Add a trainer by e-mail"),
        validators=[Optional(), Length(max=254)],
        description=_l("A trainer or administrator of this course's organisations."),
    )
    add_competency = StringField(
        _l("Add competency"),
        validators=[Optional(), Length(max=100)],
        description=_l("The competency's code, as in its framework."),
    )
    add_outcome = SelectField(
        _l("Outcome of the added competency"), choices=OUTCOME_CHOICES, default="complete"
    )


def settings_form(
    trainers: list[Any], links: list[tuple[Any, str]], **kwargs: Any
) -> CourseSettingsForm:
    """The settings form of a course with these trainers and competency
    links (competency, outcome): a form class of its own with the per-trainer
    and per-link fields, so that the conflict page shows and posts them like
    any other field."""

    class Settings(CourseSettingsForm):
        pass

    for trainer in trainers:
        setattr(
            Settings,
            f"remove_trainer_{trainer.id}",
            BooleanField(_l("Remove %(name)s (%(email)s)", name=trainer.name, email=trainer.email)),
        )
    for competency, outcome in links:
        setattr(
            Settings,
            f"outcome_{competency.id}",
            SelectField(
                _l("Outcome for %(code)s %(title)s", code=competency.code, title=competency.title),
                choices=OUTCOME_CHOICES,
                default=outcome,
            ),
        )
        setattr(
            Settings,
            f"remove_competency_{competency.id}",
            BooleanField(_l("Remove %(code)s", code=competency.code)),
        )
    return Settings(**kwargs)


class StatusForm(Form):
    status = SelectField(_l("Status"), choices=STATUS_CHOICES)
    version = HiddenField()
