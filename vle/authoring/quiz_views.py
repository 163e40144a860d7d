"""The trainer's editor, quizzes: settings and the question-bank editor, GIFT paste and upload, question preview (issue 17, point 4)."""

from __future__ import annotations

from vle.authoring.views import bp  # noqa: F401 - the routes below join /trainer/

