"""Learning plans (competencies.plans): progress, states, freezing, assignment."""

from __future__ import annotations

from datetime import date

from vle.competencies import plans, services
from vle.competencies.models import (
    Competency,
    Framework,
    Plan,
    PlanTemplate,
    PlanTemplateCompetency,
)


def _framework(session, code="F", n=3):
    framework = Framework(
        code=code, title=code, scale=["no", "yes"], proficient=["yes"], default_value="yes"
    )
    session.add(framework)
    session.flush()
    competencies = [
        Competency(framework_id=framework.id, code=f"{code}{i}", title=f"{code} {i}", position=i)
        for i in range(1, n + 1)
    ]
    session.add_all(competencies)
    session.flush()
    return framework, competencies


def _template(session, competencies, name="Social worker", due=None, organisation_id=None):
    template = PlanTemplate(name=name, due=due, organisation_id=organisation_id)
    session.add(template)
    session.flush()
    session.add_all(
        PlanTemplateCompetency(template_id=template.id, competency_id=c.id) for c in competencies
    )
    session.flush()
    return template


def test_plans_of_reads_progress_and_codes(session, make_user, count_queries):
    learner = make_user()
    _, competencies = _framework(session)
    template = _template(session, competencies, due=date(2027, 1, 1))
    plan = Plan(user_id=learner.id, template_id=template.id, status="active", due=template.due)
    session.add(plan)
    session.flush()
    services.record_evidence(session, learner.id, competencies[0], kind="import", key="i",
                             value="yes")  # fmt: skip
    [line] = plans.plans_of(session, learner.id)
    assert line == plans.PlanLine(
        id=plan.id, name="Social worker", status="active", due=date(2027, 1, 1), progress=33,
        competency_codes=["F1", "F2", "F3"],
    )  # fmt: skip
    assert plans.plans_of(session, make_user().id) == []
