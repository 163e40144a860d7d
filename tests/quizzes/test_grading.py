"""Question types: what learners see, which answers are accepted, how they are graded.

Pure functions on parsed questions; no Flask app needed.
"""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from vle.quizzes import gift, questions
from vle.quizzes.gift import Choice, MatchPair, NumericAnswer, Question
from vle.quizzes.questions import (
    MAX_ANSWER_LENGTH,
    QUESTION_TYPES,
    AnswerError,
    QuestionType,
    correct_answer,
    feedback,
    grade,
    normalise,
    public,
    shuffle_ids,
)


def one(text: str) -> Question:
    (question,) = gift.parse(text)
    return question


CAPITAL = one(
    "Capital of Lithuania?{=Vilnius#Yes. ~Kaunas#The capital until 1939. ~%-50%Riga#No, Latvia."
    "####Vilnius is the capital.}"
)
ENTOMBED = one(
    "What two people are entombed in Grant's tomb? {\n~%-50%No one#Someone is.\n"
    "~%50%Grant#Yes.\n~%50%Grant's wife#Yes, Julia.\n~%-50%Grant's father#No.\n}"
)
ANIMAL = one("Which is the best animal?{=Frog#Good! =%50%Cat#Cats... =%0%*#Completely wrong}")
PI = one("Pi to 3 decimals?{#=3.1415:0.0005#Right =%50%3..3.2#Close ~#Not even close}")
CAPITALS = one(
    "Match the countries with their capitals.{=Canada -> Ottawa =Italy -> Rome "
    "=Japan -> Tokyo = -> Berlin}"
)
TRUE_FALSE = one(
    "42 is the Absolute Answer.{FALSE#42 is the Ultimate Answer.#You gave the right answer.}"
)
ESSAY = one("Describe a conflict of interest.{}")
DESCRIPTION = one("Read the case before answering.")


# ------------------------------------------------------------------- registry


def test_every_gift_type_has_a_registered_class():
    assert set(QUESTION_TYPES) == set(gift.TYPES)
    for name, cls in QUESTION_TYPES.items():
        assert issubclass(cls, QuestionType) and cls.name == name


def test_unknown_type_is_refused():
    with pytest.raises(ValueError, match="unknown question type"):
        questions.question_type(Question("puzzle", "?"))


def test_functions_take_a_stored_spec_too():
    spec = json.loads(json.dumps(CAPITAL.to_dict()))
    assert public(spec) == public(CAPITAL)
    assert grade(spec, "c1") == 1.0


def test_descriptions_are_not_gradable():
    assert not questions.is_gradable(DESCRIPTION)
    assert all(questions.is_gradable(q) for q in (CAPITAL, ANIMAL, PI, CAPITALS, ESSAY))
    assert grade(DESCRIPTION, None) is None
    with pytest.raises(AnswerError):
        normalise(DESCRIPTION, "anything")


# ----------------------------------------------------------------- public view


def test_public_single_choice_shape():
    assert public(CAPITAL) == {
        "type": "single_choice",
        "text": "Capital of Lithuania?",
        "choices": [
            {"id": "c1", "text": "Vilnius"},
            {"id": "c2", "text": "Kaunas"},
            {"id": "c3", "text": "Riga"},
        ],
    }


def test_public_true_false_and_text_types():
    assert public(TRUE_FALSE)["choices"] == [
        {"id": "true", "text": "True"},
        {"id": "false", "text": "False"},
    ]
    for question in (ANIMAL, PI, ESSAY, DESCRIPTION):
        assert set(public(question)) == {"type", "text"}


def test_public_matching_has_distinct_options_that_do_not_follow_the_stems():
    view = public(CAPITALS)
    assert view["stems"] == [
        {"id": "s1", "text": "Canada"},
        {"id": "s2", "text": "Italy"},
        {"id": "s3", "text": "Japan"},
    ]
    assert view["options"] == [
        {"id": "o1", "text": "Berlin"},
        {"id": "o2", "text": "Ottawa"},
        {"id": "o3", "text": "Rome"},
        {"id": "o4", "text": "Tokyo"},
    ]
    # s1 -> o1, s2 -> o2, ... would give the answers away.
    assert grade(CAPITALS, {"s1": "o1", "s2": "o2", "s3": "o3"}) == 0.0
    same_answer = one("Q{=a -> x =b -> x =c -> y}")
    assert [o["text"] for o in public(same_answer)["options"]] == ["x", "y"]


