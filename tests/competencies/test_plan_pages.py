"""Learning plan pages: templates, assigning, the gap view and its CSV, a plan's
page and its actions — what people see, and who may do what."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from sqlalchemy import select

from tests.competencies.test_plans import _framework
from tests.conftest import csrf_token, login
from vle.audit import AuditEntry
from vle.competencies import plans, services
from vle.competencies.models import Plan, PlanAssignment, PlanTemplate


@pytest.fixture
def world(session, make_org, make_user):
    w = type("World", (), {})()
    w.city = make_org("CITY", name="City")
    w.school = make_org("SCHOOL", parent=w.city, name="School")
    w.other = make_org("OTHER", name="Other town")
    w.admin = make_user("admin", org=w.city, email="admin@city.lt")
    w.other_admin = make_user("admin", org=w.other, email="admin@other.lt")
    w.network = make_user("admin", org=w.other, email="net@net.lt", network=True)
    w.trainer = make_user("trainer", org=w.city, email="trainer@city.lt")
    w.ona = make_user(org=w.city, email="ona@city.lt", name="Ona Onaitė")
    w.sam = make_user(org=w.school, email="sam@school.lt", name="Sam School")
    w.olga = make_user(org=w.other, email="olga@other.lt", name="Olga Other")
    w.framework, w.competencies = _framework(session)
    session.commit()
    return w


def _template(app, session, world, name="Social worker", due=None):
    with app.app_context():
        template = plans.save_template(
            session, world.admin, None, name=name, description="", due=due,
            competency_ids=[c.id for c in world.competencies],
        )  # fmt: skip
        session.commit()
    return template


def _post(client, path, data=None, page="/admin/plans"):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, page)})


def fresh(session):
    """End the session's read transaction: it sees what the requests committed since."""
    session.commit()
    session.expire_all()


