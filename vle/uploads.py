"""Uploaded files: what vle accepts, decided by content, and where it keeps them.

A bottom floor like vle/sanitize.py: no request, no database. The editor's file
items (vle/authoring/files.py) and the course zip (import and export) use it.

What a file IS is read from its bytes (magic numbers, the zip's central
directory), never from its name: a `.pdf` holding HTML is refused. The name's
extension only tells apart what content alone cannot (CSV from plain text;
`.jpg` from `.jpeg`), and never makes a file allowed. Anything not in `ALLOWED`
is refused: executables, HTML and SVG (a browser would run their scripts),
archives other than office documents; and so is a name that claims another
allowed kind than the content is (a `.pdf` holding text).

Stored files are content-addressed: `<instance>/uploads/<sha[:2]>/<sha256>`, so
the same bytes are kept once and a name can never reach outside the folder.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import unicodedata
import zipfile
from pathlib import Path

from flask_babel import gettext as _
from PIL import Image

from vle.errors import Invalid

# Media type -> the extensions a file of that type may carry (the first is the usual one).
ALLOWED: dict[str, tuple[str, ...]] = {
    "application/pdf": ("pdf",),
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg"),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
    "audio/mpeg": ("mp3",),
    "audio/mp4": ("m4a",),
    "video/mp4": ("mp4", "m4v"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("pptx",),
    "application/vnd.oasis.opendocument.text": ("odt",),
    "application/vnd.oasis.opendocument.spreadsheet": ("ods",),
    "application/vnd.oasis.opendocument.presentation": ("odp",),
    "text/plain": ("txt", "md", "text"),
    "text/csv": ("csv",),
}

# What a person reads in a refusal: the kinds of file allowed.
ALLOWED_DESCRIPTION = (
    "PDF, PNG, JPEG, GIF, WebP, MP3, MP4, M4A, DOCX, XLSX, PPTX, ODT, ODS, ODP, TXT, CSV"
)

_SHA256 = re.compile(r"[0-9a-f]{64}")

# ISO base media brands that are MP4 audio or video (not QuickTime, HEIF, AVIF, 3GP).
_MP4_VIDEO_BRANDS = frozenset(
    {
        b"isom",
        b"iso2",
        b"iso3",
        b"iso4",
        b"iso5",
        b"iso6",
        b"mp41",
        b"mp42",
        b"avc1",
        b"M4V ",
        b"dash",
    }
)
_MP4_AUDIO_BRANDS = frozenset({b"M4A ", b"M4B "})

_OOXML = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_ODF = frozenset(
    {
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
    }
)

# Text a browser would take for markup (HTML, SVG, XML) if it ever sniffed it.
_MARKUP = re.compile(rb"<\s*(!doctype|html|head|body|script|svg|iframe|object|embed|\?xml)", re.I)
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class UploadRefused(Invalid):
    """The file is not accepted; `.message` says why, in the reader's language."""


def megabytes(max_bytes: int) -> str:
    """The limit as a person reads it: "50 MB"."""
    mb = max_bytes / (1024 * 1024)
    return f"{mb:.0f} MB" if mb >= 1 else f"{max_bytes / 1024:.0f} KB"


