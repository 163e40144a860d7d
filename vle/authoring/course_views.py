"""The trainer's editor, the course: trainer home's New course, Copy, settings, publishing (issue 17, points 1, 2, 5)."""

from __future__ import annotations

from vle.authoring.views import bp  # noqa: F401 - the routes below join /trainer/

