"""Forms of the network's pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from vle.community.forums import MAX_MESSAGE, MAX_REASON, MAX_SUBJECT
from vle.community.models import Delivery, ForumKind, SubscriptionPolicy
from vle.forms import Form, choice

MESSAGE_HELP = _l("Plain text or Markdown. At most 20,000 characters.")
TOO_LONG = _l("A message may be at most 20,000 characters long.")
EMPTY = _l("Write a message.")


def _message_field() -> TextAreaField:
    return TextAreaField(
        _l("Message"),
        description=MESSAGE_HELP,
        validators=[DataRequired(EMPTY), Length(max=MAX_MESSAGE, message=TOO_LONG)],
    )


def _attachments_field() -> MultipleFileField:
    return MultipleFileField(_l("Attachments"), description=_l("Optional: files to attach."))


class ThreadForm(Form):
    subject = StringField(
        _l("Subject"),
        validators=[
            DataRequired(_l("Write a subject.")),
            Length(max=MAX_SUBJECT, message=_l("A subject may be at most 300 characters long.")),
        ],
    )
    message = _message_field()
    attachments = _attachments_field()


class ReplyForm(Form):
    message = _message_field()
    quote = HiddenField()
    attachments = _attachments_field()


class EditForm(Form):
    message = _message_field()


class ReportForm(Form):
    reason = TextAreaField(
        _l("Reason"),
        description=_l("Optional: what is wrong with this post."),
        validators=[
            Optional(),
            Length(max=MAX_REASON, message=_l("A reason may be at most 1,000 characters long.")),
        ],
    )


DELIVERY_WORDS = {
    Delivery.EACH: _l("A mail for each post"),
    Delivery.DIGEST: _l("A daily digest"),
    Delivery.OFF: _l("No mail (unsubscribed)"),
}


class SubscriptionForm(Form):
    delivery = RadioField(
        _l("Mail me"),
        choices=[choice(d.value, words) for d, words in DELIVERY_WORDS.items()],
        validators=[DataRequired()],
    )

    def offer(self, deliveries: list[str]) -> SubscriptionForm:
        self.delivery.choices = [choice(d, DELIVERY_WORDS[Delivery(d)]) for d in deliveries]
        return self


KIND_WORDS = {
    ForumKind.STANDARD: _l("Standard: everyone reads every post"),
    ForumKind.QA: _l("Questions and answers: a learner sees the others' answers after answering"),
}
POLICY_WORDS = {
    SubscriptionPolicy.OPTIONAL: _l("Optional: each reader chooses"),
    SubscriptionPolicy.AUTOMATIC: _l("Automatic: everyone is subscribed and may unsubscribe"),
    SubscriptionPolicy.FORCED: _l("Forced: everyone is subscribed"),
    SubscriptionPolicy.OFF: _l("Off: no subscriptions"),
}


class ForumForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=MAX_SUBJECT)])
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    kind = SelectField(
        _l("Kind"), choices=[choice(k.value, words) for k, words in KIND_WORDS.items()]
    )
    subscription = SelectField(
        _l("Subscriptions"),
        choices=[choice(p.value, words) for p, words in POLICY_WORDS.items()],
    )
    lock_after_days = IntegerField(
        _l("Lock threads after this many idle days"),
        description=_l("Leave empty never to lock threads by themselves."),
        validators=[Optional(), NumberRange(min=1, max=3650)],
    )


class MoveForm(Form):
    forum = SelectField(_l("Move to forum"), coerce=int, choices=[])
