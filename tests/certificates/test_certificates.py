"""Certificates: a PDF on completion, and a public page that verifies a code and shows nothing more."""

from __future__ import annotations

import logging
import re

from sqlalchemy import func, select

from tests.conftest import login
from vle.certificates import services
from vle.certificates.models import Certificate
from vle.certificates.pdf import font_files, render_pdf
from vle.learning import services as learning

LETTERS = "ą č ę ė į š ų ū ž ł ń ó ś ź ż æ ø å"


_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(raw: bytes) -> bytes:
    def one(match: re.Match[bytes]) -> bytes:
        token = match.group(1)
        if token[:1].isdigit():
            return bytes([int(token, 8)])
        return _ESCAPES.get(token, token)

    return re.sub(rb"\\([0-7]{1,3}|.)", one, raw, flags=re.S)


def pdf_text(pdf: bytes) -> str:
    """The text of an uncompressed fpdf2 PDF: each string decoded through the
    ToUnicode map of the font it is set in."""
    objects = {int(n): body for n, body in re.findall(rb"(\d+) 0 obj\n(.*?)endobj", pdf, re.S)}
    maps: dict[int, dict[bytes, str]] = {}
    for number, body in objects.items():
        match = re.search(rb"/ToUnicode (\d+) 0 R", body)
        if match:
            cmap = objects[int(match.group(1))]
            maps[number] = {
                bytes.fromhex(src.decode()): bytes.fromhex(dst.decode()).decode("utf-16-be")
                for src, dst in re.findall(rb"<([0-9A-Fa-f]+)> <([0-9A-Fa-f]+)>", cmap)
            }
    fonts = {name.decode(): int(n) for name, n in re.findall(rb"/(F\d+) (\d+) 0 R", pdf)}
    lines, current = [], {}
    for match in re.finditer(rb"/(F\d+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj", pdf, re.S):
        if match.group(1):
            current = maps.get(fonts.get(match.group(1).decode(), -1), {})
            continue
        raw = _unescape(match.group(2))
        lines.append("".join(current.get(raw[i : i + 2], "?") for i in range(0, len(raw), 2)))
    return "\n".join(lines)


def _complete(session, user, course):
    learning.enrol(session, user, course)
    for item in course.items:
        learning.complete_item(session, user, course, item)
    session.commit()


def test_codes_are_long_random_and_forgiving_when_typed():
    codes = {services.new_code() for _ in range(1000)}
    assert len(codes) == 1000
    assert all(len(code) == 16 and set(code) <= set(services.ALPHABET) for code in codes)
    assert services.normalise_code("7k3m-q9xa 2b4c-8def") == "7K3MQ9XA2B4C8DEF"
    assert services.normalise_code("OIL0" * 4) == "0110" * 4  # O→0, I/L→1
    for wrong in ("", "short", "7K3M-Q9XA-2B4C-8DEF-EXTRA", "UUUU-UUUU-UUUU-UUUU", "<script>"):
        assert services.normalise_code(wrong) is None


def test_the_certificate_names_learner_course_date_organisation_and_code(
    app, session, make_org, make_user, make_course, caplog
):
    org = make_org("LT-PL", name="Łódź ir Šiauliai — ąčęėįšųūž æøå")
    learner = make_user(
        org=org, email="jurgita@example.org", name=f"Jūratė Łukasiewicz-Ødegård {LETTERS}"
    )
    course = make_course(
        slug="bendradarbiavimas", title="Tarpvalstybinis bendradarbiavimas: žingsniai"
    )
    _complete(session, learner, course)
    certificate = services.certificate_for(session, learner, course)
    session.commit()
    assert "regular" in font_files()  # the font a dependency ships
    with app.test_request_context("/"), caplog.at_level(logging.WARNING):
        pdf = render_pdf(certificate, "https://vle.example/certificates/verify/X", compress=False)
    assert pdf.startswith(b"%PDF-") and b"/FontFile2" in pdf  # a real, embedded TrueType font
    assert "missing" not in caplog.text  # every letter has its glyph
    text = pdf_text(pdf)
    assert f"Jūratė Łukasiewicz-Ødegård {LETTERS}" in text
    assert "Tarpvalstybinis bendradarbiavimas: žingsniai" in text
    assert "Łódź ir Šiauliai — ąčęėįšųūž æøå" in text
    assert (
        certificate.completion.completed_at.strftime("%B") in text
        and str(certificate.completion.completed_at.year) in text
    )
    assert certificate.display_code in text
    assert "https://vle.example/certificates/verify/X" in text
    assert "jurgita@example.org" not in text


