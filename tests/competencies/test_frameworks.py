"""Competency frameworks as files: the extended framework file, links from
courses, lessons and quizzes, import in place (evidence survives), export back,
and every kind of bad framework named by file and line with nothing imported."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from vle.catalog.models import Course, Item
from vle.competencies import frameworks, services
from vle.competencies.models import (
    Competency,
    CompetencyLink,
    Evidence,
    Framework,
    RelatedCompetency,
    UserCompetency,
)
from vle.db import utcnow
from vle.library import services as library
from vle.library.services import LibraryInvalid

REPO_COURSES = Path(__file__).resolve().parents[2] / "courses"

FRAMEWORK = """\
code: CARE
title: Care work
description: What carers need.
scale: [novice, able, expert]
proficient: [able, expert]
default: able
taxonomies: [domain, skill, indicator]
competencies:
  - code: C
    title: Caring
    rule:
      points: 3
      children:
        C1: {points: 2, required: true}
        C2: {points: 1, required: false}
        C3: {points: 1, required: false}
    rule_outcome: recommend
    children:
      - code: C1
        title: Listening
        related: [C2]
      - code: C2
        title: Helping
        rule: all
        children:
          - code: C2a
            title: Lifting safely
      - code: C3
        title: Writing notes
  - code: D
    title: Documenting
    related: [C]
