"""The certificate as a PDF (fpdf2), with an embedded Unicode font.

The font is Source Sans Pro, which the `font-source-sans-pro` package (a
dependency) ships: Lithuanian, Polish and Norwegian letters (ą č ę ė į š ų ū ž
ł ń ó ś ź ż æ ø å), the rest of Latin, Greek and Cyrillic. Letters it lacks
fall back to DejaVu Sans when the system has it (Debian: fonts-dejavu-core).
Were neither there, the PDF is still made, with the PDF core font Helvetica and
letters outside Latin-1 reduced to their base letter, rather than failing.
"""

from __future__ import annotations

import io
import unicodedata
from datetime import datetime
from pathlib import Path

import segno
from flask import current_app, has_app_context
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.enums import Align, MethodReturnValue, XPos, YPos

from vle import uploads
from vle.certificates.models import Certificate
from vle.certificates.services import issuer_name, length_words, site_name
from vle.formats import format_date

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

    def fitting_scale(self, block: list[tuple[str, int, bool, int]], height: float) -> float:
        """The largest scale (at most 1, at least 0.5) at which the lines of `block`
        — (text, size, bold, gap below) — take at most `height` mm, wrapped as
        `text_line` wraps them."""
        scale = 1.0
        while scale > 0.5:
            needed = 0.0
            for text, size, bold, gap in block:
                self.set_font(self.cert_family, "B" if bold else "", size * scale)
                wrapped = self.multi_cell(
                    0,
                    size * scale * 0.5,
                    text if self.unicode else _latin1(text),
                    align=Align.C,
                    dry_run=True,
                    output=MethodReturnValue.LINES,
                )
                count = len(wrapped) if isinstance(wrapped, list) else 1
                needed += count * size * scale * 0.5 + gap * scale
            if needed <= height:
                break
            scale -= 0.05
        return max(scale, 0.5)


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
        "issuer": _("Issued by %(issuer)s", issuer=issuer_name(certificate.course)),
        "code": _("Verification code: %(code)s", code=certificate.display_code),
        "url": _("Verify this certificate at %(url)s", url=verify_url),
    }
    if certificate.course.hours is not None:
        lines["length"] = _("Length: %(length)s", length=length_words(certificate.course.hours))
    issuer = certificate.course.issuer
    if issuer is not None and issuer.signatory:
        lines["signatory"] = issuer.signatory
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
    pdf.set_author(site_name())
    pdf.set_subject(lines["learner"])
    pdf.set_creation_date(certificate.issued_at)
    pdf.add_page()
    pdf.set_line_width(1.2)
    pdf.set_draw_color(11, 79, 156)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_line_width(0.3)
    pdf.rect(14, 14, pdf.w - 28, pdf.h - 28)
    pdf.set_margins(30, 30, 30)
    issuer = certificate.course.issuer
    logo = _stored_image(issuer.logo if issuer else None)
    if logo is not None:
        pdf.image(
            logo,
            x=22,
            y=20,
            w=50,
            h=20,
            keep_aspect_ratio=True,
            alt_text=issuer_name(certificate.course),
        )
    signature = _stored_image(issuer.signature if issuer else None)
    # (key, size, bold, gap below): the middle of the page, top to bottom.
    block = [
        ("title", 30, True, 8), ("intro", 14, False, 3), ("learner", 26, True, 5),
        ("has_completed", 14, False, 3), ("course", 20, True, 4), ("length", 13, False, 2),
        ("date", 14, False, 2), ("valid_until", 12, False, 2), ("organisation", 14, False, 2),
        ("issuer", 14, False, 0),
    ]  # fmt: skip
    block = [(lines[key], size, bold, gap) for key, size, bold, gap in block if key in lines]
    # It ends above the signature (bottom left) and the code (bottom right): a long
    # name, title or issuer makes the whole block smaller rather than run into them.
    bottom = pdf.h - (51 if signature is not None or "signatory" in lines else 41)
    scale = pdf.fitting_scale(block, bottom - 34)
    pdf.set_y(34)
    pdf.set_text_color(11, 79, 156)
    for number, (text, size, bold, gap) in enumerate(block):
        pdf.text_line(text, size * scale, bold=bold, gap=gap * scale)
        if number == 0:
            pdf.set_text_color(27, 27, 27)
    _signature_block(pdf, lines, signature)
    # The verification address as a QR code in the bottom right corner, the code
    # and the address in words to its left.
    qr_size = 26
    pdf.image(
        _qr_png(verify_url),
        x=pdf.w - 18 - qr_size,
        y=pdf.h - 18 - qr_size,
        w=qr_size,
        h=qr_size,
        alt_text=lines["url"],
    )
    pdf.set_margins(110, 30, 22 + qr_size)
    pdf.set_y(pdf.h - 40)
    pdf.set_text_color(74, 74, 74)
    pdf.text_line(lines["code"], 12, bold=True, gap=1)
    pdf.text_line(lines["url"], 9, gap=0)
    return bytes(pdf.output())


def _signature_block(
    pdf: CertificatePDF, lines: dict[str, str], signature: io.BytesIO | None
) -> None:
    """Bottom left: the signature image over a line, the signatory's name under it."""
    if signature is None and "signatory" not in lines:
        return
    left, width = 24.0, 80.0
    if signature is not None:
        pdf.image(signature, x=left, y=pdf.h - 50, w=width, h=14, keep_aspect_ratio=True,
                  alt_text=lines.get("signatory", ""))  # fmt: skip
    pdf.set_draw_color(74, 74, 74)
    pdf.set_line_width(0.3)
    pdf.line(left, pdf.h - 35, left + width, pdf.h - 35)
    if "signatory" in lines:
        pdf.set_margins(left, 30, pdf.w - left - width)
        pdf.set_y(pdf.h - 33)
        pdf.set_text_color(27, 27, 27)
        pdf.text_line(lines["signatory"], 11, gap=0)


def _stored_image(sha256: str | None) -> io.BytesIO | None:
    """An organisation's stored image (vle/uploads.py); None when it has none or
    the file is gone, so a lost file costs the image, never the certificate."""
    if not sha256 or not has_app_context():
        return None
    try:
        return io.BytesIO(uploads.read(current_app.instance_path, sha256))
    except (OSError, ValueError):
        return None


def _qr_png(url: str) -> io.BytesIO:
    """The address as a QR code (PNG, black on white, with its quiet zone)."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=8, border=4)
    out.seek(0)
    return out