def test_the_pdf_is_still_made_without_any_unicode_font(app, session, make_user, make_course):
    learner = make_user(name="Žydrūnė Ąžuolaitė")
    course = make_course()
    _complete(session, learner, course)
    certificate = services.certificate_for(session, learner, course)
    with app.test_request_context("/"):
        pdf = render_pdf(certificate, "https://vle.example/v", compress=False, fonts={})
    assert pdf.startswith(b"%PDF-") and b"Zydrune Azuolaite" in pdf


def test_learner_downloads_their_certificate_and_the_code_stays(
    client, session, make_user, make_course
):
    course = make_course(slug="etika", title="Etika")
    learner = make_user(email="ona@example.org")
    login(client, "ona@example.org")
    learning.enrol(session, learner, course)
    session.commit()
    assert client.get("/my/certificates/etika").status_code == 404  # not completed yet
    assert "certificate" not in client.get("/courses/etika").get_data(as_text=True).lower()
    for item in course.items:
        learning.complete_item(session, learner, course, item)
    session.commit()
    assert "Download your certificate (PDF)" in client.get("/courses/etika").get_data(as_text=True)
    assert "Certificate (PDF)" in client.get("/my").get_data(as_text=True)
    response = client.get("/my/certificates/etika")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.get_data().startswith(b"%PDF-")
    again = client.get("/my/certificates/etika")
    assert again.status_code == 200
    assert session.scalar(select(func.count(Certificate.id))) == 1
    # Unknown courses and other people's completions give nothing.
    assert client.get("/my/certificates/nope").status_code == 404
    other = client.application.test_client()
    make_user(email="jonas@example.org")
    login(other, "jonas@example.org")
    assert other.get("/my/certificates/etika").status_code == 404
    assert (
        client.application.test_client().get("/my/certificates/etika").status_code == 302
    )  # sign in first


def test_verification_confirms_a_code_and_shows_nothing_more(
    client, session, make_org, make_user, make_course
):
    org = make_org("VLN-LIB", name="Vilniaus biblioteka")
    learner = make_user(org=org, email="private@example.org", name="Ona Žemaitė")
    course = make_course(slug="etika", title="Etika darbe")
    _complete(session, learner, course)
    certificate = services.certificate_for(session, learner, course)
    session.commit()
    response = client.get(f"/certificates/verify/{certificate.display_code.lower()}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "This certificate is valid" in page
    for shown in (
        "Ona Žemaitė",
        "Etika darbe",
        "Vilniaus biblioteka",
        str(certificate.completion.completed_at.year),
    ):
        assert shown in page
    for hidden in ("private@example.org", "VLN-LIB", "Progress", "quiz"):
        assert hidden not in page
    # The form: a code typed with spaces goes to its page.
    response = client.get(
        "/certificates/verify", query_string={"code": " " + certificate.display_code + " "}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(certificate.code)
    page = client.get("/certificates/verify").get_data(as_text=True)
    assert 'for="code"' in page and "Verify" in page


def test_unknown_or_malformed_codes_are_denied(client, session):
    for code in ("AAAA-BBBB-CCCC-DDDD", "nonsense", "x" * 300):
        response = client.get(f"/certificates/verify/{code}")
        assert response.status_code == 404
        assert "No certificate has this code" in response.get_data(as_text=True)
    response = client.get("/certificates/verify", query_string={"code": "not a code"})
    assert response.status_code == 404 and "No certificate has this code" in response.get_data(
        as_text=True
    )
    response = client.get("/certificates/verify", query_string={"code": ""})
    assert "This field is required" in response.get_data(as_text=True)


def test_recurring_training_gets_one_certificate_per_completion(session, make_user, make_course):
    learner = make_user()
    course = make_course(validity_months=12)
    _complete(session, learner, course)
    first = services.certificate_for(session, learner, course)
    assert services.certificate_for(session, learner, course).id == first.id
    from vle.learning.models import Completion

    session.add(
        Completion(
            user_id=learner.id,
            course_id=course.id,
            completed_at=first.completion.completed_at.replace(
                year=first.completion.completed_at.year + 1
            ),
        )
    )
    session.commit()
    second = services.certificate_for(session, learner, course)
    assert second.id != first.id and second.code != first.code
    assert [c.id for c in services.certificates_of(session, learner)] == [first.id, second.id]