def _name_extension(name: str) -> str:
    base = re.split(r"[\\/]", name or "")[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def _zip_type(data: bytes) -> str | None:
    """An office document's type from its central directory (nothing extracted
    but ODF's tiny `mimetype` entry), or None for any other zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if not entries:
                return None
            first = entries[0]
            if first.filename == "mimetype" and first.file_size <= 100:
                mimetype = archive.read(first).decode("ascii", "replace").strip()
                return mimetype if mimetype in _ODF else None
            names = [entry.filename for entry in entries]
            if "[Content_Types].xml" not in names:
                return None
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                return None  # macros: .docm and the like are not accepted
            for prefix, media_type in _OOXML.items():
                if any(name.startswith(prefix) for name in names):
                    return media_type
            return None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, NotImplementedError):
        return None


def _is_mp3(data: bytes) -> bool:
    if data.startswith(b"ID3") and len(data) >= 10:
        return True
    # An MPEG audio layer III frame header: 11 sync bits, layer bits 01, bitrate not 1111.
    return (
        len(data) >= 4
        and data[0] == 0xFF
        and (data[1] & 0xE6) == 0xE2
        and (data[2] >> 4) != 0xF
        and ((data[2] >> 2) & 0x3) != 0x3
    )


def _text_type(data: bytes, extension: str) -> str | None:
    """text/csv or text/plain for UTF-8 text without control characters or markup."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if _TEXT_CONTROL.search(text) or _MARKUP.search(data[:4096]):
        return None
    return "text/csv" if extension == "csv" else "text/plain"


def detect(data: bytes, name: str = "") -> str | None:
    """The media type of `data` by its content, or None when it is not one vle accepts."""
    head = data[:64]
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _MP4_AUDIO_BRANDS:
            return "audio/mp4"
        if brand in _MP4_VIDEO_BRANDS:
            return "video/mp4"
        return None
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(data)
    if _is_mp3(head):
        return "audio/mpeg"
    return _text_type(data, _name_extension(name))


def check_file(name: str, data: bytes, max_bytes: int) -> tuple[str, str]:
    """(media type, extension without dot) decided by CONTENT (magic bytes,
    structure), never the name; UploadRefused when too large, empty, or not an
    allowed type. The name's extension is used only to tell apart types the
    content alone cannot (.csv from .txt, .jpeg from .jpg), never to allow."""
    if not data:
        raise UploadRefused(_("The file is empty."))
    if len(data) > max_bytes:
        raise UploadRefused(
            _("The file is too large: at most %(limit)s is allowed.", limit=megabytes(max_bytes))
        )
    media_type = detect(data, name)
    if media_type is None:
        raise UploadRefused(
            _(
                "This kind of file is not accepted. Allowed: %(kinds)s.",
                kinds=ALLOWED_DESCRIPTION,
            )
        )
    extensions = ALLOWED[media_type]
    extension = _name_extension(name)
    if extension in _all_extensions() and extension not in extensions:
        # A name that claims another allowed kind (a .pdf holding text, a
        # .docx holding a PNG): a disguise or a mistake, refused either way.
        raise UploadRefused(
            _(
                "The file's name ends in .%(extension)s, but its content is not that kind of file.",
                extension=extension,
            )
        )
    return media_type, extension if extension in extensions else extensions[0]


# What may be printed as an image (an organisation's logo and signature on certificates).
IMAGE_TYPES = ("image/png", "image/jpeg")
IMAGE_MAX_PIXELS = 25_000_000  # read from the header before decoding: no memory bomb


def check_image(name: str, data: bytes, max_bytes: int) -> str:
    """The media type of a PNG or JPEG image (`check_file`'s rules, by content),
    decoded whole: a damaged or truncated image is refused here, so that nothing
    that prints it later (a certificate PDF) fails on it. UploadRefused otherwise."""
    media_type, _extension = check_file(name, data, max_bytes)
    if media_type not in IMAGE_TYPES:
        raise UploadRefused(_("Only a PNG or JPEG image is accepted."))
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > IMAGE_MAX_PIXELS:
                raise UploadRefused(_("The image is too large: at most 25 megapixels."))
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise UploadRefused(_("The image cannot be read: it may be damaged.")) from None
    return media_type


def uploads_folder(instance_path: str | os.PathLike[str]) -> Path:
    return Path(instance_path) / "uploads"


def stored_path(instance_path: str | os.PathLike[str], sha256: str) -> Path:
    """Where the file with this sha256 is kept. ValueError unless `sha256` is 64
    lower-case hex characters, so no name can reach outside the uploads folder."""
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise ValueError("not a sha256")
    return uploads_folder(instance_path) / sha256[:2] / sha256


def store(instance_path: str | os.PathLike[str], data: bytes) -> str:
    """Write the bytes content-addressed to <instance>/uploads/<sha[:2]>/<sha256>
    (atomically: a temporary file, then os.replace; idempotent) and return the
    sha256 hex."""
    sha256 = hashlib.sha256(data).hexdigest()
    path = stored_path(instance_path, sha256)
    if path.is_file() and path.stat().st_size == len(data):
        return sha256
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return sha256


def read(instance_path: str | os.PathLike[str], sha256: str) -> bytes:
    """The stored bytes (FileNotFoundError when they are not there)."""
    return stored_path(instance_path, sha256).read_bytes()


_UNSAFE = re.compile(r"[^\w .()+,=@\[\]-]")


def safe_name(name: str, extension: str) -> str:
    """A download name: the base name only, no path parts, no control characters
    or quotes, folded to a safe set (letters and digits of any script, space and
    `_ . ( ) + , = @ [ ] -`), at most 100 characters, ending in .<extension>."""
    extension = re.sub(r"[^a-z0-9]", "", (extension or "").lower())[:10] or "bin"
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    if "." in base:
        stem, old = base.rsplit(".", 1)
        if old.lower() in {extension, *_all_extensions()}:
            base = stem
    base = re.sub("[\"'`\u2018\u2019\u201c\u201d]", "", base)
    base = _UNSAFE.sub("_", base)
    base = re.sub(r"\s+", " ", base)
    base = re.sub(r"_+", "_", base).strip(" ._-")
    base = base[: 100 - len(extension) - 1].rstrip(" ._-")
    return f"{base or 'file'}.{extension}"


def _all_extensions() -> set[str]:
    return {extension for extensions in ALLOWED.values() for extension in extensions}
