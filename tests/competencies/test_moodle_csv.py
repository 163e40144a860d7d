"""Moodle's competency framework file (admin/tool/lpimportcsv), both ways:
round trip, a file as Moodle makes it, the command line, and bad input named by
file and line with nothing imported."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from vle.competencies import frameworks, moodle_csv
from vle.competencies.frameworks import FrameworkInvalid
from vle.competencies.models import Competency, Framework, RelatedCompetency
from vle.library.reader import read_framework_file

RICH = """\
code: ROUND
title: Round, trip "framework"
description: |-
  Two lines, with a comma,
  and "quotes".
scale: [not yet, competent, proficient]
proficient: [competent, proficient]
default: competent
taxonomies: [domain, skill, indicator]
competencies:
  - code: A
    title: Area A
    description: Area, with a comma
    rule:
      points: 3
      children:
        A1: {points: 2, required: true}
        A2: {points: 1, required: false}
        A3: {points: 2, required: false}
    rule_outcome: evidence
    related: [B]
    children:
      - code: A1
        title: First skill
        related: [A2, B1]
      - code: A2
        title: Second skill
        rule: all
        rule_outcome: recommend
        children:
          - code: A2a
            title: An indicator
          - code: A2b
            title: Another indicator
      - code: A3
        title: Third skill
  - code: B
    title: Area B
    rule: all
    children:
      - code: B1
        title: Only skill of B
