"""Dates and numbers as each language writes them (vle.formats: one rule for the
pages, the mails, the certificates and the exports)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from flask import render_template_string
from flask_login import login_user

from tests.quizzes.conftest import enrol, make_quiz  # noqa: F401 -- fixtures
from vle.formats import decimal_mark, formatting_locale

MOMENT = datetime(2026, 12, 6, 15, 54, tzinfo=UTC)  # 17:54 in Vilnius, the default zone
TEMPLATE = (
    "{{ format_datetime(moment) }}|{{ format_datetime(moment, 'short') }}|"
    "{{ format_date(moment, 'long') }}|{{ format_date(moment) }}|"
    "{{ format_percent(1) }}|{{ format_percent(0.6667, 2) }}|{{ format_decimal(12345.5) }}"
)
NBSP = "\xa0"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",  # British English: day, month, year and a 24-hour clock
            ["6 December 2026, 17:54", "06/12/2026, 17:54", "6 December 2026", "6 Dec 2026",
             "100%", "66.67%", "12,345.5"],
        ),
        (
            "lt",
            ["2026 m. gruodžio 6 d. 17:54", "2026-12-06 17:54", "2026 m. gruodžio 6 d.",
             "2026-12-06", f"100{NBSP}%", f"66,67{NBSP}%", f"12{NBSP}345,5"],
        ),
        (
            "pl",
            ["6 grudnia 2026, 17:54", "6.12.2026, 17:54", "6 grudnia 2026", "6 gru 2026",
             "100%", "66,67%", f"12{NBSP}345,5"],
        ),
        (
            "nb",
            ["6. desember 2026, 17:54", "06.12.2026, 17:54", "6. desember 2026",
             "6. des. 2026", f"100{NBSP}%", f"66,67{NBSP}%", f"12{NBSP}345,5"],
        ),
    ],
)  # fmt: skip
def test_each_language_writes_dates_and_numbers_its_own_way(app, language, expected):
    with app.test_request_context("/", headers={"Accept-Language": language}):
        rendered = render_template_string(TEMPLATE, moment=MOMENT).split("|")
    assert rendered == expected
    for text in rendered:
        assert " %" not in text  # a percentage never wraps before its sign


def test_english_is_never_written_month_first(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        for fmt in ("short", "medium", "long"):
            text = render_template_string(
                "{{ format_date(day, f) }} {{ format_datetime(moment, f) }}",
                day=date(2026, 12, 6),
                f=fmt,
                moment=MOMENT,
            )
            assert "12/6" not in text and "Dec 6" not in text and "December 6" not in text
            assert "PM" not in text and "AM" not in text


def test_times_are_in_the_readers_time_zone(app, make_user, session):
    user = make_user()
    user.locale, user.timezone = "en", "America/New_York"
    session.commit()
    with app.test_request_context("/"):
        login_user(user)
        text = render_template_string("{{ format_datetime(moment) }}", moment=MOMENT)
    assert text == "6 December 2026, 10:54"


def test_the_formatting_locale_and_decimal_mark_per_language():
    assert str(formatting_locale("en")) == "en_GB"
    assert str(formatting_locale("lt")) == "lt"
    assert [decimal_mark(lang) for lang in ("en", "lt", "pl", "nb")] == [".", ",", ",", ","]


def test_a_mail_in_english_gives_the_day_before_the_month(app):
    from vle.mail import services as mail

    with app.app_context():
        _subject, text, html = mail.render_mail(
            "due_soon",
            "en",
            {"course_title": "Ethics", "due": date(2030, 5, 1), "course_url": "http://x/"},
        )
    assert "by 1 May 2030." in text and "1 May 2030" in html


def test_percentages_in_pages_are_one_unit(app, make_user, session):
    """The progress bar of every course list: "100 %" with a no-break space in Lithuanian."""
    with app.test_request_context("/", headers={"Accept-Language": "lt"}):
        html = render_template_string(
            '{% from "macros.html" import progress_bar %}{{ progress_bar(100, "x") }}'
        )
    assert f"100{NBSP}%" in html and "100 %" not in html


@pytest.mark.parametrize(
    ("language", "month", "short"),
    [("en", "December 2026", "Dec"), ("lt", "2026 m. gruodis", "gruod."),
     ("pl", "grudzień 2026", "gru"), ("nb", "desember 2026", "des")],
)  # fmt: skip
def test_a_month_is_named_as_each_language_names_it(app, language, month, short):
    """The dashboard's and the monitoring page's months: never "2026-12"."""
    with app.test_request_context("/", headers={"Accept-Language": language}):
        text = render_template_string(
            "{{ format_month('2026-12') }}|{{ format_month(day) }}|{{ format_month(day, 'LLL') }}",
            day=date(2026, 12, 6),
        )
    assert text == f"{month}|{month}|{short}"


def test_the_grading_pages_mark_label_writes_its_percentage_as_one_unit(
    client,
    session,
    make_user,
    make_quiz,  # noqa: F811
    enrol,  # noqa: F811
):
    """The mark's "(0 to 100 %)" was typed into the text: a plain space in Lithuanian, where
    the line may break between the number and its sign."""
    from tests.conftest import login, post_form
    from tests.quizzes.conftest import ESSAY, GIFT, RIGHT
    from tests.quizzes.test_views import attempt_url, form_data, start, the_attempt

    trainer = make_user("trainer")
    course, item = make_quiz(GIFT + "\n" + ESSAY, trainers=[trainer])
    learner = make_user()
    enrol(learner, course)
    login(client, learner.email)
    start(client, course, item)
    url = attempt_url(course, item, the_attempt(session, learner).id)
    post_form(client, f"{url}/answers", form_data(session, item, {**RIGHT, "Reflect": "Yes."}))
    post_form(client, f"{url}/submit")
    staff = client.application.test_client()
    login(staff, trainer.email)
    attempt = the_attempt(session, learner)
    for language, full in (("en", "100%"), ("lt", f"100{NBSP}%"), ("nb", f"100{NBSP}%")):
        page = staff.get(
            f"/trainer/attempts/{attempt.id}", headers={"Accept-Language": language}
        ).get_data(as_text=True)
        labels = re.findall(r'<label for="mark-[^"]+">([^<]+)</label>', page)
        assert labels and all(f"{full})" in label for label in labels), (language, labels)
        assert "100 %" not in page


def test_the_certificate_pdf_writes_the_day_before_the_month(app, session, make_user, make_course):
    from tests.certificates.test_certificates import _complete, pdf_text
    from vle.certificates import services as certificates
    from vle.certificates.pdf import render_pdf

    learner = make_user()
    course = make_course()
    _complete(session, learner, course)
    certificate = certificates.certificate_for(session, learner, course)
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        pdf = render_pdf(certificate, certificates.verify_url(certificate), compress=False)
        day = certificate.completion.completed_at
        expected = render_template_string("{{ format_date(day, 'long') }}", day=day)
    text = pdf_text(pdf)
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]+ \d{4}", expected)  # "7 December 2026"
    assert f"on {expected}" in text
    assert not re.search(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b", text)