@pytest.mark.parametrize("question", [CAPITAL, ENTOMBED, ANIMAL, PI, CAPITALS, TRUE_FALSE])
def test_public_reveals_no_fraction_or_feedback(question):
    view = json.dumps(public(question))
    for word in ("fraction", "feedback", "correct", "Yes.", "Good!", "Right", "Ultimate"):
        assert word not in view


def test_choice_order_presents_a_shuffle_and_survives_edits():
    view = public(CAPITAL, ["c3", "c1", "c2"])
    assert [c["id"] for c in view["choices"]] == ["c3", "c1", "c2"]
    # Ids the question lost are dropped, ids it gained come last.
    view = public(CAPITAL, ["c9", "c2"])
    assert [c["id"] for c in view["choices"]] == ["c2", "c1", "c3"]
    view = public(CAPITALS, ["o4", "o3", "o2", "o1"])
    assert [o["text"] for o in view["options"]] == ["Tokyo", "Rome", "Ottawa", "Berlin"]
    assert [s["id"] for s in view["stems"]] == ["s1", "s2", "s3"]


def test_shuffle_ids():
    ids = shuffle_ids(ENTOMBED, random.Random(3))
    assert sorted(ids) == ["c1", "c2", "c3", "c4"]
    assert shuffle_ids(ENTOMBED, random.Random(3)) == ids  # reproducible from a seed
    assert sorted(shuffle_ids(CAPITALS, random.Random(1))) == ["o1", "o2", "o3", "o4"]
    assert shuffle_ids(ANIMAL, random.Random(1)) == []


# ------------------------------------------------------------------- normalise


@pytest.mark.parametrize(
    ("question", "raw", "words"),
    [
        (CAPITAL, "c9", "not a choice"),
        (CAPITAL, ["c1"], "by its id"),
        (CAPITAL, 1, "by its id"),
        (ENTOMBED, "c1", "list of choice ids"),
        (ENTOMBED, ["c1", "x"], "not a choice"),
        (ENTOMBED, {"c1": True}, "list of choice ids"),
        (TRUE_FALSE, "yes", '"true" or "false"'),
        (ANIMAL, ["frog"], "must be text"),
        (ESSAY, {"text": "x"}, "must be text"),
        (PI, [3.14], "a number or a numeric string"),
        (PI, True, "a number or a numeric string"),
        (CAPITALS, ["s1", "o1"], "{stem id: option id}"),
        (CAPITALS, {"s9": "o1"}, "not a stem"),
        (CAPITALS, {"s1": "o9"}, "not an option"),
        (CAPITALS, {"s1": ["o1"]}, "not an option"),
    ],
)
def test_wrong_answer_shapes_are_refused(question, raw, words):
    with pytest.raises(AnswerError) as caught:
        normalise(question, raw)
    assert words in caught.value.message


def test_normalised_values():
    assert normalise(CAPITAL, "c2") == "c2"
    assert normalise(ENTOMBED, ["c3", "c2", "c3"]) == ["c2", "c3"]
    assert normalise(ENTOMBED, []) == []
    assert normalise(TRUE_FALSE, "false") == "false"
    assert normalise(TRUE_FALSE, True) == "true"
    assert normalise(ANIMAL, "  Frog ") == "  Frog "
    assert normalise(CAPITALS, {"s2": "o3", "s1": None}) == {"s2": "o3"}
    for question in (CAPITAL, ENTOMBED, TRUE_FALSE, ANIMAL, PI, CAPITALS, ESSAY):
        assert normalise(question, None) is None  # clearing an answer


def test_a_malformed_number_is_stored_and_grades_as_wrong():
    assert normalise(PI, "three-ish") == "three-ish"
    assert grade(PI, "three-ish") == 0.0
    assert normalise(PI, 3.1415) == 3.1415
    assert normalise(PI, "3,1415") == "3,1415"


