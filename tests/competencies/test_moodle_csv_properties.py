"""Property: any framework vle can hold survives Moodle's CSV — written, then
read back, it is the same framework (tree, words, scale, rules, outcomes,
relations, taxonomies), whatever commas, quotes, spaces, line breaks or
letters its words hold."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vle.competencies import frameworks, moodle_csv
from vle.competencies.frameworks import TAXONOMIES, CompetencySpec, FrameworkSpec

# Words as people write them: letters of our languages, digits, punctuation,
# quotes, backslashes, spaces and line breaks inside (not at the ends: cells
# are read trimmed).
CHARS = st.sampled_from(list("abcXYZąčęėįšųūžøæåł0189 ,;\"'\\-–.()<>&%\n"))
WORDS = st.text(CHARS, min_size=1, max_size=30).map(str.strip).filter(bool)
CODES = (
    st.text(st.sampled_from(list("ABCxyz019-_.,% ")), min_size=1, max_size=12)
    .map(str.strip)
    .filter(bool)
)
SCALE_VALUE = (
    st.text(st.sampled_from(list("abcąž _-")), min_size=1, max_size=12).map(str.strip).filter(bool)
)


@st.composite
def specs(draw: st.DrawFn) -> FrameworkSpec:
    scale = draw(st.lists(SCALE_VALUE, min_size=2, max_size=5, unique=True))
    proficient = draw(st.lists(st.sampled_from(scale), min_size=1, unique=True))
    proficient.sort(key=scale.index)
    codes = iter(draw(st.lists(CODES, min_size=1, max_size=12, unique=True)))

    def nodes(depth: int) -> list[CompetencySpec]:
        found = []
        for _ in range(draw(st.integers(0 if depth else 1, 3 if depth < 3 else 0))):
            code = next(codes, None)
            if code is None:
                break
            node = CompetencySpec(
                code=code, title=draw(WORDS),
                description=draw(st.one_of(st.just(""), WORDS)),
            )  # fmt: skip
            node.children = nodes(depth + 1)
            if node.children:
                kind = draw(st.sampled_from(["none", "all", "points"]))
                if kind != "none":
                    node.rule_outcome = draw(st.sampled_from(frameworks.OUTCOMES))
                if kind == "all":
                    node.rule = "all"
                elif kind == "points":
                    children = {
                        c.code: {"points": draw(st.integers(0, 5)), "required": draw(st.booleans())}
                        for c in node.children
                    }
                    total = sum(entry["points"] for entry in children.values())
                    if total >= 1:
                        node.rule = {"points": draw(st.integers(1, total)), "children": children}
                    else:
                        node.rule_outcome = "complete"
            found.append(node)
        return found

    spec = FrameworkSpec(
        code=draw(CODES), title=draw(WORDS), description=draw(st.one_of(st.just(""), WORDS)),
        scale=scale, proficient=proficient, default=draw(st.sampled_from(scale)),
        taxonomies=draw(st.lists(st.sampled_from(TAXONOMIES), max_size=4)),
        competencies=nodes(0),
    )  # fmt: skip
    all_codes = [node.code for node, _p, _l in spec.walk()]
    for node, _parent, _level in spec.walk():
        others = [code for code in all_codes if code != node.code]
        if others:
            node.related = draw(st.lists(st.sampled_from(others), max_size=2, unique=True))
    return spec


@settings(max_examples=150, deadline=None)
@given(specs())
def test_any_framework_survives_moodles_csv(spec):
    assert frameworks.problems(spec) == []
    expected = frameworks._normalised(spec)
    text = moodle_csv.write(expected)
    read = moodle_csv.read(text.encode("utf-8"), "p.csv")
    assert read.warnings == []
    assert read.spec.as_data() == expected.as_data()
    assert moodle_csv.write(read.spec) == text


@settings(max_examples=100, deadline=None)
@given(specs())
def test_any_framework_survives_the_yaml_file(spec):
    import tempfile
    from pathlib import Path

    from vle.library.reader import read_framework_file
    from vle.library.services import _write_yaml

    expected = frameworks._normalised(spec)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.yaml"
        _write_yaml(path, expected.as_data())
        read, errors = read_framework_file(path)
    assert errors == []
    assert read.as_data() == expected.as_data()
