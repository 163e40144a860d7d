"""The GIFT reader and writer, checked against Moodle's own examples and rules.

Moodle's examples are read from the shared test-data folder (set VLE_GIFT_EXAMPLES
to point elsewhere); those tests skip when it is not there. No Flask app needed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vle.quizzes import gift
from vle.quizzes.gift import Choice, GiftError, MatchPair, NumericAnswer, Question

EXAMPLES = Path(
    os.environ.get(
        "VLE_GIFT_EXAMPLES",
        Path(__file__).resolve().parents[3] / "shared" / "testdata" / "gift-moodle",
    )
)


def example_text(name: str) -> str:
    path = EXAMPLES / name
    if not path.is_file():
        pytest.skip(f"Moodle's GIFT examples are not at {EXAMPLES} (set VLE_GIFT_EXAMPLES)")
    return path.read_text(encoding="utf-8")


def example(name: str) -> list[Question]:
    return gift.parse(example_text(name), source=name)


def only(questions: list[Question]) -> Question:
    assert len(questions) == 1, questions
    return questions[0]


def errors_of(text: str) -> list[tuple[int, str]]:
    with pytest.raises(GiftError) as caught:
        gift.parse(text, source="quiz.gift")
    return caught.value.errors


def fractions(question: Question) -> list[float]:
    return [choice.fraction for choice in question.choices]


# --------------------------------------------------------------- Moodle's examples


def test_moodle_examples_file_reads_every_question_with_its_type_and_line():
    questions = example("01-moodle-examples.gift")
    assert len(questions) == 43
    first = questions[0]
    assert (first.type, first.line, first.text) == (
        "single_choice",
        8,
        "Who's buried in Grant's tomb?",
    )
    assert [c.text for c in first.choices] == ["Grant", "Jefferson", "no one"]
    assert fractions(first) == [0.0, 0.0, 1.0]
    by_line = {q.line: q for q in questions}
    assert by_line[12].type == "true_false" and by_line[12].correct is False
    assert by_line[14].type == "short_answer"
    assert [c.text for c in by_line[14].choices] == ["no one", "nobody"]
    assert by_line[45].text == "Two plus two equals _____."
    assert by_line[51].correct is True
    # A one-answer {=China} is a short answer, not a choice (no ~ anywhere).
    assert by_line[90].type == "short_answer" and by_line[90].title == "Kanji Origins"
    assert by_line[90].text == "Japanese characters originally\ncame from what country?"
    # "~wrong ~%50%half =full" is single choice with partial credit.
    assert by_line[115].type == "single_choice"
    assert fractions(by_line[115]) == [0.0, 0.5, 1.0]
    # Weights without any "=" make a multiple-answer question.
    assert by_line[130].type == "multiple_choice"
    assert fractions(by_line[130]) == [0.0, 0.5, 0.5, 0.0]
    assert fractions(by_line[136]) == [-0.5, 0.5, 0.5, -0.5]
    # Feedback padded with spaces before '#' loses them.
    assert [c.feedback for c in by_line[190].choices] == [
        "comment on wrong answer",
        "comment on answer",
        "well done!",
    ]
    # The last question follows a comment line; feedback continues on the next line.
    numerical = by_line[202]
    assert numerical.title == "Numerical example"
    assert [(n.value, n.tolerance, n.fraction) for n in numerical.numeric] == [
        (1822.0, 0.0, 1.0),
        (1822.0, 2.0, 0.5),
    ]
    assert numerical.numeric[0].feedback == "Correct! 100% credit"
    assert numerical.numeric[1].feedback == (
        "He was born in 1822.\nYou get 50% credit for being close."
    )


def test_essay():
    question = only(example("02-essay.gift"))
    assert (question.type, question.title, question.text) == ("essay", "Q8", "How are you?")
    assert question.text_format == "moodle" and question.general_feedback == ""


def test_matching_with_formats_and_an_extra_option():
    question = only(example("03-matching-formats.gift"))
    assert question.type == "matching"
    assert question.title == "Moodle activities"
    assert question.text == "Match the <b>activity</b> to the description."
    assert question.text_format == "html"
    assert [(p.stem[:13], p.option) for p in question.pairs] == [
        ("An activity s", "Forum"),
        ("A teacher ask", "Choice"),
        ("A bank of rec", "Database"),
        ("A collection ", "Wiki"),
        ("", "Chat"),
    ]
    # A stem's own format is kept when it differs from the question's (html).
    assert [p.stem_format for p in question.pairs] == [None, "moodle", "plain", "markdown", None]


def test_single_choice_with_feedback_and_answer_formats():
    question = only(example("04-single-feedback.gift"))
    assert question.type == "single_choice" and question.title == "Q2"
    assert question.text == "What's between orange and green in the spectrum?"
    assert question.choices == [
        Choice("yellow", 1.0, "right; good!"),
        Choice("red", 0.0, "wrong, it's yellow", feedback_format="html"),
        Choice("blue", 0.0, "wrong, it's yellow", text_format="plain"),
    ]


def test_multiple_answers_with_negative_weights():
    question = only(example("05-multiple-partial.gift"))
    assert question.type == "multiple_choice"
    assert [(c.text, c.fraction) for c in question.choices] == [
        ("yellow", 0.5),
        ("red", -1.0),
        ("off-beige", 0.5),
        ("blue", -1.0),
    ]
    assert question.choices[1].feedback == "wrong" and question.choices[1].feedback_format == "html"
    assert question.choices[3].text_format == "plain"


def test_multiple_answers_with_a_single_right_one_stays_multiple():
    # No "=" at all: Moodle makes it multiple response even with one 100% answer.
    question = only(example("06-multiple-tricky.gift"))
    assert question.type == "multiple_choice"
    assert fractions(question) == [1.0, -0.5, -0.5]


def test_numerical_tolerance_and_wrong_answer_feedback():
    question = only(example("07-numerical-tolerance.gift"))
    assert question.type == "numerical"
    assert question.text == "What is a number from 1 to 5?"
    assert question.numeric == [
        NumericAnswer(3.0, 2.0, 1.0),
        # ~#... is Moodle's "*" answer: any other number, with that feedback.
        NumericAnswer(None, 0.0, 0.0, "Completely wrong"),
    ]


def test_short_answer_weights_and_wildcard():
    question = only(example("08-shortanswer-wildcard.gift"))
    assert question.type == "short_answer"
    assert question.choices == [
        Choice("Frog", 1.0, "Good!"),
        Choice("Cat", 0.5, "What is it with Moodlers and cats?"),
        Choice("*", 0.0, "Completely wrong"),
    ]


def test_general_feedback_with_its_own_format():
    question = only(example("09-shortanswer-general-feedback.gift"))
    assert question.general_feedback == "Here is some general feedback!"
    assert question.general_feedback_format == "html"
    assert len(question.choices) == 3


def test_true_false_feedback_follows_the_learners_answer():
    # {FALSE#wrong#right}: the first text is for a wrong answer ("true" here),
    # the second for a right one ("false").
    question = only(example("10-truefalse-feedback.gift"))
    assert question.type == "true_false" and question.correct is False
    assert question.feedback_true == "42 is the Ultimate Answer."
    assert question.feedback_false == "You gave the right answer."


def test_true_false_forms():
    questions = example("11-truefalse-forms.gift")
    assert [(q.type, q.correct) for q in questions] == [
        ("true_false", True),
        ("true_false", True),
        ("true_false", False),
        ("true_false", False),
    ]
    assert questions[0].title == "2-08 TSL" and questions[0].text == "TSL is blablabla."
    assert questions[3].feedback_true == "No one is buried in Grant's tomb."
    assert questions[3].feedback_false == ""


def test_double_backslashes():
    question = only(example("12-backslash-essay.gift"))
    assert question.text == "A \\ B \\\\ C"


def test_html_with_escaped_braces_keeps_its_indentation():
    question = only(example("13-pre-html-essay.gift"))
    assert question.type == "essay" and question.text_format == "html"
    assert question.text == (
        "<p>What would running the test method print?</p>\n<pre>\n"
        "    public void test() {\n        method1();\n        method2();\n"
        "        method3();\n    }\n</pre>"
    )


def test_tags_and_idnumber_from_comments():
    question = only(example("14-tags-idnumber.gift"))
    assert question.tags == ["tag", "other-tag"]
    assert question.idnumber == "myid"
    assert question.line == 3


def test_category_applies_to_the_questions_below_it():
    questions = example("15-category.gift")
    assert [q.type for q in questions] == [
        "matching",
        "single_choice",
        "short_answer",
        "true_false",
    ]
    assert {q.category for q in questions} == {"$course$/Default for New Features"}
    greeting = questions[1]
    assert greeting.text.startswith(
        '<a href="http://demo.moodle.net/file.php/5/media/bonjour.mp3">'
    )
    assert "Listen to this greeting:</a>" in greeting.text
    assert greeting.choices[1] == Choice("French", 1.0, "Yes, well done!")
    assert questions[2].choices == [Choice("Moodler", 1.0)]
    assert questions[3].correct is True


def test_missing_word_questions():
    first, second = example("16-missing-word.gift")
    assert first.text == "Grant is _____ in Grant's tomb."
    assert second.text == (
        "The American holiday of Thanksgiving is celebrated on the _____ Thursday of November."
    )
    assert [c.text for c in second.choices] == ["second", "third", "fourth"]


def test_numerical_range():
    question = only(example("17-numerical-range.gift"))
    (answer,) = question.numeric
    assert (answer.min, answer.max) == (3.141, 3.142)
    assert answer.value == pytest.approx(3.1415)
    assert answer.tolerance == pytest.approx(0.0005)
    # The answer block is followed by "." so it is a missing-word question.
    assert question.text == "What is the value of pi (to 3 decimal places)? _____."


def test_numerical_partial_credit():
    question = only(example("18-numerical-partial.gift"))
    assert [(n.value, n.tolerance, n.fraction) for n in question.numeric] == [
        (1822.0, 0.0, 1.0),
        (1822.0, 2.0, 0.5),
    ]


def test_single_choice_partial_credit():
    question = only(example("19-single-partial.gift"))
    assert question.type == "single_choice"
    assert fractions(question) == [0.0, 0.25, 0.5, 1.0]
    assert question.choices[1].feedback == "He was born here, but not raised here."


def test_gift_control_characters_example_reads_as_moodle_does():
    # The file is about GIFT's special characters (~ = # { }), written escaped:
    # Moodle imports it as a normal single-choice question.
    question = only(example("20-control-characters.gift"))
    assert question.type == "single_choice"
    assert [c.text for c in question.choices] == ["~", "=", "#", "{", "}", "\\"]
    assert fractions(question) == [0, 0, 0, 0, 0, 1]
    assert question.choices[0].feedback == "~ is a control character."
    assert question.choices[5].feedback.startswith("Correct! \\ (backslash) is not")
    assert question.choices[5].feedback.endswith("\n(as shown in this example).")


def test_a_real_control_character_in_a_moodle_example_is_refused_with_its_line():
    lines = example_text("20-control-characters.gift").split("\n")
    assert lines[5].strip().startswith("~ \\{")
    lines[5] = lines[5].replace("\\{", "\\{\x00")
    lines[3] = lines[3] + "\x07"
    errors = errors_of("\n".join(lines))
    assert [line for line, _ in errors] == [4, 6]
    assert "U+0007" in errors[0][1] and "NUL" in errors[1][1]


def test_escaped_equals_in_answers():
    question = only(example("21-escaped-equals.gift"))
    assert [c.text for c in question.choices] == ["= 2 + 2", "= 2 + 3", "= 2 + 4"]
    assert fractions(question) == [0.0, 1.0, 0.0]


def test_matching_on_one_line():
    question = only(example("22-matching-inline.gift"))
    assert question.pairs == [
        MatchPair("Canada", "Ottawa"),
        MatchPair("Italy", "Rome"),
        MatchPair("Japan", "Tokyo"),
    ]


def test_markdown_short_answer():
    question = only(example("23-markdown-shortanswer.gift"))
    assert question.text_format == "markdown"
    assert question.text == "Who's buried in **Grant's tomb**?"
    assert [c.feedback for c in question.choices] == ["excellent answer!"] * 2


def test_multiple_answers_with_penalties():
    question = only(example("24-multiple-negative.gift"))
    assert question.type == "multiple_choice"
    assert fractions(question) == [-0.5, 0.5, 0.5, -0.5]


def test_moodle_fixture():
    questions = example("25-moodle-fixture.gift")
    assert [q.type for q in questions] == [
        "essay",
        "matching",
        "single_choice",
        "multiple_choice",
        "numerical",
        "short_answer",
        "true_false",
        "true_false",
        "true_false",
    ]
    tf = questions[6]
    assert tf.general_feedback == (
        "This is, of course, a Hitchiker's Guide to the Galaxy reference."
    )
    assert tf.feedback_true == "42 is the Ultimate Answer."


def test_every_example_that_parses_survives_write_and_parse():
    if not EXAMPLES.is_dir():
        pytest.skip(f"Moodle's GIFT examples are not at {EXAMPLES} (set VLE_GIFT_EXAMPLES)")
    files = sorted(EXAMPLES.glob("*.gift"))
    assert files
    for path in files:
        questions = gift.parse(path.read_text(encoding="utf-8"), source=path.name)
        written = gift.write(questions)
        assert gift.parse(written) == questions, path.name
        # Writing is stable: the written form writes back identically.
        assert gift.write(gift.parse(written)) == written


# ------------------------------------------------------------------ own snippets


def test_windows_line_endings_and_bom():
    text = (
        "\ufeff// quiz\r\n::Q1::Two plus two?{\r\n=4\r\n=four\r\n}\r\n\r\nThe sky is blue.{T}\r\n"
    )
    short, tf = gift.parse(text)
    assert short.type == "short_answer" and [c.text for c in short.choices] == ["4", "four"]
    assert (short.line, tf.line) == (2, 7)
    assert tf.correct is True


def test_escapes_and_newline_escape():
    (question,) = gift.parse(r"Line one\nline two \{x\} a\:b a\#b a\=b a\~b a\\b a\qb{}")
    assert question.text == "Line one\nline two {x} a:b a#b a=b a~b a\\b a\\qb"


def test_title_may_contain_escaped_colons():
    (question,) = gift.parse(r"::Ratio 1\:2:: What is half of 2?{#1}")
    assert question.title == "Ratio 1:2"
    assert question.text == "What is half of 2?"


def test_weights_with_decimals_and_negative():
    (question,) = gift.parse(
        "Pick the prime numbers.{\n~%33.33333%2\n~%33.33333%3\n~%33.33334%5\n~%-100%4\n}"
    )
    assert question.type == "multiple_choice"
    assert fractions(question) == [0.3333333, 0.3333333, 0.3333334, -1.0]


def test_per_answer_feedback_and_general_feedback():
    (question,) = gift.parse(
        "Capital of Lithuania?{\n=Vilnius#Yes.\n~Kaunas#The former capital.\n"
        "####Vilnius has been the capital since 1990.\n}"
    )
    assert [(c.text, c.feedback) for c in question.choices] == [
        ("Vilnius", "Yes."),
        ("Kaunas", "The former capital."),
    ]
    assert question.general_feedback == "Vilnius has been the capital since 1990."


def test_true_false_right_answer_feedback_goes_to_the_true_answer():
    (question,) = gift.parse("Water is wet.{TRUE#No, it is.#Right.####Physics.}")
    assert question.correct is True
    assert question.feedback_true == "Right."
    assert question.feedback_false == "No, it is."
    assert question.general_feedback == "Physics."


def test_numerical_forms():
    (question,) = gift.parse("Pi?{#\n=3.14159:0.001#Exact\n=%50%3..3.5#Close\n}")
    assert question.numeric[0] == NumericAnswer(3.14159, 0.001, 1.0, "Exact")
    assert question.numeric[1] == NumericAnswer.from_range(3.0, 3.5, 0.5, "Close")
    assert question.numeric[1].value == 3.25 and question.numeric[1].tolerance == 0.25


def test_numerical_scientific_and_negative_numbers():
    (question,) = gift.parse("Charge?{#-1.6e-19:1e-20}")
    assert question.numeric == [NumericAnswer(-1.6e-19, 1e-20)]


def test_essay_with_general_feedback_and_description():
    essay, description = gift.parse("Tell us why.{####A model answer.}\n\nRead this first.")
    assert essay.type == "essay" and essay.general_feedback == "A model answer."
    assert description.type == "description" and description.text == "Read this first."


def test_formats():
    questions = gift.parse("[html]<p>Hi</p>{}\n\n[plain]a <b>{}\n\n[nonsense]kept{}")
    assert [(q.text_format, q.text) for q in questions] == [
        ("html", "<p>Hi</p>"),
        ("plain", "a <b>"),
        ("moodle", "[nonsense]kept"),
    ]


def test_categories_and_comments():
    text = (
        "// intro\n$CATEGORY: ethics/basics\n\nQ1{T}\n\n"
        "$CATEGORY: ethics/advanced\n\n// a comment\nQ2{F}\n\n$CATEGORY:\n\nQ3{T}\n"
    )
    questions = gift.parse(text)
    assert [q.category for q in questions] == ["ethics/basics", "ethics/advanced", None]
    assert [q.line for q in questions] == [4, 9, 13]


def test_to_dict_is_json_and_from_dict_restores():
    for question in example("25-moodle-fixture.gift"):
        data = json.loads(json.dumps(question.to_dict()))
        restored = Question.from_dict(data)
        assert restored == question and restored.line == question.line


def test_line_is_not_part_of_equality():
    assert Question("essay", "x", line=1) == Question("essay", "x", line=99)


# ------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("Q1{=yes ~no", 1, "never closed"),
        ("\n\nQ1 =yes ~no}", 3, "without an opening"),
        ("Q1 } {=a ~b", 1, "before"),
        ("Q1 {=a {b} ~c}", 1, "inside the answers"),
        ("Q1 {=a ~b} and {=c ~d}", 1, "one answer block"),
        ("::Q1 What?{T}", 1, "title"),
        ("Q1{#abc}", 1, "'abc' is not a number"),
        ("Q1{#3,5}", 1, "use a dot"),
        ("Q1{#5:-1}", 1, "must not be negative"),
        ("Q1{#5..1}", 1, "runs backwards"),
        ("Q1{#}", 1, "needs a number"),
        ("Q1{=Canada -> Ottawa}", 1, "at least 2 pairs"),
        ("Q1{=Canada -> Ottawa =Italy}", 1, "needs '->'"),
        ("Q1{=a -> b = c ->}", 1, "needs an answer after"),
        ("Q1{~a}", 1, "at least 2 answers"),
        ("Q1{oops ~a =b}", 1, "start each answer"),
        ("Q1{~%150%a =b}", 1, "bad answer weight"),
        ("Q1{~%half%a =b}", 1, "bad answer weight"),
        ("Q1{=%50%a ~b}", 1, "= always means 100%"),
        ("Q1{~a ~b}", 1, "nobody can score 100%"),
        ("Q1{~%50%a ~b}", 1, "add up to 50%"),
        ("Q1{=%50%a}", 1, "full marks"),
        ("Q1{#=%50%4}", 1, "full marks"),
        ("Q1{true}", 1, "capitals"),
        ("Q1{=a ~#b}", 1, "an answer is empty"),
        ("Q1{#4~oops}", 1, "#feedback"),
        ("::Title::", 1, "no text"),
        ("{=a ~b}", 1, "no text"),
        ("$CATEGORY: a\nQ1{T}", 2, "blank line"),
        ("Q1\x00{T}", 1, "NUL"),
        ("Q1{T}\x0c", 1, "U+000C"),
    ],
)
def test_errors_name_the_line_and_the_reason(text, line, words):
    errors = errors_of(text)
    assert errors, text
    assert errors[0][0] == line, errors
    assert words in errors[0][1], errors


def test_errors_point_at_the_answer_line_and_all_are_collected():
    text = (
        "Q1 {\n=3.5\n~four\n}\n\n"  # fine
        "Q2 {#\n=1\n=%50%two:1\n}\n\n"  # line 8
        "Q3{=a -> b}\n\n"  # line 11
        "Q4 {=yes ~no\n\n"  # line 13
        "Q5{T}\n"
    )
    with pytest.raises(GiftError) as caught:
        gift.parse(text, source="quiz.gift")
    error = caught.value
    assert [line for line, _ in error.errors] == [8, 11, 13]
    assert str(error).splitlines()[0].startswith("quiz.gift:8: ")
    assert len(str(error).splitlines()) == 3


def test_nothing_is_returned_when_anything_is_wrong():
    with pytest.raises(GiftError):
        gift.parse("Good{T}\n\nBad{#x}\n")


def test_empty_and_comment_only_text():
    assert gift.parse("") == []
    assert gift.parse("// nothing here\n\n   \n// still nothing\n") == []


# ----------------------------------------------------------------------- writing


def test_write_escapes_and_switches_category():
    questions = [
        Question(
            "true_false",
            "1 + 1 = 2 {really}?",
            title="Maths: sums",
            category="a",
            correct=True,
            feedback_false="It is, #1.",
        ),
        Question("essay", "Why?", category="a"),
        Question("essay", "How?", category="b"),
    ]
    text = gift.write(questions)
    assert text.count("$CATEGORY:") == 2
    assert "::Maths\\: sums::1 + 1 \\= 2 \\{really\\}?{TRUE#It is, \\#1.}" in text
    assert gift.parse(text) == questions


def test_write_missing_word_puts_the_answers_in_the_blank():
    question = Question(
        "single_choice",
        "Grant is _____ in Grant's tomb.",
        choices=[Choice("buried"), Choice("entombed", 1.0)],
    )
    text = gift.write([question])
    assert text.startswith("Grant is {\n")
    assert "} in Grant's tomb." in text
    assert gift.parse(text) == [question]


def test_write_numerical_ranges_and_catch_all():
    question = Question(
        "numerical",
        "Pi?",
        numeric=[
            NumericAnswer.from_range(3.141, 3.142),
            NumericAnswer(3.0, 0.5, 0.5, "Close"),
            NumericAnswer(None, 0.0, 0.0, "No"),
        ],
    )
    text = gift.write([question])
    assert "=3.141..3.142" in text and "=%50%3:0.5#Close" in text and "~#No" in text
    assert gift.parse(text) == [question]


def test_write_refuses_what_gift_cannot_say():
    with pytest.raises(ValueError, match="->"):
        gift.write([Question("matching", "Q", pairs=[MatchPair("a->b", "c"), MatchPair("d", "e")])])
    with pytest.raises(ValueError, match="control"):
        gift.write([Question("essay", "a\x00b")])
    with pytest.raises(ValueError, match="type"):
        gift.write([Question("puzzle", "Q")])


# ------------------------------------------------------------- round-trip property

FORMATS = st.sampled_from(gift.TEXT_FORMATS)
# Text full of GIFT's special characters, line breaks and non-ASCII letters.
ALPHABET = list("abcXYZ019 \t\n~=#{}:\\[]%*_-/>.$ąčęėįšųūžłøÅ")


def clean(text: str) -> str:
    return text.strip(" \t\n")


texts = st.one_of(
    st.text(st.sampled_from(ALPHABET), min_size=1, max_size=24),
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=12),
).map(clean)
some_text = texts.map(lambda text: text or "x")
maybe_text = st.one_of(st.just(""), texts)
weights = st.sampled_from([1.0, 0.0, 0.5, -0.5, 0.25, -1.0, 0.3333333, 0.75, 0.1])


@st.composite
def part(draw, base: str, text_strategy=some_text, check=None):
    """(text, format) with a format only when it differs from the question's."""
    text = draw(text_strategy)
    if check is not None and not check(text):
        text = "x"
    others = [f for f in gift.TEXT_FORMATS if f != base]
    own = draw(st.sampled_from([None, None, *others])) if text else None
    return text, own


