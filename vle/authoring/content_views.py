"""The trainer's editor, modules and items: add, edit, reorder, move, delete; lessons and links (issue 17, point 3)."""

from __future__ import annotations

from vle.authoring.views import bp  # noqa: F401 - the routes below join /trainer/

