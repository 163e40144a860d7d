"""The directory (issue 19, point 1): every organisation with its profile,
filters kept in the address, the profile in the reader's language, and its
editing by the organisation's administrators only."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest
from PIL import Image
from sqlalchemy import select

from tests.authoring.test_files import send
from tests.conftest import login, post_form
from vle.accounts.models import Organisation, User
from vle.audit import AuditEntry
from vle.community import directory
from vle.community.models import Forum


def _image(kind: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "teal").save(buffer, kind)
    return buffer.getvalue()


PNG = _image()


def _profile(session, org, **values):
    row = session.get(Organisation, org.id)
    for name, value in values.items():
        setattr(row, name, value)
    session.commit()
    return row


@pytest.fixture
def world(session, make_org, make_user, make_course):
    network = make_org(code="net", name="Network")
    vilnius = make_org(code="vilnius", name="Vilnius municipality", parent=network)
    school = make_org(code="school", name="Vilnius school", parent=vilnius)
    tromso = make_org(code="tromso", name="Tromsø library", parent=network)
    _profile(session, vilnius, kind="municipality", country="LT", region="Vilnius County",
             descriptions={"en": "A city by the Neris.", "lt": "Miestas prie Neries."})  # fmt: skip
    _profile(session, school, kind="school", country="LT", region="Vilnius County")
    _profile(session, tromso, kind="library", country="NO", region="Troms",
             descriptions={"nb": "Et bibliotek i nord."})  # fmt: skip
    trainer = make_user("trainer", org=school, email="trainer@example.org", name="Rūta Trainer")
    course = make_course(title="Reading together", trainers=[trainer])
    make_course(title="A draft", trainers=[trainer], status="draft")
    session.add(Forum(course_id=course.id, title="Reading together: forum"))
    session.commit()
    return SimpleNamespace(
        network=network,
        vilnius=vilnius,
        school=school,
        tromso=tromso,
        trainer=trainer,
        course=course,
        learner=make_user("learner", org=school, email="learner@example.org"),
        city_admin=make_user("admin", org=vilnius, email="city@example.org"),
        norway_admin=make_user("admin", org=tromso, email="norway@example.org"),
        network_admin=make_user("admin", org=network, email="net@example.org", network=True),
    )


def _names(html: str) -> list[str]:
    return re.findall(r'<h2><a href="/network/organisations/[^"]+">([^<]+)</a></h2>', html)


def test_the_directory_is_for_signed_in_users(client, world):
    response = client.get("/network/")
    assert response.status_code in (302, 401)
    assert client.get("/network/organisations/school").status_code in (302, 401)


def test_every_organisation_is_listed_children_under_their_parent(client, world):
    login(client, "learner@example.org")
    html = client.get("/network/").get_data(as_text=True)
    assert _names(html) == [
        "Network", "Tromsø library", "Vilnius municipality", "Vilnius school",
    ]  # fmt: skip
    assert "Part of Vilnius municipality" in html
    assert "Municipality" in html and "Lithuania" in html and "Norway" in html
    assert 'aria-current="page">Network</a>' in html  # the main navigation's link


def test_filters_by_country_kind_and_region_stay_in_the_address(client, world):
    login(client, "learner@example.org")
    html = client.get("/network/?country=LT").get_data(as_text=True)
    assert _names(html) == ["Vilnius municipality", "Vilnius school"]
    assert '<option selected value="LT">Lithuania</option>' in html
    html = client.get("/network/?country=LT&kind=school").get_data(as_text=True)
    assert _names(html) == ["Vilnius school"]
    html = client.get("/network/?region=Troms").get_data(as_text=True)
    assert _names(html) == ["Tromsø library"]
    html = client.get("/network/?kind=college").get_data(as_text=True)
    assert _names(html) == [] and "No organisation matches these filters." in html


def test_the_directory_pages(app, client, world, make_org):
    app.config["PAGE_SIZE"] = 2
    login(client, "learner@example.org")
    first = client.get("/network/").get_data(as_text=True)
    assert _names(first) == ["Network", "Tromsø library"]
    assert "Page 1 of 2" in first and 'href="/network/?page=2"' in first
    second = client.get("/network/?page=2").get_data(as_text=True)
    assert _names(second) == ["Vilnius municipality", "Vilnius school"]
    assert _names(client.get("/network/?page=99").get_data(as_text=True)) == []


def test_the_profile_in_the_readers_language(client, session, world):
    session.get(User, world.learner.id).locale = "lt"
    session.commit()
    login(client, "learner@example.org")
    html = client.get("/network/organisations/vilnius").get_data(as_text=True)
    assert "Miestas prie Neries." in html and "A city by the Neris." not in html
    assert "Lietuva" in html  # the country's name in Lithuanian
    # No Lithuanian description: English first, then any language there is.
    html = client.get("/network/organisations/tromso").get_data(as_text=True)
    assert "Et bibliotek i nord." in html and "Norvegija" in html


def test_the_description_falls_back_to_english():
    org = Organisation(descriptions={"en": "English", "pl": "Polski"})
    assert directory.description_in(org, "pl") == "Polski"
    assert directory.description_in(org, "lt") == "English"
    assert directory.description_in(Organisation(descriptions={"nb": "Norsk"}), "lt") == "Norsk"
    assert directory.description_in(Organisation(descriptions={}), "lt") == ""


def test_a_profile_lists_trainers_published_courses_and_their_forums(client, world):
    login(client, "learner@example.org")
    html = client.get("/network/organisations/school").get_data(as_text=True)
    assert "Rūta Trainer" in html
    assert "Reading together" in html and "A draft" not in html
    assert re.search(r'<a href="/network/forums/\d+">Reading together: forum</a>', html)
    assert "Part of" in html and 'href="/network/organisations/vilnius"' in html
    assert client.get("/network/organisations/nowhere").status_code == 404


def test_a_script_in_a_description_is_never_run(client, session, world):
    _profile(session, world.school, descriptions={"en": "Hi <script>alert(1)</script> **there**"})
    login(client, "learner@example.org")
    html = client.get("/network/organisations/school").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<strong>there</strong>" in html


def test_a_table_in_a_description_scrolls_in_its_own_named_box(client, session, world):
    """As a lesson's table does: on a phone the table scrolls, not the page."""
    table = "Opening hours:\n\n| Day | Hours |\n|---|---|\n| Monday | 8–17 |\n"
    _profile(session, world.school, descriptions={"en": table})
    login(client, "learner@example.org")
    html = client.get("/network/organisations/school").get_data(as_text=True)
    assert re.search(
        r'<div class="table-wrap" role="region" tabindex="0" aria-label="Day">\s*<table', html
    )


