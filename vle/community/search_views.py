"""/network/search: posts, courses and organisations, as vle.community.search finds them."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from vle import db
from vle.community import search as search_service
from vle.community.views import bp
from vle.inputs import has_control

KIND_LABELS = {
    "course": _l("Course"),
    "post": _l("Forum post"),
    "organisation": _l("Organisation"),
}
# Longer queries are cut here: no one types more to find something.
MAX_QUERY = 200


@bp.get("/search")
@login_required
def search() -> Any:
    """Anything typed is words to look for: never syntax, never an error page."""
    query = request.args.get("q", "")
    kind = request.args.get("kind", "")
    kinds = [kind] if kind in search_service.KINDS else None
    page_number = request.args.get("page", 1, type=int) or 1
    refused = has_control(query)
    page = None
    if query.strip() and not refused:
        page = search_service.search(
            db.session(),
            current_user,
            query[:MAX_QUERY],
            kinds=kinds,
            page=page_number,
            per_page=current_app.config["PAGE_SIZE"],
        )
    args = {k: v for k, v in (("q", query), ("kind", kind if kinds else "")) if v}
    return render_template(
        "community/search.html",
        query=query,
        kind=kind if kinds else "",
        kinds=KIND_LABELS,
        refused=refused,
        page=page,
        args=args,
        max_counted=search_service.MAX_COUNTED,
    )
