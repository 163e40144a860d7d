"""The quiz editor (issue 17, point 4): Add quiz, the settings, a question of
every type made through its form and graded by vle.quizzes afterwards, GIFT
pasted or uploaded, the preview, versions, permissions, and the round trip
through the course files (export, read back: the same quiz)."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import SHARED_TESTDATA, csrf_token, login
from vle.audit import AuditEntry
from vle.authoring import question_bank
from vle.catalog.models import Item
from vle.library.reader import read_library
from vle.library.services import export_course
from vle.quizzes import gift
from vle.quizzes import services as quizzes
from vle.quizzes.models import Answer, Attempt

# --------------------------------------------------------------------------- helpers


@pytest.fixture
def quiz_course(session, make_user, make_course, enrol):
    """A trainer's draft course of one module (one lesson), another trainer,
    and an enrolled learner."""
    trainer = make_user("trainer", name="Tess Trainer")
    other = make_user("trainer", name="Otto Other")
    course = make_course(slug="quiz-editing", lessons=1, trainers=[trainer], status="published")
    learner = make_user(name="Lea Learner")
    enrol(learner, course)
    return {
        "trainer": trainer, "other": other, "learner": learner, "course": course,
        "module": course.modules[0],
    }  # fmt: skip


def page_text(response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def post(client, path, data, page=None):
    """Post as the page that holds the form would (its CSRF token)."""
    token = csrf_token(client, page or path)
    return client.post(path, data={**data, "csrf_token": token})


def quiz_url(course, item):
    return f"/trainer/courses/{course.slug}/quizzes/{item.id}"


def settings_data(**changes):
    data = {
        "title": "Check your knowledge", "required": "y", "pass_mark": "60", "attempts": "",
        "time_limit_minutes": "", "draw": "", "layout": "all_on_one_page",
        "review": "after_submit", "grading": "highest",
    }  # fmt: skip
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def fresh(session):
    """See what requests committed meanwhile (ends the session's snapshot)."""
    session.commit()
    session.expire_all()


def item_of(session, item_id) -> Item:
    fresh(session)
    return session.get(Item, item_id)


def add_quiz(client, session, course, module, **changes) -> Item:
    path = f"/trainer/courses/{course.slug}/modules/{module.id}/quizzes/new"
    response = post(client, path, settings_data(**changes))
    assert response.status_code == 302, page_text(response)
    location = response.headers["Location"]
    assert "/quizzes/" in location, location
    item_id = int(location.rsplit("/", 1)[1])
    return item_of(session, item_id)


def add_question(client, session, course, item, kind, data, status=302):
    path = f"{quiz_url(course, item)}/questions/new/{kind}"
    version = item_of(session, item.id).version
    response = post(client, path, {"version": str(version), "text_format": "moodle", **data})
    assert response.status_code == status, page_text(response)
    return response


def rows(data_rows, prefix="answer", parts=("text", "grade", "feedback")):
    """Form fields for rows of answers: rows([("Vilnius", "100", "Right.")])."""
    data = {}
    for n, values in enumerate(data_rows, start=1):
        for part, value in zip(parts, values, strict=True):
            data[f"{prefix}_{n}_{part}"] = value
    return data


def rows_now(session, item):
    fresh(session)
    return quizzes.questions_of(session, item)


def bank(session, item):
    return [quizzes.parsed(row) for row in rows_now(session, item)]


def attempt_score(session, learner, course, item, answers_by_position):
    """Start an attempt as the learner, answer by question position, submit:
    the score in percent."""
    course = session.merge(course)
    item = item_of(session, item.id)
    attempt, _ = quizzes.start_attempt(session, learner, course, item)
    ids = [row.id for row in rows_now(session, item)]
    for position, value in answers_by_position.items():
        quizzes.save_answer(session, attempt, ids[position - 1], value)
    quizzes.submit(session, attempt, course, item)
    session.commit()
    return attempt.score


ALL_TYPES = {
    "single_choice": {
        "title": "Capital",
        "text": "What is the capital of Lithuania?",
        **rows([("Vilnius", "100", "Right."), ("Kaunas", "0", "Interwar."), ("Riga", "", "")]),
        "general_feedback": "Vilnius has been the capital since 1990.",
    },
    "multiple_choice": {
        "title": "Colours",
        "text": "Which are colours of the Lithuanian flag?",
        **rows([("Yellow", "50", ""), ("Green", "50", ""), ("Blue", "-100", "No.")]),
    },
    "true_false": {
        "title": "Baltic",
        "text": "Lithuania is a Baltic state.",
        "correct": "true",
        "feedback_true": "Yes it is.",
        "feedback_false": "It is.",
    },
    "short_answer": {
        "title": "River",
        "text": "Name the longest river of Lithuania.",
        **rows([("Nem*s", "100", "Right."), ("Neman", "50", "Its English name.")]),
    },
    "numerical": {
        "title": "Pi",
        "text": "Pi to two decimals?",
        **rows(
            [("3.14", "0.005", "100", "Right."), ("3", "0.5", "50", "Roughly.")],
            parts=("value", "tolerance", "grade", "feedback"),
        ),
    },
    "matching": {
        "title": "Pairs",
        "text": "Match the city to its country.",
        **rows(
            [("Vilnius", "Lithuania"), ("Warsaw", "Poland"), ("Oslo", "Norway"), ("", "Latvia")],
            prefix="pair",
            parts=("stem", "option"),
        ),
    },
    "essay": {"title": "Reflect", "text": "Describe one thing you will do differently."},
    "description": {"title": "Intro", "text": "The last questions are about <b>rivers</b>."},
}


def full_quiz(client, session, quiz_course, **changes):
    login(client, quiz_course["trainer"].email)
    item = add_quiz(client, session, quiz_course["course"], quiz_course["module"], **changes)
    for kind, data in ALL_TYPES.items():
        add_question(client, session, quiz_course["course"], item, kind, data)
    return item_of(session, item.id)


# --------------------------------------------------------------------------- add quiz


def test_add_quiz_makes_an_empty_quiz_at_the_end_of_the_module(client, session, quiz_course):
    course, module = quiz_course["course"], quiz_course["module"]
    login(client, quiz_course["trainer"].email)
    form = client.get(f"/trainer/courses/{course.slug}/modules/{module.id}/quizzes/new")
    assert form.status_code == 200 and "Add quiz" in page_text(form)
    item = add_quiz(client, session, course, module, title="Žinių patikrinimas", pass_mark="75")
    assert (item.kind, item.slug, item.prefix, item.position) == (
        "quiz",
        "ziniu-patikrinimas",
        "02",
        2,
    )
    assert item.settings == {
        "pass_mark": 75, "attempts": None, "time_limit_minutes": None, "shuffle": False,
        "draw": None, "layout": "all_on_one_page", "review": "after_submit", "grading": "highest",
    }  # fmt: skip
    assert item.source == "" and rows_now(session, item) == []
    # A second quiz of the same title gets a slug of its own in the course.
    again = add_quiz(client, session, course, module, title="Žinių patikrinimas")
    assert again.slug == "ziniu-patikrinimas-2" and again.prefix == "03"
    assert (
        session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "authoring.quiz.add")
        )
        == 2
    )


