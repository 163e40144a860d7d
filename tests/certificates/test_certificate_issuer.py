"""The certificate states the course's length, who issues it (name, logo,
signature, signatory) and carries its verification address as a QR code."""

from __future__ import annotations

import io
import re

import pypdf
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from tests.certificates.test_certificates import _complete, pdf_text
from tests.conftest import csrf_token, login
from vle import uploads
from vle.certificates import services
from vle.certificates.models import Certificate
from vle.certificates.pdf import render_pdf


def _png(colour: str, size: tuple[int, int] = (120, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def _decoded_qr_codes(pdf: bytes) -> list[str]:
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    return [found.text for image in page.images for found in zxingcpp.read_barcodes(image.image)]


def test_the_pdf_states_hours_and_issuer_and_its_qr_code_is_the_verification_address(
    app, session, make_org, make_user, make_course
):
    app.config["BASE_URL"] = "https://mokymai.example.lt"
    issuer = make_org("NSA", name="Nacionalinė švietimo agentūra")
    issuer.logo = uploads.store(app.instance_path, _png("navy"))
    issuer.signature = uploads.store(app.instance_path, _png("black", (200, 60)))
    issuer.signatory = "Dr. Rūta Kazlauskienė"
    learner = make_user(name="Ona Petraitienė")
    course = make_course(title="Įtraukusis ugdymas")
    course.hours, course.issuer = 8.0, issuer
    _complete(session, learner, course)
    certificate = services.certificate_for(session, learner, course)
    session.commit()
    with app.test_request_context("/"):
        url = services.verify_url(certificate)
        pdf = render_pdf(certificate, url, compress=False)
    assert url == f"https://mokymai.example.lt/certificates/verify/{certificate.display_code}"
    text = pdf_text(pdf)
    assert "Length: 8 hours" in text
    assert "Issued by Nacionalinė švietimo agentūra" in text
    assert "Dr. Rūta Kazlauskienė" in text
    assert url in text
    assert _decoded_qr_codes(pdf) == [url]
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages[0].images) == 3  # logo, signature, QR


def test_without_hours_or_issuer_the_site_issues_and_no_length_is_stated(
    app, session, make_user, make_course
):
    app.config["SITE_NAME"] = "Mokymų tinklas"
    learner = make_user()
    course = make_course()
    _complete(session, learner, course)
    certificate = services.certificate_for(session, learner, course)
    with app.test_request_context("/"):
        pdf = render_pdf(certificate, services.verify_url(certificate), compress=False)
        assert services.length_words(1.5) == "1.5 hours"
        assert services.length_words(1) == "1 hour"
    text = pdf_text(pdf)
    assert "Length" not in text
    assert "Issued by Mokymų tinklas" in text
    assert len(_decoded_qr_codes(pdf)) == 1


def test_a_lost_image_file_costs_the_image_not_the_certificate(
    app, session, make_org, make_user, make_course
):
    issuer = make_org(name="Biblioteka")
    issuer.logo = "0" * 64  # stored once, since removed from the disk
    learner = make_user()
    course = make_course()
    course.issuer = issuer
    _complete(session, learner, course)
    certificate = services.certificate_for(session, learner, course)
    with app.test_request_context("/"):
        pdf = render_pdf(certificate, services.verify_url(certificate), compress=False)
    assert "Issued by Biblioteka" in pdf_text(pdf)


def test_the_verification_page_shows_hours_and_issuer(
    client, session, make_org, make_user, make_course
):
    issuer = make_org(name="Vilniaus kolegija")
    learner = make_user()
    course = make_course()
    course.hours, course.issuer = 1.5, issuer
    _complete(session, learner, course)
    certificate = services.certificate_for(session, learner, course)
    session.commit()
    page = client.get(f"/certificates/verify/{certificate.code}").get_data(as_text=True)
    assert "1.5 hours" in page and "Vilniaus kolegija" in page


@pytest.mark.parametrize(
    ("locale", "hours", "length", "issued_by"),
    [
        ("en", 1.5, "Length: 1.5 hours", "Issued by Kauno kolegija"),
        ("lt", 1.5, "Trukmė: 1,5 valandos", "Išdavė: Kauno kolegija"),
        ("lt", 8, "Trukmė: 8 valandos", "Išdavė: Kauno kolegija"),
        ("lt", 10, "Trukmė: 10 valandų", "Išdavė: Kauno kolegija"),
        ("pl", 1.5, "Czas trwania: 1,5 godziny", "Wystawca: Kauno kolegija"),
        ("pl", 8, "Czas trwania: 8 godzin", "Wystawca: Kauno kolegija"),
        ("nb", 1.5, "Varighet: 1,5 timer", "Utstedt av Kauno kolegija"),
        ("nb", 1, "Varighet: 1 time", "Utstedt av Kauno kolegija"),
    ],
)
def test_the_downloaded_certificate_states_hours_in_the_learners_language(
    app, client, session, make_org, make_user, make_course, locale, hours, length, issued_by
):
    """The PDF a learner downloads: its text read back by a PDF reader (pypdf), the
    length in their language's words and number format, the issuer, and a QR code
    that is the verification address on BASE_URL; the public page says the same."""
    app.config["BASE_URL"] = "https://mokymai.example.lt"
    learner = make_user(email="ona@example.org", name="Ona Petraitienė")
    learner.locale = locale
    course = make_course(slug="etika", title="Etika darbe")
    course.hours, course.issuer = hours, make_org("KVK", name="Kauno kolegija")
    _complete(session, learner, course)
    login(client, "ona@example.org")
    response = client.get("/my/certificates/etika")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = response.get_data()
    text = " ".join(pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert length in text and issued_by in text
    certificate = session.scalar(select(Certificate))
    url = f"https://mokymai.example.lt/certificates/verify/{certificate.display_code}"
    assert _decoded_qr_codes(pdf) == [url]
    client.post("/logout", data={"csrf_token": csrf_token(client, "/courses")})
    page = client.get(url.removeprefix("https://mokymai.example.lt"),
                      headers={"Accept-Language": locale})  # fmt: skip
    facts = " ".join(re.sub(r"<[^>]+>", " ", page.get_data(as_text=True)).split())
    value = length.split(": ", 1)[1]
    assert value in facts and "Kauno kolegija" in facts


def test_long_names_make_the_text_smaller_not_run_into_the_signature(
    app, session, make_org, make_user, make_course
):
    """A name, a title and an issuer at their longest: every word is still there, and
    the middle of the page ends above the signature image (50 mm from the bottom)."""
    issuer = make_org(
        "NSA",
        name="Lietuvos Respublikos švietimo, mokslo ir sporto ministerijos "
        "Nacionalinė švietimo agentūra, Kokybės vertinimo ir akreditavimo skyrius",
    )
    issuer.signature = uploads.store(app.instance_path, _png("black", (200, 60)))
    issuer.signatory = "Dr. Rūta Kazlauskienė"
    learner = make_user(name="Ona " + "Petraitienė-Kazlauskaitė-" * 7 + "Žemaitytė")
    course = make_course(title=("Ikimokyklinio ugdymo įstaigų bendradarbiavimas per sieną: "
                                "Lietuva, Lenkija, Latvija ir Estija " * 3).strip())  # fmt: skip
    course.hours, course.issuer = 40.0, issuer
    _complete(session, learner, course)
    certificate = services.certificate_for(session, learner, course)
    completion = certificate.completion
    completion.expires_at = completion.completed_at.replace(year=completion.completed_at.year + 2)
    session.commit()
    with app.test_request_context("/"):
        pdf = render_pdf(certificate, services.verify_url(certificate))
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    lowest: list[float] = []
    bottom_texts = ("Dr. Rūta", "Verification code", "Verify this certificate", "verify/")

    def note(text, cm, tm, font, size):
        if text.strip() and not any(text.strip().startswith(b) for b in bottom_texts):
            lowest.append(tm[5] * cm[3] + cm[5])  # the baseline, in points from the bottom

    page.extract_text(visitor_text=note)
    signature_top = 50 / 25.4 * 72
    assert lowest and min(lowest) > signature_top, (min(lowest), signature_top)
    letters = "".join(page.extract_text().split())  # a long word may wrap anywhere
    for part in ("Petraitienė-Kazlauskaitė-Žemaitytė", "Kokybės vertinimo ir akreditavimo skyrius",
                 "Length: 40 hours", "Dr. Rūta Kazlauskienė"):  # fmt: skip
        assert "".join(part.split()) in letters, part
