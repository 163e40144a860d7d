"""The trainer's editor, a course as files: Download as .zip, Upload .zip (issue 17, point 7)."""

from __future__ import annotations

from vle.authoring.views import bp  # noqa: F401 - the routes below join /trainer/