def test_answers_longer_than_the_limit_are_refused():
    assert normalise(ESSAY, "x" * MAX_ANSWER_LENGTH) == "x" * MAX_ANSWER_LENGTH
    for question in (ESSAY, ANIMAL):
        with pytest.raises(AnswerError, match="too long: at most 10,000 characters"):
            normalise(question, "x" * (MAX_ANSWER_LENGTH + 1))


# ----------------------------------------------------------------------- grade


def test_single_choice():
    assert grade(CAPITAL, "c1") == 1.0
    assert grade(CAPITAL, "c2") == 0.0
    assert grade(CAPITAL, "c3") == 0.0  # a negative weight does not go below 0
    assert grade(CAPITAL, None) == 0.0
    assert grade(CAPITAL, "c7") == 0.0  # answer stored before the question was edited
    partial = one("Jesus Christ was from {~Jerusalem ~%25%Bethlehem ~%50%Galilee =Nazareth}.")
    assert [grade(partial, f"c{i}") for i in range(1, 5)] == [0.0, 0.25, 0.5, 1.0]


def test_multiple_choice_adds_weights_and_wrong_ones_subtract():
    assert grade(ENTOMBED, ["c2", "c3"]) == 1.0
    assert grade(ENTOMBED, ["c2"]) == 0.5
    assert grade(ENTOMBED, ["c1", "c2", "c3"]) == 0.5
    assert grade(ENTOMBED, ["c1", "c2", "c3", "c4"]) == 0.0
    assert grade(ENTOMBED, ["c1"]) == 0.0  # never below 0
    assert grade(ENTOMBED, []) == 0.0


def test_true_false():
    assert grade(TRUE_FALSE, "false") == 1.0
    assert grade(TRUE_FALSE, "true") == 0.0
    assert grade(TRUE_FALSE, None) == 0.0


def test_short_answer_ignores_case_and_spacing_and_takes_the_best_match():
    assert grade(ANIMAL, "Frog") == 1.0
    assert grade(ANIMAL, "  fROG ") == 1.0
    assert grade(ANIMAL, "cat") == 0.5
    assert grade(ANIMAL, "dog") == 0.0  # the * answer matches, worth 0%
    assert grade(ANIMAL, "") == 0.0
    spaced = one("Who wrote it?{=Adam  Mickiewicz}")
    assert grade(spaced, "adam\tmickiewicz") == 1.0
    assert grade(spaced, "adam mickiewicz!") == 0.0
    first_star = one("Name a bird.{=%0%*#No. =Robin}")
    assert grade(first_star, "robin") == 1.0


@pytest.mark.parametrize(
    ("pattern", "response", "matches"),
    [
        ("Nazar*", "Nazareth", True),
        ("Nazar*", "nazar", True),
        ("*reth", "Nazareth", True),
        ("N*th", "Nazareth", True),
        ("N*th", "Nazarethe", False),
        ("a*b*c", "a--b--c", True),
        ("a*b*c", "acb", False),
        ("*", "anything at all", True),
        ("3\\*4", "3*4", True),
        ("3\\*4", "314", False),
        ("a.b", "axb", False),  # only * is special
        ("(x)", "(x)", True),
    ],
)
def test_short_answer_wildcards(pattern, response, matches):
    question = Question("short_answer", "?", choices=[Choice(pattern, 1.0)])
    assert grade(question, response) == (1.0 if matches else 0.0)


def test_numerical():
    assert grade(PI, "3.1415") == 1.0
    assert grade(PI, 3.142) == 1.0  # the edge of the tolerance is in
    assert grade(PI, " 3,141 ") == 1.0  # decimal comma and spaces
    assert grade(PI, "3.1") == 0.5
    assert grade(PI, "3.2") == 0.5  # ranges include their ends
    assert grade(PI, "3.21") == 0.0
    assert grade(PI, "\u22123.14") == 0.0  # a Unicode minus is a minus
    assert grade(one("Freezing point of water in °F minus 100?{#-68}"), "\u221268") == 1.0
    for malformed in ("", "pi", "3.14.15", "1,234.5", "nan", "inf", "1_000", "0x10"):
        assert grade(PI, malformed) == 0.0, malformed


