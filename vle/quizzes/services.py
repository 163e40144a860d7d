"""Quizzes: the question bank of a quiz item."""

from __future__ import annotations

from markupsafe import escape
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from vle.catalog.models import Item
from vle.quizzes import gift
from vle.quizzes.models import Question
from vle.sanitize import clean_html, markdown_to_html


def render_text(text: str, text_format: str) -> str:
    """Question or answer text as safe HTML, by its GIFT format."""
    if text_format == "markdown":
        return markdown_to_html(text)
    if text_format == "plain":
        return str(escape(text)).replace("\n", "<br>")
    return clean_html(text)  # "moodle" and "html" both allow HTML


def sync_questions(db_session: Session, item: Item, questions: list[gift.Question]) -> None:
    """Make the item's question bank match `questions`, keeping the ids of
    questions at the same position so that attempts keep their answers."""
    existing = {
        q.position: q for q in db_session.scalars(select(Question).where(Question.item_id == item.id))
    }
    for position, parsed in enumerate(questions, start=1):
        row = existing.get(position) or Question(item_id=item.id, position=position)
        row.type = parsed.type
        row.title = parsed.title or ""
        row.category = parsed.category or ""
        row.text_html = render_text(parsed.text, parsed.text_format)
        row.spec = parsed.to_dict()
        db_session.add(row)
    db_session.execute(
        delete(Question).where(Question.item_id == item.id, Question.position > len(questions))
    )
    db_session.flush()


def questions_of(db_session: Session, item: Item) -> list[Question]:
    return list(
        db_session.scalars(
            select(Question).where(Question.item_id == item.id).order_by(Question.position)
        )
    )
