"""Search over posts, courses and the directory (issue 19, point 4): the same
results on SQLite and PostgreSQL (run with VLE_TEST_DATABASE_URL too)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import login
from vle.community import forums, search
from vle.community.models import ForumKind, SearchDocument
from vle.db import utcnow
from vle.learning import services as learning
from vle.learning.models import Enrolment


def _found(session: Any, user: Any, query: str, **kwargs: Any) -> list[tuple[str, str]]:
    return [(r.kind, r.title) for r in search.search(session, user, query, **kwargs).items]


@pytest.fixture
def world(app: Flask, session: Any, make_user: Any, make_course: Any, make_org: Any) -> Any:
    trainer = make_user("trainer")
    lt = make_course(title="Mokytojas ir mokinys", trainers=[trainer])
    lt.language = "lt"
    lt.summary = "Kursas savivaldybės ĮSTAIGŲ darbuotojams"
    pl = make_course(title="Szkoła w Łódź")
    pl.language = "pl"
    nb = make_course(title="Skole i Tromsø")
    nb.language = "nb"
    draft = make_course(title="Hemmelig skole", status="draft", trainers=[trainer])
    draft.language = "nb"
    session.commit()
    ann = make_user(name="Ann Learner")
    olga = make_user(name="Olga Outsider")
    learning.enrol(session, ann, lt)
    session.commit()
    forum = forums.course_forum(session, ann, lt)
    session.commit()
    forums.start_thread(session, ann, forum, "Klausimas apie mokytojus", "Kur rasti mokytojų?")
    session.commit()
    return {"trainer": trainer, "ann": ann, "olga": olga, "forum": forum, "lt": lt}


def test_inflections_find_the_lemma_in_each_language(world, session):
    ann = world["ann"]
    assert ("course", "Mokytojas ir mokinys") in _found(session, ann, "mokytojų")
    assert _found(session, ann, "szkołach") == [("course", "Szkoła w Łódź")]
    assert _found(session, ann, "skolene") == [("course", "Skole i Tromsø")]


def test_folding_ignores_case_and_diacritics(world, session):
    ann = world["ann"]
    assert _found(session, ann, "lodz") == [("course", "Szkoła w Łódź")]
    assert _found(session, ann, "TROMSO") == [("course", "Skole i Tromsø")]
    assert _found(session, ann, "istaigu") == [("course", "Mokytojas ir mokinys")]


def test_title_matches_come_first_then_the_newest(world, session):
    # The thread's subject holds "mokytojus" (lemma mokytojas), and so does the course's title;
    # the post is newer, both match in the title: newest first.
    assert _found(session, world["ann"], "mokytojas") == [
        ("post", "Klausimas apie mokytojus"),
        ("course", "Mokytojas ir mokinys"),
    ]
    # "rasti" is only in the post's body.
    assert _found(session, world["ann"], "rasti") == [("post", "Klausimas apie mokytojus")]


def test_every_word_must_match(world, session):
    assert _found(session, world["ann"], "skole tromso") == [("course", "Skole i Tromsø")]
    assert _found(session, world["ann"], "skole lodz") == []


SKOLE = [("course", "Skole i Tromsø")]


@pytest.mark.parametrize(
    ("query", "expected"),
    [('"skole', SKOLE), ('"skole"', SKOLE), ("skole*", SKOLE), ("-skole", SKOLE),
     ("NEAR(skole", []), ("skole'", SKOLE), ("skole%", SKOLE), ("skole\\", SKOLE),
     ("skole_", SKOLE), ("(skole)", SKOLE), ("{skole}", SKOLE), ("skole:", SKOLE),
     ("^skole", SKOLE), ("skole & | !", SKOLE), ("'; DROP TABLE courses; --skole", []),
     # Words, not operators: "AND", "OR" and "-lodz" must each be found too.
     ("skole AND", []), ("skole OR lodz", []), ("skole -lodz", []), ("tromso -skole", SKOLE),
     ("", []), ("   ", []), ('"', []), ("*", []), ("-", []), ("%_\\", [])],
)  # fmt: skip
def test_syntax_is_only_text(world, session, query, expected):
    assert _found(session, world["ann"], query) == expected


def test_a_course_forum_post_only_for_its_learners_and_staff(world, session):
    assert ("post", "Klausimas apie mokytojus") not in _found(session, world["olga"], "mokytojas")
    assert ("post", "Klausimas apie mokytojus") in _found(session, world["trainer"], "rasti")


def test_a_draft_only_for_its_editors(world, session):
    assert _found(session, world["ann"], "hemmelig") == []
    assert _found(session, world["trainer"], "hemmelig") == [("course", "Hemmelig skole")]


def test_a_hidden_post_only_for_moderators(world, session):
    thread = session.scalar(select(forums.Thread))
    forums.moderate_thread(session, world["trainer"], thread, "hide")
    session.commit()
    assert _found(session, world["ann"], "rasti") == []
    assert _found(session, world["trainer"], "rasti") == [("post", "Klausimas apie mokytojus")]


def test_organisations_by_name_and_description(world, session, make_org):
    org = make_org(name="Tromsø kommune")
    org.descriptions = {"pl": "Współpraca ze szkołami"}
    session.commit()
    assert _found(session, world["olga"], "tromso", kinds=["organisation"]) == [
        ("organisation", "Tromsø kommune")
    ]
    assert _found(session, world["olga"], "szkoła", kinds=["organisation"]) == [
        ("organisation", "Tromsø kommune")
    ]


def test_changes_are_indexed_and_reindex_rebuilds(world, session, runner):
    course = world["lt"]
    course.title = "Bibliotekininkas"
    session.commit()
    assert _found(session, world["ann"], "bibliotekininkas") == [("course", "Bibliotekininkas")]
    assert _found(session, world["ann"], "mokinys") == []
    session.delete(course)
    session.commit()
    assert _found(session, world["ann"], "bibliotekininkas") == []
    before = _found(session, world["trainer"], "skole")
    result = runner.invoke(["search", "reindex"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert _found(session, world["trainer"], "skole") == before
    assert session.scalar(select(SearchDocument.id).where(SearchDocument.kind == "organisation"))


def test_the_search_page(world, client, session):
    login(client, world["ann"].email)
    page = client.get("/network/search?q=lodz").get_data(as_text=True)
    assert "Szkoła w Łódź" in page and 'href="/courses/' in page
    thread = session.scalar(select(forums.Thread))
    page = client.get("/network/search?q=rasti").get_data(as_text=True)
    assert f'href="/network/threads/{thread.id}#post-' in page
    page = client.get("/network/search", query_string={"q": 'nothing"here AND *'})
    assert page.status_code == 200
    assert "No results for" in page.get_data(as_text=True)
    # A control character: no match, and a message saying why (as the other searches).
    refused = client.get("/network/search", query_string={"q": "skole\x07"})
    assert refused.status_code == 200
    assert "control characters" in refused.get_data(as_text=True)
    assert 'label for="network-search-q">Search<' in client.get("/network/").get_data(as_text=True)

    assert client.get(f"/network/search?q=skole&page={10**30}").status_code == 200
    assert client.get("/network/search?q=skole&page=-3&kind=nonsense").status_code == 200


def test_the_search_page_needs_a_sign_in(client):
    assert client.get("/network/search?q=x").status_code in (302, 401)


def test_a_qa_reply_only_after_posting_in_the_thread(world, session, make_user):
    admin = make_user("admin", network=True)
    ben = make_user(name="Ben Learner")
    qa = forums.create_forum(session, admin, title="Pytania", kind=ForumKind.QA)
    session.commit()
    thread = forums.start_thread(session, world["ann"], qa, "Pytanie", "Gdzie są szkoły?")
    session.commit()
    forums.reply(session, ben, thread, "Odpowiedź: w Gdańsku")
    session.commit()
    assert _found(session, world["olga"], "gdansk") == []
    assert _found(session, ben, "gdansk") == [("post", "Pytanie")]
    assert _found(session, admin, "gdansk") == [("post", "Pytanie")]
    forums.reply(session, world["olga"], thread, "Też pytam")
    session.commit()
    assert _found(session, world["olga"], "gdansk") == [("post", "Pytanie")]


def test_who_reads_a_course_forum_is_asked_whatever_the_query_matched(world, session, make_user):
    """The forums a searcher reads are found without going through the matched
    posts: a network administrator reads every course's forum, a learner whose
    enrolment ended no longer reads it, and a network forum is everyone's."""
    admin = make_user("admin", network=True)
    network = forums.create_forum(session, admin, title="Visų forumas")
    session.commit()
    forums.start_thread(session, world["olga"], network, "Mokytojų susitikimas", "Kas ateis?")
    session.commit()
    assert ("post", "Klausimas apie mokytojus") in _found(session, admin, "mokytojas")
    assert ("post", "Mokytojų susitikimas") in _found(session, world["olga"], "mokytojas")
    enrolment = session.scalar(select(Enrolment).where(Enrolment.user_id == world["ann"].id))
    enrolment.ended_at = utcnow()
    session.commit()
    found = _found(session, world["ann"], "mokytojas", kinds=["post"])
    assert found == [("post", "Mokytojų susitikimas")]


def test_a_word_in_very_many_places_is_counted_up_to_a_limit(world, client, session, monkeypatch):
    # "mokytojas" is in the thread and the course: with the count stopped at 1, the
    # page says more than 1 and still lists both.
    monkeypatch.setattr(search, "MAX_COUNTED", 1)
    found = search.search(session, world["ann"], "mokytojas")
    assert found.total == 2 and len(found.items) == 2
    login(client, world["ann"].email)
    page = client.get("/network/search?q=mokytojas").get_data(as_text=True)
    assert "More than 1 results for “mokytojas”: add words to find fewer." in page
    assert "Mokytojas ir mokinys" in page and "Klausimas apie mokytojus" in page
    monkeypatch.setattr(search, "MAX_COUNTED", 1000)
    page = client.get("/network/search?q=mokytojas").get_data(as_text=True)
    assert "2 results for “mokytojas”" in page
