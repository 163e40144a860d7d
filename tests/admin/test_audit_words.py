"""The audit log in words (issue 15, point 7): essay grading, accommodations, manual
completions, attempt resets, assignments, password resets and sign-ins through OIDC
are shown by what happened, before → after, in the reader's language, never as codes."""

from __future__ import annotations

import ast
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import login
from tests.quizzes.conftest import ESSAY, GIFT, enrol, make_quiz, question_ids  # noqa: F401
from vle.accounts import passwords
from vle.admin.audit_words import ACTION_WORDS, FIELD_WORDS
from vle.audit import ACTIONS, AuditEntry, audit
from vle.learning import assignments
from vle.quizzes import services as quizzes

VLE = Path(__file__).resolve().parents[2] / "vle"
CODE = re.compile(r"\b[a-z_]+\.[a-z_]+\b")


class _Text(HTMLParser):
    """The text a reader sees: no tags, no attribute values (an option's value is
    the filter's code in the address, not shown)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _seen(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def _strings(node: ast.AST, assigned: dict[str, list[ast.AST]]) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body, assigned) | _strings(node.orelse, assigned)
    if isinstance(node, ast.Name):
        return set().union(*(_strings(value, assigned) for value in assigned.get(node.id, [])))
    raise AssertionError(f"an audit action the test cannot read: {ast.dump(node)}")


def _keys(node: ast.AST | None, assigned: dict[str, list[ast.AST]]) -> set[str]:
    """The literal keys of a details dict (written in the call, or assigned to the
    name passed), and of the before/after dicts inside it."""
    if isinstance(node, ast.Name):
        return set().union(*(_keys(value, assigned) for value in assigned.get(node.id, [])))
    if not isinstance(node, ast.Dict):
        return set()
    keys = set()
    for key, value in zip(node.keys, node.values, strict=True):
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            keys.add(key.value)
            if key.value in ("before", "after"):
                keys |= _keys(value, assigned)
    return keys


def written_actions() -> set[str]:
    """Every action an `audit(...)` call in vle/ writes (a literal, a choice of
    literals, or a name assigned literals in the same module)."""
    return _scan()[0]


def written_fields() -> set[str]:
    """Every details key an `audit(...)` call in vle/ writes as a literal."""
    return _scan()[1]


def _scan() -> tuple[set[str], set[str]]:
    found: set[str] = set()
    fields: set[str] = set()
    for path in VLE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assigned: dict[str, list[ast.AST]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, []).append(node.value)
                    elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                        for name, value in zip(target.elts, node.value.elts, strict=False):
                            if isinstance(name, ast.Name):
                                assigned.setdefault(name.id, []).append(value)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            owner = getattr(getattr(node.func, "value", None), "id", None)
            # The course editor's audit entries: editing.record(db, user, address,
            # action, course, details) writes "authoring.<action>".
            edit = name == "record" and owner == "editing"
            if name != "audit" and not edit:
                continue
            position = 3 if edit else 2
            action = node.args[position] if len(node.args) > position else None
            for keyword in node.keywords:
                if keyword.arg == "action":
                    action = keyword.value
            assert action is not None, f"{path}: audit() without an action"
            if path.parts[-2:] == ("authoring", "editing.py") and isinstance(action, ast.JoinedStr):
                continue  # editing.record itself: its callers' actions are read above
            actions = _strings(action, assigned)
            found |= {f"authoring.{a}" for a in actions} if edit else actions
            details = node.args[5 if edit else 6] if len(node.args) > (5 if edit else 6) else None
            for keyword in node.keywords:
                if keyword.arg == "details":
                    details = keyword.value
            fields |= _keys(details, assigned)
    return found, fields


def test_every_action_written_anywhere_has_words():
    written = written_actions()
    # The scan reads the calls (a variable and a choice of two included).
    assert {"user.password_reset", "user.invitation_accept", "user.sign_in_oidc"} <= written
    assert {"user.deactivate", "user.reactivate", "attempt.grade", "accommodation.set"} <= written
    assert {"authoring.item.move", "authoring.quiz.question_add", "authoring.upload_zip"} <= written
    missing = sorted((written | set(ACTIONS)) - set(ACTION_WORDS))
    assert not missing, f"audit actions without words in vle/admin/audit_words.py: {missing}"
    for action in ("enrolment.complete_manually", "attempt.reset"):  # built beside this
        assert action in ACTION_WORDS


def test_every_detail_written_anywhere_has_words():
    fields = written_fields()
    assert {"extra_minutes", "mark", "issuer", "due", "role"} <= fields  # the scan reads them
    assert {"answered_by", "direction", "sha256"} <= fields  # and the course editor's
    missing = sorted(fields - set(FIELD_WORDS) - {"before", "after"})
    assert not missing, f"audit details without words in vle/admin/audit_words.py: {missing}"


@pytest.fixture
def logged(app, session, world, make_quiz, enrol):  # noqa: F811
    """An entry of every kind point 7 names, written by the services that do it."""
    with app.app_context():  # grading tells the learner by mail, with a link
        return _write_entries(session, world, make_quiz, enrol)


def _write_entries(session, world, make_quiz, enrol):  # noqa: F811
    trainer = world.network  # a network administrator edits and grades every course
    course, item = make_quiz(GIFT + "\n" + ESSAY)
    enrol(world.pupil, course)
    quizzes.set_accommodation(
        session, trainer, course, item, world.pupil, 15, 1, "dyslexia", "192.0.2.1"
    )
    ids = question_ids(session, item)
    attempt, _created = quizzes.start_attempt(session, world.pupil, course, item)
    quizzes.save_answers(session, attempt, {ids["Reflect"]: "A thoughtful essay."})
    quizzes.submit(session, attempt, course, item)
    session.commit()
    quizzes.grade_essays(
        session, trainer, attempt, {ids["Reflect"]: (0.75, "Good")}, address="192.0.2.1"
    )
    session.commit()
    assignment = assignments.assign_organisation(
        session, world.network, course, world.sch, "learner", date(2030, 5, 1), "192.0.2.1"
    )
    assignments.fill_assignment(session, assignment)
    session.commit()
    _link, token = passwords._issue_link(session, world.pupil, passwords.RESET)
    passwords.set_password_by_link(
        session, token, passwords.RESET, "a new long passphrase 42", "192.0.2.1"
    )
    session.commit()
    # What another engineer's desk writes (vle/authoring), what OIDC sign-in writes
    # (tests/accounts test it against a real provider) and an account's change, with the details those services give.
    for action, details in (
        ("completion.manual",
         {"course": course.slug, "before": {"status": "in_progress", "progress": 40},
          "after": {"status": "completed", "progress": 100}, "reason": "Workshop"}),
        ("enrolment.complete_manually",
         {"course": course.slug, "status": ["in_progress", "completed"], "reason": "Workshop"}),
        ("attempt.reset",
         {"course": course.slug, "item": item.id, "attempt": 1,
          "before": {"state": "graded", "score": 0.5, "passed": False},
          "after": {"state": "reset"}, "reason": "Fire alarm"}),
        ("user.sign_in_oidc", {"issuer": "http://127.0.0.1:9/", "created": False}),
        ("course.message",
         {"course": course.slug, "subject": "Room change", "count": 2,
          "to": ["a@example.org", "b@example.org"]}),
        ("user.update", {"role": ["learner", "trainer"], "language": [None, "pl"],
                         "changed": ["role", "name", "language"]}),
    ):  # fmt: skip
        audit(
            session, world.network, action, "user", world.pupil.id, "192.0.2.1", details,
            organisation_id=world.pupil.organisation_id, label=world.pupil.email,
        )  # fmt: skip
    session.commit()
    return course, item


def test_point_7_actions_write_before_and_after(session, world, logged):
    course, item = logged
    entries = {e.action: e for e in session.scalars(select(AuditEntry))}
    accommodation = entries["accommodation.set"]
    assert accommodation.actor_id == world.network.id and accommodation.address == "192.0.2.1"
    assert accommodation.details["extra_minutes"] == [0, 15]
    assert accommodation.details["extra_attempts"] == [0, 1]
    assert "dyslexia" not in str(accommodation.details)  # the note may be a health matter
    graded = entries["attempt.grade"]
    assert graded.details["mark"] == [None, 75.0] and graded.target_id == world.pupil.id
    assert graded.details["course"] == course.slug
    assert "assignment.create" in entries and "assignment.assign" in entries


def test_the_log_says_each_action_in_words(client, world, logged):
    login(client, "net@example.org")
    html = client.get("/admin/audit").get_data(as_text=True)
    seen = _seen(html)
    for words in (
        "Essay graded",
        "Quiz accommodation changed",
        "Marked complete by hand",
        "Quiz attempt reset",
        "Course assigned",
        "Assigned a course",
        "Password reset through the link",
        "Signed in through the organisation's provider",
    ):
        assert words in seen
    assert "Extra time (minutes): 0 → 15" in seen
    assert "Extra attempts: 0 → 1" in seen
    assert "Mark: — → 75%" in seen
    assert "Role: learner → trainer" in seen
    assert "Changed: Role, Name, Language" in seen
    assert "Language: — → Polish" in seen  # the language's name, not its code
    assert "Status: in progress → completed" in seen
    assert "Progress: 40% → 100%" in seen
    assert "State: graded → reset" in seen and "Passed: no → —" in seen
    assert "Due date: 1 May 2030" in seen  # a day as the reader writes it
    assert "New account: no" in seen
    assert "To: a@example.org, b@example.org" in seen  # a list, not a before → after pair
    assert "{" not in seen and "[" not in seen  # never raw JSON
    assert not set(CODE.findall(seen)) & set(ACTION_WORDS)
    # The filter offers the actions in words too; choosing one still filters.
    assert '<option value="attempt.grade">Essay graded</option>' in html
    filtered = client.get("/admin/audit?action=attempt.grade").get_data(as_text=True)
    rows = _seen(filtered.partition("<tbody>")[2])
    assert "Essay graded" in rows and "Quiz attempt reset" not in rows


def test_the_log_in_lithuanian_shows_no_action_code(client, world, logged):
    login(client, "net@example.org")
    response = client.get("/admin/audit", headers={"Accept-Language": "lt"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'lang="lt"' in html
    seen = _seen(html)
    codes = set(CODE.findall(seen)) & (set(ACTION_WORDS) | set(ACTIONS))
    assert not codes, f"action codes shown to a Lithuanian reader: {sorted(codes)}"
    assert "must_change_password" not in seen and "extra_minutes" not in seen
    assert "{" not in seen and "[" not in seen
    assert "→" in seen  # the changes are there, before → after
    assert "Kalba: — → lenkų" in seen  # a language by its name, in Lithuanian


def test_saving_an_account_without_choosing_a_language_logs_no_language_change(
    client, session, world
):
    """The form's "Browser's language" is sent as "": the same as no language (None)."""
    from vle.accounts import services as accounts

    pupil = world.pupil
    assert pupil.locale is None
    changed = accounts.update_user(
        session, None, pupil, email=pupil.email, name="A new name", role=pupil.role,
        organisation_code=pupil.organisation.code, locale="",
    )  # fmt: skip
    session.commit()
    assert changed == ["name"]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.update")).one()
    assert entry.details == {"changed": ["name"]}