def test_a_quiz_without_questions_says_so_to_learners_and_cannot_start(
    client, session, quiz_course
):
    course, module = quiz_course["course"], quiz_course["module"]
    login(client, quiz_course["trainer"].email)
    item = add_quiz(client, session, course, module)
    client.get("/logout")
    login(client, quiz_course["learner"].email)
    page = client.get(f"/courses/{course.slug}/items/{item.id}")
    assert page.status_code == 200
    assert "This quiz has no questions yet" in page_text(page)
    assert "Start attempt" not in page_text(page)
    started = post(
        client, f"/courses/{course.slug}/items/{item.id}/attempts", {},
        page=f"/courses/{course.slug}/items/{item.id}",
    )  # fmt: skip
    assert started.status_code in (303, 409)
    assert "This quiz has no questions yet" in page_text(client.get(started.headers["Location"]))
    assert session.scalar(select(func.count()).select_from(Attempt)) == 0


def test_add_quiz_settings_are_checked(client, session, quiz_course):
    course, module = quiz_course["course"], quiz_course["module"]
    login(client, quiz_course["trainer"].email)
    path = f"/trainer/courses/{course.slug}/modules/{module.id}/quizzes/new"
    response = post(client, path, settings_data(title="", pass_mark="120", draw="2"))
    assert response.status_code == 422
    text = page_text(response)
    assert "The pass mark is a whole number from 0 to 100." in text
    assert "leave Draw empty" in text
    assert session.scalar(select(func.count()).select_from(Item).where(Item.kind == "quiz")) == 0


# --------------------------------------------------------------------------- settings


