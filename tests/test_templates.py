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
