"""A course as a .zip: Download as .zip and Upload .zip (PRODUCT.md, "Authoring").

The zip carries exactly the courses/ layout that `vle courses export` writes,
in one top folder named by the course's slug (the course's competency
frameworks are the network's and stay out). An uploaded zip holds one course:
`course.yaml` inside one top folder named by the slug, or at the zip's root,
when the slug is the zip's file name folded to a slug ("Ethics 2026.zip" is
`ethics-2026`).

An upload is checked in this order, and nothing changes when any check fails:
1. the zip's central directory, before a byte is extracted (`safe_entries`):
   no absolute paths, drive letters, backslashes or `..`; only regular files
   and folders (no symbolic links); no encryption; at most MAX_ENTRIES entries;
   at most the upload limit uncompressed, and no entry compressed more than
   MAX_RATIO times (a zip bomb);
2. the course, read and checked exactly as `vle courses import` does
   (`library.check_paths`), every problem named by its path inside the zip;
3. a known slug: only someone who may edit that course updates it, after a
   summary of what will change (`summary`) and a confirmation.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import stat
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from vle.accounts.models import User
from vle.authoring import editing
from vle.catalog.models import Course, Module
from vle.errors import Forbidden, Invalid, NotFound
from vle.learning.models import ItemProgress
from vle.library import services as library
from vle.library.reader import ItemSpec

MAX_ENTRIES = 5_000  # files and folders in one zip: a course, not a million tiny files
MAX_RATIO = 100  # uncompressed / compressed size of one entry above which it is a zip bomb
RATIO_FLOOR = 1024 * 1024  # entries smaller than this are not judged by their ratio
CONFIRM_MAX_AGE = 3600  # seconds an uploaded zip waits for its confirmation
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the same bytes for the same course
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_IGNORED = ("__MACOSX/",)  # what macOS's Finder adds to every zip it makes


class ZipRefused(Invalid):
    """The zip is refused as a whole; `.message` names the entry and the reason."""


class UploadInvalid(Invalid):
    """The course in the zip has problems: `errors`, each "path:line: reason",
    the path inside the zip."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


# --------------------------------------------------------------------------- download


