"""Never a 500 on bad input (issue 14, point 4), on every route of the app's
URL map, so that a new route is held to it without a new test: ids larger
than the database holds, JSON nested too deeply, control characters at every
write and in every search, values longer than their column, and the command
line without a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.routing import AnyConverter, IntegerConverter

import vle
from tests.conftest import csrf_token, login, post_form
from vle.accounts.models import ApiToken, Organisation, User
from vle.forms import Form

TOO_LARGE = [2**31, 2**63, 10**30]  # PostgreSQL's integer, SQLite's, neither
DEEP = "[" * 2000 + "]" * 2000
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def rules(app, where):
    return [rule for rule in app.url_map.iter_rules() if where(rule)]


def methods(rule):
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def url(rule, number, text):
    """The rule's path with `number` for its ids, one of its choices for a
    fixed choice (`<any(csv, xlsx):fmt>`) and `text` for its other parts."""

    def value(converter):
        if isinstance(converter, IntegerConverter):
            return number
        if isinstance(converter, AnyConverter):
            return sorted(converter.items)[0]
        return text

    values = {name: value(converter) for name, converter in rule._converters.items()}
    return rule.build(values, append_unknown=False)[1]


@pytest.fixture
def staff(client, session, make_user, make_course, token_for):
    """A network administrator who also trains a published course, signed in,
    with an API token and a CSRF token: every door is open to them, so a 404
    below is the id's doing."""
    admin = make_user("admin", network=True)
    course = make_course()
    course.trainers.append(admin)
    session.commit()
    login(client, admin.email)
    headers = {**token_for(admin), "X-CSRFToken": csrf_token(client, "/courses")}
    return course, headers


def call(client, method, path, headers, **kwargs):
    return client.open(path, method=method, headers=headers, **kwargs)


# --------------------------------------------------------------------------- ids


@pytest.mark.parametrize("number", TOO_LARGE)
def test_an_id_too_large_for_the_database_is_404_on_every_route(app, client, staff, number):
    course, headers = staff
    with_ids = rules(
        app, lambda r: any(isinstance(c, IntegerConverter) for c in r._converters.values())
    )
    assert len(with_ids) > 20
    answers = {}
    for rule in with_ids:
        path = url(rule, number, course.slug)
        for method in methods(rule):
            answers[method, path] = call(client, method, path, headers, json={"answer": 1})
    wrong = {where: r.status_code for where, r in answers.items() if r.status_code != 404}
    assert not wrong


@pytest.mark.parametrize("number", TOO_LARGE)
def test_an_id_too_large_in_a_json_body_is_404(client, staff, number):
    course, headers = staff
    response = client.post(
        f"/api/v1/courses/{course.slug}/enrolments", json={"user": number}, headers=headers
    )
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/admin/users", "/admin/audit", "/reports"])
def test_a_page_number_past_any_page_is_an_empty_page(client, staff, path):
    _course, headers = staff
    response = client.get(f"{path}?page={10**30}", headers=headers)
    assert response.status_code == 200


# --------------------------------------------------------------------------- JSON


def test_json_nested_too_deeply_is_400_on_every_json_endpoint(app, client, staff):
    course, headers = staff
    endpoints = rules(app, lambda r: r.rule.startswith("/api/") and WRITES & r.methods)
    assert len(endpoints) >= 5
    wrong = {}
    for rule in endpoints:
        path = url(rule, 1, course.slug)
        for method in set(methods(rule)) & WRITES:
            response = call(
                client, method, path, headers, data=DEEP, content_type="application/json"
            )
            body = response.get_json(silent=True) or {}
            if response.status_code != 400 or "message" not in body.get("error", {}):
                wrong[method, path] = response.status_code
    assert not wrong


def test_a_control_character_anywhere_in_a_json_body_is_422(app, client, staff):
    course, headers = staff
    endpoints = rules(app, lambda r: r.rule.startswith("/api/") and WRITES & r.methods)
    wrong = {}
    for body in ({"key": "a\x00b"}, {"answer": {"de\x7fep": ["x\x1b"]}}):
        for rule in endpoints:
            path = url(rule, 1, course.slug)
            for method in set(methods(rule)) & WRITES:
                response = call(client, method, path, headers, json=body)
                error = (response.get_json(silent=True) or {}).get("error", {})
                if response.status_code != 422 or error.get("code") != "invalid":
                    wrong[method, path, str(body)] = response.status_code
    assert not wrong


# --------------------------------------------------------------------------- control characters


def test_every_form_that_saves_refuses_control_characters(app):
    """Every form derives from vle.forms.Form; posted, it refuses control
    characters in every text field, one-line fields tabs and line breaks as
    well; text areas keep their lines."""
    from flask_wtf import FlaskForm

    import vle.web  # noqa: F401 - every blueprint, and so every form, is imported

    def subclasses(cls):
        return [c for s in cls.__subclasses__() for c in (s, *subclasses(s))]

    assert all(issubclass(cls, Form) for cls in subclasses(FlaskForm) if cls is not Form)
    checked = 0
    for cls in subclasses(Form):
        with app.test_request_context(method="POST"):
            names = [field.name for field in cls() if field.type != "CSRFTokenField"]
        for bad in ("a\x00b", "a\x1bb", "a\tb", "a\nb"):
            with app.test_request_context(method="POST", data=dict.fromkeys(names, bad)):
                form = cls()
                assert not form.validate()
                for field in form:
                    if isinstance(field.data, str) and field.type != "CSRFTokenField":
                        allowed = field.type == "TextAreaField" and bad in ("a\tb", "a\nb")
                        refused = any("Control characters" in str(e) for e in field.errors)
                        assert refused != allowed, (cls.__name__, field.name, bad)
                        checked += 1
    assert checked >= 20