def test_matching():
    right = {"s1": "o2", "s2": "o3", "s3": "o4"}
    assert grade(CAPITALS, right) == 1.0
    assert grade(CAPITALS, {"s1": "o2", "s2": "o1"}) == pytest.approx(1 / 3)
    assert grade(CAPITALS, {}) == 0.0
    assert grade(CAPITALS, {"s1": "o2", "s2": "o3", "s3": "o1"}) == pytest.approx(2 / 3)


def test_essay_waits_for_a_trainer_unless_empty():
    assert grade(ESSAY, "Once, a supplier offered me...") is None
    assert grade(ESSAY, "   ") == 0.0
    assert grade(ESSAY, None) == 0.0


# -------------------------------------------------------------- feedback, review


def test_feedback():
    assert feedback(CAPITAL, "c2") == ["The capital until 1939."]
    assert feedback(CAPITAL, None) == []
    assert feedback(ENTOMBED, ["c3", "c1"]) == ["Someone is.", "Yes, Julia."]
    # True/false feedback is chosen by what the learner answered.
    assert feedback(TRUE_FALSE, "true") == ["42 is the Ultimate Answer."]
    assert feedback(TRUE_FALSE, "false") == ["You gave the right answer."]
    assert feedback(ANIMAL, "cat") == ["Cats..."]
    assert feedback(ANIMAL, "dog") == ["Completely wrong"]
    assert feedback(PI, "3.1416") == ["Right"]
    assert feedback(PI, "3.05") == ["Close"]
    assert feedback(PI, "7") == ["Not even close"]
    assert feedback(PI, "seven") == ["Not even close"]
    assert feedback(CAPITALS, {"s1": "o2"}) == []
    assert feedback(ESSAY, "text") == []


def test_correct_answer():
    assert correct_answer(CAPITAL) == "Vilnius"
    assert correct_answer(ENTOMBED) == "Grant, Grant's wife"
    assert correct_answer(TRUE_FALSE) == "False"
    assert correct_answer(ANIMAL) == "Frog"
    assert correct_answer(PI) == "3.1415 ± 0.0005"
    assert correct_answer(one("Pi?{#3.141..3.142}")) == "3.141 to 3.142"
    assert correct_answer(CAPITALS) == "Canada → Ottawa; Italy → Rome; Japan → Tokyo"
    assert correct_answer(ESSAY) == ""


# -------------------------------------------------------------------- properties

weights = st.sampled_from([1.0, 0.5, 0.25, 0.0, -0.25, -0.5, -1.0, 0.3333333])


@st.composite
def choice_questions(draw) -> Question:
    kind = draw(st.sampled_from(["single_choice", "multiple_choice"]))
    count = draw(st.integers(2, 6))
    choices = [Choice(f"answer {i}", draw(weights)) for i in range(count)]
    return Question(kind, "?", choices=choices)


@settings(max_examples=300, deadline=None)
@given(choice_questions(), st.data())
def test_choice_grades_stay_between_0_and_1(question, data):
    ids = [f"c{i}" for i in range(1, len(question.choices) + 1)]
    if question.type == "single_choice":
        answer = data.draw(st.sampled_from([None, *ids]))
    else:
        answer = data.draw(st.lists(st.sampled_from(ids), unique=True))
    score = grade(question, normalise(question, answer))
    assert 0.0 <= score <= 1.0
    if question.type == "multiple_choice":
        chosen = sum(question.choices[ids.index(i)].fraction for i in answer)
        assert score == pytest.approx(min(1.0, max(0.0, chosen)))


