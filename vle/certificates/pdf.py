"""The certificate as a PDF (fpdf2), with an embedded Unicode font.

The font is Source Sans Pro, which the `font-source-sans-pro` package (a
dependency) ships: Lithuanian, Polish and Norwegian letters (ą č ę ė į š ų ū ž
ł ń ó ś ź ż æ ø å), the rest of Latin, Greek and Cyrillic. Letters it lacks
fall back to DejaVu Sans when the system has it (Debian: fonts-dejavu-core).
Were neither there, the PDF is still made, with the PDF core font Helvetica and
letters outside Latin-1 reduced to their base letter, rather than failing.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from pathlib import Path

from flask_babel import format_date
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from vle.certificates.models import Certificate

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


def font_files() -> dict[str, Path]:
    """Regular and bold TTF files of the certificate's font, the fallback font
    under "fallback" when present; empty when there is no Unicode font at all."""
    files: dict[str, Path] = {}
    try:
        import font_source_sans_pro

        folder = Path(font_source_sans_pro.font_directory)
        regular, bold = folder / "SourceSansPro-Regular.ttf", folder / "SourceSansPro-Bold.ttf"
        if regular.is_file() and bold.is_file():
            files.update(regular=regular, bold=bold)
    except ImportError:  # pragma: no cover - a dependency; see the module's docstring
        pass
    if (DEJAVU / "DejaVuSans.ttf").is_file():
        files.setdefault("regular", DEJAVU / "DejaVuSans.ttf")
        files.setdefault("bold", DEJAVU / "DejaVuSans-Bold.ttf")
        files["fallback"] = DEJAVU / "DejaVuSans.ttf"
    return files


def _latin1(text: str) -> str:
    """For the core-font fallback only: ą → a, ł → l, keeping what Latin-1 holds."""
    text = text.replace("ł", "l").replace("Ł", "L")
    out = []
    for char in text:
        try:
            char.encode("latin-1")
            out.append(char)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", char)[:1]
            out.append(base if base.isascii() else "?")
    return "".join(out)


class CertificatePDF(FPDF):
    def __init__(self, fonts: dict[str, Path] | None = None) -> None:
        super().__init__(orientation="landscape", unit="mm", format="A4")
        fonts = font_files() if fonts is None else fonts
        self.unicode = "regular" in fonts
        if self.unicode:
            self.add_font("cert", "", str(fonts["regular"]))
            self.add_font("cert", "B", str(fonts["bold"]))
            if "fallback" in fonts and fonts["fallback"] != fonts["regular"]:
                self.add_font("fallback", "", str(fonts["fallback"]))
                self.set_fallback_fonts(["fallback"])
            self.cert_family = "cert"
        else:
            self.cert_family = "helvetica"
        self.set_auto_page_break(False)

    def text_line(self, text: str, size: float, bold: bool = False, gap: float = 4) -> None:
        self.set_font(self.cert_family, "B" if bold else "", size)
        self.multi_cell(
            0,
            size * 0.5,
            text if self.unicode else _latin1(text),
            align=Align.C,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.ln(gap)


def certificate_lines(certificate: Certificate, verify_url: str) -> dict[str, str]:
    """What the certificate says, in the current language."""
    completed: datetime = certificate.completion.completed_at
    lines = {
        "title": _("Certificate of completion"),
        "intro": _("This certifies that"),
        "learner": certificate.user.name,
        "has_completed": _("has completed the course"),
        "course": certificate.course.title,
        "date": _("on %(date)s", date=format_date(completed, format="long")),
        "organisation": _(
            "Organisation: %(organisation)s", organisation=certificate.user.organisation.name
        ),
        "code": _("Verification code: %(code)s", code=certificate.display_code),
        "url": _("Verify this certificate at %(url)s", url=verify_url),
    }
    if certificate.completion.expires_at is not None:
        lines["valid_until"] = _(
            "Valid until %(date)s",
            date=format_date(certificate.completion.expires_at, format="long"),
        )
    return lines


def render_pdf(
    certificate: Certificate,
    verify_url: str,
    compress: bool = True,
    fonts: dict[str, Path] | None = None,
) -> bytes:
    """The certificate as PDF bytes (A4 landscape)."""
    lines = certificate_lines(certificate, verify_url)
    pdf = CertificatePDF(fonts)
    pdf.set_compression(compress)
    pdf.set_title(f"{lines['title']}: {lines['course']}")
    pdf.set_author("vle")
    pdf.set_subject(lines["learner"])
    pdf.set_creation_date(certificate.issued_at)
    pdf.add_page()
    pdf.set_line_width(1.2)
    pdf.set_draw_color(11, 79, 156)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_line_width(0.3)
    pdf.rect(14, 14, pdf.w - 28, pdf.h - 28)
    pdf.set_margins(30, 30, 30)
    pdf.set_y(34)
    pdf.set_text_color(11, 79, 156)
    pdf.text_line(lines["title"], 30, bold=True, gap=10)
    pdf.set_text_color(27, 27, 27)
    pdf.text_line(lines["intro"], 14)
    pdf.text_line(lines["learner"], 26, bold=True, gap=6)
    pdf.text_line(lines["has_completed"], 14)
    pdf.text_line(lines["course"], 20, bold=True, gap=6)
    pdf.text_line(lines["date"], 14, gap=2)
    if "valid_until" in lines:
        pdf.text_line(lines["valid_until"], 12, gap=2)
    pdf.text_line(lines["organisation"], 14)
    pdf.set_y(pdf.h - 42)
    pdf.set_text_color(74, 74, 74)
    pdf.text_line(lines["code"], 12, bold=True, gap=1)
    pdf.text_line(lines["url"], 10, gap=0)
    return bytes(pdf.output())