def course_zip(
    db_session: Session, course: Course, instance_path: str | os.PathLike[str]
) -> IO[bytes]:
    """The course as a zip (a temporary file, at its start): the folder
    `vle courses export` writes, under one top folder named by the slug."""
    out = tempfile.TemporaryFile()
    try:
        _write_zip(db_session, course, instance_path, out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def _write_zip(
    db_session: Session, course: Course, instance_path: str | os.PathLike[str], out: IO[bytes]
) -> None:
    with tempfile.TemporaryDirectory(prefix="vle-zip-") as work:
        folder = library.export_course(
            db_session, course.slug, Path(work) / course.slug, instance_path
        )
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                name = f"{course.slug}/{path.relative_to(folder).as_posix()}"
                if path.is_dir():
                    info = zipfile.ZipInfo(f"{name}/", _FIXED_TIME)
                    info.external_attr = (stat.S_IFDIR | 0o755) << 16
                    archive.writestr(info, b"")
                else:
                    info = zipfile.ZipInfo(name, _FIXED_TIME)
                    info.external_attr = (stat.S_IFREG | 0o644) << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    archive.writestr(info, path.read_bytes())


# --------------------------------------------------------------------------- upload: the zip


def slug_from_filename(filename: str) -> str:
    """A zip's file name folded to a slug: "Etika 2026 (1).zip" -> "etika-2026-1"."""
    base = re.split(r"[\\/]", filename or "")[-1]
    if base.lower().endswith(".zip"):
        base = base[:-4]
    return editing.slug_from_title(base, "")


def _ignored(name: str) -> bool:
    return name.startswith(_IGNORED) or name.rsplit("/", 1)[-1] == ".DS_Store"


def safe_entries(archive: zipfile.ZipFile, max_bytes: int) -> list[zipfile.ZipInfo]:
    """The zip's entries, every one checked from the central directory alone;
    ZipRefused naming the first entry refused and why."""
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        raise ZipRefused(
            _(
                "The zip holds %(count)d files and folders; a course zip may hold at most %(max)d.",
                count=len(entries),
                max=MAX_ENTRIES,
            )
        )
    total = 0
    seen: set[str] = set()
    kept = []
    for info in entries:
        name = info.filename
        shown = _CONTROL.sub("?", name)[:200]
        if _CONTROL.search(name):
            raise ZipRefused(_("“%(name)s”: a name with control characters.", name=shown))
        if "\\" in name or "\\" in info.orig_filename:
            raise ZipRefused(_("“%(name)s”: a path with backslashes.", name=shown))
        if name.startswith("/") or _DRIVE.match(name):
            raise ZipRefused(_("“%(name)s”: an absolute path.", name=shown))
        parts = name.rstrip("/").split("/")
        if ".." in parts:
            raise ZipRefused(_("“%(name)s”: a path that leaves the folder (..).", name=shown))
        if any(part in ("", ".") for part in parts):
            raise ZipRefused(_("“%(name)s”: an empty part in the path.", name=shown))
        mode = info.external_attr >> 16
        kind = stat.S_IFMT(mode)
        if kind == stat.S_IFLNK:
            raise ZipRefused(_("“%(name)s”: a symbolic link.", name=shown))
        if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
            raise ZipRefused(_("“%(name)s”: neither a file nor a folder.", name=shown))
        if info.flag_bits & 0x1:
            raise ZipRefused(_("“%(name)s”: encrypted.", name=shown))
        if info.compress_type not in (
            zipfile.ZIP_STORED,
            zipfile.ZIP_DEFLATED,
            zipfile.ZIP_BZIP2,
            zipfile.ZIP_LZMA,
        ):
            raise ZipRefused(_("“%(name)s”: an unknown compression method.", name=shown))
        folded = name.rstrip("/").lower()
        if folded in seen:
            raise ZipRefused(_("“%(name)s”: in the zip twice.", name=shown))
        seen.add(folded)
        total += info.file_size
        if total > max_bytes:
            raise ZipRefused(
                _(
                    "The zip unpacks to more than %(limit)s.",
                    limit=_megabytes(max_bytes),
                )
            )
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ZipRefused(
                _(
                    "“%(name)s”: compressed %(ratio)d times, which no course file is (a zip bomb?).",
                    name=shown,
                    ratio=info.file_size // max(info.compress_size, 1),
                )
            )
        if not _ignored(name):
            kept.append(info)
    return kept


def _megabytes(max_bytes: int) -> str:
    mb = max_bytes / (1024 * 1024)
    return f"{mb:.0f} MB" if mb >= 1 else f"{max_bytes / 1024:.0f} KB"


@dataclass
class Unpacked:
    """A zip's course, extracted: its folder (named by the slug) and how to
    name its files as they are in the zip."""

    slug: str
    folder: Path
    prefix: str  # what a path in the zip starts with: "slug/" or ""
    filename: str

    def in_zip(self, error: str) -> str:
        """An error of the library's reader, its paths as they are in the zip."""
        error = error.replace(f"{self.folder}{os.sep}", self.prefix)
        return error.replace(str(self.folder), self.prefix.rstrip("/") or self.filename)


def unpack(zip_path: Path, filename: str, max_bytes: int, work: Path) -> Unpacked:
    """Check the zip and extract its course into `work`/<slug>."""
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise ZipRefused(_("This is not a .zip file.")) from None
    with archive:
        entries = safe_entries(archive, max_bytes)
        names = [info.filename for info in entries]
        tops = {name.split("/", 1)[0] for name in names}
        if "course.yaml" in names:
            slug = slug_from_filename(filename)
            if not slug:
                raise ZipRefused(
                    _("The zip's name gives no course address: name it after the course.")
                )
            prefix = ""
        elif len(tops) == 1 and f"{next(iter(tops))}/course.yaml" in names:
            slug = next(iter(tops))
            prefix = f"{slug}/"
        else:
            raise ZipRefused(
                _(
                    "The zip holds no course: put course.yaml at its root or in one folder "
                    "named by the course's address."
                )
            )
        folder = work / slug
        folder.mkdir(parents=True)
        for info in entries:
            relative = info.filename[len(prefix) :]
            if not relative:
                continue
            target = folder / relative
            try:
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):  # a file where a folder must be
                raise ZipRefused(
                    _("“%(name)s”: a file and a folder of the same name.", name=info.filename)
                ) from None
            except OSError:  # a name too long for the disk, say
                raise ZipRefused(_("“%(name)s”: cannot be unpacked.", name=info.filename)) from None
            _extract(archive, info, target)
    return Unpacked(slug=slug, folder=folder, prefix=prefix, filename=filename)


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    """One entry, never more bytes than its header declared (a lying header
    is refused rather than trusted)."""
    written = 0
    try:
        with archive.open(info) as source, target.open("wb") as out:
            while chunk := source.read(1024 * 1024):
                written += len(chunk)
                if written > info.file_size:
                    raise ZipRefused(_("“%(name)s”: larger than the zip says.", name=info.filename))
                out.write(chunk)
    except IsADirectoryError:
        raise ZipRefused(
            _("“%(name)s”: a file and a folder of the same name.", name=info.filename)
        ) from None
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
        raise ZipRefused(_("“%(name)s”: cannot be unpacked.", name=info.filename)) from None


