"""A small world for the competency pages and API (tests/competencies/test_pages*.py,
tests/api/test_competencies*.py).

    CITY ─ SCHOOL: ona (learner of "ethics")      OTHER: olga (learner of "safety")
    ada: administrator of CITY (scoped)           otto: administrator of OTHER (scoped)
    tom: trainer of "ethics"                      tina: trainer of "safety"

Framework PSCI (scale not_yet_competent < competent < proficient; competent and
proficient count): PS (rule: all) with children PS-COOP and PS-INT. "ethics"
(one lesson) rates PS-COOP when completed and asks a review of PS-INT.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from vle.competencies.models import Competency, CompetencyLink, Framework

SCALE = ["not_yet_competent", "competent", "proficient"]


def make_framework(session, code="PSCI", children=2, title="Public-sector cooperation"):
    framework = Framework(
        code=code, title=title, scale=SCALE, proficient=SCALE[1:], default_value="competent"
    )
    session.add(framework)
    session.flush()
    parent = Competency(framework_id=framework.id, code="PS" if code == "PSCI" else f"{code}-P",
                        title="Public service", rule="all", position=0)  # fmt: skip
    session.add(parent)
    session.flush()
    names = ["PS-COOP", "PS-INT"] if code == "PSCI" and children == 2 else None
    kids = []
    for i in range(children):
        child_code = names[i] if names else f"{code}-{i + 1}"
        title_ = {"PS-COOP": "Cooperation between organisations",
                  "PS-INT": "Integrity"}.get(child_code, f"Skill {i + 1}")  # fmt: skip
        kids.append(
            Competency(
                framework_id=framework.id,
                parent_id=parent.id,
                code=child_code,
                title=title_,
                position=i + 1,
            )  # fmt: skip
        )
    session.add_all(kids)
    session.flush()
    return framework, parent, kids


@pytest.fixture(name="world")
def world_fixture(session, make_org, make_user, make_course):
    city = make_org("CITY")
    school = make_org("SCHOOL", parent=city)
    other = make_org("OTHER")
    ona = make_user(org=school, email="ona@example.org", name="Ona Learner")
    olga = make_user(org=other, email="olga@example.org", name="Olga Other")
    tom = make_user("trainer", org=city, email="tom@example.org", name="Tom Trainer")
    tina = make_user("trainer", org=other, email="tina@example.org", name="Tina Trainer")
    ada = make_user("admin", org=city, email="ada@example.org", name="Ada Admin")
    otto = make_user("admin", org=other, email="otto@example.org", name="Otto Admin")
    ethics = make_course(slug="ethics", title="Ethics", lessons=1, trainers=[tom])
    safety = make_course(slug="safety", title="Safety", lessons=1, trainers=[tina])
    framework, parent, (coop, integrity) = make_framework(session)
    session.add_all(
        [
            CompetencyLink(course_id=ethics.id, item_id=None, competency_id=coop.id,
                           outcome="complete"),
            CompetencyLink(course_id=ethics.id, item_id=None, competency_id=integrity.id,
                           outcome="recommend"),
        ]
    )  # fmt: skip
    session.commit()
    from vle.learning import services as learning

    learning.enrol(session, ona, ethics)
    learning.enrol(session, olga, safety)
    session.commit()
    return SimpleNamespace(
        city=city, school=school, other=other, ona=ona, olga=olga, tom=tom, tina=tina,
        ada=ada, otto=otto, ethics=ethics, safety=safety, framework=framework,
        parent=parent, coop=coop, integrity=integrity,
    )  # fmt: skip
