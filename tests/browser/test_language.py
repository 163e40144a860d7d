"""The UI language comes from the browser before sign-in, and the page says which it is."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_login_page_in_lithuanian_declares_lang_lt_and_passes_axe(open_site):
    site = open_site(locale="lt")  # the browser sends Accept-Language: lt
    response = site.visit("/login")
    assert response is not None and response.ok
    assert response.request.header_value("accept-language") == "lt"
    expect(site.page.locator("html")).to_have_attribute("lang", "lt")
    # …and the page really is in Lithuanian, so the declaration tells the truth.
    expect(site.page.get_by_role("heading", level=1)).to_have_text("Prisijungti")
    expect(site.page.get_by_label("El. paštas")).to_be_visible()
    expect(site.page.get_by_role("button", name="Prisijungti")).to_be_visible()
    # The language switcher shows the language in use.
    expect(site.page.locator("#language-select")).to_have_value("lt")
