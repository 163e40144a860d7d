"""Templates translate with the request's language, by Jinja's newstyle rules."""

from __future__ import annotations

from flask import render_template_string


def test_template_gettext_uses_the_request_language_and_jinja_rules(app):
    source = (
        '{{ _("Log in") }}|'
        '{{ ngettext("%(num)s user found", "%(num)s users found", 3, num="3 000") }}|'
        '{{ ngettext("%(num)s user found", "%(num)s users found", 1) }}|'
        '{{ _("Hello %(name)s", name="<b>Ona</b>") }}|'
        '{{ _("100%%") }}'
    )
    with app.test_request_context("/", headers={"Accept-Language": "lt"}):
        rendered = render_template_string(source)
    assert rendered.split("|") == [
        "Prisijungti",
        # `num` given by name wins over the count, as in Jinja's own ngettext.
        "Rasti 3 000 naudotojai",
        "Rastas 1 naudotojas",
        # Variables are escaped; the message itself is trusted.
        "Hello &lt;b&gt;Ona&lt;/b&gt;",
        "100%",
    ]
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert render_template_string('{{ _("Log in") }}') == "Log in"


def test_dates_and_numbers_follow_the_users_locale_and_time_zone(app, make_user, session):
    from datetime import UTC, datetime

    from flask_login import login_user

    user = make_user()
    user.locale, user.timezone = "lt", "America/New_York"
    session.commit()
    late_evening = datetime(2026, 3, 5, 2, 30, tzinfo=UTC)  # 4 March, 21:30 in New York
    source = (
        "{{ format_date(moment) }}|{{ format_date(moment, format='long') }}|"
        "{{ format_datetime(moment, format='short') }}|{{ format_decimal(1234.5) }}"
    )
    with app.test_request_context("/"):
        login_user(user)
        rendered = render_template_string(source, moment=late_evening)
    assert rendered.split("|") == [
        "2026-03-04",
        "2026 m. kovo 4 d.",
        "2026-03-04 21:30",
        "1\xa0234,5",
    ]