def _edit(client, code, page=None, **data):
    fields = {
        "kind": "school", "country": "LT", "region": "Vilnius County",
        "contact_email": "", "contact_phone": "", "website": "",
        "description_en": "", "description_lt": "", "description_pl": "", "description_nb": "",
    }  # fmt: skip
    fields.update(data)
    return post_form(client, f"/network/organisations/{code}/edit", fields,
                     page=page or f"/network/organisations/{code}/edit")  # fmt: skip


def test_an_administrator_of_the_subtree_edits_the_profile(client, session, world):
    login(client, "city@example.org")
    response = _edit(
        client, "school", contact_email="Office@School.example.org", contact_phone="+370 5 123 4567",
        website="https://school.example.org/", description_lt="Mokykla.", region="Vilnius",
    )  # fmt: skip
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/network/organisations/school")
    session.expire_all()
    school = session.get(Organisation, world.school.id)
    assert school.contact_email == "Office@school.example.org"
    assert school.website == "https://school.example.org/"
    assert school.descriptions == {"lt": "Mokykla."} and school.region == "Vilnius"
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "organisation.profile")
    ).one()
    assert entry.target_id == school.id and "website" in entry.details["changed"]
    html = client.get("/network/organisations/school").get_data(as_text=True)
    assert "https://school.example.org/" in html and "+370 5 123 4567" in html


@pytest.mark.parametrize(
    ("email", "expected"),
    [("city@example.org", 200), ("net@example.org", 200), ("norway@example.org", 403),
     ("trainer@example.org", 403), ("learner@example.org", 403)],
)  # fmt: skip
def test_only_the_organisations_administrators_may_edit(client, world, email, expected):
    login(client, email)
    assert client.get("/network/organisations/school/edit").status_code == expected
    html = client.get("/network/organisations/school").get_data(as_text=True)
    assert ("Edit profile" in html) is (expected == 200)