"""

QUIZ = "::Q1::Is listening part of care? {TRUE}\n"


def write_library(root: Path, framework: str = FRAMEWORK, extra: dict | None = None) -> Path:
    files = {
        "competencies/care.yaml": framework,
        "care-course/course.yaml": (
            "title: Care basics\nstatus: published\n"
            "competencies:\n  - C1\n  - {code: C3, outcome: evidence}\n"
        ),
        "care-course/01-start/01-listen.md": (
            "---\ntitle: Listening\ncompetencies:\n  - {code: C1, outcome: recommend}\n---\nListen.\n"
        ),
        "care-course/01-start/02-notes.md": "---\ntitle: Notes\n---\nWrite notes.\n",
        "care-course/01-start/03-check.gift": QUIZ,
        "care-course/01-start/03-check.yaml": "title: Check\ncompetencies: [C2a]\n",
    }
    files.update(extra or {})
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if text is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(text, encoding="utf-8")
    return root


def count(session, model) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(model))


def competency(session, code: str) -> Competency:
    return session.scalar(select(Competency).where(Competency.code == code))


def test_framework_file_is_imported_whole(session, tmp_path):
    library.import_paths(session, [write_library(tmp_path / "lib")])
    session.commit()
    framework = session.scalar(select(Framework).where(Framework.code == "CARE"))
    assert framework.scale == ["novice", "able", "expert"]
    assert (framework.proficient, framework.default_value) == (["able", "expert"], "able")
    assert framework.taxonomies == ["domain", "skill", "indicator"]
    order = [c.code for c in session.scalars(select(Competency).order_by(Competency.position))]
    assert order == ["C", "C1", "C2", "C2a", "C3", "D"]  # depth-first, the file's order
    parent = competency(session, "C")
    assert parent.rule == {
        "points": 3,
        "children": {
            "C1": {"points": 2, "required": True},
            "C2": {"points": 1, "required": False},
            "C3": {"points": 1, "required": False},
        },
    }
    assert parent.rule_outcome == "recommend"
    assert competency(session, "C2").rule == "all"
    assert competency(session, "C2").rule_outcome == "complete"
    assert competency(session, "C2a").parent_id == competency(session, "C2").id
    pairs = {
        tuple(sorted((session.get(Competency, r.competency_id).code,
                      session.get(Competency, r.related_id).code)))
        for r in session.scalars(select(RelatedCompetency))
    }  # fmt: skip
    assert pairs == {("C1", "C2"), ("C", "D")}


def test_links_of_course_lesson_and_quiz(session, tmp_path):
    library.import_paths(session, [write_library(tmp_path / "lib")])
    session.commit()
    course = session.scalar(select(Course).where(Course.slug == "care-course"))
    items = {i.slug: i.id for i in session.scalars(select(Item))}
    links = {
        (link.item_id, link.competency.code, link.outcome)
        for link in session.scalars(select(CompetencyLink))
    }
    assert links == {
        (None, "C1", "complete"),
        (None, "C3", "evidence"),
        (items["listen"], "C1", "recommend"),
        (items["check"], "C2a", "complete"),
    }
    assert course.competencies == ["C1", "C3"]  # kept for the reports


def test_completing_a_linked_lesson_fires_its_outcome(session, tmp_path, make_user):
    from vle.learning import services as learning

    library.import_paths(session, [write_library(tmp_path / "lib")])
    session.commit()
    learner = make_user()
    course = session.scalar(select(Course).where(Course.slug == "care-course"))
    learning.enrol(session, learner, course)
    listen = session.scalar(select(Item).where(Item.slug == "listen"))
    learning.complete_item(session, learner, course, listen)
    session.commit()
    row = session.scalar(select(UserCompetency).where(UserCompetency.user_id == learner.id))
    assert row.competency.code == "C1"
    assert row.rating is None and row.review_reason == "recommend"  # asks a trainer


def test_reimport_updates_in_place_and_keeps_evidence(session, tmp_path, make_user):
    root = write_library(tmp_path / "lib")
    library.import_paths(session, [root])
    session.commit()
    learner = make_user()
    c1 = competency(session, "C1")
    ids = {c.code: c.id for c in session.scalars(select(Competency))}
    services.record_evidence(session, learner.id, c1, kind="course_completed", key="k1",
                             value="able")  # fmt: skip
    session.commit()
    changed = FRAMEWORK.replace("title: Listening", "title: Listening well").replace(
        "  - code: D\n", "  - code: E\n    title: Evaluating\n  - code: D\n"
    )
    write_library(root, framework=changed, extra={
        "care-course/course.yaml": "title: Care basics\nstatus: published\ncompetencies: [C3]\n",
    })  # fmt: skip
    library.import_paths(session, [root])
    session.commit()
    now = {c.code: c.id for c in session.scalars(select(Competency))}
    assert {code: now[code] for code in ids} == ids  # same ids
    assert "E" in now and competency(session, "C1").title == "Listening well"
    assert count(session, Evidence) == 1
    row = session.scalar(select(UserCompetency).where(UserCompetency.competency_id == c1.id))
    assert row.rating == "able" and row.proficient
    course_links = session.scalars(
        select(CompetencyLink.competency_id).where(CompetencyLink.item_id.is_(None))
    ).all()
    assert course_links == [now["C3"]]  # the course's links replaced


def test_a_competency_in_use_is_never_deleted_by_a_file(session, tmp_path, make_user):
    root = write_library(tmp_path / "lib")
    library.import_paths(session, [root])
    session.commit()
    learner = make_user()
    services.record_evidence(session, learner.id, competency(session, "D"), kind="import",
                             key="x", value="able")  # fmt: skip
    session.commit()
    without_d = FRAMEWORK.split("  - code: D\n")[0].replace("    related: [C]\n", "")
    write_library(root, framework=without_d)
    with pytest.raises(LibraryInvalid) as raised:
        library.import_paths(session, [root])
    joined = "\n".join(raised.value.errors)
    assert "the competency “D” is no longer in the file but is in use" in joined
    assert "1 learner rating(s)" in joined and str(root / "competencies" / "care.yaml") in joined
    session.rollback()
    assert competency(session, "D") is not None


def test_an_unused_competency_left_out_is_deleted(session, tmp_path):
    root = write_library(tmp_path / "lib")
    library.import_paths(session, [root])
    session.commit()
    without_d = FRAMEWORK.split("  - code: D\n")[0]
    write_library(root, framework=without_d)
    library.import_paths(session, [root])
    session.commit()
    assert competency(session, "D") is None
    assert count(session, RelatedCompetency) == 1  # C1–C2 stays, C–D went with D


def test_a_new_rule_rates_learners_already_proficient_in_the_children(session, tmp_path, make_user):
    root = write_library(tmp_path / "lib")
    library.import_paths(session, [root])
    session.commit()
    learner = make_user()
    services.record_evidence(session, learner.id, competency(session, "D"), kind="import",
                             key="x", value="able")  # fmt: skip
    session.commit()
    with_child = FRAMEWORK.replace(
        "    related: [C]\n",
        "    related: [C]\n    children:\n      - code: D1\n        title: Notes\n",
    )
    write_library(root, framework=with_child)
    library.import_paths(session, [root])
    session.commit()
    services.record_evidence(session, learner.id, competency(session, "D1"), kind="import",
                             key="y", value="expert")  # fmt: skip
    session.commit()
    ruled = with_child.replace("    related: [C]\n", "    related: [C]\n    rule: all\n")
    write_library(root, framework=ruled)
    library.import_paths(session, [root])
    session.commit()
    # D already had its own rating; the new rule adds rule evidence to it.
    kinds = session.scalars(
        select(Evidence.kind).where(Evidence.competency_id == competency(session, "D").id)
    ).all()
    assert sorted(kinds) == ["import", "rule"]


def test_export_writes_links_and_frameworks_back(session, tmp_path):
    library.import_paths(session, [write_library(tmp_path / "lib")])
    session.commit()
    out = tmp_path / "out"
    library.export_course(session, "care-course", out)
    course = yaml.safe_load((out / "care-course" / "course.yaml").read_text())
    assert course["competencies"] == ["C1", {"code": "C3", "outcome": "evidence"}]
    lesson = (out / "care-course" / "01-start" / "01-listen.md").read_text()
    front = yaml.safe_load(lesson.split("---\n")[1])
    assert front["competencies"] == [{"code": "C1", "outcome": "recommend"}]
    quiz = yaml.safe_load((out / "care-course" / "01-start" / "03-check.yaml").read_text())
    assert quiz["competencies"] == ["C2a"]
    exported = yaml.safe_load((out / "competencies" / "care.yaml").read_text())
    assert exported["taxonomies"] == ["domain", "skill", "indicator"]
    assert exported["competencies"][0]["rule_outcome"] == "recommend"
    # The exported folder imports again and changes nothing.
    before = frameworks.framework_spec(session, session.scalar(select(Framework))).as_data()
    library.import_paths(session, [out])
    session.commit()
    after = frameworks.framework_spec(session, session.scalar(select(Framework))).as_data()
    assert after == before
    assert count(session, CompetencyLink) == 4


def test_shipped_library_has_frameworks_with_rules_and_links(session):
    library.import_paths(session, [REPO_COURSES])
    session.commit()
    psci = session.scalar(select(Framework).where(Framework.code == "PSCI"))
    assert psci.default_value in psci.proficient and psci.taxonomies
    assert competency(session, "PS-COOP").rule == "all"
    points = competency(session, "PS-INT").rule
    assert points["points"] >= 1 and any(c["required"] for c in points["children"].values())
    lithuanian = session.scalar(select(Framework).where(Framework.code == "IUB"))
    assert "bendradarbiavimas" in lithuanian.title
    assert count(session, RelatedCompetency) >= 2
    for course in session.scalars(select(Course)):
        links = session.scalars(select(CompetencyLink).where(CompetencyLink.course_id == course.id))
        by_item = {link.item_id for link in links}
        assert None in by_item, course.slug  # the course itself
        for quiz in (i for i in course.items if i.kind == "quiz"):
            assert quiz.id in by_item, quiz.slug
        assert any(i.kind == "lesson" and i.id in by_item for i in course.items), course.slug
    outcomes = set(session.scalars(select(CompetencyLink.outcome)))
    assert outcomes == {"complete", "evidence", "recommend"}


def test_shipped_demo_rules_cascade_when_the_course_is_completed(session, make_user):
    """Completing the anti-corruption course rates PS-INT-1..3 competent, and
    PS-INT's points rule (PS-INT-1 required) then rates PS-INT itself."""
    library.import_paths(session, [REPO_COURSES])
    session.commit()
    learner = make_user()
    for code in ("PS-INT-1", "PS-INT-2"):
        services.record_evidence(session, learner.id, competency(session, code),
                                 kind="course_completed", key="c", value="competent")  # fmt: skip
    session.commit()
    row = session.scalar(
        select(UserCompetency).where(
            UserCompetency.competency_id == competency(session, "PS-INT").id
        )
    )
    assert row.proficient and row.rating == "competent"


