"""The words a quiz says about answers come in the learner's language: the right
answer in the review, the reasons an answer is refused (on the page, in the
autosave and in the API), and the question types on the trainer's results."""

from __future__ import annotations

import html

import pytest

from tests.conftest import csrf_token, login, post_form
from tests.quizzes.conftest import MATCHING, question_ids
from tests.quizzes.test_views import attempt_url, form_data, item_url, start, the_attempt
from vle.accounts import services as accounts
from vle.quizzes import gift
from vle.quizzes.questions import AnswerError, correct_answer, normalise

REVIEWED = """\
::River::Name the longest river of Lithuania.{
=Nemunas
=Neman
}

::Baltic::Lithuania is a Baltic state.{T}

::Pi::Give pi to three decimals.{#3.141..3.142}

::Euro::How many euro cents make 2.5 euro?{#250:0.5}
"""

WRONG = {"River": "Vilnia", "Baltic": "false", "Pi": "3", "Euro": "25"}


def _learner(make_user, enrol, course, locale):
    learner = make_user()
    learner.locale = locale
    enrol(learner, course)  # commits the locale too
    return learner


def _one(text):
    return gift.parse(text, source="test.gift")[0]


@pytest.mark.parametrize(
    ("locale", "expected", "english"),
    [
        (
            "lt",
            ["Teisingas atsakymas", "Nemunas arba Neman", "Tiesa", "nuo 3,141 iki 3,142",
             "250 ± 0,5"],
            ["Nemunas or Neman", "3.141 to 3.142", "0.5"],
        ),
        (
            "pl",
            ["Poprawna odpowiedź", "Nemunas lub Neman", "Prawda", "od 3,141 do 3,142"],
            ["Nemunas or Neman", "3.141 to 3.142"],
        ),
        (
            "nb",
            ["Riktig svar", "Nemunas eller Neman", "Sant", "fra 3,141 til 3,142"],
            ["Nemunas or Neman", "3.141 to 3.142"],
        ),
    ],
)  # fmt: skip
def test_the_review_says_the_right_answer_in_the_learners_language(
    client, session, make_quiz, make_user, enrol, locale, expected, english
):
    course, item = make_quiz(REVIEWED, review="after_submit")
    learner = _learner(make_user, enrol, course, locale)
    login(client, learner.email)
    start(client, course, item)
    attempt = the_attempt(session, learner)
    post_form(
        client,
        f"{attempt_url(course, item, attempt.id)}/answers",
        {**form_data(session, item, WRONG), "action": "save", "page": "1"},
    )
    response = post_form(client, f"{attempt_url(course, item, attempt.id)}/submit")
    page = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    for text in expected:
        assert text in page, text
    for text in english:
        assert text not in page, text
    assert "The right answer" not in page and ">True<" not in page


def test_the_right_answer_is_english_outside_a_request_and_localised_inside(app):
    river = _one("River?{=Nemunas =Neman =Nemunas river}")
    pi = _one("Pi?{#3.141..3.142}")
    assert correct_answer(river) == "Nemunas or Neman or Nemunas river"
    assert correct_answer(pi) == "3.141 to 3.142"
    with app.test_request_context(headers={"Accept-Language": "lt"}):
        assert correct_answer(river) == "Nemunas arba Neman arba Nemunas river"
        assert correct_answer(pi) == "nuo 3,141 iki 3,142"
        assert correct_answer(_one("Year?{#2004}")) == "2004"  # a year gets no separator
        assert correct_answer(_one("Sure?{F}")) == "Netiesa"


@pytest.mark.parametrize(
    ("locale", "reason", "english"),
    [
        ("lt", "Šio atsakymo išsaugoti negalima: 'o9' nėra šio klausimo atsakymo variantas.",
         "is not an option"),
        ("pl", "Nie można zapisać tej odpowiedzi: 'o9' nie jest odpowiedzią w tym pytaniu.",
         "is not an option"),
        ("nb", "Dette svaret kan ikke lagres: 'o9' er ikke et svaralternativ i dette spørsmålet.",
         "is not an option"),
    ],
)  # fmt: skip
def test_a_refused_answer_on_the_page_is_explained_in_the_learners_language(
    client, session, make_quiz, make_user, enrol, locale, reason, english
):
    course, item = make_quiz(MATCHING)
    learner = _learner(make_user, enrol, course, locale)
    login(client, learner.email)
    start(client, course, item)
    attempt = the_attempt(session, learner)
    qid = question_ids(session, item)["Pairs"]
    response = post_form(
        client,
        f"{attempt_url(course, item, attempt.id)}/answers",
        {"shown": [str(qid)], f"q{qid}-s1": "o9", "action": "save", "page": "1"},
        page=item_url(course, item),
    )
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert reason in page
    assert english not in page and "cannot be saved" not in page