"""


def count(session, model) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(model))


def rich_spec(tmp_path: Path) -> frameworks.FrameworkSpec:
    path = tmp_path / "round.yaml"
    path.write_text(RICH, encoding="utf-8")
    spec, errors = read_framework_file(path)
    assert not errors
    return spec


def stored(session, code: str) -> frameworks.FrameworkSpec:
    framework = session.scalar(select(Framework).where(Framework.code == code))
    return frameworks.framework_spec(session, framework)


def test_round_trip_import_export_import_gives_the_same_framework(session, tmp_path):
    frameworks.save_framework(session, rich_spec(tmp_path))
    session.commit()
    first = stored(session, "ROUND")
    ids = dict(session.execute(select(Competency.code, Competency.id)).all())
    text = moodle_csv.write(first)
    again = moodle_csv.read(text.encode("utf-8"), "round.csv")
    assert again.warnings == []
    plan = frameworks.plan_save(session, again.spec)
    assert (plan.created, plan.updated, plan.deleted) == ([], [], [])  # nothing would change
    frameworks.save_framework(session, again.spec)
    session.commit()
    second = stored(session, "ROUND")
    assert second.as_data() == first.as_data()
    assert dict(session.execute(select(Competency.code, Competency.id)).all()) == ids
    data = second.as_data()
    assert data["scale"] == ["not yet", "competent", "proficient"]
    assert (data["proficient"], data["default"]) == (["competent", "proficient"], "competent")
    assert data["taxonomies"] == ["domain", "skill", "indicator"]
    assert data["description"] == 'Two lines, with a comma,\nand "quotes".'
    area_a = data["competencies"][0]
    assert area_a["rule"] == {"points": 3, "children": {
        "A1": {"points": 2, "required": True}, "A2": {"points": 1, "required": False},
        "A3": {"points": 2, "required": False}}}  # fmt: skip
    assert area_a["rule_outcome"] == "evidence"
    assert area_a["children"][1]["rule"] == "all"
    assert area_a["children"][1]["rule_outcome"] == "recommend"
    assert area_a["related"] == ["B"] and area_a["children"][0]["related"] == ["A2", "B1"]
    assert moodle_csv.write(second) == text  # and the file is the same again


def test_the_written_file_is_moodles(session, tmp_path):
    spec = rich_spec(tmp_path)
    text = moodle_csv.write(frameworks._normalised(spec))
    assert not text.startswith("\ufeff")
    assert text.splitlines()[0] == (
        '"Parent ID number","ID number","Short name","Description","Description format",'
        '"Scale values","Scale configuration","Rule type (optional)","Rule outcome (optional)",'
        '"Rule config (optional)","Cross-referenced competency ID numbers",'
        '"Exported ID (optional)","Is framework","Taxonomy"'
    )
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert all(len(row) == 14 for row in rows)
    framework = rows[1]
    assert framework[1:3] == ["ROUND", 'Round, trip "framework"']
    assert framework[5] == "not yet,competent,proficient"
    assert json.loads(framework[6]) == [
        {"scaleid": "0"},
        {"id": 1, "scaledefault": 0, "proficient": 0},
        {"id": 2, "scaledefault": 1, "proficient": 1},
        {"id": 3, "scaledefault": 0, "proficient": 1},
    ]
    assert (framework[12], framework[13]) == ("1", "domain,skill,indicator")
    by_code = {row[1]: row for row in rows[2:]}
    area_a = by_code["A"]
    assert area_a[7] == "core_competency\\competency_rule_points"
    assert area_a[8] == "1"  # evidence (core_competency\competency::OUTCOME_EVIDENCE)
    config = json.loads(area_a[9])
    exported = {row[1]: int(row[11]) for row in rows[2:]}
    assert config == {"base": {"points": 3}, "competencies": [
        {"id": exported["A1"], "points": 2, "required": 1},
        {"id": exported["A2"], "points": 1, "required": 0},
        {"id": exported["A3"], "points": 2, "required": 0}]}  # fmt: skip
    assert by_code["A2"][7:10] == ["core_competency\\competency_rule_all", "3", "null"]
    assert by_code["A3"][7:10] == ["", "0", "null"]  # no rule, as Moodle writes it
    assert by_code["A2a"][0] == "A2" and by_code["A"][0] == ""
    assert by_code["A1"][10] == "A2,B1"
    assert all(row[12] == "" for row in rows[2:])


MOODLE_HEADER = (
    "Tėvinis ID numeris,ID numeris,Trumpas vardas,Aprašas,Aprašo formatas,Skalės reikšmės,"
    "Skalės konfigūracija,Taisyklės tipas (neprivaloma),Taisyklės rezultatas (neprivaloma),"
    "Taisyklės konfigūracija (neprivaloma),Susietų kompetencijų ID numeriai,"
    "Eksportuotas ID (neprivaloma),Ar sistema,Taksonomija"
)


def moodle_file(rows: list[list[str]], header: str = MOODLE_HEADER, crlf: bool = True) -> bytes:
    """A file as Moodle's exporter (PHP's fputcsv) writes it; here with a
    translated header, Windows line endings and a BOM, as a spreadsheet saves it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
    for row in rows:
        writer.writerow(row)
    return b"\xef\xbb\xbf" + (header + ("\r\n" if crlf else "\n") + out.getvalue()).encode()


SCALE = "Dar nekompetentingas,Kompetentingas"
SCALE_CONFIG = '[{"scaleid":"2"},{"id":1,"scaledefault":0,"proficient":0},{"id":2,"scaledefault":1,"proficient":1}]'
POINTS = '{"base":{"points":2},"competencies":[{"id":512,"points":2,"required":1},{"id":513,"points":1,"required":0}]}'
MOODLE_ROWS = [
    ["", "SOC", "Socialinis darbas", "<p>Socialinių darbuotojų <b>kompetencijos</b>.</p>", "1",
     SCALE, SCALE_CONFIG, "", "", "", "", "", "1", "domain,competency"],
    ["", "SOC-1", "Bendravimas", "<p>Bendrauja su klientais,</p><p>šeimomis &amp; kolegomis.</p>",
     "1", "", "", "core_competency\\competency_rule_points", "3", POINTS, "SOC-2", "511", "", ""],
    ["SOC-1", "SOC-1.1", "Aktyvus klausymas", "", "1", "", "", "", "0", "null", "", "512", "", ""],
    ["SOC-1", "SOC-1.2", "Konfliktų sprendimas", "", "1", SCALE, SCALE_CONFIG, "", "0", "null",
     "", "513", "", ""],
    ["", "SOC-2", "Dokumentavimas", "Plain text", "2", "", "",
     "core_competency\\competency_rule_all", "0", "null", "SOC-1", "514", "", ""],
    ["SOC-2", "SOC-2.1", "Bylos", "", "1", "", "", "", "0", "null", "", "515", "", ""],
]  # fmt: skip


