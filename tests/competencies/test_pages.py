"""The competency pages (issue 16, points 4–6): My competencies, a learner's
profile for their trainers and administrators, the review queue and a course's
figures — what each person sees, what they may do, and what bad input gets."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.competencies.world import make_framework, world_fixture  # noqa: F401
from tests.conftest import csrf_token, login
from vle.audit import AuditEntry
from vle.competencies import services
from vle.competencies.models import Evidence, UserCompetency
from vle.competencies.profile import profile

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _text(html: str) -> str:
    """What a reader sees, roughly: no tags, spaces squeezed."""
    return re.sub(r"\s+([:.,])", r"\1", re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def _standing(session, user, competency):
    session.rollback()
    return session.scalar(
        select(UserCompetency).where(
            UserCompetency.user_id == user.id, UserCompetency.competency_id == competency.id
        )
    )


def _complete_ethics(client, session, world):
    """Ona completes "ethics" as she would: marks its one lesson complete."""
    item = world.ethics.modules[0].items[0]
    token = csrf_token(client, "/courses/ethics")
    response = client.post(f"/courses/ethics/items/{item.id}/complete",
                           data={"csrf_token": token})  # fmt: skip
    assert response.status_code == 302


def _post(client, path, data, page):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})


# --- what a learner sees ---------------------------------------------------------------------


def test_my_competencies_is_in_the_navigation_and_lists_the_framework_tree(client, world):
    login(client, "ona@example.org")
    home = client.get("/my").get_data(as_text=True)
    assert 'href="/my/competencies"' in home and "My competencies" in home
    response = client.get("/my/competencies")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>My competencies</h1>" in html
    assert 'aria-current="page">My competencies' in html
    text = _text(html)
    assert "Public-sector cooperation" in text
    # The tree: the parent's list holds its children's list.
    between = html[html.index(f'id="c{world.parent.id}"') : html.index(f'id="c{world.coop.id}"')]
    assert between.count('<ul class="competency-tree">') == 1 and "</li>" not in between
    assert html.count('class="competency-tree"') == 2  # the roots, and PS's children
    assert "Not yet rated" in text
    assert "Not competent" not in text  # scale values are read in words:
    assert "Not yet competent" in text
    assert "Request a review" in text and "Assess yourself" in text
    assert "You have no learning plan." in text


def test_a_learner_with_nothing_linked_is_told_so(client, world):
    login(client, "olga@example.org")
    text = _text(client.get("/my/competencies").get_data(as_text=True))
    assert "None of your courses or plans is linked to a competency yet." in text


def test_completing_a_linked_course_shows_the_competency_proficient_with_its_evidence(
    client,
    session,
    world,
):
    login(client, "ona@example.org")
    _complete_ethics(client, session, world)
    html = client.get("/my/competencies").get_data(as_text=True)
    card = html[html.index(f'id="c{world.coop.id}"') : html.index(f'id="c{world.integrity.id}"')]
    text = _text(card)
    assert "My rating Competent — Proficient" in text
    assert "rated automatically" in text
    assert "Evidence (1 piece)" in text and "Course completed" in text
    assert 'href="/courses/ethics"' in card
    # PS-INT is recommended for review, not rated; PS (all children) is not met.
    rest = _text(html[html.index(f'id="c{world.integrity.id}"') :])
    assert "Not yet rated" in rest
    assert "Waiting for a trainer's review since" in rest
    assert "A course or quiz recommends a review" in rest
    assert "Proficient in 1 of 3 competencies." in _text(html)


def test_self_assessment_is_kept_beside_the_rating_and_never_counts(client, session, world):
    login(client, "ona@example.org")
    response = _post(client, "/my/competencies/PS-COOP/self-assessment",
                     {"rating": "proficient", "note": "I led two joint projects."},
                     "/my/competencies")  # fmt: skip
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/my/competencies#c{world.coop.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your self-assessment of Cooperation between organisations is saved." in page
    card = _text(
        page[page.index(f'id="c{world.coop.id}"') : page.index(f'id="c{world.integrity.id}"')]
    )
    assert "My rating Not yet rated" in card
    assert "My self-assessment Proficient" in card and "yours: it never counts as a rating" in card
    assert "I led two joint projects." in card
    row = _standing(session, world.ona, world.coop)
    assert (row.rating, row.proficient, row.self_rating) == (None, False, "proficient")
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "competency.self_assess"))
    assert entry.actor_id == world.ona.id and entry.details["competency"] == "PS-COOP"


@pytest.mark.parametrize("rating", ["expert", "", "competent\x00"])
def test_a_self_assessment_off_the_scale_is_refused_and_changes_nothing(
    client,
    session,
    world,
    rating,
):
    login(client, "ona@example.org")
    response = _post(client, "/my/competencies/PS-COOP/self-assessment",
                     {"rating": rating, "note": "x"}, "/my/competencies")  # fmt: skip
    assert response.status_code in (422, 400)
    if response.status_code == 422:
        html = response.get_data(as_text=True)
        assert 'aria-invalid="true"' in html
        assert "Not a valid choice" in html or "Choose a value of the scale." in html
    assert _standing(session, world.ona, world.coop) is None
    assert session.scalar(select(Evidence.id)) is None


def test_forms_without_the_csrf_token_are_refused(client, session, world):
    login(client, "ona@example.org")
    for path in ("/my/competencies/PS-COOP/self-assessment", "/my/competencies/PS-COOP/review"):
        response = client.post(path, data={"rating": "competent", "note": "x"})
        assert response.status_code == 400
    assert _standing(session, world.ona, world.coop) is None
    login(client, "tom@example.org")
    response = client.post(f"/competencies/users/{world.ona.id}/PS-COOP/rating",
                           data={"rating": "competent", "note": "x"})  # fmt: skip
    assert response.status_code == 400
    assert _standing(session, world.ona, world.coop) is None


def test_unknown_competency_is_404(client, world):
    login(client, "ona@example.org")
    response = _post(client, "/my/competencies/NOPE/self-assessment",
                     {"rating": "competent"}, "/my/competencies")  # fmt: skip
    assert response.status_code == 404
    assert _post(client, "/my/competencies/NOPE/review", {}, "/my/competencies").status_code == 404


# --- review requests and the queue -----------------------------------------------------------


def test_a_review_request_reaches_the_trainer_who_rates_it_off_the_queue(client, session, world):
    login(client, "ona@example.org")
    response = _post(client, "/my/competencies/PS-COOP/review", {}, "/my/competencies")
    assert response.status_code == 302
    page = _text(client.get("/my/competencies").get_data(as_text=True))
    assert "Your trainers are asked to review Cooperation between organisations." in page
    assert "The learner asked for a review" in page
    assert session.scalar(
        select(AuditEntry.id).where(AuditEntry.action == "competency.review_request")
    )

    login(client, "tom@example.org")
    nav = client.get("/trainer/").get_data(as_text=True)
    assert re.search(r"Competency reviews <span class=\"count\">1<span class=\"visually-hidden\">"
                     r" competency waiting for a review", nav)  # fmt: skip
    queue = client.get("/trainer/competencies/reviews")
    assert queue.status_code == 200
    html = queue.get_data(as_text=True)
    assert f'href="/competencies/users/{world.ona.id}"' in html
    assert "Ona Learner" in html and "PS-COOP" in html and "The learner asked for a review" in html

    response = _post(client, f"/competencies/users/{world.ona.id}/PS-COOP/rating",
                     {"rating": "competent", "note": "Seen at work."},
                     f"/competencies/users/{world.ona.id}")  # fmt: skip
    assert response.status_code == 302
    assert "Nothing is waiting for a review." in client.get(
        "/trainer/competencies/reviews"
    ).get_data(as_text=True)
    assert _standing(session, world.ona, world.coop).review_requested_at is None


def test_the_queue_lists_recommended_reviews_oldest_first_and_only_the_trainers_learners(
    client,
    session,
    world,
):
    services.request_review(session, world.ona, world.integrity, now=T0 + timedelta(days=2))
    services.request_review(session, world.ona, world.coop, now=T0)
    services.request_review(session, world.olga, world.coop, now=T0 - timedelta(days=1))
    session.commit()
    login(client, "tom@example.org")
    html = client.get("/trainer/competencies/reviews").get_data(as_text=True)
    assert "Olga" not in html  # not a learner of tom's courses
    assert html.index("PS-COOP") < html.index("PS-INT")  # oldest first
    login(client, "otto@example.org")  # the administrator of OTHER: Olga's only
    html = client.get("/trainer/competencies/reviews").get_data(as_text=True)
    assert "Olga Other" in html and "Ona" not in html
    login(client, "ada@example.org")
    html = client.get("/trainer/competencies/reviews").get_data(as_text=True)
    assert "Ona Learner" in html and "Olga" not in html


# --- a trainer's view and rating -------------------------------------------------------------


def test_the_trainer_sees_the_learners_profile_from_the_participants_list(client, world):
    login(client, "tom@example.org")
    course_page = client.get("/trainer/courses/ethics").get_data(as_text=True)
    assert f'href="/competencies/users/{world.ona.id}"' in course_page
    assert 'href="/trainer/courses/ethics/competencies"' in course_page
    html = client.get(f"/competencies/users/{world.ona.id}").get_data(as_text=True)
    assert "Competencies of Ona Learner" in html
    text = _text(html)
    assert "The learner's self-assessment" in text
    assert "Request a review" not in text and "Assess yourself" not in text
    assert html.count("<summary>Rate<span") == 3  # a Rate form for each competency
    assert "Required. Your rating overrides any automatic one" in text


def test_the_administrator_reaches_the_profile_from_the_user_page(client, world):
    login(client, "ada@example.org")
    page = client.get(f"/admin/users/{world.ona.id}").get_data(as_text=True)
    assert f'href="/competencies/users/{world.ona.id}"' in page
    assert client.get(f"/competencies/users/{world.ona.id}").status_code == 200


def test_a_trainers_override_with_a_note_shows_and_stays_after_automatic_evidence(
    client,
    session,
    world,
):
    login(client, "tom@example.org")
    response = _post(client, f"/competencies/users/{world.ona.id}/PS-COOP/rating",
                     {"rating": "not_yet_competent", "note": "Needs practice with partners."},
                     f"/competencies/users/{world.ona.id}")  # fmt: skip
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ona Learner is rated “Not yet competent” in Cooperation between organisations." in page
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "competency.rate"))
    assert (
        entry.actor_id == world.tom.id and entry.details["note"] == "Needs practice with partners."
    )

    login(client, "ona@example.org")
    _complete_ethics(client, session, world)  # automatic evidence: "competent"
    html = client.get("/my/competencies").get_data(as_text=True)
    card = _text(
        html[html.index(f'id="c{world.coop.id}"') : html.index(f'id="c{world.integrity.id}"')]
    )
    assert "My rating Not yet competent — Not proficient yet rated by a trainer" in card
    assert "Evidence (2 pieces)" in card
    assert "Rated by a trainer: Not yet competent" in card and "by Tom Trainer" in card
    assert "Needs practice with partners." in card
    assert "Course completed: Competent" in card
    row = _standing(session, world.ona, world.coop)
    assert (row.rating, row.rated_by_kind) == ("not_yet_competent", "trainer")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rating": "competent", "note": "   "}, "Write a note: say what the rating rests on."),
        ({"rating": "competent"}, "Write a note: say what the rating rests on."),
        ({"rating": "expert", "note": "Good"}, "Not a valid choice"),
        ({"rating": "", "note": "Good"}, "Choose a value of the scale."),
        ({"rating": "competent", "note": "x" * 2001}, "2000"),
    ],
)
def test_a_rating_without_a_note_or_off_the_scale_is_refused_and_changes_nothing(
    client,
    session,
    world,
    data,
    message,
):
    login(client, "tom@example.org")
    response = _post(client, f"/competencies/users/{world.ona.id}/PS-COOP/rating", data,
                     f"/competencies/users/{world.ona.id}")  # fmt: skip
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert '<details class="rate" open>' in html[html.index(f'id="c{world.coop.id}"') :]
    assert _standing(session, world.ona, world.coop) is None
    assert (
        session.scalar(select(AuditEntry.id).where(AuditEntry.action == "competency.rate")) is None
    )


# --- permissions -----------------------------------------------------------------------------


def _routes(world):
    ona = world.ona.id
    return {
        "get": ["/my/competencies", f"/competencies/users/{ona}", "/trainer/competencies/reviews",
                "/trainer/courses/ethics/competencies"],
        "post": ["/my/competencies/PS-COOP/self-assessment", "/my/competencies/PS-COOP/review",
                 f"/competencies/users/{ona}/PS-COOP/rating"],
    }  # fmt: skip


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    routes = _routes(world)
    for path in routes["get"]:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    token = csrf_token(client, "/login")
    for path in routes["post"]:
        response = client.post(path, data={"csrf_token": token, "rating": "competent",
                                           "note": "x"})  # fmt: skip
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_a_learner_may_not_read_or_rate_another_learner(client, session, world):
    login(client, "olga@example.org")
    assert client.get(f"/competencies/users/{world.ona.id}").status_code == 403
    response = _post(client, f"/competencies/users/{world.ona.id}/PS-COOP/rating",
                     {"rating": "competent", "note": "x"}, "/my/competencies")  # fmt: skip
    assert response.status_code == 403
    assert client.get("/trainer/competencies/reviews").status_code == 403
    assert client.get("/trainer/courses/ethics/competencies").status_code == 403
    assert _standing(session, world.ona, world.coop) is None


def test_a_learner_reading_their_own_profile_page_is_sent_to_my_competencies(client, world):
    login(client, "ona@example.org")
    response = client.get(f"/competencies/users/{world.ona.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/my/competencies")


def test_a_trainer_of_another_course_may_not_read_or_rate(client, session, world):
    login(client, "tina@example.org")
    assert client.get(f"/competencies/users/{world.ona.id}").status_code == 403
    response = _post(client, f"/competencies/users/{world.ona.id}/PS-COOP/rating",
                     {"rating": "competent", "note": "x"}, "/my/competencies")  # fmt: skip
    assert response.status_code == 403
    assert client.get("/trainer/courses/ethics/competencies").status_code == 403
    assert _standing(session, world.ona, world.coop) is None


def test_a_scoped_administrator_outside_the_subtree_may_not_read_or_rate(client, session, world):
    login(client, "otto@example.org")
    assert client.get(f"/competencies/users/{world.ona.id}").status_code == 403
    response = _post(client, f"/competencies/users/{world.ona.id}/PS-COOP/rating",
                     {"rating": "competent", "note": "x"}, "/my/competencies")  # fmt: skip
    assert response.status_code == 403
    assert _standing(session, world.ona, world.coop) is None
    # The administrator of CITY holds SCHOOL: reads and rates.
    login(client, "ada@example.org")
    assert client.get(f"/competencies/users/{world.ona.id}").status_code == 200
    response = _post(client, f"/competencies/users/{world.ona.id}/PS-COOP/rating",
                     {"rating": "competent", "note": "Checked."},
                     f"/competencies/users/{world.ona.id}")  # fmt: skip
    assert response.status_code == 302
    assert _standing(session, world.ona, world.coop).rating == "competent"


def test_no_such_person_is_404(client, world):
    login(client, "tom@example.org")
    assert client.get("/competencies/users/999999").status_code == 404
    assert client.get(f"/competencies/users/{10**30}").status_code == 404
    response = _post(client, "/competencies/users/999999/PS-COOP/rating",
                     {"rating": "competent", "note": "x"}, "/my/competencies")  # fmt: skip
    assert response.status_code == 404
    response = _post(client, f"/competencies/users/{world.ona.id}/NOPE/rating",
                     {"rating": "competent", "note": "x"}, "/my/competencies")  # fmt: skip
    assert response.status_code == 404
    assert client.get("/trainer/courses/nope/competencies").status_code == 404


# --- per course ------------------------------------------------------------------------------


def test_the_course_page_counts_proficient_learners_per_linked_competency(
    client,
    session,
    make_user,
    world,
):
    from vle.learning import services as learning

    second = make_user(org=world.school, email="sam@example.org")
    learning.enrol(session, second, world.ethics)
    services.record_evidence(session, world.ona.id, world.coop, kind="import", key="i",
                             value="proficient")  # fmt: skip
    services.record_evidence(session, world.olga.id, world.coop, kind="import", key="i",
                             value="proficient")  # not a learner of ethics  # fmt: skip
    session.commit()
    login(client, "tom@example.org")
    response = client.get("/trainer/courses/ethics/competencies")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<caption" in html and 'scope="col"' in html
    rows = {m.group(1): _text(m.group(2)) for m in re.finditer(
        r'<span class="competency-code">([A-Z-]+)</span>(.*?)</tr>', html, re.S)}  # fmt: skip
    assert "1 of 2" in rows["PS-COOP"] and "Rates it" in rows["PS-COOP"]
    assert "0 of 2" in rows["PS-INT"] and "Asks for a review" in rows["PS-INT"]
    # A scoped administrator whose subtree holds none of the course's learners
    # is refused, as on the trainer's desk (the /trainer/ URL-map test's rule).
    login(client, "otto@example.org")
    assert client.get("/trainer/courses/ethics/competencies").status_code == 403


# --- a fixed number of queries ---------------------------------------------------------------


def _grow(session, learner, n_children, n_evidence, code):
    framework, parent, kids = make_framework(session, code=code, children=n_children)
    for i in range(n_evidence):
        services.record_evidence(session, learner.id, kids[i % len(kids)], kind="item_completed",
                                 key=f"e{i}", value=None, title=f"Lesson {i}",
                                 url=f"/courses/x/items/{i}")  # fmt: skip
    services.rate(session, _trainer_for(session, learner), learner, kids[0], "competent", "ok")
    session.commit()


def _trainer_for(session, learner):
    from vle.accounts.models import User

    return session.scalar(select(User).where(User.email == "ada@example.org"))


def test_the_profile_is_read_in_a_fixed_number_of_queries(
    app,
    session,
    make_user,
    world,
    count_queries,
):
    few, many = make_user(org=world.school), make_user(org=world.school)
    with app.app_context():  # badges are issued when a rating becomes proficient
        _grow(session, few, 1, 1, "SMALL")
        _grow(session, many, 30, 50, "LARGE")
        with count_queries() as small:
            found = profile(session, few.id)
        with count_queries() as large:
            grown = profile(session, many.id)
    assert len(found.frameworks[0].competencies) == 2
    assert len(grown.frameworks[0].competencies) == 31
    assert sum(len(c.evidence) for c in grown.frameworks[0].competencies) == 51
    assert large.count == small.count, large.statements


def test_my_competencies_page_is_a_fixed_number_of_queries(
    app,
    client,
    session,
    make_user,
    world,
    count_queries,
):
    counts = []
    for email, children, evidence, code in (("few@example.org", 1, 1, "SMALL"),
                                            ("many@example.org", 30, 50, "LARGE")):  # fmt: skip
        learner = make_user(org=world.school, email=email)
        with app.app_context():
            _grow(session, learner, children, evidence, code)
        login(client, email)
        with count_queries() as counter:
            assert client.get("/my/competencies").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]


def test_a_proficient_competency_offers_its_badge_and_others_none(client, session, world):
    login(client, "ona@example.org")
    _complete_ethics(client, session, world)
    html = client.get("/my/competencies").get_data(as_text=True)
    coop = html[html.index(f'id="c{world.coop.id}"') : html.index(f'id="c{world.integrity.id}"')]
    links = re.findall(r'<a href="([^"]+)"[^>]*>(Open Badge|Verifiable credential)<', coop)
    assert [name for _url, name in links] == ["Open Badge", "Verifiable credential"]
    assertion, credential = (url for url, _name in links)
    assert "/badges/assertions/" in assertion and credential == assertion + "/credential"
    png = re.search(
        r'<a href="(/badges/assertions/[^"]+/baked\.png)" download>Download the badge', coop
    )
    baked = client.get(png.group(1))
    assert baked.status_code == 200 and baked.mimetype == "image/png"
    # The public assertion answers (no sign-in needed).
    client.post("/logout", data={"csrf_token": csrf_token(client, "/my")})
    assert client.get(urlsplit(assertion).path).status_code == 200
    integrity = html[html.index(f'id="c{world.integrity.id}"') :]
    assert "Open Badge" not in integrity and "Verifiable credential" not in integrity


def test_learners_have_no_review_queue_in_their_navigation(client, world):
    login(client, "ona@example.org")
    assert "Competency reviews" not in client.get("/my/competencies").get_data(as_text=True)


def test_my_plans_show_their_progress_and_lead_to_the_plan(client, session, world):
    from datetime import date

    from vle.competencies.models import Plan, PlanTemplate, PlanTemplateCompetency

    template = PlanTemplate(name="Municipal social worker", due=date(2027, 6, 30))
    session.add(template)
    session.flush()
    session.add_all(
        PlanTemplateCompetency(template_id=template.id, competency_id=c.id)
        for c in (world.coop, world.integrity)
    )
    plan = Plan(user_id=world.ona.id, template_id=template.id, status="active", due=template.due)
    session.add(plan)
    session.commit()
    login(client, "ona@example.org")
    _complete_ethics(client, session, world)
    html = client.get("/my/competencies").get_data(as_text=True)
    plans = html[html.index('id="plans-heading"') : html.index('class="framework"')]
    assert f'<a href="/plans/{plan.id}">Municipal social worker</a>' in plans
    assert (
        '<progress max="100" value="50" aria-label="Progress in Municipal social worker">' in plans
    )
    text = _text(plans)
    assert "Active · Due" in text and "Proficient in 50% of the plan's competencies." in text
    assert "Competencies: PS-COOP, PS-INT" in text
    assert client.get(f"/plans/{plan.id}").status_code == 200
