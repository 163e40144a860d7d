"""Search over posts, courses and the directory, the same on SQLite and PostgreSQL.

vle makes the terms itself (docs/decisions/0023-search-terms-made-in-python.md):
a text's Unicode words, each lemmatised by simplemma in the document's language
(all four when it has none) and then folded by `vle.text.fold`, the surface
form kept beside the lemma. A query word becomes the OR of its folded form
and its lemma in every language (the searcher's language is not known); the
words are AND-ed. The databases only match whole terms: FTS5 on SQLite
(`search_fts`, rowid = search_documents.id), `to_tsvector('simple', terms)`
with a GIN index on PostgreSQL. A term is letters and digits only, so nothing
typed reaches either as syntax.

`search_documents` is kept in step by an `after_flush` listener: a course
(its modules and items), an organisation, a post or a thread changed through
the ORM is indexed again in the same transaction. `vle search reindex`
rebuilds it all.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import simplemma
from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    case,
    delete,
    event,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, selectinload

from vle.accounts.models import Organisation
from vle.catalog.models import Course, CourseStatus, Item, Module
from vle.community import forums
from vle.community.models import Forum, ForumKind, Post, SearchDocument, Thread
from vle.db import Page, paginate
from vle.text import fold

LANGUAGES = ("en", "lt", "pl", "nb")
KINDS = ("course", "post", "organisation")
PER_PAGE = 20
# Results are counted up to this many: "More than 1,000 results" (counting every
# post a common word is in cost most of a search at a million posts; bench/README.md).
MAX_COUNTED = 1000
# A query's words beyond these are ignored (each adds a match to the query).
MAX_WORDS = 12
_WORD = re.compile(r"[^\W_]+")
_TAG = re.compile(r"<[^>]+>")
_SNIPPET_WORDS = 30
_DOCUMENTS = cast(Table, SearchDocument.__table__)


# --------------------------------------------------------------------- terms


def _languages(language: str) -> tuple[str, ...]:
    language = language.split("-")[0].lower()
    return (language,) if language in LANGUAGES else LANGUAGES


def load_dictionaries() -> None:
    """Load simplemma's dictionaries of the four languages now (about 4 s and
    500 MB, most of it Polish) rather than in the first request that indexes or
    searches; `vle serve` does it once, before gunicorn forks its workers."""
    for language in LANGUAGES:
        simplemma.lemmatize("a", lang=language)


def _folded(form: str) -> list[str]:
    return _WORD.findall(fold(form))


def word_forms(word: str, languages: Iterable[str]) -> set[str]:
    """The folded terms of one word: itself and its lemma in each language
    (lemmatised before folding: the lemmatiser needs the diacritics)."""
    forms = set(_folded(word))
    for language in languages:
        forms.update(_folded(simplemma.lemmatize(word, lang=language)))
    return forms


def terms(text_: str, language: str = "") -> set[str]:
    """A document's terms: every word's folded form and folded lemma in
    `language` (in all four when it is none of them)."""
    languages = _languages(language)
    found: set[str] = set()
    for word in _WORD.findall(text_):
        found |= word_forms(word, languages)
    return found


def query_terms(query: str) -> list[set[str]]:
    """Per query word, the terms any of which it may match."""
    words = list(dict.fromkeys(_WORD.findall(query)))[:MAX_WORDS]
    return [forms for forms in (word_forms(w, LANGUAGES) for w in words) if forms]


def _plain(body_html: str) -> str:
    return html.unescape(_TAG.sub(" ", body_html))


def _snippet(*texts: str) -> str:
    words = " ".join(texts).split()
    return " ".join(words[:_SNIPPET_WORDS]) + (" …" if len(words) > _SNIPPET_WORDS else "")


# ------------------------------------------------------------------ indexing


def _store(session: Session, kind: str, ref_id: int, values: dict[str, Any]) -> None:
    """Insert or update the document and its FTS5 row (SQLite)."""
    values["title"] = values["title"][:300]
    connection = session.connection()
    doc = _DOCUMENTS
    doc_id = connection.scalar(select(doc.c.id).where(doc.c.kind == kind, doc.c.ref_id == ref_id))
    if doc_id is None:
        doc_id = connection.scalar(
            insert(doc).values(kind=kind, ref_id=ref_id, **values).returning(doc.c.id)
        )
    else:
        connection.execute(update(doc).where(doc.c.id == doc_id).values(**values))
    if connection.dialect.name == "sqlite":
        # A rowid may be reused after a deletion: its old FTS row goes first.
        connection.execute(text("DELETE FROM search_fts WHERE rowid = :id"), {"id": doc_id})
        connection.execute(
            text("INSERT INTO search_fts (rowid, title_terms, terms) VALUES (:id, :title, :terms)"),
            {"id": doc_id, "title": values["title_terms"], "terms": values["terms"]},
        )


def remove(session: Session, kind: str, ref_id: int) -> None:
    """Take a thing out of the search (its FTS5 row stays until its rowid is reused,
    and matches nothing meanwhile: results are read from search_documents)."""
    doc = _DOCUMENTS
    session.connection().execute(delete(doc).where(doc.c.kind == kind, doc.c.ref_id == ref_id))


def _joined(found: set[str]) -> str:
    return " ".join(sorted(found))


def _outline(session: Session, course: Course) -> list[str]:
    """The course's module titles, then its item titles, in order: one query
    (walking `course.modules` would load each module's items one by one)."""
    rows = session.execute(
        select(Module.id, Module.title, Item.title)
        .outerjoin(Item, Item.module_id == Module.id)
        .where(Module.course_id == course.id)
        .order_by(Module.position, Module.id, Item.position, Item.id)
    ).all()
    modules = {module_id: title for module_id, title, _item in rows}
    return [*modules.values(), *(item for _m, _t, item in rows if item is not None)]


def index_course(session: Session, course: Course) -> None:
    with session.no_autoflush:
        lessons = _outline(session, course)
    body = " ".join([course.summary, *lessons])
    _store(
        session,
        "course",
        course.id,
        {
            "key": course.slug,
            "language": course.language,
            "title": course.title,
            "snippet": _snippet(course.summary or " · ".join(lessons)),
            "title_terms": _joined(terms(course.title, course.language)),
            "terms": _joined(terms(course.title + " " + body, course.language)),
            "course_id": course.id,
            "status": course.status,
            "created_at": course.created_at,
        },
    )


def index_organisation(session: Session, org: Organisation) -> None:
    found = terms(" ".join([org.name, org.code, org.region]))
    descriptions = {k: v for k, v in (org.descriptions or {}).items() if isinstance(v, str)}
    for language, description in descriptions.items():
        found |= terms(description, language)
    _store(
        session,
        "organisation",
        org.id,
        {
            "key": org.code,
            "title": org.name,
            "snippet": _snippet(descriptions.get("en") or next(iter(descriptions.values()), "")),
            "title_terms": _joined(terms(org.name)),
            "terms": _joined(found),
            "created_at": org.created_at,
        },
    )


def index_post(session: Session, post: Post) -> None:
    thread = post.thread
    forum = thread.forum
    language = forum.course.language if forum.course is not None else ""
    body = _plain(post.body_html) if post.body_html else post.source
    first = forums._first_post_id(session, thread)  # noqa: SLF001 - the Q&A rule's own helper
    _store(
        session,
        "post",
        post.id,
        {
            "language": language,
            "title": thread.subject,
            "snippet": _snippet(body),
            "title_terms": _joined(terms(thread.subject, language)),
            "terms": _joined(terms(thread.subject + " " + body, language)),
            "course_id": forum.course_id,
            "forum_id": forum.id,
            "thread_id": thread.id,
            "author_id": post.author_id,
            "qa_reply": ForumKind(forum.kind) == ForumKind.QA and first not in (None, post.id),
            "hidden": post.hidden or thread.hidden,
            "created_at": post.created_at,
        },
    )


def reindex(session: Session) -> int:
    """Every course, organisation and post indexed afresh; the count."""
    connection = session.connection()
    connection.execute(delete(_DOCUMENTS))
    if connection.dialect.name == "sqlite":
        connection.execute(text("DELETE FROM search_fts"))
    count = 0
    for course in session.scalars(select(Course)):
        index_course(session, course)
        count += 1
    for org in session.scalars(select(Organisation)):
        index_organisation(session, org)
        count += 1
    for post in session.scalars(select(Post).order_by(Post.id)).yield_per(500):
        index_post(session, post)
        count += 1
    return count


def _changed(obj: Any, *names: str) -> bool:
    from sqlalchemy import inspect

    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


@event.listens_for(Session, "after_flush")
def _keep_in_step(session: Session, _context: Any) -> None:
    """Index again what this flush changed (see the module's docstring)."""
    courses: dict[int, Course] = {}
    posts: dict[int, Post] = {}
    orgs: list[Organisation] = []
    with session.no_autoflush:
        for obj in session.deleted:
            if isinstance(obj, Course | Organisation | Post):
                kind = {Course: "course", Organisation: "organisation", Post: "post"}[type(obj)]
                remove(session, kind, obj.id)
        for obj in [*session.new, *session.dirty]:
            if obj in session.deleted:
                continue
            if isinstance(obj, Course):
                courses[obj.id] = obj
            elif isinstance(obj, Module) and obj.course is not None:
                courses[obj.course.id] = obj.course
            elif isinstance(obj, Item) and obj.module is not None and obj.module.course:
                courses[obj.module.course.id] = obj.module.course
            elif isinstance(obj, Organisation):
                orgs.append(obj)
            elif isinstance(obj, Post) and obj.thread is not None:
                posts[obj.id] = obj
            elif isinstance(obj, Thread) and (
                obj in session.new or _changed(obj, "subject", "hidden", "forum_id")
            ):
                for post in session.scalars(select(Post).where(Post.thread_id == obj.id)):
                    posts[post.id] = post
        for course in courses.values():
            if course not in session.deleted:
                index_course(session, course)
        for org in orgs:
            index_organisation(session, org)
        for post in posts.values():
            index_post(session, post)


# -------------------------------------------------------------------- search


@dataclass(frozen=True)
class Result:
    kind: str
    ref_id: int
    key: str
    title: str
    snippet: str
    thread_id: int | None
    created_at: datetime
    # A post: the page of its thread it is on.
    page: int = 1


def _match(session: Session, alternatives: list[set[str]], column: str) -> ColumnElement[bool]:
    """Documents whose `column` (title_terms or terms) holds, for every query
    word, one of its terms. Every term is letters and digits only."""
    doc = SearchDocument
    if session.get_bind().dialect.name == "sqlite":
        expression = " AND ".join(
            "(" + " OR ".join(f'"{term}"' for term in sorted(forms)) + ")" for forms in alternatives
        )
        name = f"match_{column}"
        matched: Select[Any] = (
            select(literal_column("rowid"))
            .select_from(text("search_fts"))
            .where(
                text(f"search_fts MATCH :{name}").bindparams(**{name: f"{column} : ({expression})"})
            )
        )
        return doc.id.in_(matched)
    expression = " & ".join("(" + " | ".join(sorted(forms)) + ")" for forms in alternatives)
    target = doc.title_terms if column == "title_terms" else doc.terms
    simple: ColumnElement[Any] = literal_column("'simple'")
    return func.to_tsvector(simple, target).op("@@")(func.to_tsquery(simple, expression))


def _forum_rights(session: Session, user: Any) -> tuple[list[int], list[int]]:
    """The forums the user reads and those the user moderates. Someone who is
    no administrator reads the network forums and their own courses' forums
    (`forums.forums_for`); an administrator's rights are asked forum by forum.
    Never from the matched documents: going through them all to find their
    forums cost as much as the search itself."""
    if user.is_admin:
        candidates = list(session.scalars(select(Forum).options(selectinload(Forum.course))))
    else:
        lists = forums.forums_for(session, user)
        candidates = [*lists.network, *lists.courses]
        # Whether they train a course: its trainers for every course at once.
        course_ids = [forum.course_id for forum in lists.courses]
        session.scalars(
            select(Course).where(Course.id.in_(course_ids)).options(selectinload(Course.trainers))
        ).all()
    readable: list[int] = []
    moderated: list[int] = []
    for forum in candidates:
        if user.is_admin and not forums.can_read(session, user, forum):
            continue
        readable.append(forum.id)
        if forums.can_moderate(session, user, forum):
            moderated.append(forum.id)
    return readable, moderated


def _visible(session: Session, user: Any) -> ColumnElement[bool]:
    """What the user may see: every organisation; courses not in draft, drafts
    for their editors; posts in forums the user reads, hidden ones for its
    moderators, Q&A replies by its rule."""
    doc = SearchDocument
    drafts = session.scalars(
        select(Course)
        .where(Course.status == CourseStatus.DRAFT)
        .options(selectinload(Course.trainers))
    )
    editable = [course.id for course in drafts if course.can_edit(user)]
    readable, moderated = _forum_rights(session, user)
    own_threads = select(Post.thread_id).where(Post.author_id == user.id)
    return or_(
        doc.kind == "organisation",
        (doc.kind == "course") & ((doc.status != CourseStatus.DRAFT) | doc.ref_id.in_(editable)),
        (doc.kind == "post")
        & doc.forum_id.in_(readable)
        & (~doc.hidden | doc.forum_id.in_(moderated))
        & (
            ~doc.qa_reply
            | doc.forum_id.in_(moderated)
            | (doc.author_id == user.id)
            | doc.thread_id.in_(own_threads)
        ),
    )


def _page_of(session: Session, doc: SearchDocument) -> int:
    """The page of its thread a post is on (hidden posts counted only for a hidden one)."""
    if doc.kind != "post":
        return 1
    before = (Post.created_at < doc.created_at) | (
        (Post.created_at == doc.created_at) & (Post.id < doc.ref_id)
    )
    shown = Post.thread_id == doc.thread_id
    if not doc.hidden:
        shown = shown & ~Post.hidden
    earlier = session.scalar(select(func.count(Post.id)).where(shown, before)) or 0
    return earlier // forums.PER_PAGE + 1


def search(
    session: Session,
    user: Any,
    query: str,
    kinds: Iterable[str] | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page[Result]:
    """The page of what `query` finds that `user` may see: title matches
    first, then the newest. Whatever is typed is only words to look for."""
    alternatives = query_terms(query)
    if not alternatives or not getattr(user, "is_authenticated", False):
        return Page(items=[], total=0, page=max(1, page), per_page=per_page)
    doc = SearchDocument
    matched = _match(session, alternatives, "terms")
    conditions = [matched, _visible(session, user)]
    if kinds is not None:
        conditions.append(doc.kind.in_([k for k in kinds if k in KINDS]))
    in_title = case((_match(session, alternatives, "title_terms"), 0), else_=1)
    rows = paginate(
        session,
        select(doc).where(*conditions).order_by(in_title, doc.created_at.desc(), doc.id.desc()),
        page,
        per_page,
        count_up_to=MAX_COUNTED,
    )
    items = [
        Result(
            d.kind,
            d.ref_id,
            d.key,
            d.title,
            d.snippet,
            d.thread_id,
            d.created_at,
            _page_of(session, d),
        )
        for d in rows.items
    ]
    return Page(items=items, total=rows.total, page=rows.page, per_page=per_page)
