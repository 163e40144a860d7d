"""The competency API (issue 16, point 9): the profile's shape (PRODUCT.md §2),
who may read and rate whom, and what bad input gets."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tests.competencies.world import world_fixture  # noqa: F401
from tests.conftest import csrf_token, login
from vle.audit import AuditEntry
from vle.competencies import services
from vle.competencies.models import Plan, PlanTemplate, PlanTemplateCompetency, UserCompetency

PROFILE_KEYS = {"frameworks", "plans"}
FRAMEWORK_KEYS = {"code", "title", "scale", "competencies"}
COMPETENCY_KEYS = {"code", "title", "parent", "rating", "proficient", "rated_at", "evidence",
                   "badge"}  # fmt: skip
EVIDENCE_KEYS = {"kind", "at", "by", "note", "url", "title"}
PLAN_KEYS = {"id", "name", "status", "due", "progress", "competencies"}


def _complete_ethics(client, world):
    login(client, "ona@example.org")
    item = world.ethics.modules[0].items[0]
    token = csrf_token(client, "/courses/ethics")
    response = client.post(f"/courses/ethics/items/{item.id}/complete",
                           data={"csrf_token": token})  # fmt: skip
    assert response.status_code == 302


def _by_code(body):
    return {c["code"]: c for f in body["frameworks"] for c in f["competencies"]}


def test_my_competencies_has_the_documented_shape(app, client, session, world, token_for):
    template = PlanTemplate(name="Municipal social worker", due=date(2027, 6, 30))
    session.add(template)
    session.flush()
    session.add_all(
        PlanTemplateCompetency(template_id=template.id, competency_id=c.id)
        for c in (world.coop, world.integrity)
    )
    session.add(Plan(user_id=world.ona.id, template_id=template.id, status="active",
                     due=template.due))  # fmt: skip
    session.commit()
    _complete_ethics(client, world)
    response = client.get("/api/v1/me/competencies", headers=token_for(world.ona))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == PROFILE_KEYS
    [framework] = body["frameworks"]
    assert set(framework) == FRAMEWORK_KEYS
    assert framework["code"] == "PSCI"
    assert framework["scale"] == ["not_yet_competent", "competent", "proficient"]
    assert [c["code"] for c in framework["competencies"]] == ["PS", "PS-COOP", "PS-INT"]
    for competency in framework["competencies"]:
        assert set(competency) == COMPETENCY_KEYS
    found = _by_code(body)
    assert found["PS"]["parent"] is None and found["PS-COOP"]["parent"] == "PS"
    coop = found["PS-COOP"]
    assert (coop["rating"], coop["proficient"]) == ("competent", True)
    assert coop["rated_at"].endswith("Z")
    [evidence] = coop["evidence"]
    assert set(evidence) == EVIDENCE_KEYS
    assert evidence["kind"] == "course_completed" and evidence["by"] is None
    assert evidence["url"] == "http://localhost/courses/ethics"  # absolute
    assert evidence["title"] == "Ethics"
    # A badge exists for the proficient competency: its two public addresses.
    assert set(coop["badge"]) == {"assertion", "credential"}
    assert coop["badge"]["credential"].startswith(coop["badge"]["assertion"])
    integrity = found["PS-INT"]
    assert (integrity["rating"], integrity["proficient"], integrity["badge"]) == (None, False, None)
    assert integrity["evidence"][0]["kind"] == "course_completed"  # recommended: logged only
    [plan] = body["plans"]
    assert set(plan) == PLAN_KEYS
    assert plan["name"] == "Municipal social worker" and plan["status"] == "active"
    assert plan["due"] == "2027-06-30" and plan["progress"] == 50
    assert plan["competencies"] == ["PS-COOP", "PS-INT"]


def test_a_learner_with_nothing_gets_empty_lists(client, world, token_for):
    body = client.get("/api/v1/me/competencies", headers=token_for(world.olga)).get_json()
    assert body == {"frameworks": [], "plans": []}


def test_reading_a_learners_profile_follows_the_pages_rules(client, world, token_for):
    path = f"/api/v1/users/{world.ona.id}/competencies"
    for reader in (world.tom, world.ada, world.ona):
        response = client.get(path, headers=token_for(reader))
        assert response.status_code == 200, reader.email
        assert response.get_json()["frameworks"][0]["code"] == "PSCI"
    for outsider in (world.tina, world.otto, world.olga):
        response = client.get(path, headers=token_for(outsider))
        assert response.status_code == 403, outsider.email
        assert response.get_json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/users/999999/competencies",
                      headers=token_for(world.tom)).status_code == 404  # fmt: skip
    assert client.get(path).status_code == 401
    assert client.get("/api/v1/me/competencies").status_code == 401


def _rate(client, world, headers, body, user=None, code="PS-COOP"):
    user_id = world.ona.id if user is None else user
    return client.post(f"/api/v1/users/{user_id}/competencies/{code}/ratings", json=body,
                       headers=headers)  # fmt: skip


def test_a_trainer_rates_with_a_note_and_gets_the_competency(session, client, world, token_for):
    response = _rate(client, world, token_for(world.tom),
                     {"rating": "proficient", "note": "Led the joint project."})  # fmt: skip
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == COMPETENCY_KEYS
    assert (body["code"], body["rating"], body["proficient"]) == ("PS-COOP", "proficient", True)
    [evidence] = body["evidence"]
    assert evidence["kind"] == "rating" and evidence["by"] == "Tom Trainer"
    assert evidence["note"] == "Led the joint project."
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "competency.rate"))
    assert entry.actor_id == world.tom.id and entry.target_id == world.ona.id


def test_an_override_stays_after_automatic_evidence(session, client, world, token_for):
    assert _rate(client, world, token_for(world.tom),
                 {"rating": "not_yet_competent", "note": "Not yet."}).status_code == 201  # fmt: skip
    _complete_ethics(client, world)
    coop = _by_code(client.get("/api/v1/me/competencies", headers=token_for(world.ona)).get_json())[
        "PS-COOP"
    ]
    assert (coop["rating"], coop["proficient"]) == ("not_yet_competent", False)
    assert [e["kind"] for e in coop["evidence"]] == ["course_completed", "rating"]


def _unchanged(session, world):
    session.rollback()
    assert session.scalar(select(UserCompetency.id)) is None
    assert (
        session.scalar(select(AuditEntry.id).where(AuditEntry.action == "competency.rate")) is None
    )


def test_bad_ratings_are_refused_and_change_nothing(session, client, world, token_for):
    headers = token_for(world.tom)
    for body in (
        {"rating": "expert", "note": "x"},  # not on the scale
        {"rating": "competent", "note": "   "},  # an empty note
        {"rating": "competent"},  # no note
        {"note": "x"},  # no rating
        {"rating": 2, "note": "x"},
        {"rating": "competent", "note": "x", "by": "someone"},  # a field it may not hold
        {"rating": "competent", "note": "x" * 2001},
    ):
        response = _rate(client, world, headers, body)
        assert response.status_code == 422, body
        assert response.get_json()["error"]["code"] == "invalid"
    response = client.post(f"/api/v1/users/{world.ona.id}/competencies/PS-COOP/ratings",
                           data="{not json", headers={**headers,
                                                      "Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 400
    _unchanged(session, world)


def test_rating_outside_ones_courses_or_scope_is_403_and_unknowns_404(
    session, client, world, token_for
):
    body = {"rating": "competent", "note": "x"}
    for outsider in (world.tina, world.otto, world.olga, world.ona):  # ona: herself
        assert _rate(client, world, token_for(outsider), body).status_code == 403, outsider.email
    assert _rate(client, world, token_for(world.tom), body, user=999999).status_code == 404
    assert _rate(client, world, token_for(world.tom), body, code="NOPE").status_code == 404
    assert _rate(client, world, {}, body).status_code == 401
    _unchanged(session, world)


def test_a_review_request_is_cleared_by_an_api_rating(session, client, world, token_for):
    services.request_review(session, world.ona, world.coop)
    session.commit()
    assert _rate(client, world, token_for(world.ada),
                 {"rating": "competent", "note": "Checked."}).status_code == 201  # fmt: skip
    session.rollback()
    row = session.scalar(
        select(UserCompetency).where(
            UserCompetency.user_id == world.ona.id, UserCompetency.competency_id == world.coop.id
        )
    )
    assert row.review_requested_at is None and row.rating == "competent"


def test_the_openapi_document_describes_the_competency_routes(client):
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    assert "get" in paths["/api/v1/me/competencies"]
    assert "get" in paths["/api/v1/users/{id}/competencies"]
    rate = paths["/api/v1/users/{id}/competencies/{code}/ratings"]["post"]
    assert {"201", "403", "404", "422"} <= set(rate["responses"])
    schemas = document["components"]["schemas"]
    assert set(schemas["Competency"]["required"]) == COMPETENCY_KEYS
    assert set(schemas["RatingRequest"]["required"]) == {"rating", "note"}


def test_the_profile_api_is_a_fixed_number_of_queries(
    app, client, session, make_user, world, token_for, count_queries
):
    from tests.competencies.test_pages import _grow

    counts = []
    for email, children, evidence, code in (("few@example.org", 1, 1, "SMALL"),
                                            ("many@example.org", 30, 50, "LARGE")):  # fmt: skip
        learner = make_user(org=world.school, email=email)
        with app.app_context():
            _grow(session, learner, children, evidence, code)
        headers = token_for(learner)
        with count_queries() as counter:
            response = client.get("/api/v1/me/competencies", headers=headers)
        assert response.status_code == 200
        counts.append(counter.count)
    assert len(_by_code(response.get_json())) == 31
    assert counts[0] == counts[1]