@settings(max_examples=300, deadline=None)
@given(choice_questions(), st.integers(0, 2**32), st.data())
def test_grading_does_not_depend_on_the_display_order(question, seed, data):
    shuffled = public(question, shuffle_ids(question, random.Random(seed)))
    plain = public(question)
    # The same choices with the same ids, only in another order.
    assert sorted(shuffled["choices"], key=lambda c: c["id"]) == plain["choices"]
    # A learner ticks choices on the shuffled page; the answer arrives in that order.
    picked = data.draw(st.lists(st.sampled_from(shuffled["choices"]), unique_by=lambda c: c["id"]))
    ids = [c["id"] for c in picked]
    if question.type == "single_choice":
        assume(ids)
        assert grade(question, normalise(question, ids[0])) == grade(question, ids[0])
    else:
        in_file_order = sorted(ids, key=lambda i: int(i[1:]))
        assert normalise(question, ids) == in_file_order
        assert grade(question, normalise(question, ids)) == grade(question, in_file_order)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text("abcxyz", min_size=1, max_size=3), min_size=2, max_size=5, unique=True),
    st.data(),
)
def test_matching_grade_is_the_share_of_stems_matched(options, data):
    stems = [f"stem {i}" for i in range(len(options))]
    pairs = [MatchPair(stem, data.draw(st.sampled_from(options))) for stem in stems]
    question = Question("matching", "Match.", pairs=pairs)
    view = public(question, shuffle_ids(question, random.Random(data.draw(st.integers()))))
    option_id = {o["text"]: o["id"] for o in view["options"]}
    answer = {}
    right = 0
    for stem, pair in zip(view["stems"], pairs, strict=True):
        choice = data.draw(st.sampled_from([None, *option_id]))
        if choice is not None:
            answer[stem["id"]] = option_id[choice]
            right += choice == pair.option
    assert grade(question, normalise(question, answer)) == pytest.approx(right / len(stems))


@settings(max_examples=500, deadline=None)
@given(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(0, 1e3, allow_nan=False),
    st.floats(-1, 1),
)
def test_numerical_tolerance_edges(value, tolerance, share):
    question = Question("numerical", "?", numeric=[NumericAnswer(value, tolerance)])
    assert grade(question, value + share * tolerance) == 1.0
    assert grade(question, value + tolerance) == 1.0
    assert grade(question, value - tolerance) == 1.0
    outside = tolerance + 1e-6 * max(1.0, abs(value), tolerance)
    assert grade(question, value + outside) == 0.0
    assert grade(question, value - outside) == 0.0
    assert grade(question, repr(value + share * tolerance)) == 1.0


@settings(max_examples=300, deadline=None)
@given(st.floats(-1e4, 1e4, allow_nan=False), st.floats(0, 1e3, allow_nan=False))
def test_numerical_ranges_include_both_ends(low, width):
    high = low + width
    question = Question("numerical", "?", numeric=[NumericAnswer.from_range(low, high)])
    assert grade(question, low) == 1.0 and grade(question, high) == 1.0
    assert grade(question, low - 1e-3 - abs(low) * 1e-9) == 0.0


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-100, 100, allow_nan=False), st.floats(0, 10), weights),
        min_size=1,
        max_size=4,
    ),
    st.one_of(st.floats(allow_nan=True), st.text(max_size=8)),
)
def test_numerical_grades_stay_between_0_and_1(answers, response):
    question = Question("numerical", "?", numeric=[NumericAnswer(v, t, f) for v, t, f in answers])
    assert 0.0 <= grade(question, response) <= 1.0


words = st.text("abcdeXYZąž", min_size=0, max_size=6)


@settings(max_examples=300, deadline=None)
@given(words, st.text("abcdeXYZ ąž*", max_size=6), words)
def test_short_answer_wildcard_takes_any_run_of_characters(prefix, middle, suffix):
    question = Question("short_answer", "?", choices=[Choice(f"{prefix}*{suffix}", 1.0)])
    response = f"{prefix}{middle}{suffix}"
    assume(response.strip())
    assert grade(question, response) == 1.0
    assert grade(question, response.upper()) == 1.0
    assert grade(question, f"  {response}  ") == 1.0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.text("ab *", min_size=1, max_size=4), weights), min_size=1, max_size=4),
    st.text("ab ", max_size=6),
)
def test_short_answer_grades_stay_between_0_and_1(answers, response):
    question = Question("short_answer", "?", choices=[Choice(t, f) for t, f in answers])
    assert 0.0 <= grade(question, response) <= 1.0
