"""Load an object or 404; ask the object's own permission answer or 403.

Permission answers live on the models (`course.can_view(user)`,
`user.administers(organisation)`); this module only loads and asks, so every
path — page, API, export — checks the same way.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import abort
from sqlalchemy.orm import Session

T = TypeVar("T")


def get_or_404(db_session: Session, model: type[T], ident: Any) -> T:
    obj = db_session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def require(allowed: bool) -> None:
    """403 unless `allowed`."""
    if not allowed:
        abort(403)


def visible_or_404(allowed: bool) -> None:
    """For objects whose very existence is private (draft courses): 404, not 403,
    so that guessing URLs tells nothing."""
    if not allowed:
        abort(404)
