"""Finding a course in the catalogue: what the search covers, how it compares
words (folded, as text) and the language filter."""

from __future__ import annotations

import pytest

from vle.catalog.services import published_courses


@pytest.fixture
def catalogue(session, make_course):
    """Three published courses in three languages and a draft."""
    made = {}
    for slug, title, summary, language in (
        ("vilnius", "VIEŠŲJŲ ĮSTAIGŲ VADYBA", "Kursas savivaldybėms.", "lt"),
        ("lodz", "Współpraca w Łódź", "Kurs dla szkół 100% online.", "pl"),
        ("tromso", "Samarbeid i Tromsø", "For kommuner_og skoler. Lærere velkommen.", "nb"),
    ):
        course = make_course(slug=slug, title=title)
        course.summary, course.language = summary, language
        made[slug] = course
    made["draft"] = make_course(slug="draft", title="Tromsø draft", status="draft")
    made["vilnius"].modules[0].items[1].title = "Viešieji pirkimai ir korupcija"
    session.commit()
    return made


def found(session, search="", language=""):
    return [course.slug for course in published_courses(session, search, language)]


@pytest.mark.parametrize(
    ("search", "slug"),
    [
        ("istaigu", "vilnius"),  # ĮSTAIGŲ: case and Lithuanian diacritics
        ("ĮSTAIGŲ", "vilnius"),
        ("lodz", "lodz"),  # Łódź: ł has no Unicode decomposition
        ("ŁÓDŹ", "lodz"),
        ("tromso", "tromso"),  # Tromsø: nor has ø
        ("TROMSØ", "tromso"),
        ("szkol", "lodz"),  # szkół: a small ł
        ("SZKÓŁ", "lodz"),
        ("laerere", "tromso"),  # Lærere: nor has æ, which folds to two letters
        ("LÆRERE", "tromso"),
        ("lærere", "tromso"),
    ],
)
def test_search_ignores_case_and_diacritics(session, catalogue, search, slug):
    assert found(session, search) == [slug]


def test_search_covers_the_summary_and_lesson_titles(session, catalogue):
    assert found(session, "savivaldybems") == ["vilnius"]  # summary
    assert found(session, "pirkimai") == ["vilnius"]  # a lesson's title
    assert found(session, "korupcija") == ["vilnius"]


def test_every_word_must_be_found_somewhere(session, catalogue):
    # Title and a lesson's title together.
    assert found(session, "vadyba korupcija") == ["vilnius"]
    assert found(session, "vadyba tromso") == []
    assert found(session, "  tromso   kommuner ") == ["tromso"]


@pytest.mark.parametrize(
    "search",
    ["'", '"', "*", "\\", "AND", "-", "OR 1=1", "' OR '1'='1", "tromso*", '"tromso"'],
)
def test_syntax_is_searched_for_as_text(session, catalogue, search):
    """No wildcard, no operator, no error: only courses holding the very text."""
    assert found(session, search) == []


def test_syntax_characters_that_a_course_holds_find_it(session, catalogue):
    # Not wildcards: each finds the one course holding it.
    assert found(session, "%") == ["lodz"]
    assert found(session, "_") == ["tromso"]
    assert found(session, "100%") == ["lodz"]
    assert found(session, "kommuner_og") == ["tromso"]
    assert found(session, "100% online") == ["lodz"]


def test_drafts_are_never_found(session, catalogue):
    assert "draft" not in found(session)
    assert found(session, "draft") == []
    assert found(session, "tromso") == ["tromso"]


def test_language_filter_alone_and_with_a_search(session, catalogue):
    assert found(session, language="pl") == ["lodz"]
    assert found(session, "tromso", language="nb") == ["tromso"]
    assert found(session, "tromso", language="lt") == []
    assert found(session, language="en") == []


def test_a_control_character_matches_nothing(session, catalogue):
    assert found(session, "tromso\x00") == []


def test_search_is_a_fixed_number_of_queries(session, catalogue, make_course, count_queries):
    with count_queries() as few:
        found(session, "kursas")
    for _ in range(5):
        make_course(lessons=4)
    with count_queries() as many:
        found(session, "kursas")
    assert many.count == few.count == 2
