"""The site itself: its name and logo, the favicon, the front page, the
language a browser is served in and the expired-form page."""

from __future__ import annotations

import re

import pytest

from tests.conftest import csrf_token, login
from vle import create_app, db

LOGO_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>'


@pytest.fixture
def named_site(_database, tmp_path):
    """The test site under a name and logo of its own (same database)."""
    logo = tmp_path / "logo.svg"
    logo.write_text(LOGO_SVG)
    app = create_app({**_database, "SITE_NAME": "Mokymai LT", "SITE_LOGO": str(logo)}, env="test")
    yield app
    db.get_database(app).engine.dispose()


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_sites_name_and_logo_are_shown_instead_of_vle(named_site, make_course):
    make_course(title="Safe work")
    client = named_site.test_client()
    page = client.get("/courses").get_data(as_text=True)
    assert "<title>Courses · Mokymai LT</title>" in page
    assert '<img src="/site-logo" alt="Mokymai LT">' in page
    assert ">vle<" not in page and "· vle" not in page
    assert "Mokymai LT — learning for the public sector" in page
    logo = client.get("/site-logo")
    assert logo.status_code == 200 and logo.mimetype == "image/svg+xml"
    assert logo.get_data(as_text=True) == LOGO_SVG
    assert "max-age=86400" in logo.headers["Cache-Control"]
    assert "no-store" not in logo.headers["Cache-Control"]
    logo.close()


def test_without_a_logo_the_name_is_the_brand_and_the_logo_address_is_not_found(client):
    page = client.get("/courses").get_data(as_text=True)
    assert '<a class="brand" href="/">vle</a>' in page and "/site-logo" not in page
    assert client.get("/site-logo").status_code == 404


def test_a_logo_that_is_not_an_image_is_not_served(_database, tmp_path):
    script = tmp_path / "logo.html"
    script.write_text("<script>alert(1)</script>")
    app = create_app({**_database, "SITE_LOGO": str(script)}, env="test")
    client = app.test_client()
    assert client.get("/site-logo").status_code == 404
    assert "/site-logo" not in client.get("/courses").get_data(as_text=True)
    db.get_database(app).engine.dispose()


def test_mail_speaks_of_the_site_by_its_name(named_site):
    from vle.mail.services import render_mail

    with named_site.app_context():
        subject, text, html = render_mail(
            "password_reset", "en", {"name": "Ona", "link": "https://example.org/x", "hours": 2}
        )
    assert subject == "Choose a new password for Mokymai LT"
    assert "your Mokymai LT account" in text and "Mokymai LT, the learning environment" in text
    assert "vle" not in subject + text


def test_the_favicon(client):
    page = client.get("/courses").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.get_data(as_text=True).startswith("<svg")
    icon.close()
    old = client.get("/favicon.ico")
    assert old.status_code == 301 and old.headers["Location"] == "/static/favicon.svg"


def test_the_front_page_says_what_the_site_is_and_how_to_get_an_account(client, make_course):
    for n in range(8):
        make_course(title=f"Course {n:02d}")
    make_course(title="A draft", status="draft")
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    words = text_of(page)
    assert "Welcome to vle" in words
    assert "vle is a learning environment for the public sector" in words
    assert "Ask your organisation's administrator for an invitation." in words.replace("&#39;", "'")
    assert 'href="/courses"' in page and 'href="/login"' in page
    shown = re.findall(r'<h3><a href="/courses/[^"]+">([^<]+)</a></h3>', page)
    assert shown == [f"Course {n:02d}" for n in range(6)]  # a few, not the draft
    assert "See all courses" in words


def test_signed_in_people_still_go_to_my_learning(client, make_user):
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/my"


@pytest.mark.parametrize(
    "header", ["no", "nn", "nb-NO", "nn-NO", "no-NO,en;q=0.5", "de, nn;q=0.8", "NO-no", "nb_NO"]
)
def test_norwegian_and_nynorsk_readers_get_bokmal(client, header):
    page = client.get("/courses", headers={"Accept-Language": header}).get_data(as_text=True)
    assert '<html lang="nb">' in page