def no_arrow(text: str) -> bool:
    return "->" not in text


@st.composite
def any_question(draw) -> Question:
    kind = draw(st.sampled_from(gift.TYPES))
    base = draw(FORMATS)
    question = Question(
        type=kind,
        text=draw(some_text),
        title=draw(st.one_of(st.none(), some_text)),
        text_format=base,
        idnumber=draw(st.sampled_from([None, None, "q-1", "a]b"])),
        tags=draw(
            st.lists(st.sampled_from(["ethics", "gifts and hospitality", "a]b"]), max_size=2)
        ),
    )
    if kind != "description":
        gf, gf_format = draw(part(base, maybe_text))
        question.general_feedback, question.general_feedback_format = gf, gf_format

    def choice(fraction: float, check=None) -> Choice:
        text, text_format = draw(part(base, some_text, check))
        fb, fb_format = draw(part(base, maybe_text, check))
        return Choice(text, fraction, fb, text_format, fb_format)

    if kind == "single_choice":
        question.choices = [choice(draw(weights)) for _ in range(draw(st.integers(1, 4)))]
        question.choices.insert(draw(st.integers(0, len(question.choices))), choice(1.0))
    elif kind == "multiple_choice":
        question.choices = [choice(draw(weights)) for _ in range(draw(st.integers(2, 5)))]
        if round(sum(c.fraction for c in question.choices if c.fraction > 0), 2) < 1:
            question.choices[0].fraction = 1.0
    elif kind == "short_answer":
        question.choices = [choice(draw(weights), no_arrow) for _ in range(draw(st.integers(0, 3)))]
        question.choices.append(choice(1.0, no_arrow))
    elif kind == "true_false":
        question.correct = draw(st.booleans())
        question.feedback_true, question.feedback_true_format = draw(part(base, maybe_text))
        question.feedback_false, question.feedback_false_format = draw(part(base, maybe_text))
    elif kind == "numerical":
        numbers = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
        answers = []
        for _ in range(draw(st.integers(1, 3))):
            fb, fb_format = draw(part(base, maybe_text))
            low = draw(numbers)
            if draw(st.booleans()):
                high = low + draw(st.floats(0, 1e3))
                answers.append(NumericAnswer.from_range(low, high, 1.0, fb, fb_format))
            else:
                tolerance = draw(st.sampled_from([0.0, 0.5, 1e-5, 2.0]))
                answers.append(NumericAnswer(low, tolerance, 1.0, fb, feedback_format=fb_format))
        for answer in answers[1:]:
            answer.fraction = draw(weights)
        if draw(st.booleans()):
            fb, fb_format = draw(part(base, maybe_text))
            catch_all = NumericAnswer(None, 0.0, draw(weights), fb, feedback_format=fb_format)
            answers.insert(draw(st.integers(1, len(answers))), catch_all)
        question.numeric = answers
    elif kind == "matching":

        def pair() -> MatchPair:
            stem, stem_format = draw(part(base, some_text, no_arrow))
            return MatchPair(stem, draw(some_text), stem_format)

        question.pairs = [pair() for _ in range(draw(st.integers(2, 4)))]
        if draw(st.booleans()):
            question.pairs.append(MatchPair("", draw(some_text)))  # an extra wrong option
    return question


@st.composite
def quiz_files(draw) -> list[Question]:
    items = draw(st.lists(any_question(), min_size=1, max_size=4))
    for item in items:
        item.category = draw(st.one_of(st.none(), st.sampled_from(["a", "$course$/B c", "x/y"])))
    return items


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(quiz_files())
def test_parse_of_write_gives_the_same_questions(items):
    text = gift.write(items)
    assert gift.parse(text) == items, text


@settings(max_examples=200, deadline=None)
@given(st.text(st.sampled_from(list("ab ~=#{}:\\\n-%>TF.1"))))
def test_parse_never_crashes(text):
    try:
        questions_read = gift.parse(text)
    except GiftError as error:
        assert error.errors and all(line >= 1 for line, _ in error.errors)
    else:
        assert gift.parse(gift.write(questions_read)) == questions_read


def test_an_arrow_outside_a_matching_question_is_refused_with_its_line():
    # Found by test_parse_never_crashes: read as a short answer "->", which GIFT
    # cannot write back (it has no escape for '->').
    with pytest.raises(GiftError) as caught:
        gift.parse("Fine?{=yes}\n\nArrow?{->}\n")
    assert [line for line, _reason in caught.value.errors] == [3]
    assert "matching" in caught.value.errors[0][1]