# --------------------------------------------------------------------------- upload: the course


@dataclass
class Summary:
    """What an upload changes in a known course."""

    settings: list[str] = field(default_factory=list)  # course.yaml keys that change
    modules_added: list[str] = field(default_factory=list)
    modules_changed: list[str] = field(default_factory=list)
    modules_removed: list[str] = field(default_factory=list)
    items_added: list[str] = field(default_factory=list)
    items_changed: list[str] = field(default_factory=list)
    # (title, learners with progress on it)
    items_removed: list[tuple[str, int]] = field(default_factory=list)

    @property
    def nothing(self) -> bool:
        return not any(
            (self.settings, self.modules_added, self.modules_changed, self.modules_removed,
             self.items_added, self.items_changed, self.items_removed)
        )  # fmt: skip


@dataclass
class Prepared:
    """An uploaded course, checked: ready to create or (after confirmation) update."""

    unpacked: Unpacked
    checked: library.CheckedLibrary
    course: Course | None  # the known course of that slug, or None: a new one
    summary: Summary | None = None


def prepare(
    db_session: Session, user: User, zip_path: Path, filename: str, max_bytes: int, work: Path
) -> Prepared:
    """Check an uploaded zip through and through, writing nothing: ZipRefused,
    UploadInvalid (every problem of its files, by their path in the zip) or
    Forbidden (a known course the user may not edit)."""
    unpacked = unpack(zip_path, filename, max_bytes, work)
    course = db_session.scalar(
        select(Course)
        .where(Course.slug == unpacked.slug)
        .options(
            selectinload(Course.modules).selectinload(Module.items),
            selectinload(Course.trainers),
        )
    )
    if course is not None and not course.can_edit(user):
        raise Forbidden(
            _(
                "A course with the address “%(slug)s” exists and you may not edit it.",
                slug=unpacked.slug,
            )
        )
    checked = library.check_paths(db_session, [unpacked.folder], max_bytes)
    if checked.errors:
        raise UploadInvalid([unpacked.in_zip(e) for e in checked.errors])
    prepared = Prepared(unpacked, checked, course)
    if course is not None:
        prepared.summary = summary(db_session, course, checked.library.courses[0])
    return prepared


def apply(
    db_session: Session,
    user: User,
    prepared: Prepared,
    instance_path: str | os.PathLike[str],
    address: str | None,
    based_on: int | None = None,
) -> Course:
    """Create or update the course of a prepared upload, in the caller's
    transaction. A new course gets the uploader as a trainer. An update
    based on a summary of an older version of the course is a conflict (the
    summary would no longer tell the truth)."""
    slug = prepared.unpacked.slug
    current = db_session.scalar(select(Course).where(Course.slug == slug))
    if prepared.course is None and current is not None:
        raise editing.EditConflict(current)  # created meanwhile: upload again
    if prepared.course is not None:
        if current is None:
            raise NotFound(_("The course was deleted meanwhile."))
        if not current.can_edit(user):
            raise Forbidden(
                _("A course with the address “%(slug)s” exists and you may not edit it.", slug=slug)
            )
        if based_on is not None and current.version != based_on:
            raise editing.EditConflict(current)
    result = library.import_checked(db_session, prepared.checked, instance_path)
    course = db_session.scalar(
        select(Course).where(Course.slug == slug).options(selectinload(Course.trainers))
    )
    assert course is not None
    created = slug in result.created
    if created and user not in course.trainers:
        course.trainers.append(user)
    details: dict[str, Any] = {"slug": slug, "created": created}
    if prepared.summary is not None:
        s = prepared.summary
        details.update(
            items_added=len(s.items_added),
            items_changed=len(s.items_changed),
            items_removed=len(s.items_removed),
        )
    editing.record(db_session, user, address, "upload_zip", course, details)
    return course


