"""vle/uploads.py: what a file is, read from its content (never its name),
what is refused and why, and where accepted files are kept."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest

from vle import uploads
from vle.uploads import UploadRefused, check_file, safe_name, store, stored_path

MB = 1024 * 1024

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00;"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
MP3_ID3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + bytes(100)
MP3_FRAME = b"\xff\xfb\x90\x64" + bytes(417)
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free"
M4A = b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00M4A mp42" + b"\x00\x00\x00\x08free"


def _zip(entries: list[tuple[str, bytes]], stored_first: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, data) in enumerate(entries):
            kind = zipfile.ZIP_STORED if stored_first and index == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=kind)
    return out.getvalue()


def _ooxml(folder: str, main: str) -> bytes:
    return _zip(
        [
            ("[Content_Types].xml", b'<?xml version="1.0"?><Types/>'),
            ("_rels/.rels", b'<?xml version="1.0"?><Relationships/>'),
            (f"{folder}/{main}", b'<?xml version="1.0"?><document/>'),
        ]
    )


def _odf(kind: str) -> bytes:
    return _zip(
        [
            ("mimetype", f"application/vnd.oasis.opendocument.{kind}".encode()),
            ("content.xml", b'<?xml version="1.0"?><office:document-content/>'),
            ("META-INF/manifest.xml", b'<?xml version="1.0"?><manifest/>'),
        ],
        stored_first=True,
    )


ACCEPTED = [
    ("notes.pdf", PDF, "application/pdf", "pdf"),
    ("picture.png", PNG, "image/png", "png"),
    ("photo.jpeg", JPEG, "image/jpeg", "jpeg"),
    ("photo.JPG", JPEG, "image/jpeg", "jpg"),
    ("anim.gif", GIF, "image/gif", "gif"),
    ("image.webp", WEBP, "image/webp", "webp"),
    ("song.mp3", MP3_ID3, "audio/mpeg", "mp3"),
    ("raw.mp3", MP3_FRAME, "audio/mpeg", "mp3"),
    ("film.mp4", MP4, "video/mp4", "mp4"),
    ("talk.m4a", M4A, "audio/mp4", "m4a"),
    (
        "letter.docx",
        _ooxml("word", "document.xml"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
    ),
    (
        "table.xlsx",
        _ooxml("xl", "workbook.xml"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
    ),
    (
        "slides.pptx",
        _ooxml("ppt", "presentation.xml"),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "pptx",
    ),
    ("letter.odt", _odf("text"), "application/vnd.oasis.opendocument.text", "odt"),
    ("table.ods", _odf("spreadsheet"), "application/vnd.oasis.opendocument.spreadsheet", "ods"),
    ("slides.odp", _odf("presentation"), "application/vnd.oasis.opendocument.presentation", "odp"),
    (
        "readme.txt",
        "Labas, pasauli! Ąčęėįšųūž\nLine two\twith a tab.\n".encode(),
        "text/plain",
        "txt",
    ),
    ("people.csv", b"name,score\r\nAna,3\r\n", "text/csv", "csv"),
]


@pytest.mark.parametrize(("name", "data", "media_type", "extension"), ACCEPTED)
def test_each_allowed_type_is_recognised_by_its_content(name, data, media_type, extension):
    assert check_file(name, data, MB) == (media_type, extension)


def test_the_name_never_decides_the_type_only_the_content():
    # No name, or one that is no allowed kind: the content says what it is.
    assert check_file("", PDF, MB) == ("application/pdf", "pdf")
    assert check_file("scan", PNG, MB) == ("image/png", "png")
    assert check_file("notes.log", b"a line\n", MB) == ("text/plain", "txt")
    # Text: the name's .csv tells CSV from plain text; any other name is plain text.
    assert check_file("list.csv", b"a,b\n", MB) == ("text/csv", "csv")
    assert check_file("list.txt", b"a,b\n", MB) == ("text/plain", "txt")


def _refusal(name: str, data: bytes, limit: int = MB) -> str:
    with pytest.raises(UploadRefused) as refused:
        check_file(name, data, limit)
    assert refused.value.status == 422
    return refused.value.message


def test_a_file_over_the_limit_is_refused_naming_the_limit():
    message = _refusal("big.pdf", PDF + bytes(2 * MB), limit=2 * MB)
    assert "too large" in message and "2 MB" in message


def test_an_empty_file_is_refused():
    assert "empty" in _refusal("nothing.pdf", b"")


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(64)),
        ("program", b"\x7fELF\x02\x01\x01\x00" + bytes(64)),
        ("page.html", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),
        ("page.txt", b"  <html><body>hello</body></html>"),
        ("notes.txt", b"Some notes\n<script>steal()</script>\n"),
        ("icon.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>'),
        ("icon.svg", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>'),
        ("report", b"Text with a NUL\x00 after all."),
        ("archive.zip", _zip([("a.txt", b"hello"), ("b.txt", b"world")])),
        ("fake.docx", _zip([("word/document.xml", b"<w/>")])),
        (
            "macros.docx",
            _zip(
                [
                    ("[Content_Types].xml", b"<Types/>"),
                    ("word/document.xml", b"<w/>"),
                    ("word/vbaProject.bin", b"\x00\x01"),
                ]
            ),
        ),
        ("odd.odt", _zip([("mimetype", b"application/x-evil")], stored_first=True)),
        ("broken.docx", b"PK\x03\x04" + bytes(40)),
        ("text.txt", b"a NUL\x00inside"),
        ("text.txt", b"a bell \x07 inside"),
        ("latin1.txt", "Za\u017c\u00f3\u0142\u0107".encode("cp1250")),
        ("movie.mov", b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  "),
    ],
)
def test_anything_else_is_refused(name, data):
    message = _refusal(name, data)
    assert "not accepted" in message and "PDF" in message


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("report.pdf", b"This is only text claiming to be a PDF."),
        ("report.pdf", PNG),
        ("letter.docx", PDF),
        ("data.csv", PDF),
        ("photo.jpg", PNG),
        ("song.mp3", b"plain text"),
    ],
)
def test_a_name_claiming_another_kind_than_the_content_is_refused(name, data):
    message = _refusal(name, data)
    assert "." + name.rsplit(".", 1)[1] in message and "not that kind of file" in message


def test_store_keeps_the_bytes_content_addressed_once(tmp_path):
    sha = store(tmp_path, PDF)
    assert sha == hashlib.sha256(PDF).hexdigest()
    path = stored_path(tmp_path, sha)
    assert path == tmp_path / "uploads" / sha[:2] / sha
    assert path.read_bytes() == PDF
    assert store(tmp_path, PDF) == sha  # idempotent
    # Nothing else left beside it (no temporary files).
    assert [p.name for p in (tmp_path / "uploads").rglob("*") if p.is_file()] == [sha]
    assert uploads.read(tmp_path, sha) == PDF


@pytest.mark.parametrize(
    "trick",
    [
        "../" * 5 + "etc/passwd",
        "../uploads/" + "a" * 54,
        "/etc/passwd",
        "A" * 64,  # upper case is not how vle writes them
        "a" * 63,
        "a" * 65,
        "g" * 64,
        "a" * 63 + "\n",
        "",
    ],
)
def test_stored_path_takes_nothing_but_a_sha256(tmp_path, trick):
    with pytest.raises(ValueError):
        stored_path(tmp_path, trick)


@pytest.mark.parametrize(
    ("name", "extension", "expected"),
    [
        ("report.pdf", "pdf", "report.pdf"),
        ("C:\\Users\\ana\\Desktop\\report.PDF", "pdf", "report.pdf"),
        ("../../etc/passwd", "txt", "passwd.txt"),
        ('say "hello".txt', "txt", "say hello.txt"),
        ("line\nbreak\x00.pdf", "pdf", "line_break.pdf"),
        ("Įvadas į darbą.pdf", "pdf", "Įvadas į darbą.pdf"),
        ("notes.md", "txt", "notes.txt"),
        ("photo.jpg", "jpeg", "photo.jpeg"),
        ("archive.tar.gz", "pdf", "archive.tar.gz.pdf"),
        ("", "pdf", "file.pdf"),
        (".hidden", "txt", "hidden.txt"),
        ("<script>.pdf", "pdf", "script.pdf"),
    ],
)
def test_safe_name(name, extension, expected):
    assert safe_name(name, extension) == expected


def test_safe_name_is_at_most_100_characters_and_keeps_its_extension():
    name = safe_name("x" * 500 + ".docx", "docx")
    assert len(name) == 100 and name.endswith(".docx")