# --- bad frameworks: file and line, nothing imported ----------------------------------------

BAD = [
    (FRAMEWORK.replace("code: C3", "code: C1"), 28, "the competency code “C1” is used twice"),
    (FRAMEWORK.replace("proficient: [able, expert]", "proficient: [able, master]"), 5,
     "“master” (proficient) is not a value of the scale"),
    (FRAMEWORK.replace("default: able", "default: great"), 6,
     "“great” (default) is not a value of the scale"),
    (FRAMEWORK.replace("points: 3", "points: 5"), 9,
     "“C”: the rule can never be met: its children give 4 points at most, it asks for 5"),
    (FRAMEWORK.replace("C3: {points: 1", "C2a: {points: 1"), 9,
     "“C”: the rule names “C2a”, which is not one of its children"),
    (FRAMEWORK.replace("related: [C2]", "related: [C9]"), 19,
     "“C1”: the related competency “C9” is not in this framework"),
    (FRAMEWORK.replace("related: [C2]", "related: [C1]"), 19, "“C1” is named as related to itself"),
    (FRAMEWORK.replace("taxonomies: [domain, skill, indicator]", "taxonomies: [area]"), 7,
     "unknown taxonomy “area”"),
    (FRAMEWORK.replace("    rule_outcome: recommend\n", "    rule_outcome: maybe\n"), 9,
     "“C”: the rule outcome must be one of evidence, recommend, complete"),
    (FRAMEWORK.replace("title: Documenting", "title: " + "D" * 301), 30,
     "“D”: the title is longer than 300 characters"),
    (FRAMEWORK.replace("scale: [novice, able, expert]", "scale: [novice, able, expert, 'a, b']"),
     4, "the scale value “a, b” must be non-empty and hold no comma"),
    (FRAMEWORK.replace("    title: Documenting\n", "    title: Documenting\n    colour: red\n"),
     30, "unknown key “colour” in a competency"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "message"), BAD)
