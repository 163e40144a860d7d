"""The trainer's editor, file items: upload, replace (issue 17, point 3)."""

from __future__ import annotations

from vle.authoring.views import bp  # noqa: F401 - the routes below join /trainer/