def test_a_file_made_by_moodle_imports(session):
    read = moodle_csv.read(moodle_file(MOODLE_ROWS), "moodle.csv")
    spec = read.spec
    assert (spec.code, spec.title) == ("SOC", "Socialinis darbas")
    assert spec.description == "Socialinių darbuotojų kompetencijos."
    assert spec.scale == ["Dar nekompetentingas", "Kompetentingas"]
    assert (spec.proficient, spec.default) == (["Kompetentingas"], "Kompetentingas")
    assert spec.taxonomies == ["domain", "competency"]
    soc1 = spec.competencies[0]
    assert soc1.description == "Bendrauja su klientais,\n\nšeimomis & kolegomis."
    assert soc1.rule == {"points": 2, "children": {
        "SOC-1.1": {"points": 2, "required": True},
        "SOC-1.2": {"points": 1, "required": False}}}  # fmt: skip
    assert soc1.rule_outcome == "recommend"  # Moodle's 3
    assert [c.code for c in soc1.children] == ["SOC-1.1", "SOC-1.2"]
    assert spec.competencies[1].rule is None  # outcome "none": a rule that does nothing
    warnings = "\n".join(read.warnings)
    assert "moodle.csv:5: “SOC-1.2” has its own scale in Moodle" not in warnings  # same scale
    assert "moodle.csv:6: “SOC-2”: a rule whose outcome is “none” does nothing" in warnings
    frameworks.save_framework(session, spec)
    session.commit()
    assert count(session, Competency) == 5
    assert count(session, RelatedCompetency) == 1  # SOC-1 ↔ SOC-2, listed on both rows


def test_a_competency_with_its_own_scale_is_imported_with_a_note():
    rows = [list(row) for row in MOODLE_ROWS]
    rows[3][5] = "Ne,Taip,Puikiai"
    read = moodle_csv.read(moodle_file(rows, crlf=False), "moodle.csv")
    assert "moodle.csv:5: “SOC-1.2” has its own scale in Moodle" in "\n".join(read.warnings)


def test_cli_dry_run_then_commit_then_export(runner, session, tmp_path):
    source = tmp_path / "moodle.csv"
    source.write_bytes(moodle_file(MOODLE_ROWS))
    result = runner.invoke(args=["competencies", "import", str(source)])
    assert result.exit_code == 0, result.output
    assert "framework SOC (Socialinis darbas): create" in result.output
    assert "create SOC-1.1" in result.output
    assert "Dry run: 5 to create" in result.output
    assert count(session, Framework) == 0
    result = runner.invoke(args=["competencies", "import", str(source), "--commit"])
    assert result.exit_code == 0, result.output
    assert "Imported: 5 created" in result.output
    assert count(session, Competency) == 5
    result = runner.invoke(args=["competencies", "import", str(source)])
    assert "0 to create, 0 to update, 5 unchanged, 0 to delete" in result.output
    out = tmp_path / "out.csv"
    result = runner.invoke(args=["competencies", "export", "SOC", str(out)])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b'"Parent ID number","ID number",')
    again = moodle_csv.read(data, str(out)).spec
    assert again.as_data() == stored(session, "SOC").as_data()
    yaml_out = tmp_path / "soc.yaml"
    result = runner.invoke(args=["competencies", "export", "SOC", str(yaml_out)])
    assert result.exit_code == 0, result.output
    spec, errors = read_framework_file(yaml_out)
    assert not errors and spec.as_data() == again.as_data()
    result = runner.invoke(args=["competencies", "import", str(yaml_out)])
    assert "5 unchanged" in result.output
    result = runner.invoke(args=["competencies", "export", "NOPE", str(out)])
    assert result.exit_code == 1 and "There is no competency framework" in result.output


def _with(row_index: int, column: int, value: str) -> list[list[str]]:
    rows = [list(row) for row in MOODLE_ROWS]
    rows[row_index][column] = value
    return rows