def test_bad_framework_is_named_by_file_and_line(session, tmp_path, text, line, message):
    root = write_library(tmp_path / "lib", framework=text)
    with pytest.raises(LibraryInvalid) as raised:
        library.import_paths(session, [root])
    where = str(root / "competencies" / "care.yaml")
    expected = f"{where}:{line}: {message}" if line else message
    joined = "\n".join(raised.value.errors)
    assert expected in joined
    assert where in joined
    assert count(session, Framework) == 0 and count(session, Course) == 0


def test_too_deep_a_tree_is_refused(session, tmp_path):
    nodes, indent = "", ""
    for level in range(1, frameworks.MAX_DEPTH + 2):
        nodes += f"{indent}  - code: L{level}\n{indent}    title: Level {level}\n"
        nodes += f"{indent}    children:\n"
        indent += "    "
    nodes = nodes.rstrip().rsplit("\n", 1)[0] + "\n"
    text = "code: DEEP\ntitle: Deep\nscale: [a, b]\ncompetencies:\n" + nodes
    root = write_library(tmp_path / "lib", framework=text, extra={"care-course/course.yaml": None})
    (root / "care-course").rename(tmp_path / "elsewhere")
    with pytest.raises(LibraryInvalid) as raised:
        library.import_paths(session, [root])
    assert f"the tree is deeper than {frameworks.MAX_DEPTH} levels at “L11”" in "\n".join(
        raised.value.errors
    )
    assert count(session, Framework) == 0


def test_a_code_in_two_frameworks_is_refused(session, tmp_path):
    other = "code: OTHER\ntitle: Other\nscale: [a, b]\ncompetencies:\n  - code: C2\n    title: X\n"
    root = write_library(tmp_path / "lib", extra={"competencies/other.yaml": other})
    with pytest.raises(LibraryInvalid) as raised:
        library.import_paths(session, [root])
    assert (
        f"{root / 'competencies' / 'other.yaml'}:5: the competency code “C2” is also used by "
        "the framework CARE" in "\n".join(raised.value.errors)
    )
    assert count(session, Framework) == 0


def test_a_code_another_stored_framework_holds_is_refused(session, tmp_path):
    root = write_library(tmp_path / "lib")
    library.import_paths(session, [root])
    session.commit()
    other = "code: OTHER\ntitle: Other\nscale: [a, b]\ncompetencies:\n  - code: C2\n    title: X\n"
    (root / "competencies" / "care.yaml").unlink()
    (root / "competencies" / "other.yaml").write_text(other)
    with pytest.raises(LibraryInvalid) as raised:
        library.import_paths(session, [root])
    assert "“C2” is already used by the framework CARE" in "\n".join(raised.value.errors)
    assert count(session, Framework) == 1


def test_unknown_linked_code_names_the_file_and_line(session, tmp_path):
    root = write_library(tmp_path / "lib", extra={
        "care-course/01-start/02-notes.md": "---\ntitle: Notes\ncompetencies: [NOPE]\n---\nx\n",
        "care-course/01-start/03-check.yaml": "title: Check\ncompetencies:\n  - {code: C1, outcome: maybe}\n",
    })  # fmt: skip
    with pytest.raises(LibraryInvalid) as raised:
        library.import_paths(session, [root])
    joined = "\n".join(raised.value.errors)
    assert (
        f"{root / 'care-course/01-start/02-notes.md'}:3: unknown competency code “NOPE”" in joined
    )
    assert (
        f"{root / 'care-course/01-start/03-check.yaml'}:2: “C1”: the outcome must be one of"
        in joined
    )
    assert count(session, Course) == 0 and count(session, Framework) == 0