def test_settings_are_saved_as_the_reader_has_them_and_checked(client, session, quiz_course):
    item = full_quiz(client, session, quiz_course)
    course = quiz_course["course"]
    page = client.get(quiz_url(course, item))
    text = page_text(page)
    for label in ("Pass mark (%)", "Attempts allowed", "Time limit (minutes)", "Shuffle",
                  "Draw questions at random", "Layout", "Review", "Grade that counts", "Required"):  # fmt: skip
        assert label in text
    response = post(
        client, quiz_url(course, item),
        settings_data(pass_mark="120", draw="8", time_limit_minutes="2000", attempts="0",
                      version=str(item.version)),
    )  # fmt: skip
    assert response.status_code == 422
    text = page_text(response)
    assert "The pass mark is a whole number from 0 to 100." in text
    # Seven questions count (the description does not).
    assert "Draw asks for 8 questions but the quiz has 7." in text
    assert "from 1 to 1440" in text and "1 or more" in text
    assert item_of(session, item.id).settings["pass_mark"] == 60
    saved = post(
        client, quiz_url(course, item),
        settings_data(title="Final check", required=None, pass_mark="80", attempts="3",
                      time_limit_minutes="30", shuffle="y", draw="5", layout="one_per_page",
                      review="after_close", grading="last", version=str(item.version)),
    )  # fmt: skip
    assert saved.status_code == 302
    item = item_of(session, item.id)
    assert (item.title, item.required, item.version) == ("Final check", False, item.version)
    assert item.settings == {
        "pass_mark": 80, "attempts": 3, "time_limit_minutes": 30, "shuffle": True, "draw": 5,
        "layout": "one_per_page", "review": "after_close", "grading": "last",
    }  # fmt: skip


def test_a_stale_settings_save_is_a_conflict_not_an_overwrite(client, session, quiz_course):
    course, module = quiz_course["course"], quiz_course["module"]
    login(client, quiz_course["trainer"].email)
    item = add_quiz(client, session, course, module)
    opened = item.version
    first = post(client, quiz_url(course, item), settings_data(pass_mark="70", version=str(opened)))
    assert first.status_code == 302
    stale = post(client, quiz_url(course, item), settings_data(pass_mark="90", version=str(opened)))
    assert stale.status_code == 409
    assert "Someone else saved this meanwhile" in page_text(stale)
    assert item_of(session, item.id).settings["pass_mark"] == 70
    # A question saved on the old version is a conflict too.
    response = post(
        client, f"{quiz_url(course, item)}/questions/new/essay",
        {"version": str(opened), "text_format": "moodle", "text": "Why?"},
    )  # fmt: skip
    assert response.status_code == 409
    assert rows_now(session, item_of(session, item.id)) == []
    # "Keep my version" posts the trainer's values on the version it showed.
    shown = re.search(r'name="version" value="(\d+)"', response.get_data(as_text=True)).group(1)
    assert int(shown) == item_of(session, item.id).version
    kept = post(
        client, f"{quiz_url(course, item)}/questions/new/essay",
        {"version": shown, "text_format": "moodle", "text": "Why?"},
    )  # fmt: skip
    assert kept.status_code == 302
    assert [q.text for q in bank(session, item)] == ["Why?"]
    # Stale GIFT: a conflict too, showing the GIFT saved meanwhile.
    stale_gift = post(client, f"{quiz_url(course, item)}/gift",
                      {"version": str(opened), "gift": MY_GIFT, "mode": "replace"},
                      page=quiz_url(course, item))  # fmt: skip
    assert stale_gift.status_code == 409 and "Why?" in page_text(stale_gift)
    assert [q.text for q in bank(session, item)] == ["Why?"]


# --------------------------------------------------------------------------- every type


def test_every_type_made_in_the_editor_is_graded_by_the_quiz(client, session, quiz_course):
    item = full_quiz(client, session, quiz_course)
    course, learner = quiz_course["course"], quiz_course["learner"]
    questions = bank(session, item)
    assert [q.type for q in questions] == list(ALL_TYPES)
    single, multiple, true_false, short, numerical, matching, essay, description = questions
    assert [c.fraction for c in single.choices] == [1.0, 0.0, 0.0]
    assert single.general_feedback == "Vilnius has been the capital since 1990."
    assert [c.fraction for c in multiple.choices] == [0.5, 0.5, -1.0]
    assert (true_false.correct, true_false.feedback_true) == (True, "Yes it is.")
    assert [(c.text, c.fraction) for c in short.choices] == [("Nem*s", 1.0), ("Neman", 0.5)]
    assert [(n.value, n.tolerance, n.fraction) for n in numerical.numeric] == [
        (3.14, 0.005, 1.0), (3.0, 0.5, 0.5),
    ]  # fmt: skip
    assert [(p.stem, p.option) for p in matching.pairs][-1] == ("", "Latvia")
    assert essay.text.startswith("Describe") and description.text.endswith("<b>rivers</b>.")
    # The item's GIFT is what the questions write, and reads back as them.
    item = item_of(session, item.id)
    assert item.source == gift.write(questions) and gift.parse(item.source) == questions

    # All right but the essay (which waits for a trainer) …
    # Options in alphabetical order: Latvia o1, Lithuania o2, Norway o3, Poland o4.
    stems = {"s1": "o2", "s2": "o4", "s3": "o3"}
    score = attempt_score(session, learner, course, item, {
        1: "c1", 2: ["c1", "c2"], 3: "true", 4: "nemunas", 5: "3,144", 6: stems,
    })  # fmt: skip
    # The essay left unanswered earns nothing: six of seven.
    assert score == pytest.approx(100 * 6 / 7, abs=0.01)
    attempt = session.scalar(select(Attempt).where(Attempt.user_id == learner.id))
    fractions = {
        a.question_id: a.fraction
        for a in session.scalars(select(Answer).where(Answer.attempt_id == attempt.id))
    }
    ids = [row.id for row in rows_now(session, item)]
    assert [fractions.get(i) for i in ids[:6]] == [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]