def test_another_organisations_administrator_cannot_post_an_edit(client, session, world):
    login(client, "norway@example.org")
    response = _edit(client, "school", page="/network/organisations/tromso/edit", region="Troms")
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Organisation, world.school.id).region == "Vilnius County"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("contact_email", "not an address", "The contact e-mail address is not valid."),
     ("website", "javascript:alert(1)", "The website must be an address starting with http"),
     ("website", "ftp://example.org/", "The website must be an address starting with http"),
     ("country", "XX", "Choose a country from the list."),
     ("contact_phone", "call me maybe", "A phone number holds digits"),
     ("kind", "x" * 100, "Choose a kind from the list.")],
)  # fmt: skip
def test_bad_values_are_refused_and_change_nothing(client, session, world, field, value, message):
    login(client, "city@example.org")
    response = _edit(client, "school", region="Elsewhere", **{field: value})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Organisation, world.school.id).region == "Vilnius County"
    assert session.scalars(select(AuditEntry)).all() == []


def test_a_logo_is_uploaded_served_and_removed(client, session, world):
    login(client, "city@example.org")
    response = _edit(client, "school", logo=(io.BytesIO(PNG), "logo.png"))
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Organisation, world.school.id).logo
    logo = client.get("/network/organisations/school/logo")
    assert logo.status_code == 200 and logo.mimetype == "image/png" and logo.data == PNG
    assert 'alt="Logo of Vilnius school"' in client.get("/network/").get_data(as_text=True)
    assert _edit(client, "school", remove_logo="y").status_code == 302
    assert client.get("/network/organisations/school/logo").status_code == 404


@pytest.mark.parametrize(
    ("data", "name"),
    [(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "logo.svg"),
     (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "logo.pdf"),
     (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "logo.gif"),
     (PNG, "logo.pdf"),
     (PNG[:40], "logo.png")],
)  # fmt: skip
def test_a_logo_that_is_no_png_or_jpeg_is_refused(client, session, world, data, name):
    login(client, "city@example.org")
    response = _edit(client, "school", region="Changed", logo=(io.BytesIO(data), name))
    assert response.status_code == 422
    assert 'id="logo-error"' in response.get_data(as_text=True)
    session.expire_all()
    school = session.get(Organisation, world.school.id)
    assert school.logo is None and school.region == "Vilnius County"


def test_a_logo_over_two_megabytes_is_refused(client, session, world):
    login(client, "city@example.org")
    big = PNG + b"\x00" * (2 * 1024 * 1024)
    fields = {"kind": "school", "country": "LT", "logo": (io.BytesIO(big), "logo.png")}
    response = send(client, "/network/organisations/school/edit", fields)  # encoded in memory
    assert response.status_code == 422 and "too large" in response.get_data(as_text=True)


def test_kinds_are_offered_in_words_and_a_free_kind_is_kept(app):
    with app.test_request_context():
        assert directory.kind_label("care_home") == "Care home"
        assert directory.kind_label("Folk high school") == "Folk high school"
        assert directory.country_names("pl")["LT"] == "Litwa"
        assert "ZZ" not in directory.country_names("en") and "001" not in directory.country_names(
            "en"
        )


@pytest.mark.parametrize(
    ("language", "before", "after"),
    [
        ("en", "Åland Islands", "Albania"),  # Å is an A in English
        ("nb", "Zimbabwe", "Åland"),  # and a letter after Z in Norwegian
        ("lt", "Čadas", "Danija"),  # Č after C, before D
        ("lt", "Suomija", "Šveicarija"),
        ("pl", "Luksemburg", "Łotwa"),  # Ł after L
    ],
)
def test_countries_are_listed_in_the_order_of_the_readers_alphabet(app, language, before, after):
    with app.test_request_context():
        names = list(directory.country_names(language).values())
    assert names.index(before) < names.index(after), names


@pytest.mark.parametrize(
    ("email", "sees"),
    [
        ("learner@example.org", False),
        ("trainer@example.org", False),
        ("city@example.org", True),
        ("net@example.org", True),
    ],
)
def test_the_network_navigation_offers_monitoring_to_those_it_opens_to(client, world, email, sees):
    login(client, email)
    link = '<a href="/network/monitoring"'
    for page in ("/network/", "/network/events", "/network/agreements/new", "/network/search"):
        response = client.get(page)
        html = response.get_data(as_text=True)
        if response.status_code == 200:
            assert (link in html) is sees, (email, page)
    opens = client.get("/network/monitoring").status_code == 200
    assert opens is sees
    if sees:
        html = client.get("/network/monitoring").get_data(as_text=True)
        assert f'{link} aria-current="page">Monitoring</a>' in html
