"""The audit log in words: every action, field and value an entry holds, said in the
reader's language, never as the code stored (`user.password_reset`, `must_change_password`).

The labels are lazy, so each is translated when the page is drawn. An action written
anywhere in vle needs its words here: tests/admin/test_audit_words.py reads every
`audit(...)` call in the code and fails for an action without them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from babel import Locale, UnknownLocaleError
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from vle.formats import format_date, format_percent

ACTION_WORDS: dict[str, Any] = {
    "organisation.create": _l("Organisation created"),
    "organisation.update": _l("Organisation changed"),
    "organisation.move": _l("Organisation moved"),
    "organisation.sso": _l("Organisation's sign-in provider set"),
    "organisation.sso_remove": _l("Organisation's sign-in provider removed"),
    "organisation.profile": _l("Organisation's directory profile changed"),
    "organisation.certificate": _l(
        "Organisation's logo, signature or signatory on certificates changed"
    ),
    "event.create": _l("Event added to the register"),
    "event.update": _l("Event changed"),
    "event.delete": _l("Event deleted"),
    "agreement.create": _l("Agreement added to the register"),
    "agreement.update": _l("Agreement changed"),
    "agreement.delete": _l("Agreement deleted"),
    "indicators.freeze": _l("Indicator snapshot frozen"),
    "course.joint_training": _l("Course counted (or no longer counted) as a joint training scheme"),
    "forum.create": _l("Network forum created"),
    "thread.pin": _l("Forum thread pinned"),
    "thread.unpin": _l("Forum thread unpinned"),
    "thread.lock": _l("Forum thread locked"),
    "thread.unlock": _l("Forum thread unlocked"),
    "thread.hide": _l("Forum thread hidden"),
    "thread.unhide": _l("Forum thread shown again"),
    "thread.move": _l("Forum thread moved to another forum"),
    "post.hide": _l("Forum post hidden"),
    "post.unhide": _l("Forum post shown again"),
    "post.report": _l("Forum post reported to the moderators"),
    "post.report_resolve": _l("Report of a forum post resolved"),
    "announcement.create": _l("Announcement made"),
    "announcement.update": _l("Announcement changed"),
    "announcement.delete": _l("Announcement deleted"),
    "user.create": _l("Account created"),
    "user.update": _l("Account changed"),
    "user.deactivate": _l("Account deactivated"),
    "user.reactivate": _l("Account reactivated"),
    "user.erase": _l("Account erased"),
    "user.sign_in_oidc": _l("Signed in through the organisation's provider"),
    "user.export_data": _l("Personal data downloaded"),
    "user.invite": _l("Invitation sent"),
    "user.invitation_accept": _l("Invitation accepted, password chosen"),
    "user.password_reset_request": _l("Password reset link sent"),
    "user.password_reset": _l("Password reset through the link"),
    "user.password_change": _l("Password changed"),
    "token.create": _l("API token created"),
    "token.revoke": _l("API token revoked"),
    "users.import": _l("Users imported from a file"),
    "users.export": _l("Users exported to a file"),
    "enrolment.create": _l("Enrolled by someone else"),
    "enrolment.update": _l("Enrolment changed"),
    "enrolment.end": _l("Unenrolled"),
    "enrolment.complete_manually": _l("Marked complete by hand"),
    "completion.manual": _l("Marked complete by hand"),
    "assignment.create": _l("Course assigned"),
    "assignment.assign": _l("Assigned a course"),
    "assignment.withdraw": _l("Assignment withdrawn"),
    "attempt.grade": _l("Essay graded"),
    "attempt.reset": _l("Quiz attempt reset"),
    "accommodation.set": _l("Quiz accommodation changed"),
    "course.update": _l("Course changed"),
    "course.message": _l("Message sent to the course's learners"),
    "report.export": _l("Report downloaded"),
    "plan_template.create": _l("Learning plan template created"),
    "plan_template.update": _l("Learning plan template changed"),
    "plan_template.delete": _l("Learning plan template deleted"),
    "plan_assignment.create": _l("Learning plan assigned to an organisation"),
    "plan_assignment.withdraw": _l("Learning plan assignment withdrawn"),
    "plan.assign": _l("Given a learning plan"),
    "plan.activate": _l("Learning plan activated"),
    "plan.complete": _l("Learning plan completed"),
    "plan.reopen": _l("Learning plan reopened"),
    "competency.rate": _l("Competency rated by a trainer"),
    "competency.self_assess": _l("Competency self-assessed"),
    "competency.review_request": _l("Competency review requested"),
    # The course editor (vle/authoring: editing.record writes "authoring.<action>").
    "authoring.course_created": _l("Course created in the editor"),
    "authoring.course_copied": _l("Course copied"),
    "authoring.settings_saved": _l("Course settings saved"),
    "authoring.status_changed": _l("Course status changed"),
    "authoring.download_zip": _l("Course downloaded as a .zip"),
    "authoring.upload_zip": _l("Course uploaded as a .zip"),
    "authoring.module.add": _l("Module added"),
    "authoring.module.edit": _l("Module changed"),
    "authoring.module.move": _l("Module moved"),
    "authoring.module.delete": _l("Module deleted"),
    "authoring.item.add": _l("Item added"),
    "authoring.item.edit": _l("Item changed"),
    "authoring.item.move": _l("Item moved"),
    "authoring.item.delete": _l("Item deleted"),
    "authoring.add_file": _l("File added"),
    "authoring.edit_file": _l("File item changed"),
    "authoring.quiz.add": _l("Quiz added"),
    "authoring.quiz.settings": _l("Quiz settings saved"),
    "authoring.quiz.question_add": _l("Question added"),
    "authoring.quiz.question_edit": _l("Question changed"),
    "authoring.quiz.question_move": _l("Question moved"),
    "authoring.quiz.question_delete": _l("Question deleted"),
    "authoring.quiz.gift_append": _l("Questions added from GIFT"),
    "authoring.quiz.gift_replace": _l("Questions replaced from GIFT"),
}

TARGET_WORDS: dict[str, Any] = {
    "user": _l("User"),
    "organisation": _l("Organisation"),
    "enrolment": _l("Enrolment"),
    "course": _l("Course"),
    "report": _l("Report"),
    "plan_template": _l("Learning plan template"),
    "event": _l("Event"),
    "agreement": _l("Agreement"),
    "indicator_snapshot": _l("Indicator snapshot"),
    "forum": _l("Forum"),
    "forum_thread": _l("Forum thread"),
    "forum_post": _l("Forum post"),
    "announcement": _l("Announcement"),
}

FIELD_WORDS: dict[str, Any] = {
    "figures": _l("Figures"),
    "joint_training": _l("Joint training scheme"),
    "reporting_date": _l("Reporting date"),
    "assignment": _l("Assignment"),
    "attempt": _l("Attempt"),
    "changed": _l("Changed"),
    "client_id": _l("Client id"),
    "code": _l("Code"),
    "competency": _l("Competency"),
    "count": _l("Recipients"),
    "course": _l("Course"),
    "competencies": _l("Competencies"),
    "created": _l("New account"),
    "description": _l("Description"),
    "days": _l("Valid for (days)"),
    "domains": _l("E-mail domains"),
    "due": _l("Due date"),
    "email": _l("Email"),
    "enrolled": _l("Newly enrolled"),
    "extra_attempts": _l("Extra attempts"),
    "extra_minutes": _l("Extra time (minutes)"),
    "filters": _l("Filters"),
    "framework": _l("Framework"),
    "format": _l("Format"),
    "invited": _l("Invited"),
    "item": _l("Item"),
    "issuer": _l("Issuer"),
    "language": _l("Language"),
    "mark": _l("Mark"),
    "method": _l("How enrolled"),
    "must_change_password": _l("Must change password"),
    "name": _l("Name"),
    "network": _l("Network administrator"),
    "note": _l("Note"),
    "organisation": _l("Organisation"),
    "parent": _l("Parent organisation"),
    "passed": _l("Passed"),
    "password": _l("Password"),
    "people": _l("People"),
    "plan": _l("Learning plan"),
    "plans": _l("Learning plans"),
    "progress": _l("Progress"),
    "question": _l("Question"),
    "quiz": _l("Quiz"),
    "rating": _l("Rating"),
    "reason": _l("Reason"),
    "refused": _l("Refused"),
    "report": _l("Report"),
    "role": _l("Role"),
    "score": _l("Score"),
    "secret_replaced": _l("Client secret replaced"),
    "since": _l("From"),
    "sort": _l("Sorted by"),
    "template": _l("Learning plan template"),
    "state": _l("State"),
    "status": _l("Status"),
    "subject": _l("Subject"),
    "to": _l("To"),
    "token": _l("Token"),
    "unchanged": _l("Unchanged"),
    "until": _l("Until"),
    "updated": _l("Updated"),
    "via": _l("Through"),
    "slug": _l("Short name"),
    "module": _l("Module"),
    "fields": _l("Fields changed"),
    "position": _l("Position"),
    "type": _l("Type"),
    "answered_by": _l("Attempts that answered it"),
    "from": _l("From"),
    "questions": _l("Questions"),
    "sha256": _l("File fingerprint (SHA-256)"),
    "items_added": _l("Items added"),
    "items_changed": _l("Items changed"),
    "items_removed": _l("Items removed"),
    "direction": _l("Direction"),
    "items": _l("Items"),
    "kind": _l("Kind"),
    "country": _l("Country"),
    "region": _l("Region"),
    "contact_email": _l("Contact e-mail"),
    "contact_phone": _l("Phone"),
    "website": _l("Website"),
    "descriptions": _l("Descriptions"),
    "logo": _l("Logo"),
    "signature": _l("Signature image"),
    "signatory": _l("Signatory"),
    "title": _l("Title"),
    "starts_on": _l("Starts on"),
    "ends_on": _l("Ends on"),
    "signed_on": _l("Signed on"),
    "place": _l("Place"),
    "online": _l("Online"),
    "countries": _l("Countries"),
    "joint_action": _l("Counts as a joint action across borders"),
    "organisers": _l("Organisers"),
    "attendances": _l("Attendance"),
    "parties": _l("Parties"),
    "forum": _l("Forum"),
    "thread": _l("Thread"),
    "from_forum": _l("Moved from forum"),
    "outcome": _l("Outcome"),
    "everyone": _l("For everyone in the network"),
    "send_mail": _l("Send by e-mail too"),
}

# Values that are codes too (a role, a status, a way in), said in words; other
# values (a course's slug, an organisation's code, a number) are shown as they are.
VALUE_WORDS: dict[str, Any] = {
    "learner": _l("learner"),
    "trainer": _l("trainer"),
    "admin": _l("administrator"),
    "not_started": _l("not started"),
    "in_progress": _l("in progress"),
    "completed": _l("completed"),
    "expired": _l("expired"),
    "overdue": _l("overdue"),
    "kept": _l("kept"),
    "hidden": _l("hidden"),
    "assigned": _l("assigned"),
    "all": _l("all"),
    "chosen": _l("chosen learners"),
    "open": _l("open"),
    "awaiting_grading": _l("waiting for grading"),
    "graded": _l("graded"),
    "reset": _l("reset"),
    "self": _l("by themselves"),
    "manual": _l("by an administrator"),
    "oidc": _l("the organisation's sign-in provider"),
    "import": _l("a users file"),
    "page": _l("the web page"),
    "api": _l("the API"),
    "cli": _l("the command line"),
    "completion": _l("completion"),
    "draft": _l("draft"),
    "active": _l("active"),
    "complete": _l("complete"),
    "automatic": _l("automatically"),
    "published": _l("published"),
    "archived": _l("archived"),
    "up": _l("up"),
    "down": _l("down"),
    "lesson": _l("lesson"),
    "quiz": _l("quiz"),
    "file": _l("file"),
    "link": _l("link"),
    "csv": "CSV",
    "csv-excel": _l("CSV for Excel"),
    "xlsx": "XLSX",
}


# Which report a "report.export" entry's `report` names.
REPORT_WORDS: dict[str, Any] = {
    "completion": _l("completion report"),
    "competencies": _l("competency report"),
    "progress": _l("learners' progress"),
    "results": _l("quiz results"),
    "responses": _l("quiz responses"),
}

# A report's order (`sort`): its column, "-" first when descending.
SORT_WORDS: dict[str, Any] = {
    "learner": _l("Learner"),
    "email": _l("Email"),
    "organisation": _l("Organisation"),
    "course": _l("Course"),
    "enrolled": _l("Enrolled on"),
    "status": _l("Status"),
    "progress": _l("Progress"),
    "completed": _l("Completed on"),
    "framework": _l("Framework"),
    "competency": _l("Competency"),
    "rating": _l("Rating"),
    "proficient": _l("Proficient"),
    "rated": _l("Rated on"),
    "evidence": _l("Evidence"),
}


# Fields whose value is a day, stored as YYYY-MM-DD: shown as the reader writes a date.
DATE_FIELDS = frozenset({"due", "since", "until"})

# Fields whose value is a language's code ("pl"): shown as the language's name
# in the reader's language ("Polish", "lenkų").
LANGUAGE_FIELDS = frozenset({"language"})

# Fields whose value is a list of things, not a [before, after] pair.
LIST_FIELDS = frozenset({"changed", "to"})


@dataclass(frozen=True)
class Detail:
    """One line of an entry's details: a field in words and its value, or its
    value before and after the change."""

    field: str
    value: str | None = None
    before: str | None = None
    after: str | None = None

    @property
    def is_change(self) -> bool:
        return self.before is not None


def action_words(action: str) -> str:
    """The action in words; an action without words (a bug the tests catch) in a
    readable form rather than as its code."""
    words = ACTION_WORDS.get(action)
    if words is not None:
        return str(words)
    return action.replace(".", ": ").replace("_", " ").capitalize()


def target_words(target_type: str) -> str:
    words = TARGET_WORDS.get(target_type)
    return str(words) if words is not None else target_type.replace("_", " ").capitalize()


def _field(key: str) -> str:
    words = FIELD_WORDS.get(key)
    return str(words) if words is not None else key.replace("_", " ").capitalize()


def _value(key: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, float) and key == "mark":
        return format_percent(value / 100, 2)  # one unit: "75%", "75 %" (a no-break space)
    if isinstance(value, list):
        return ", ".join(_value(key, item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{_field(k)}: {_value(k, v)}" for k, v in value.items())
    if isinstance(value, str) and key in DATE_FIELDS:
        try:
            return format_date(date.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, str) and key in LANGUAGE_FIELDS:
        try:
            return Locale.parse(value).get_display_name(get_locale()) or value
        except (ValueError, UnknownLocaleError):
            return value
    if isinstance(value, int | float) and key == "progress":
        return format_percent(value / 100)
    if isinstance(value, str) and key == "report" and value in REPORT_WORDS:
        return str(REPORT_WORDS[value])
    if isinstance(value, str) and key == "sort" and value.lstrip("-") in SORT_WORDS:
        column = str(SORT_WORDS[value.lstrip("-")])
        if value.startswith("-"):
            return _("%(column)s, descending", column=column)
        return _("%(column)s, ascending", column=column)
    if isinstance(value, str):
        words = VALUE_WORDS.get(value)
        if words is not None:
            return str(words)
    return str(value)


def details_words(details: dict[str, Any]) -> list[Detail]:
    """An entry's details in words: a [before, after] pair as a change, the list
    of changed fields as their names, anything else as field and value."""
    lines = []
    before, after = details.get("before"), details.get("after")
    if isinstance(before, dict) and isinstance(after, dict):  # {"before": {…}, "after": {…}}
        details = {k: v for k, v in details.items() if k not in ("before", "after")}
        for key in [*before, *(k for k in after if k not in before)]:
            details[key] = [before.get(key), after.get(key)]
    for key, value in details.items():
        if key == "changed" and isinstance(value, list):
            lines.append(Detail(_field(key), ", ".join(_field(str(name)) for name in value)))
        elif isinstance(value, list) and len(value) == 2 and key not in LIST_FIELDS:
            lines.append(Detail(_field(key), before=_value(key, value[0]),
                                after=_value(key, value[1])))  # fmt: skip
        else:
            lines.append(Detail(_field(key), _value(key, value)))
    return lines