# Answers (by question position) and the fraction each earns.
PARTIAL = [
    # Multiple choice partial credit, with a negative choice taking it away.
    ({2: ["c1"]}, 0.5),
    ({2: ["c1", "c3"]}, 0.0),
    # Short answer: wildcard and case, and the partly right answer.
    ({4: "NEMUNAS"}, 1.0),
    ({4: "nemenčius"}, 1.0),
    ({4: "neman"}, 0.5),
    ({4: "Vilnia"}, 0.0),
    # Numerical: within the tolerance of the right number, or of the rough one.
    ({5: "3.136"}, 1.0),
    ({5: "2.6"}, 0.5),
    ({5: "4"}, 0.0),
    # Matching: one of three right.
    ({6: {"s1": "o1", "s2": "o2", "s3": "o3"}}, 1 / 3),
    # True/false, single choice.
    ({3: "false"}, 0.0),
    ({1: "c2"}, 0.0),
]


def test_partial_credit_wildcards_tolerance_and_matching_grade_as_made(
    client, session, quiz_course, make_user, enrol
):
    # Without the essay, so that each attempt is graded at once.
    login(client, quiz_course["trainer"].email)
    course = quiz_course["course"]
    item = add_quiz(client, session, course, quiz_course["module"])
    for kind, data in ALL_TYPES.items():
        if kind != "essay":
            add_question(client, session, course, item, kind, data)
    ids = [row.id for row in rows_now(session, item)]
    for answers, expected in PARTIAL:
        learner = make_user()
        enrol(learner, course)
        attempt_score(session, learner, course, item, answers)
        attempt = session.scalar(select(Attempt).where(Attempt.user_id == learner.id))
        ((position, _value),) = answers.items()
        answer = session.scalar(
            select(Answer).where(
                Answer.attempt_id == attempt.id, Answer.question_id == ids[position - 1]
            )
        )
        assert answer.fraction == pytest.approx(expected), answers


@pytest.mark.parametrize(
    ("kind", "data", "field", "message"),
    [
        ("single_choice", {"text": "Q?", **rows([("A", "0", ""), ("B", "50", "")])},
         "answer_1_grade", "Mark the right answer with the grade 100"),
        ("single_choice", {"text": "Q?", **rows([("A", "100", "")])},
         "answer_1_text", "at least 2 answers"),
        ("multiple_choice", {"text": "Q?", **rows([("A", "50", ""), ("B", "30", ""), ("C", "0", "")])},
         "answer_1_grade", "add up to 80%"),
        ("multiple_choice", {"text": "Q?", **rows([("A", "150", ""), ("B", "0", "")])},
         "answer_1_grade", "from -100 to 100"),
        ("short_answer", {"text": "Q?", **rows([("four", "50", "")])},
         "answer_1_grade", "No answer earns full marks"),
        ("short_answer", {"text": "Q?"}, "answer_1_text", "at least one accepted answer"),
        ("short_answer", {"text": "Q?", **rows([("a -> b", "100", "")])},
         "answer_1_text", "->"),
        ("numerical", {"text": "Q?", **rows([("3,1,4", "", "100", "")],
                                            parts=("value", "tolerance", "grade", "feedback"))},
         "answer_1_value", "Write a number"),
        ("numerical", {"text": "Q?", **rows([("3", "-1", "100", "")],
                                            parts=("value", "tolerance", "grade", "feedback"))},
         "answer_1_tolerance", "0 or more"),
        ("matching", {"text": "Q?", **rows([("Vilnius", "Lithuania"), ("", "Latvia")],
                                           prefix="pair", parts=("stem", "option"))},
         "pair_1_stem", "at least 2 pairs"),
        ("matching", {"text": "Q?", **rows([("Vilnius", "")], prefix="pair",
                                           parts=("stem", "option"))},
         "pair_1_option", "Give the answer that matches"),
        ("true_false", {"text": "Q?"}, "correct", "Choose the right answer"),
        ("essay", {"text": "  "}, "text", "Write the question's text"),
        ("essay", {"text": "Why\x00?"}, "text", "Control characters"),
    ],
)  # fmt: skip
def test_an_invalid_question_is_a_field_error_and_changes_nothing(
    client, session, quiz_course, kind, data, field, message
):
    course = quiz_course["course"]
    login(client, quiz_course["trainer"].email)
    item = add_quiz(client, session, course, quiz_course["module"])
    before = item.version
    response = add_question(client, session, course, item, kind, data, status=422)
    body = response.get_data(as_text=True)
    # The message sits with its field (tied to it for screen readers) and in the summary.
    assert f'id="{field}-error"' in body or (field == "correct" and 'id="correct-error"' in body)
    assert message in html.unescape(body)
    item = item_of(session, item.id)
    assert item.version == before and item.source == ""
    assert rows_now(session, item) == []