def summary(db_session: Session, course: Course, spec: library.CourseSpec) -> Summary:
    """What importing `spec` would change in `course`."""
    found = Summary()
    wanted: dict[str, Any] = {
        "title": spec.title, "summary": spec.summary, "language": spec.language,
        "status": spec.status, "enrolment_key": spec.enrolment_key, "starts": spec.starts,
        "ends": spec.ends, "validity_months": spec.validity_months,
        "completion": spec.completion,
    }  # fmt: skip
    current: dict[str, Any] = {
        "title": course.title, "summary": course.summary, "language": course.language,
        "status": course.status, "enrolment_key": course.enrolment_key,
        "starts": course.starts, "ends": course.ends,
        "validity_months": course.validity_months, "completion": course.completion_rule,
    }  # fmt: skip
    found.settings = [key for key in wanted if wanted[key] != current[key]]
    if spec.trainers and sorted(e.lower() for e in spec.trainers) != sorted(
        t.email for t in course.trainers
    ):
        found.settings.append("trainers")
    modules = {m.slug: m for m in course.modules}
    items = {i.slug: (i, m) for m in course.modules for i in m.items}
    for position, module_spec in enumerate(spec.modules, start=1):
        module = modules.pop(module_spec.slug, None)
        if module is None:
            found.modules_added.append(module_spec.title)
        elif (module.title, module.position) != (module_spec.title, position):
            found.modules_changed.append(module_spec.title)
        for item_position, item_spec in enumerate(module_spec.items, start=1):
            known = items.pop(item_spec.slug, None)
            if known is None:
                found.items_added.append(item_spec.title)
            elif _item_changed(known[0], known[1], item_spec, module_spec.slug, item_position):
                found.items_changed.append(item_spec.title)
    found.modules_removed = [m.title for m in modules.values()]
    removed = [item for item, _module in items.values()]
    learners = dict(
        db_session.execute(
            select(ItemProgress.item_id, func.count(ItemProgress.user_id.distinct()))
            .where(ItemProgress.item_id.in_([i.id for i in removed]))
            .group_by(ItemProgress.item_id)
        ).all()
    ) if removed else {}  # fmt: skip
    found.items_removed = [(i.title, int(learners.get(i.id, 0))) for i in removed]
    return found


def _item_changed(
    item: Any, module: Module, spec: ItemSpec, module_slug: str, position: int
) -> bool:
    return (
        module.slug != module_slug
        or item.position != position
        or item.kind != spec.kind
        or item.title != spec.title
        or item.required != spec.required
        or item.minutes != spec.minutes
        or item.source != spec.source
        or (item.settings or {}) != spec.settings
    )


# --------------------------------------------------------------------------- upload: waiting


def _waiting(instance_path: str | os.PathLike[str]) -> Path:
    return Path(instance_path) / "zip-uploads"


def _sweep(folder: Path) -> None:
    now = time.time()
    for old in folder.glob("*"):
        if now - old.stat().st_mtime > CONFIRM_MAX_AGE:
            old.unlink(missing_ok=True)


def keep_for_confirmation(
    instance_path: str | os.PathLike[str], user: User, zip_path: Path, filename: str
) -> str:
    """Keep an uploaded zip (and the name it was uploaded under: a zip with
    course.yaml at its root takes its slug from it) until its update is
    confirmed, the uploader's alone, for CONFIRM_MAX_AGE. Returns the token
    the confirmation form carries."""
    folder = _waiting(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    _sweep(folder)
    token = secrets.token_urlsafe(24)
    shutil.copyfile(zip_path, folder / f"{user.id}-{token}.zip")
    (folder / f"{user.id}-{token}.name").write_text(filename, encoding="utf-8")
    return token


def waiting_zip(instance_path: str | os.PathLike[str], user: User, token: str) -> tuple[Path, str]:
    """The zip kept under `token` for `user` and its uploaded name; NotFound
    once it has expired."""
    folder = _waiting(instance_path)
    if folder.is_dir():
        _sweep(folder)
    if not _TOKEN.fullmatch(token or ""):
        raise NotFound(_("This upload has expired. Upload the zip again."))
    path = folder / f"{user.id}-{token}.zip"
    name = folder / f"{user.id}-{token}.name"
    if not path.is_file() or not name.is_file():
        raise NotFound(_("This upload has expired. Upload the zip again."))
    return path, name.read_text(encoding="utf-8")


def forget(instance_path: str | os.PathLike[str], user: User, token: str) -> None:
    if _TOKEN.fullmatch(token or ""):
        for suffix in (".zip", ".name"):
            (_waiting(instance_path) / f"{user.id}-{token}{suffix}").unlink(missing_ok=True)


@contextmanager
def workspace() -> Iterator[Path]:
    """A temporary folder for one upload's extraction, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="vle-upload-") as work:
        yield Path(work)