def test_a_language_the_browser_prefers_still_wins_over_norwegian(client):
    page = client.get("/courses", headers={"Accept-Language": "pl, no;q=0.5"}).get_data(
        as_text=True
    )
    assert '<html lang="pl">' in page


def test_the_chosen_language_outlives_the_session(client):
    token = csrf_token(client, "/courses")
    client.post("/language", data={"locale": "lt", "next": "/courses", "csrf_token": token})
    client.delete_cookie("session")  # the session ends (expired, or closed by the browser)
    page = client.get("/courses", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="lt">' in page


def test_after_log_out_the_sign_in_page_is_in_the_accounts_language(client, make_user, session):
    user = make_user(email="ona@example.org")
    user.locale = "pl"
    session.commit()
    login(client, "ona@example.org")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/my")})
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="pl">' in page


def test_the_expired_form_page_keeps_the_language_when_the_session_is_gone(client):
    token = csrf_token(client, "/courses")
    client.post("/language", data={"locale": "lt", "next": "/courses", "csrf_token": token})
    client.delete_cookie("session")
    response = client.post("/login", data={"email": "x@example.org", "password": "x"})
    assert response.status_code == 400
    assert '<html lang="lt">' in response.get_data(as_text=True)
    other = client.application.test_client()  # no cookie at all: the browser's language
    response = other.post("/logout", headers={"Accept-Language": "pl"})
    assert '<html lang="pl">' in response.get_data(as_text=True)


def test_the_expired_form_page_offers_to_sign_in_and_return(client, make_course):
    course = make_course(slug="safe-work")
    response = client.post(
        f"/courses/{course.slug}/enrol",
        headers={"Referer": f"http://localhost/courses/{course.slug}?tab=1"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Sign in and return to where you were" in page
    assert 'href="/login?next=/courses/safe-work?tab%3D1"' in page


def test_the_expired_form_page_never_returns_to_another_site(client):
    response = client.post("/logout", headers={"Referer": "https://evil.example/phish"})
    page = response.get_data(as_text=True)
    assert 'href="/login?next=/logout"' in page  # the posted path instead
    assert "evil.example" not in page


def test_an_expired_sign_in_form_returns_to_the_sign_in_page(client):
    response = client.post("/login", headers={"Referer": "http://localhost/login?next=/my"})
    assert 'href="/login?next=/my"' in response.get_data(as_text=True)


def test_the_certificate_pdf_badges_and_events_name_the_site_not_vle(
    app, session, make_user, make_course
):
    import io

    import pypdf

    from tests.certificates.test_certificates import _complete
    from vle.certificates import services as certificates
    from vle.certificates.pdf import render_pdf
    from vle.community.events import RegisterRefused, _attendances
    from vle.competencies.badges import issuer_profile

    app.config["SITE_NAME"] = "Mokymai LT"
    learner = make_user()
    course = make_course()
    _complete(session, learner, course)
    certificate = certificates.certificate_for(session, learner, course)
    with app.test_request_context("/"):
        pdf = render_pdf(certificate, certificates.verify_url(certificate), compress=False)
        assert issuer_profile()["name"] == "Mokymai LT"  # a badge's issuer, unless set
        app.config["BADGE_ISSUER_NAME"] = "Švietimo agentūra"
        assert issuer_profile()["name"] == "Švietimo agentūra"
        with pytest.raises(RegisterRefused) as refused:
            _attendances(session, ["nobody@example.org"], [])
    assert pypdf.PdfReader(io.BytesIO(pdf)).metadata.author == "Mokymai LT"
    assert "No one in Mokymai LT has the e-mail address nobody@example.org." in str(refused.value)


@pytest.mark.parametrize(
    "referer",
    [
        "http://localhost//evil.example/phish",  # this host, a path another site's
        "http://localhost/\\evil.example",
        "javascript://localhost/%0aalert(1)",
        "http://localhost.evil.example/x",
    ],
)
def test_the_expired_form_page_reads_no_other_site_out_of_a_referer(client, referer):
    response = client.post("/logout", headers={"Referer": referer})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    link = re.search(r'href="(/login\?next=[^"]*)"', page)
    assert link and link.group(1) in ("/login?next=/logout", "/login?next=/")
    assert "evil" not in page and "javascript" not in page