def test_editing_a_question_keeps_its_id_and_the_answers_to_it(client, session, quiz_course):
    item = full_quiz(client, session, quiz_course)
    course, learner = quiz_course["course"], quiz_course["learner"]
    first_id = rows_now(session, item)[0].id
    attempt, _ = quizzes.start_attempt(session, learner, session.merge(course), item)
    quizzes.save_answer(session, attempt, first_id, "c2")
    session.commit()
    path = f"{quiz_url(course, item)}/questions/{first_id}"
    form = client.get(path)
    assert form.status_code == 200
    assert "Vilnius</textarea>" in form.get_data(as_text=True)
    # Kaunas becomes right; six rows, then more after "Save and add more rows".
    data = {
        **ALL_TYPES["single_choice"],
        **rows([("Vilnius", "0", ""), ("Kaunas", "100", ""), ("Riga", "0", "")]),
    }
    response = post(client, path, {"version": str(item.version), "text_format": "moodle",
                                   "keep_editing": "1", **data})  # fmt: skip
    assert response.status_code == 302 and response.headers["Location"].endswith(path)
    again = client.get(path).get_data(as_text=True)
    assert 'name="answer_6_text"' in again  # 3 filled + 3 spare = at least 6
    saved_rows = rows_now(session, item)
    assert saved_rows[0].id == first_id
    assert [c.fraction for c in quizzes.parsed(saved_rows[0]).choices] == [0.0, 1.0, 0.0]
    assert session.scalar(select(Answer.value).where(Answer.question_id == first_id)) == "c2"
    assert session.scalar(
        select(func.count()).select_from(AuditEntry)
        .where(AuditEntry.action == "authoring.quiz.question_edit")
    ) == 1  # fmt: skip


def test_more_rows_than_the_form_had_are_kept(client, session, quiz_course):
    course = quiz_course["course"]
    login(client, quiz_course["trainer"].email)
    item = add_quiz(client, session, course, quiz_course["module"])
    many = [(f"Answer {n}", "100" if n == 1 else "0", "") for n in range(1, 10)]
    add_question(client, session, course, item, "single_choice", {"text": "Q?", **rows(many)})
    (question,) = bank(session, item)
    assert len(question.choices) == 9
    row = rows_now(session, item)[0]
    page = client.get(f"{quiz_url(course, item)}/questions/{row.id}").get_data(as_text=True)
    assert 'name="answer_12_text"' in page and 'name="answer_13_text"' not in page


# --------------------------------------------------------------------------- the list


def test_the_question_list_moves_and_deletes(client, session, quiz_course):
    item = full_quiz(client, session, quiz_course)
    course, learner = quiz_course["course"], quiz_course["learner"]
    page = client.get(quiz_url(course, item))
    text = page_text(page)
    for words in ("Single choice", "Multiple choice", "True/false", "Short answer", "Numerical",
                  "Matching", "Essay", "Text to read", "What is the capital of Lithuania?"):  # fmt: skip
        assert words in text
    assert "Move up “Question 2: Colours”" in " ".join(text.split())
    ids = [row.id for row in rows_now(session, item)]
    version = item_of(session, item.id).version
    moved = post(client, f"{quiz_url(course, item)}/questions/{ids[0]}/move", {"direction": "down"},
                 page=quiz_url(course, item))  # fmt: skip
    assert moved.status_code == 302
    item = item_of(session, item.id)
    assert [row.id for row in rows_now(session, item)][:2] == [ids[1], ids[0]]
    assert [q.title for q in gift.parse(item.source)][:2] == ["Colours", "Capital"]
    assert item.version == version  # a move raises no version

    # An attempt answered the question: the confirmation says so.
    attempt, _ = quizzes.start_attempt(session, learner, session.merge(course), item)
    quizzes.save_answer(session, attempt, ids[1], ["c1"])
    session.commit()
    confirm = client.get(f"{quiz_url(course, item)}/questions/{ids[1]}/delete")
    assert confirm.status_code == 200
    assert "1 attempt answered this question" in page_text(confirm)
    stale = post(client, f"{quiz_url(course, item)}/questions/{ids[1]}/delete",
                 {"version": str(version - 1)})  # fmt: skip
    assert stale.status_code == 409 and len(rows_now(session, item)) == 8
    deleted = post(client, f"{quiz_url(course, item)}/questions/{ids[1]}/delete",
                   {"version": str(version)})  # fmt: skip
    assert deleted.status_code == 302
    item = item_of(session, item.id)
    left = rows_now(session, item)
    assert [row.id for row in left] == [ids[0], *ids[2:]]
    assert [row.position for row in left] == list(range(1, 8))
    assert [q.title for q in gift.parse(item.source)] == [q.title for q in bank(session, item)]
    assert session.scalar(select(func.count()).select_from(Answer)) == 0
    assert item.version == version + 1
    actions = list(
        session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("authoring.quiz.question_%"))
        )
    )
    assert actions.count("authoring.quiz.question_add") == 8
    assert actions.count("authoring.quiz.question_move") == 1
    assert actions.count("authoring.quiz.question_delete") == 1
    deletion = session.scalar(
        select(AuditEntry).where(AuditEntry.action == "authoring.quiz.question_delete")
    )
    assert deletion.details["answered_by"] == 1