BAD = [
    ("wrong column count", moodle_file([*MOODLE_ROWS[:2], MOODLE_ROWS[2][:13], *MOODLE_ROWS[3:]]),
     "moodle.csv:4: has 13 columns; Moodle's competency framework file has 14"),
    ("scale configuration JSON", moodle_file(_with(0, 6, '[{"scaleid":"2"},{"id":1,')),
     "moodle.csv:2: the scale configuration is not valid JSON"),
    ("scale configuration shape", moodle_file(_with(0, 6, '{"scaleid":"2"}')),
     "moodle.csv:2: the scale configuration must be Moodle's list"),
    ("no framework row", moodle_file(MOODLE_ROWS[1:]),
     "moodle.csv: has no framework row (a row whose “Is framework” column is 1)"),
    ("bad encoding", moodle_file(_with(2, 2, "Aktyvus klausymas")).replace(
        b"Aktyvus klausymas", "Aktyvus klausymas ąčę".encode("cp1257")),
     "moodle.csv:4: is not valid UTF-8"),
    ("unknown parent", moodle_file(_with(2, 0, "SOC-9")),
     "moodle.csv:4: the parent ID number “SOC-9” of “SOC-1.1” is no competency of this file"),
    ("cycle", moodle_file(_with(1, 0, "SOC-1.1")),
     "parents form a cycle: SOC-1 → SOC-1.1 → SOC-1"),
    ("duplicate code", moodle_file(_with(5, 1, "SOC-1.1")),
     "moodle.csv:7: the ID number “SOC-1.1” is used twice (also line 4)"),
    ("unreachable points rule", moodle_file(_with(1, 9, POINTS.replace('"points":2}', '"points":9}'))),
     "moodle.csv:3: “SOC-1”: the rule can never be met: its children give 3 points at most, it asks for 9"),
    ("points rule names a non-child", moodle_file(_with(1, 9, POINTS.replace("513", "515"))),
     "moodle.csv:3: “SOC-1”: the rule names “SOC-2.1”, which is not one of its children"),
    ("points rule names an unknown id", moodle_file(_with(1, 9, POINTS.replace("513", "999"))),
     "moodle.csv:3: the points rule names the Exported ID “999”, which no row of this file has"),
    ("unknown rule type", moodle_file(_with(4, 7, "core_competency\\competency_rule_magic")),
     "moodle.csv:6: unknown rule type"),
    ("rule outcome", moodle_file(_with(1, 8, "7")), "moodle.csv:3: the rule outcome must be 0, 1, 2 or 3"),
    ("unknown related", moodle_file(_with(1, 10, "SOC-7")),
     "moodle.csv:3: “SOC-1”: the related competency “SOC-7” is not in this framework"),
    ("unknown taxonomy", moodle_file(_with(0, 13, "domain,area")), "unknown taxonomy “area”"),
    ("NUL byte", moodle_file(_with(2, 2, "Aktyvus\x00")), "moodle.csv:4: contains a control character"),
    ("unclosed quote", moodle_file(MOODLE_ROWS) + b'"SOC-2,"SOC-2.2,x\n',
     "moodle.csv:8: is not valid CSV"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_file_names_file_and_line_and_imports_nothing(runner, session, tmp_path, data, message):
    with pytest.raises(FrameworkInvalid) as raised:
        moodle_csv.read(data, "moodle.csv")
    assert message in "\n".join(raised.value.errors)
    source = tmp_path / "moodle.csv"
    source.write_bytes(data)
    result = runner.invoke(args=["competencies", "import", str(source), "--commit"])
    assert result.exit_code == 1
    assert "nothing was imported" in result.output and "Traceback" not in result.output
    assert count(session, Framework) == 0 and count(session, Competency) == 0


def test_a_competency_in_use_left_out_of_the_file_is_refused(runner, session, make_user, tmp_path):
    from vle.competencies import services

    frameworks.save_framework(session, moodle_csv.read(moodle_file(MOODLE_ROWS), "m.csv").spec)
    session.commit()
    learner = make_user()
    leaf = session.scalar(select(Competency).where(Competency.code == "SOC-2.1"))
    services.record_evidence(session, learner.id, leaf, kind="import", key="x",
                             value="Kompetentingas")  # fmt: skip
    session.commit()
    source = tmp_path / "moodle.csv"
    source.write_bytes(moodle_file(MOODLE_ROWS[:5]))
    result = runner.invoke(args=["competencies", "import", str(source), "--commit"])
    assert result.exit_code == 1
    assert "the competency “SOC-2.1” is no longer in the file but is in use" in result.output
    assert count(session, Competency) == 5


def test_shipped_framework_exports_as_moodle_csv_and_back(session):
    courses = Path(__file__).resolve().parents[2] / "courses" / "competencies"
    for path in sorted(courses.glob("*.yaml")):
        spec, errors = read_framework_file(path)
        assert not errors, errors
        text = moodle_csv.write(frameworks._normalised(spec))
        again = moodle_csv.read(text.encode(), path.name).spec
        assert again.as_data() == frameworks._normalised(spec).as_data()


def test_a_file_in_the_shape_of_moodles_own_example_imports(session):
    """Moodle's own example file lists only the configured scale values,
    writes relations on one side, uses an older English header and LF line
    endings, quotes only cells with spaces, and has 4-level taxonomies."""
    text = (
        '"Parent id number","Id number",Shortname,Description,"Description format",'
        '"Scale values","Scale configuration","Rule type (optional)","Rule outcome (optional)",'
        '"Rule config (optional)","Cross referenced competency id numbers",'
        '"Exported id (optional)","Is framework",Taxonomy\n'
        ',CORE,Core,"<p>The core competencies,\nin three clusters.</p>",1,'
        '"Not yet competent,Competent","[{""scaleid"":""2""},{""id"":2,""scaledefault"":1,'
        '""proficient"":1}]",,,,,,1,"competency,competency,competency,competency"\n'
        ",levels,Levels,,1,,,,0,null,,1,,\n"
        'levels,level-1,"Level 1","<p>Assistants.<br></p>",1,,,,0,null,"AT-1,AT-2",2,,\n'
        ",clusters,Clusters,,1,,,,0,null,,3,,\n"
        'clusters,delivery,Delivery-related,"<p>Results<br></p>",1,,,,0,null,,4,,\n'
        'delivery,thinking,"Analytical Thinking",,1,,,,0,null,,5,,\n'
        'thinking,AT-1,"Tells critical from irrelevant information ",,1,,,,0,null,level-1,6,,\n'
        'thinking,AT-2,"Gathers information from many sources.",,1,,,,0,null,,7,,\n'
    )
    spec = moodle_csv.read(text.encode(), "example.csv").spec
    assert (spec.scale, spec.proficient, spec.default) == (
        ["Not yet competent", "Competent"], ["Competent"], "Competent")  # fmt: skip
    assert spec.taxonomies == ["competency"] * 4
    assert spec.description == "The core competencies,\nin three clusters."
    levels = [level for _node, _parent, level in spec.walk()]
    assert max(levels) == 4
    frameworks.save_framework(session, spec)
    session.commit()
    assert count(session, Competency) == 7
    assert count(session, RelatedCompetency) == 2  # level-1 ↔ AT-1, level-1 ↔ AT-2
    title = session.scalar(select(Competency.title).where(Competency.code == "AT-1"))
    assert title == "Tells critical from irrelevant information"


def test_export_notes_what_moodle_will_shorten(runner, session, tmp_path):
    spec = moodle_csv.read(moodle_file(MOODLE_ROWS), "m.csv").spec
    spec.competencies[1].title = "Dokumentavimas " + "ir " * 40
    frameworks.save_framework(session, spec)
    session.commit()
    result = runner.invoke(args=["competencies", "export", "SOC", str(tmp_path / "soc.csv")])
    assert result.exit_code == 0, result.output
    assert "note: “SOC-2”: Moodle shortens its title to 100 characters" in result.output