def test_the_autosave_refuses_in_the_learners_language(
    client, session, make_quiz, make_user, enrol
):
    course, item = make_quiz()
    learner = _learner(make_user, enrol, course, "lt")
    login(client, learner.email)
    start(client, course, item)
    token = csrf_token(client, item_url(course, item))
    attempt = the_attempt(session, learner)
    ids = question_ids(session, item)
    url = f"{attempt_url(course, item, attempt.id)}/answers"
    cases = {
        ids["Capital"]: (["c1"], "pasirinkimas nurodomas jo identifikatoriumi"),
        ids["Colours"]: ("c1", "pasirinkimų identifikatorių sąrašu"),
        ids["Baltic"]: ("yes", "atsakoma „true“ arba „false“"),
        ids["Year"]: ({"n": 1}, "atsakoma skaičiumi"),
        ids["River"]: (["x"], "atsakymas turi būti tekstas"),
    }
    for question_id, (answer, words) in cases.items():
        response = client.put(
            f"{url}/{question_id}", json={"answer": answer}, headers={"X-CSRFToken": token}
        )
        assert response.status_code == 422
        message = response.get_json()["error"]["message"]
        assert message.startswith("Šio atsakymo išsaugoti negalima: ") and words in message, message


@pytest.mark.parametrize(
    ("locale", "message", "true"),
    [
        ("lt", "Šio atsakymo išsaugoti negalima: 'c9' nėra šio klausimo pasirinkimas.", "Tiesa"),
        ("pl", "Nie można zapisać tej odpowiedzi: 'c9' nie jest odpowiedzią do wyboru w tym "
               "pytaniu.", "Prawda"),
        ("nb", "Dette svaret kan ikke lagres: 'c9' er ikke et svaralternativ i dette spørsmålet.",
         "Sant"),
    ],
)  # fmt: skip
def test_the_api_refuses_and_names_true_and_false_in_the_asked_language(
    client, session, make_quiz, make_user, enrol, locale, message, true
):
    course, item = make_quiz()
    learner = _learner(make_user, enrol, course, locale)
    headers = {
        "Authorization": f"Bearer {accounts.create_token(session, learner)}",
        "Accept-Language": locale,
    }
    session.commit()
    attempt = client.post(f"/api/v1/quizzes/{item.id}/attempts", headers=headers).get_json()
    baltic = next(q for q in attempt["questions"] if q["type"] == "true_false")
    assert [c["text"] for c in baltic["choices"]][0] == true
    capital = question_ids(session, item)["Capital"]
    response = client.put(
        f"/api/v1/attempts/{attempt['id']}/answers/{capital}",
        json={"answer": "c9"},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.get_json()["error"] == {"code": "invalid", "message": message}


def test_a_learners_long_value_is_quoted_short(app):
    with pytest.raises(AnswerError) as refused:
        normalise(_one("Capital?{=Vilnius ~Kaunas}"), "c" * 5000)
    assert len(str(refused.value)) < 100 and str(refused.value).endswith(
        "… is not a choice of this question"
    )


def test_the_trainer_results_name_question_types_in_the_trainers_language(
    client, make_quiz, make_user
):
    trainer = make_user("trainer")
    trainer.locale = "lt"
    course, item = make_quiz(trainers=[trainer])  # commits the locale too
    login(client, trainer.email)
    page = client.get(f"/trainer/quizzes/{item.id}/results").get_data(as_text=True)
    for label in ("Vienas pasirinkimas", "Keli pasirinkimai", "Tiesa / netiesa", "Skaitinis",
                  "Trumpas atsakymas"):  # fmt: skip
        assert f"<td>{label}</td>" in page, label
    assert "single choice" not in page and "short answer" not in page


def test_a_lithuanian_learners_api_errors_are_lithuanian_without_accept_language(
    client, session, make_quiz, make_user, enrol
):
    """The token owner's own language, as a signed-in learner's pages have it."""
    course, item = make_quiz()
    learner = _learner(make_user, enrol, course, "lt")
    headers = {"Authorization": f"Bearer {accounts.create_token(session, learner)}"}
    session.commit()
    attempt = client.post(f"/api/v1/quizzes/{item.id}/attempts", headers=headers).get_json()
    url = f"/api/v1/attempts/{attempt['id']}"
    response = client.put(f"{url}/answers/999999", json={"answer": "c1"}, headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"] == {
        "code": "invalid",
        "message": "Klausimo 999999 šiame bandyme nėra.",
    }
    assert client.post(f"{url}/submit", headers=headers).status_code == 200
    capital = question_ids(session, item)["Capital"]
    response = client.put(f"{url}/answers/{capital}", json={"answer": "c1"}, headers=headers)
    assert response.status_code == 409
    assert response.get_json()["error"] == {
        "code": "conflict",
        "message": "Šis bandymas jau pateiktas; jo atsakymų keisti nebegalima.",
    }
    response = client.get("/api/v1/attempts/999999", headers=headers)
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "Tokio bandymo nėra."