def test_a_nul_at_sign_in_is_a_form_error(client, make_user):
    user = make_user()
    response = post_form(
        client, "/login", {"email": user.email + "\x00", "password": "x"}, page="/login"
    )
    assert response.status_code in (200, 422)
    assert "Control characters" in response.get_data(as_text=True)


def test_an_administrators_form_stores_no_control_character(client, session, make_user):
    admin = make_user("admin", network=True)
    login(client, admin.email)
    response = post_form(
        client,
        "/admin/users/new",
        {"email": "new@example.org", "name": "Ona\x01 Onaitė", "role": "learner",
         "organisation": admin.organisation.code},
        page="/admin/users/new",
    )  # fmt: skip
    assert response.status_code in (200, 422)
    assert "Control characters" in response.get_data(as_text=True)
    assert session.scalar(select(User).where(User.email == "new@example.org")) is None


@pytest.mark.parametrize("bad", ["%00"])
def test_searches_treat_a_control_character_as_no_match(client, staff, bad):
    course, headers = staff
    for path in (f"/courses?q={bad}", f"/admin/users?q={bad}", f"/admin/audit?who={bad}"):
        response = client.get(path)
        assert response.status_code == 200, path
    assert course.title not in client.get(f"/courses?q={bad}").get_data(as_text=True)
    response = client.get(f"/api/v1/courses?q={bad}", headers=headers)
    assert response.status_code == 200 and response.get_json() == {"courses": []}
    for path in (f"/reports?organisation={bad}", f"/reports?course={bad}"):
        assert client.get(path).status_code == 422, path
    response = client.get(f"/api/v1/reports/completion?organisation={bad}", headers=headers)
    assert response.status_code == 422
    assert client.get(f"/certificates/verify?code={bad}").status_code < 500


@pytest.mark.parametrize("bad", ["%00"])
def test_a_control_character_in_a_path_matches_no_route(client, staff, bad):
    course, headers = staff
    for path in (f"/courses/{bad}", f"/certificates/verify/{bad}", f"/my/certificates/{bad}"):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/api/v1/courses/{bad}", headers=headers).status_code == 404


def test_a_users_file_with_a_control_character_is_refused(runner, session, tmp_path, make_org):
    org = make_org()
    users = tmp_path / "users.csv"
    users.write_text(
        f"email,name,role,organisation\nona@example.org,Ona\x01,learner,{org.code}\n",
        encoding="utf-8",
    )
    result = runner.invoke(["users", "import", str(users), "--commit"])
    assert result.exit_code != 0
    assert "Line 2 holds a control character in “name”" in result.output
    assert session.scalar(select(func.count(User.id))) == 0


@pytest.mark.parametrize(
    "args",
    [
        ["organisations", "create", "NUL\x00", "--name", "Nul"],
        ["organisations", "create", "TAB", "--name", "Tab\there"],
        ["users", "token", "someone@example.org\x00"],
    ],
)
def test_a_command_line_argument_with_a_control_character_is_refused(runner, session, args):
    result = runner.invoke(args)
    assert result.exit_code == 2 and "control character" in result.output
    assert "Traceback" not in result.output
    assert session.scalar(select(func.count(Organisation.id))) == 0


# --------------------------------------------------------------------------- lengths and the CLI


def test_a_value_longer_than_its_column_is_one_line_from_the_cli(runner, session, make_user):
    result = runner.invoke(["organisations", "create", "LONG", "--name", "n" * 201])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "“name” is too long: at most 200 characters." in result.output
    assert session.scalar(select(func.count(Organisation.id))) == 0
    user = make_user()
    result = runner.invoke(["users", "token", user.email, "--name", "t" * 101])
    assert result.exit_code == 1 and "at most 100 characters" in result.output
    assert session.scalar(select(func.count(ApiToken.id))) == 0


def test_help_works_without_the_settings_a_command_needs(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("VLE_")}
    env.update(VLE_ENV="production", VLE_INSTANCE_PATH=str(tmp_path))
    vle_command = [sys.executable, "-c", "from vle.cli import main; main()"]
    root = Path(vle.__file__).resolve().parent.parent
    shown = subprocess.run(
        [*vle_command, "--help"], env=env, cwd=root, capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0 and "Traceback" not in shown.stderr
    assert "users" in shown.stdout and "courses" in shown.stdout
    needs_app = subprocess.run(
        [*vle_command, "users", "token", "a@example.org"],
        env=env, cwd=root, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert needs_app.returncode != 0 and "Traceback" not in needs_app.stderr
    assert needs_app.stderr.strip().splitlines() == [
        "Error: VLE_SECRET_KEY must be set outside development and demo"
    ]