def text(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_an_admin_creates_edits_and_deletes_a_template(client, session, world):
    login(client, "admin@city.lt")
    assert 'href="/admin/plans">Learning plans</a>' in text(client.get("/admin/"))
    listing = text(client.get("/admin/plans"))
    assert 'aria-current="page">Learning plans' in listing and "New template" in listing
    page = client.get("/admin/plans/new")
    assert page.status_code == 200
    body = text(page)
    assert "Competencies of F" in body and "F 1" in body  # grouped by framework
    c1, c2, _ = world.competencies
    response = _post(client, "/admin/plans/new", {
        "name": "Municipal social worker", "description": "What they need",
        "due": "2030-05-31", "competencies": [str(c1.id), str(c2.id)],
    })  # fmt: skip
    assert response.status_code == 302
    fresh(session)
    template = session.scalar(select(PlanTemplate))
    assert (template.name, template.due, template.organisation_id) == (
        "Municipal social worker", date(2030, 5, 31), world.city.id)  # fmt: skip
    body = text(client.get(f"/admin/plans/{template.id}"))
    assert "Municipal social worker" in body and "F1" in body
    assert "31 May 2030" in body or "May 31, 2030" in body
    assert "Municipal social worker" in text(client.get("/admin/plans"))
    edit = f"/admin/plans/{template.id}/edit"
    assert f'value="{c1.id}" checked' in client.get(edit).get_data(as_text=True)
    assert _post(client, edit, {"name": "Renamed", "due": "",
                                "competencies": [str(c1.id)]}).status_code == 302  # fmt: skip
    fresh(session)
    assert (template.name, template.due) == ("Renamed", None)
    confirm = client.get(f"/admin/plans/{template.id}/delete")
    assert "also deletes the 0 learning plans" in text(confirm)
    assert _post(client, f"/admin/plans/{template.id}/delete").status_code == 302
    fresh(session)
    assert session.scalar(select(PlanTemplate.id)) is None


def test_bad_template_input_is_shown_and_changes_nothing(client, session, world):
    login(client, "admin@city.lt")
    c1 = world.competencies[0]
    for data, words in (
        ({"name": "", "competencies": [str(c1.id)]}, "This field is required"),
        ({"name": "X"}, "Choose at least one competency"),
        ({"name": "X", "competencies": ["999999"]}, "does not exist"),
        ({"name": "X", "competencies": [str(c1.id)], "due": "31/05/2030"}, "YYYY-MM-DD"),
        ({"name": "X", "competencies": ["word"]}, "Competencies"),
    ):
        response = _post(client, "/admin/plans/new", data)
        assert response.status_code == 422, data
        assert words in text(response)
    fresh(session)
    assert session.scalar(select(PlanTemplate.id)) is None


def test_assigning_people_found_by_name_and_an_organisation(app, client, session, world,
                                                            make_user):  # fmt: skip
    template = _template(app, session, world, due=date(2030, 1, 1))
    login(client, "admin@city.lt")
    found = text(client.get(f"/admin/plans/{template.id}/assign?q=ona"))
    assert "Ona Onaitė &lt;ona@city.lt&gt;" in found
    assert "Olga" not in text(client.get(f"/admin/plans/{template.id}/assign?q=olga"))
    response = _post(client, f"/admin/plans/{template.id}/assign",
                     {"chosen": [str(world.ona.id)], "draft": "y", "role": "learner"})  # fmt: skip
    assert response.status_code == 302
    assert "1 people were given the plan" in text(client.get(response.location))
    fresh(session)
    plan = session.scalar(select(Plan).where(Plan.user_id == world.ona.id))
    assert plan.status == "draft"
    # An organisation: a dry run first, then the assignment.
    data = {"organisation": "CITY", "role": "learner"}
    dry = _post(client, f"/admin/plans/{template.id}/assign", data)
    assert dry.status_code == 200
    assert "1 people of City will get the plan now" in text(dry)  # Ona has one already
    fresh(session)
    assert session.scalar(select(PlanAssignment.id).where(
        PlanAssignment.organisation_id.is_not(None))) is None  # fmt: skip
    done = _post(client, f"/admin/plans/{template.id}/assign", {**data, "confirm": "1"})
    assert done.status_code == 302
    page = text(client.get(done.location))
    assert "Learners of City and its sub-organisations" in page and "Sam School" in page
    # Neither both nor nothing; an organisation outside the scope is 403.
    both = _post(client, f"/admin/plans/{template.id}/assign",
                 {"organisation": "CITY", "chosen": [str(world.sam.id)], "role": "learner"})  # fmt: skip
    assert both.status_code == 422 and "not both" in text(both)
    nothing = _post(client, f"/admin/plans/{template.id}/assign", {"role": "learner"})
    assert nothing.status_code == 422
    unknown = _post(client, f"/admin/plans/{template.id}/assign", {"organisation": "NOPE"})
    assert unknown.status_code == 422 and "no organisation with the code" in text(unknown)
    outside = _post(client, f"/admin/plans/{template.id}/assign",
                    {"organisation": "OTHER", "role": "learner"})  # fmt: skip
    assert outside.status_code == 403
    person_outside = _post(client, f"/admin/plans/{template.id}/assign",
                           {"chosen": [str(world.olga.id)]})  # fmt: skip
    assert person_outside.status_code == 403
    fresh(session)
    assert session.scalar(select(Plan.id).where(Plan.user_id == world.olga.id)) is None
    bad_role = _post(client, f"/admin/plans/{template.id}/assign",
                     {"organisation": "CITY", "role": "boss"})  # fmt: skip
    assert bad_role.status_code == 422
    # Withdrawing the organisation assignment.
    fresh(session)
    assignment = session.scalar(select(PlanAssignment).where(
        PlanAssignment.organisation_id == world.city.id))  # fmt: skip
    assignment_id = assignment.id
    withdrawn = _post(client, f"/admin/plans/{template.id}/assignments/{assignment_id}/withdraw")
    assert withdrawn.status_code == 302
    fresh(session)
    assert (
        session.scalar(select(PlanAssignment.id).where(PlanAssignment.id == assignment_id)) is None
    )


def test_the_plan_page_and_its_actions(app, client, session, world):
    template = _template(app, session, world)
    c1, c2, c3 = world.competencies
    with app.app_context():
        plans.assign_people(session, world.admin, template, [world.ona], draft=True)
        services.record_evidence(session, world.ona.id, c1, kind="import", key="i", value="yes")
        session.commit()
    plan = session.scalar(select(Plan))
    path = f"/plans/{plan.id}"
    login(client, "ona@city.lt")
    own = text(client.get(path))
    assert "Social worker" in own and "draft" in own and "33%" in own
    assert "✓ yes" in own and "✗ not yet" in own
    assert "Activate" not in own  # the learner reads, does not manage
    assert _post(client, f"{path}/activate", page=path).status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/my")})
    login(client, "admin@city.lt")
    assert "Activate" in text(client.get(path))
    assert _post(client, f"{path}/activate", page=path).status_code == 302
    assert _post(client, f"{path}/complete", page=path).status_code == 302
    page = text(client.get(path))
    assert "complete" in page and "those the plan was completed with" in page and "Reopen" in page
    again = _post(client, f"{path}/complete", page=path)
    assert again.status_code == 302 and "already complete" in text(client.get(again.location))
    assert _post(client, f"{path}/reopen", page=path).status_code == 302
    fresh(session)
    assert session.get(Plan, plan.id).status == "active"
    actions = list(session.scalars(select(AuditEntry.action).where(
        AuditEntry.action.like("plan.%")).order_by(AuditEntry.id)))  # fmt: skip
    assert actions == ["plan.assign", "plan.activate", "plan.complete", "plan.reopen"]
    # Without the form's token nothing happens.
    assert client.post(f"{path}/complete").status_code == 400


@pytest.mark.parametrize(
    "who, status",
    [("olga@other.lt", 403), ("admin@other.lt", 403), ("trainer@city.lt", 403),
     ("net@net.lt", 200), ("admin@city.lt", 200), ("ona@city.lt", 200)],
)  # fmt: skip
def test_who_reads_a_plan(app, client, session, world, who, status):
    template = _template(app, session, world)
    with app.app_context():
        plans.assign_people(session, world.admin, template, [world.ona])
        session.commit()
    plan = session.scalar(select(Plan))
    login(client, who)
    assert client.get(f"/plans/{plan.id}").status_code == status
    assert client.get("/plans/999999").status_code == 404


def test_the_gap_view_and_its_csv(app, client, session, world):
    template = _template(app, session, world)
    c1, c2, _ = world.competencies
    with app.app_context():
        plans.assign_people(session, world.admin, template, [world.ona, world.sam])
        services.record_evidence(session, world.ona.id, c1, kind="import", key="i", value="yes")
        services.record_evidence(session, world.sam.id, c1, kind="import", key="i", value="yes")
        services.record_evidence(session, world.sam.id, c2, kind="import", key="j", value="yes")
        session.commit()
    login(client, "admin@city.lt")
    page = client.get(f"/admin/plans/{template.id}/gap")
    assert page.status_code == 200
    body = text(page)
    assert "<svg" in body and "Proficient, per competency, of 2 people</caption>" in body
    assert "✓ yes" in body and "✗ no" in body and "100%" in body and "50%" in body
    school = text(client.get(f"/admin/plans/{template.id}/gap?organisation=SCHOOL"))
    assert "Sam School" in school and "Ona Onaitė" not in school
    assert client.get(f"/admin/plans/{template.id}/gap?organisation=OTHER").status_code == 403
    assert client.get(f"/admin/plans/{template.id}/gap?organisation=NOPE").status_code == 422
    download = client.get(f"/admin/plans/{template.id}/gap.csv?organisation=CITY")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    data = download.get_data(as_text=True)
    assert data.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(data.lstrip("\ufeff"))))
    assert rows[0] == ["Name", "Email", "Organisation", "Status", "F1 F 1", "F2 F 2", "F3 F 3"]
    assert sorted(rows[1:]) == [
        ["Ona Onaitė", "ona@city.lt", "CITY", "active", "yes", "no", "no"],
        ["Sam School", "sam@school.lt", "SCHOOL", "active", "yes", "yes", "no"],
    ]
    assert client.get(f"/admin/plans/{template.id}/gap.csv?organisation=OTHER").status_code == 403