def test_dry_run_plan_names_what_changes(session, tmp_path):
    root = write_library(tmp_path / "lib")
    library.import_paths(session, [root])
    session.commit()
    path = root / "competencies" / "care.yaml"
    same = library.read_framework(path)
    plan = frameworks.plan_save(session, same)
    assert (plan.created, plan.updated, plan.deleted, plan.framework_changed) == ([], [], [], False)
    reordered = FRAMEWORK.replace("      - code: C3\n        title: Writing notes\n", "").replace(
        "      - code: C1\n", "      - code: C3\n        title: Writing notes\n      - code: C1\n"
    )
    path.write_text(reordered.replace("title: Care work", "title: Care"), encoding="utf-8")
    plan = frameworks.plan_save(session, library.read_framework(path))
    assert plan.framework_changed
    assert set(plan.updated) == {"C1", "C2", "C3"}  # their places among their siblings
    assert count(session, Competency) == 6  # a plan writes nothing


def test_cli_imports_and_exports_a_library_with_its_frameworks(runner, session, tmp_path):
    root = write_library(tmp_path / "lib")
    result = runner.invoke(args=["courses", "import", str(root)])
    assert result.exit_code == 0, result.output
    assert "competency framework CARE" in result.output and "created care-course" in result.output
    result = runner.invoke(args=["courses", "export", "care-course", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "competencies" / "care.yaml").exists()
    bad = write_library(tmp_path / "bad", framework=FRAMEWORK.replace("points: 3", "points: 9"))
    result = runner.invoke(args=["courses", "import", str(bad)])
    assert result.exit_code == 1 and "the rule can never be met" in result.output
    assert "nothing was imported" in result.output


def test_demo_course_quiz_and_lesson_links_fire_as_declared(session, make_user):
    """The shipped anti-corruption course: its lesson logs evidence, its quiz
    rates PS-INT-2 and asks a review of PS-INT-3, and completing the course
    rates PS-INT-1..3 — PS-INT's points rule (PS-INT-1 required) then rates
    PS-INT, and PS-COOP's "all" rule stays unmet."""
    from vle.learning import events
    from vle.learning import services as learning
    from vle.learning.models import Completion

    library.import_paths(session, [REPO_COURSES])
    session.commit()
    learner = make_user()
    course = session.scalar(select(Course).where(Course.slug == "anti-corruption-basics"))
    learning.enrol(session, learner, course)
    lesson = next(i for i in course.items if i.slug == "conflicts-of-interest")
    learning.complete_item(session, learner, course, lesson)
    quiz = next(i for i in course.items if i.kind == "quiz")
    events.emit(events.ItemCompleted(session, learner.id, course, quiz.id, "quiz", utcnow()))
    session.commit()

    def standing(code):
        return session.scalar(
            select(UserCompetency).where(
                UserCompetency.user_id == learner.id,
                UserCompetency.competency_id == competency(session, code).id,
            )
        )

    assert standing("PS-INT-1").rating is None  # the lesson logs evidence only
    assert standing("PS-INT-1").evidence_count == 1
    assert (standing("PS-INT-2").rating, standing("PS-INT-2").proficient) == ("competent", True)
    assert standing("PS-INT-3").review_reason == "recommend"
    parent = standing("PS-INT")  # 1 point of 3, and PS-INT-1 is required
    assert parent is None or (parent.rating, parent.proficient) == (None, False)
    completion = Completion(user_id=learner.id, course_id=course.id, method="manual")
    session.add(completion)
    session.flush()
    learning.completed_by_hand(session, learner.id, course, completion)
    session.commit()
    for code in ("PS-INT-1", "PS-INT-3"):
        assert standing(code).proficient, code
    assert standing("PS-INT").rating == "competent"
    rule = session.scalar(
        select(Evidence).where(
            Evidence.user_id == learner.id,
            Evidence.competency_id == competency(session, "PS-INT").id,
        )
    )
    assert rule.kind == "rule"
    cooperation = standing("PS-COOP")
    assert cooperation is None or cooperation.rating is None


def test_export_into_a_library_rewrites_the_frameworks_own_file(session, tmp_path):
    root = write_library(tmp_path / "lib")
    library.import_paths(session, [root])
    session.commit()
    library.export_course(session, "care-course", root)  # care.yaml holds CARE already
    assert sorted(p.name for p in (root / "competencies").iterdir()) == ["care.yaml"]
    library.import_paths(session, [root])  # no "framework code also used" error
