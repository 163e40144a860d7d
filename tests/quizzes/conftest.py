"""Quiz fixtures: a course with a quiz item built from GIFT text, and an enrolled learner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from vle.accounts.models import User
from vle.catalog.models import Course, Item, Module
from vle.learning import services as learning
from vle.quizzes import gift
from vle.quizzes import services as quizzes
from vle.quizzes.models import Question

# Five questions, five types; one point each.
GIFT = """\
::Capital::What is the capital of Lithuania?{
=Vilnius#Right.
~Kaunas#No, Kaunas was the interwar capital.
~Riga#No, that is Latvia.
}

::Colours::Which of these are colours of the Lithuanian flag?{
~%50%Yellow#Yes.
~%50%Green#Yes.
~%-100%Blue#No.
}

::Baltic::Lithuania is a Baltic state.{T#Yes it is.#No, it is.}

::Year::In which year did Lithuania join the EU?{#2004:0}

::River::Name the longest river of Lithuania.{
=Nemunas
=Neman
}
"""

ESSAY = """\
::Reflect::Describe one thing you will do differently at work.{}
"""

MATCHING = """\
::Pairs::Match the city to its country.{
=Vilnius -> Lithuania
=Warsaw -> Poland
=Oslo -> Norway
}
"""


@pytest.fixture
def make_quiz(session: Session) -> Callable[..., tuple[Course, Item]]:
    counter = iter(range(1, 10_000))

    def make(
        text: str = GIFT,
        trainers: list[User] | None = None,
        status: str = "published",
        lessons: int = 0,
        **settings: Any,
    ) -> tuple[Course, Item]:
        n = next(counter)
        course = Course(
            slug=f"quiz-course-{n}",
            title=f"Quiz course {n}",
            summary="",
            status=status,
            trainers=trainers or [],
        )
        module = Module(slug="module", position=1, title="Module", prefix="01")
        for i in range(1, lessons + 1):
            module.items.append(
                Item(slug=f"lesson-{i}", position=i, prefix=f"{i:02d}", kind="lesson",
                     title=f"Lesson {i}", required=True, body_html="<p>x</p>")
            )  # fmt: skip
        base = {
            "pass_mark": 60, "attempts": None, "time_limit_minutes": None, "shuffle": False,
            "draw": None, "layout": "all_on_one_page", "review": "after_submit", "grading": "highest",
        }  # fmt: skip
        base.update(settings)
        item = Item(
            slug="check",
            position=lessons + 1,
            prefix=f"{lessons + 1:02d}",
            kind="quiz",
            title="Check your knowledge",
            required=True,
            source=text,
            settings=base,
        )
        module.items.append(item)
        course.modules.append(module)
        session.add(course)
        session.flush()
        quizzes.sync_questions(session, item, gift.parse(text, source="test.gift"))
        session.commit()
        return course, item

    return make


@pytest.fixture
def enrol(session: Session) -> Callable[[User, Course], None]:
    def do(user: User, course: Course) -> None:
        learning.enrol(session, user, course, method="manual")
        session.commit()

    return do


def question_ids(session: Session, item: Item) -> dict[str, int]:
    """Question id by title."""
    return {q.title: q.id for q in quizzes.questions_of(session, item)}


def by_title(session: Session, item: Item) -> dict[str, Question]:
    return {q.title: q for q in quizzes.questions_of(session, item)}


# Right answers to GIFT, by title.
RIGHT = {
    "Capital": "c1",
    "Colours": ["c1", "c2"],
    "Baltic": "true",
    "Year": "2004",
    "River": "nemunas",
}