ROUTES = [
    ("get", "/admin/plans"),
    ("get", "/admin/plans/new"),
    ("post", "/admin/plans/new"),
    ("get", "/admin/plans/{t}"),
    ("get", "/admin/plans/{t}/edit"),
    ("post", "/admin/plans/{t}/edit"),
    ("get", "/admin/plans/{t}/delete"),
    ("post", "/admin/plans/{t}/delete"),
    ("get", "/admin/plans/{t}/assign"),
    ("post", "/admin/plans/{t}/assign"),
    ("post", "/admin/plans/{t}/assignments/1/withdraw"),
    ("get", "/admin/plans/{t}/gap"),
    ("get", "/admin/plans/{t}/gap.csv"),
]


@pytest.mark.parametrize("method, route", ROUTES)
def test_only_administrators_reach_the_template_pages(app, client, session, world, method,
                                                       route):  # fmt: skip
    template = _template(app, session, world)
    path = route.format(t=template.id)
    token = {"csrf_token": csrf_token(client, "/login")} if method == "post" else None
    anonymous = getattr(client, method)(path, data=token)
    assert anonymous.status_code == 302 and "/login" in anonymous.location
    for who in ("trainer@city.lt", "ona@city.lt"):
        login(client, who)
        data = {"csrf_token": csrf_token(client, "/my")} if method == "post" else None
        assert getattr(client, method)(path, data=data).status_code == 403, who
        client.post("/logout", data={"csrf_token": csrf_token(client, "/my")})