def test_deleting_below_what_draw_asks_for_is_refused(client, session, quiz_course):
    item = full_quiz(client, session, quiz_course)
    course = quiz_course["course"]
    saved = post(client, quiz_url(course, item),
                 settings_data(draw="7", version=str(item.version)))  # fmt: skip
    assert saved.status_code == 302
    item = item_of(session, item.id)
    first = rows_now(session, item)[0].id
    response = post(client, f"{quiz_url(course, item)}/questions/{first}/delete",
                    {"version": str(item.version)})  # fmt: skip
    assert response.status_code == 422 and "lower Draw" in page_text(response)
    assert len(rows_now(session, item)) == 8


# --------------------------------------------------------------------------- GIFT


MY_GIFT = """\
// A few questions of our own.
::Capital::What is the capital of Lithuania?{=Vilnius ~Kaunas ~Riga}

::Year::In which year did Lithuania join the EU?{#2004}
"""

BROKEN_GIFT = """\
::One::Fine question{=yes ~no}

::Two::Weights that do not add up{~%30%a ~%30%b ~c}

::Three::Unclosed {=x ~y
"""


def test_gift_errors_are_listed_with_their_lines_and_change_nothing(client, session, quiz_course):
    course = quiz_course["course"]
    login(client, quiz_course["trainer"].email)
    item = add_quiz(client, session, course, quiz_course["module"])
    response = post(client, f"{quiz_url(course, item)}/gift",
                    {"version": str(item.version), "gift": BROKEN_GIFT, "mode": "append"},
                    page=quiz_url(course, item))  # fmt: skip
    assert response.status_code == 422
    text = " ".join(page_text(response).split())
    with pytest.raises(gift.GiftError) as expected:
        gift.parse(BROKEN_GIFT)
    assert len(expected.value.errors) >= 2
    for line, message in expected.value.errors:
        assert f"Line {line}: {message}" in text
    assert item_of(session, item.id).source == ""
    assert rows_now(session, item) == []


def test_gift_append_and_replace(client, session, quiz_course):
    item = full_quiz(client, session, quiz_course)
    course = quiz_course["course"]
    kept = [row.id for row in rows_now(session, item)]
    appended = post(client, f"{quiz_url(course, item)}/gift",
                    {"version": str(item.version), "gift": MY_GIFT, "mode": "append"},
                    page=quiz_url(course, item))  # fmt: skip
    assert appended.status_code == 302
    item = item_of(session, item.id)
    now = rows_now(session, item)
    assert [row.id for row in now][:8] == kept and len(now) == 10
    assert [q.title for q in bank(session, item)][-2:] == ["Capital", "Year"]
    assert item.source == gift.write(bank(session, item))

    upload = (io.BytesIO(("\ufeff" + MY_GIFT).encode()), "questions.gift")
    token = csrf_token(client, quiz_url(course, item))
    replaced = client.post(
        f"{quiz_url(course, item)}/gift",
        data={"csrf_token": token, "version": str(item.version), "mode": "replace",
              "gift_file": upload},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert replaced.status_code == 302
    item = item_of(session, item.id)
    assert [q.title for q in bank(session, item)] == ["Capital", "Year"]
    # Replaced questions keep the ids of their positions, as a re-import does.
    assert [row.id for row in rows_now(session, item)] == kept[:2]
    assert gift.parse(item.source) == gift.parse(MY_GIFT)
    assert set(session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("%gift%")))) == {
        "authoring.quiz.gift_append", "authoring.quiz.gift_replace",
    }  # fmt: skip


