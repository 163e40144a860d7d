"""An administrator gives their organisation's certificates a logo, a signature
image and a signatory, and a course names it as the issuer; axe checks every page."""

from __future__ import annotations

import io

from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import Site
from tests.browser.test_quiz import log_in_by_keyboard, press_to_go, tab_to


def _png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "navy").save(out, format="PNG")
    return out.getvalue()


def test_an_administrator_sets_the_certificates_logo_signature_and_signatory(
    site: Site, make_org, make_user, make_course
):
    org = make_org("NSA", name="Švietimo agentūra")
    make_user("admin", org=org, email="admin@example.org", network=True)
    page = site.page
    log_in_by_keyboard(site, "admin@example.org")
    site.visit(f"/admin/organisations/{org.id}")
    expect(page.get_by_role("heading", name="On certificates")).to_be_visible()
    page.get_by_label("Logo").set_input_files(
        files=[{"name": "logo.png", "mimeType": "image/png", "buffer": _png((120, 40))}]
    )
    page.get_by_label("Signature image").set_input_files(
        files=[{"name": "sig.png", "mimeType": "image/png", "buffer": _png((200, 60))}]
    )
    tab_to(page, page.get_by_label("Signatory"))
    page.keyboard.type("Dr. Rūta Kazlauskienė")
    tab_to(page, page.get_by_role("button", name="Save the certificates' look"))
    press_to_go(site)
    expect(page.get_by_text("The certificates of Švietimo agentūra were changed.")).to_be_visible()
    expect(page.get_by_role("img", name="The logo of Švietimo agentūra")).to_be_visible()
    expect(page.get_by_role("img", name="The signature image of Švietimo agentūra")).to_be_visible()
    expect(page.get_by_label("Signatory")).to_have_value("Dr. Rūta Kazlauskienė")
    # The course's settings offer it as the issuer, beside the length in hours.
    course = make_course(slug="etika", title="Etika", status="draft")
    site.visit(f"/trainer/courses/{course.slug}/settings")
    page.get_by_label("Length in hours").fill("1,5")
    page.get_by_label("Issuing organisation").select_option(label="Švietimo agentūra")
    site.follow(page.get_by_role("button", name="Save", exact=True))
    expect(page.get_by_text("The course's settings were saved.")).to_be_visible()
    expect(page.get_by_label("Length in hours")).to_have_value("1.5")