@pytest.mark.parametrize("route", [r for m, r in ROUTES if "{t}" in r and m == "get"])
def test_another_organisations_template_does_not_exist_for_an_admin(app, client, session,
                                                                    world, route):  # fmt: skip
    template = _template(app, session, world)
    login(client, "admin@other.lt")
    assert client.get(route.format(t=template.id)).status_code == 404
    assert client.get(route.format(t=999999)).status_code == 404


def test_a_descendant_admin_sees_but_does_not_edit_an_ancestors_template(
    app, client, session, world, make_user
):
    make_user("admin", org=world.school, email="admin@school.lt")
    template = _template(app, session, world)
    login(client, "admin@school.lt")
    page = text(client.get(f"/admin/plans/{template.id}"))
    assert "Assign" in page and "Edit" not in page
    assert client.get(f"/admin/plans/{template.id}/edit").status_code == 403
    assert client.get(f"/admin/plans/{template.id}/delete").status_code == 403


@pytest.mark.parametrize("action", ["activate", "complete", "reopen"])
def test_plan_actions_are_for_administrators_in_scope(app, client, session, world, action):
    template = _template(app, session, world)
    with app.app_context():
        plans.assign_people(session, world.admin, template, [world.ona])
        session.commit()
    plan = session.scalar(select(Plan))
    path = f"/plans/{plan.id}/{action}"
    assert client.post(path).status_code in (302, 400)  # no session: login (or CSRF first)
    for who, status in (("trainer@city.lt", 403), ("admin@other.lt", 403),
                        ("ona@city.lt", 403)):  # fmt: skip
        login(client, who)
        assert _post(client, path, page="/my").status_code == status, who
        client.post("/logout", data={"csrf_token": csrf_token(client, "/my")})
    fresh(session)
    assert session.get(Plan, plan.id).status == "active"


def test_the_gap_csv_is_formula_safe(app, client, session, world):
    world.ona.name = '=HYPERLINK("http://evil")'
    session.commit()
    template = _template(app, session, world)
    with app.app_context():
        plans.assign_people(session, world.admin, template, [world.ona])
        session.commit()
    login(client, "admin@city.lt")
    data = client.get(f"/admin/plans/{template.id}/gap.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(data.lstrip("\ufeff"))))
    assert rows[1][0] == '\'=HYPERLINK("http://evil")'


def test_bad_assign_input_is_refused_and_changes_nothing(app, client, session, world):
    template = _template(app, session, world)
    login(client, "admin@city.lt")
    path = f"/admin/plans/{template.id}/assign"
    for data in ({"chosen": ["word"]}, {"chosen": [str(10**6)]}, {"chosen": [str(10**30)]},
                 {"organisation": "CITY\x00"}):  # fmt: skip
        response = _post(client, path, data)
        assert response.status_code == 422, data
    assert client.get("/plans/" + "9" * 30).status_code == 404
    assert client.get(f"/admin/plans/{template.id}/gap?page=word").status_code == 200
    fresh(session)
    assert session.scalar(select(Plan.id)) is None
    huge = _post(client, "/admin/plans/new", {"name": "X", "competencies": [str(10**30)]})
    assert huge.status_code == 422 and "does not exist" in text(huge)