def test_a_gift_file_must_be_utf8(client, session, quiz_course):
    course = quiz_course["course"]
    login(client, quiz_course["trainer"].email)
    item = add_quiz(client, session, course, quiz_course["module"])
    token = csrf_token(client, quiz_url(course, item))
    response = client.post(
        f"{quiz_url(course, item)}/gift",
        data={"csrf_token": token, "version": str(item.version), "mode": "append",
              "gift_file": (io.BytesIO("::Š::Klausimas?{=taip ~ne}".encode("cp1257")), "q.gift")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 422
    assert "not UTF-8" in page_text(response)
    assert rows_now(session, item) == []


def _moodle_examples() -> list[Path]:
    folder = SHARED_TESTDATA / "gift-moodle"
    return sorted(folder.glob("*.gift")) if folder.is_dir() else []


def test_every_pasted_question_opens_in_its_form_and_saves_unchanged(client, session, quiz_course):
    """Moodle's own GIFT examples (the shared test data; our samples above
    besides): pasted, each question opens in the editor's form for its type,
    and saving that form unchanged gives the very same question."""
    course = quiz_course["course"]
    login(client, quiz_course["trainer"].email)
    texts = [MY_GIFT, ALL_GIFT] + [p.read_text(encoding="utf-8") for p in _moodle_examples()]
    assert len(texts) >= 2
    checked = 0
    for text in texts:
        item = add_quiz(client, session, course, quiz_course["module"], title="Examples")
        pasted = post(client, f"{quiz_url(course, item)}/gift",
                      {"version": str(item.version), "gift": text, "mode": "replace"},
                      page=quiz_url(course, item))  # fmt: skip
        assert pasted.status_code == 302, page_text(pasted)
        for row in rows_now(session, item_of(session, item.id)):
            spec = quizzes.parsed(row)
            path = f"{quiz_url(course, item)}/questions/{row.id}"
            form = client.get(path)
            assert form.status_code == 200
            version = item_of(session, item.id).version
            values = question_bank.form_values(spec)
            saved = post(client, path, {"version": str(version), **values}, page=path)
            assert saved.status_code == 302, (spec, page_text(saved))
            fresh(session)
            assert quizzes.parsed(session.get(type(row), row.id)) == spec
            checked += 1
    assert checked >= 10


ALL_GIFT = """\
::Capital::What is the capital of Lithuania?{=Vilnius#Right. ~Kaunas ~%-50%Riga####Vilnius.}

::Colours::Which colours?{~%50%Yellow ~%50%Green ~%-100%Blue}

::Baltic::Lithuania is a Baltic state.{T#Wrong.#Right.}

::River::Name the longest river.{=Nem*s =%50%Neman}

::Pi::Pi?{#=3.14:0.005 =%50%3..3.5 ~#Not quite.}

::Pairs::Match.{=Vilnius -> Lithuania =Oslo -> Norway = -> Latvia}

::Reflect::Why?{}

A text to read.
"""


# --------------------------------------------------------------------------- preview


def test_preview_shows_the_learners_inputs_and_the_trainers_key(client, session, quiz_course):
    item = full_quiz(client, session, quiz_course)
    course = quiz_course["course"]
    row_ids = [row.id for row in rows_now(session, item)]
    single = client.get(f"{quiz_url(course, item)}/questions/{row_ids[0]}/preview")
    assert single.status_code == 200
    body = single.get_data(as_text=True)
    # The attempt page's own inputs: radios named by question, choice ids as values.
    assert f'type="radio" name="q{row_ids[0]}" id="q{row_ids[0]}-c1" value="c1"' in body
    assert "Choose one answer to question 1" in body
    text = page_text(single)
    assert "The right answer" in text and "Vilnius" in text and "Right." in text
    assert "Vilnius has been the capital since 1990." in text
    assert f"/courses/{course.slug}/items/{item.id}" in body  # Preview quiz
    matching = client.get(f"{quiz_url(course, item)}/questions/{row_ids[5]}/preview")
    assert f'<select name="q{row_ids[5]}-s1"' in matching.get_data(as_text=True)
    numerical = page_text(client.get(f"{quiz_url(course, item)}/questions/{row_ids[4]}/preview"))
    assert "3.14 ± 0.005" in numerical and "Roughly." in numerical
    description = client.get(f"{quiz_url(course, item)}/questions/{row_ids[7]}/preview")
    assert "<b>rivers</b>" in description.get_data(as_text=True)
    # The editor links the learner's view of the whole quiz.
    editor = client.get(quiz_url(course, item)).get_data(as_text=True)
    assert "Preview quiz" in editor and f'href="/courses/{course.slug}/items/{item.id}"' in editor


# --------------------------------------------------------------------------- the course files


def test_a_quiz_made_in_the_editor_exports_and_reads_back_the_same(
    client, session, quiz_course, tmp_path
):
    item = full_quiz(client, session, quiz_course)
    course = quiz_course["course"]
    saved = post(client, quiz_url(course, item), settings_data(
        pass_mark="75", attempts="2", shuffle="y", draw="4", review="never", grading="average",
        time_limit_minutes="45", required=None, version=str(item.version),
    ))  # fmt: skip
    assert saved.status_code == 302
    fresh(session)
    folder = export_course(session, course.slug, tmp_path)
    library = read_library([folder])
    assert library.errors == []
    (spec,) = library.courses
    (quiz,) = [i for m in spec.modules for i in m.items if i.kind == "quiz"]
    item = item_of(session, item.id)
    assert quiz.slug == item.slug and quiz.title == item.title
    assert quiz.settings == item.settings
    assert quiz.questions == bank(session, item)
    assert quiz.source == item.source


# --------------------------------------------------------------------------- who may


def test_who_may_use_the_quiz_editor(client, session, quiz_course, make_user):
    course = quiz_course["course"]
    login(client, quiz_course["trainer"].email)
    item = add_quiz(client, session, course, quiz_course["module"])
    add_question(client, session, course, item, "essay", ALL_TYPES["essay"])
    question_id = rows_now(session, item)[0].id
    client.get("/logout")
    paths = [
        quiz_url(course, item),
        f"/trainer/courses/{course.slug}/modules/{quiz_course['module'].id}/quizzes/new",
        f"{quiz_url(course, item)}/questions/new/essay",
        f"{quiz_url(course, item)}/questions/{question_id}",
        f"{quiz_url(course, item)}/questions/{question_id}/preview",
        f"{quiz_url(course, item)}/questions/{question_id}/delete",
    ]
    login(client, quiz_course["learner"].email)
    for path in paths:
        assert client.get(path).status_code == 403, path
    client.get("/logout")
    login(client, quiz_course["other"].email)
    for path in paths:
        assert client.get(path).status_code in (403, 404), path
    # Another trainer's posts change nothing either.
    token = csrf_token(client, "/trainer/")
    response = client.post(f"{quiz_url(course, item)}/questions/{question_id}/delete",
                           data={"csrf_token": token, "version": str(item_of(session, item.id).version)})  # fmt: skip
    assert response.status_code in (403, 404)
    assert len(rows_now(session, item)) == 1
    # A lesson's id is no quiz: 404 for the course's own trainer too.
    client.get("/logout")
    login(client, quiz_course["trainer"].email)
    lesson = quiz_course["module"].items[0]
    assert client.get(f"/trainer/courses/{course.slug}/quizzes/{lesson.id}").status_code == 404
    # A question of another quiz is no question of this one.
    second = add_quiz(client, session, course, quiz_course["module"], title="Second")
    assert client.get(f"{quiz_url(course, second)}/questions/{question_id}").status_code == 404
    assert (
        client.get(f"{quiz_url(course, second)}/questions/{question_id}/preview").status_code == 404
    )


def test_a_gift_file_over_the_limit_is_refused(app, client, session, quiz_course):
    course = quiz_course["course"]
    login(client, quiz_course["trainer"].email)
    item = add_quiz(client, session, course, quiz_course["module"])
    app.config["UPLOAD_MAX_MB"] = 0.001  # about 1 kB
    big = ("::Q::" + "x" * 2000 + "{=a ~b}\n").encode()
    token = csrf_token(client, quiz_url(course, item))
    response = client.post(
        f"{quiz_url(course, item)}/gift",
        data={"csrf_token": token, "version": str(item.version), "mode": "append",
              "gift_file": (io.BytesIO(big), "big.gift")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 422 and "The file is too large" in page_text(response)
    assert rows_now(session, item) == []


def test_script_in_a_question_is_sanitised_where_learners_see_it(client, session, quiz_course):
    course = quiz_course["course"]
    login(client, quiz_course["trainer"].email)
    item = add_quiz(client, session, course, quiz_course["module"])
    add_question(client, session, course, item, "single_choice", {
        "text": 'Pick one<script>alert("x")</script>',
        **rows([('<img src=x onerror="alert(1)">Yes', "100", ""), ("No", "0", "")]),
    })  # fmt: skip
    (row,) = rows_now(session, item)
    body = client.get(f"{quiz_url(course, item)}/questions/{row.id}/preview").get_data(as_text=True)
    assert "Pick one" in body and "<script>alert" not in body and "onerror" not in body
