"""The blueprint loader: precise errors, includes and overrides, round trips, garbage in."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit.blueprints.dump import dump_blueprint
from crmkit.blueprints.library import Library
from crmkit.blueprints.loader import load_blueprint, load_document
from crmkit.errors import InputError
from crmkit.files import parse_toml
from crmkit.schema import LoadError

DATA = Path(__file__).parent / "data"
SMALL = DATA / "small.toml"


def lib(*extra: Path) -> Library:
    return Library.default(extra)


def load_text(text: str, tmp_path: Path, name: str = "bp.toml"):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_blueprint(path, lib().resolver())


def test_small_blueprint_loads_with_everything() -> None:
    bp = load_blueprint(SMALL, lib().resolver())
    assert bp.id == "small"
    leads = bp.pipeline("leads")
    assert leads is not None
    assert [s.code for s in leads.stages] == ["NEW", "WORK", "CONVERTED", "NOT_TARGET"]
    new = leads.stages[0]
    assert new.max_minutes == 24 * 60
    assert new.required_fields == ("PHONE",)
    assert new.automation[0].deadline_minutes == 24 * 60
    assert new.automation[0].complete_on_leave is True
    assert leads.stages[1].automation[0].delay_minutes == 2 * 24 * 60
    segment = [f for f in bp.fields if f.code == "SEGMENT"][0]
    assert segment.field_name == "UF_CRM_SEGMENT"
    assert [i.xml_id for i in segment.items] == ["RETAIL", "WHOLESALE"]
    assert segment.items[1].default


@pytest.mark.parametrize(
    ("replace", "by", "line", "key", "problem"),
    [
        (
            'semantics = "failure"',
            'semantics = "lost"',
            63,
            "pipelines[0].stages[3].semantics",
            "'lost' is not one of: process, success, failure",
        ),
        (
            'max_time = "2d"',
            'max_time = "two days"',
            44,
            "pipelines[0].stages[1].max_time",
            "is not a duration",
        ),
        (
            'max_time = "2d"',
            "max_time = 2",
            44,
            "pipelines[0].stages[1].max_time",
            "expected a string, got an integer",
        ),
        (
            'code = "BUDGET"',
            'code = "BUDGET"\ncolour = "red"',
            75,
            "fields[0].colour",
            "unknown key 'colour'",
        ),
        ('type = "money"', 'type = "currency"', 75, "fields[0].type", "'currency' is not one of"),
        (
            "default = true",
            'default = "yes"',
            93,
            "fields[1].items[1].default",
            "expected true or false, got a string",
        ),
        (
            'role = "rop"\ndeadline',
            'role = ["rop"]\ndeadline',
            36,
            "pipelines[0].stages[0].automation[0].role",
            "expected a string, got an array",
        ),
    ],
)
def test_each_problem_names_file_line_and_key(
    tmp_path: Path, replace: str, by: str, line: int, key: str, problem: str
) -> None:
    text = SMALL.read_text(encoding="utf-8")
    assert replace in text
    with pytest.raises(LoadError) as caught:
        load_text(text.replace(replace, by, 1), tmp_path)
    error = caught.value
    assert error.where == f"{tmp_path / 'bp.toml'}:{line}"
    assert error.key == key
    assert problem in error.problem
    assert "\n" not in str(error)


def test_every_problem_is_collected_in_file_order(tmp_path: Path) -> None:
    text = SMALL.read_text(encoding="utf-8")
    text = text.replace('semantics = "failure"', 'semantics = "lost"').replace(
        'id = "small"', 'id = "small"\nbogus = 1'
    )
    with pytest.raises(LoadError) as caught:
        load_text(text, tmp_path)
    problems = caught.value.problems
    assert [p.key for p in problems] == ["blueprint.bogus", "pipelines[0].stages[3].semantics"]
    assert "(+1 more)" in str(caught.value)


def test_broken_toml_names_line_and_column(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_text('[blueprint]\nname = "x"\nid = \n', tmp_path)
    assert str(caught.value).startswith(f"{tmp_path / 'bp.toml'}:3:")
    assert "not valid TOML" in str(caught.value)


def test_missing_file_and_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_blueprint(tmp_path / "nope.toml", lib().resolver())
    bad = tmp_path / "latin1.toml"
    bad.write_bytes('name = "Привет"'.encode("cp1251"))
    with pytest.raises(InputError, match="not UTF-8"):
        load_blueprint(bad, lib().resolver())


OVERRIDE = """
[blueprint]
id = "child"
name = "Child"
include = ["small.toml"]

[[roles]]
code = "lawyer"
name = {ru = "Юрист", en = "Lawyer"}

[[pipelines]]
code = "leads"
name = {ru = "Заявки", en = "Requests"}

[[pipelines.stages]]
code = "WORK"
max_time = "3d"

[[pipelines.stages]]
code = "LEGAL"
after = "NEW"
name = "Legal check"
responsible = "lawyer"

[[pipelines.stages]]
code = "CHECK"
name = "Check"

[[pipelines]]
code = "short"
extends = "leads"
drop_stages = ["WORK", "LEGAL"]
name = "Short"

[[fields]]
entity = "lead"
code = "BUDGET"
mandatory = true
"""


def test_include_override_extends_and_drop(tmp_path: Path) -> None:
    (tmp_path / "small.toml").write_text(SMALL.read_text(encoding="utf-8"), encoding="utf-8")
    bp = load_text(OVERRIDE, tmp_path, "child.toml")
    leads = bp.pipeline("leads")
    assert leads is not None and leads.name.en == "Requests"
    # description kept from the included pipeline, stages merged by code
    assert leads.description.en == "Processing incoming requests."
    assert [s.code for s in leads.stages] == [
        "NEW",
        "LEGAL",
        "WORK",
        "CHECK",
        "CONVERTED",
        "NOT_TARGET",
    ]
    work = leads.stage("WORK")
    assert work is not None and work.max_minutes == 3 * 24 * 60 and work.responsible == "manager"
    short = bp.pipeline("short")
    assert short is not None
    assert [s.code for s in short.stages] == ["NEW", "CHECK", "CONVERTED", "NOT_TARGET"]
    budget = [f for f in bp.fields if f.code == "BUDGET"][0]
    assert budget.mandatory and budget.type == "money" and budget.label.en == "Budget"
    assert [r.code for r in bp.roles] == ["rop", "manager", "lawyer"]


def test_override_errors_point_into_the_overriding_file(tmp_path: Path) -> None:
    (tmp_path / "small.toml").write_text(SMALL.read_text(encoding="utf-8"), encoding="utf-8")
    text = OVERRIDE.replace('max_time = "3d"', 'max_time = "soon"')
    with pytest.raises(LoadError) as caught:
        load_text(text, tmp_path, "child.toml")
    assert caught.value.where == f"{tmp_path / 'child.toml'}:17"
    assert caught.value.key == "pipelines[0].stages[0].max_time"


def test_include_problems(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="no library blueprint or file 'nowhere'"):
        load_text('[blueprint]\ninclude = ["nowhere"]\n', tmp_path)
    (tmp_path / "a.toml").write_text('[blueprint]\ninclude = ["b.toml"]\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text('[blueprint]\ninclude = ["a.toml"]\n', encoding="utf-8")
    with pytest.raises(LoadError, match="cycle"):
        load_blueprint(tmp_path / "a.toml", lib().resolver())
    with pytest.raises(LoadError, match="no stage 'ZZZ' to drop"):
        load_text(
            OVERRIDE.replace('drop_stages = ["WORK", "LEGAL"]', 'drop_stages = ["ZZZ"]'),
            (tmp_path / "small.toml").write_text(SMALL.read_text("utf-8"), "utf-8") and tmp_path,
            "child.toml",
        )


def test_duplicates_inside_one_file_stay_duplicates(tmp_path: Path) -> None:
    text = SMALL.read_text(encoding="utf-8") + (
        '\n[[pipelines]]\ncode = "leads"\nkind = "deal"\nname = "Again"\n'
        '[[pipelines.stages]]\ncode = "A"\nname = "A"\n'
    )
    bp = load_text(text, tmp_path)
    assert [p.code for p in bp.pipelines] == ["leads", "leads"]


def test_dump_round_trip_small() -> None:
    bp = load_blueprint(SMALL, lib().resolver())
    again = load_document(parse_toml(dump_blueprint(bp), "dumped.toml"), None, lib().resolver())
    assert again == bp


def test_dump_round_trip_of_every_shipped_blueprint() -> None:
    library = lib()
    ids = library.ids()
    assert ids, "the shipped library is empty"
    for name in ids:
        bp = library.load(name)
        again = load_document(parse_toml(dump_blueprint(bp), name), None, library.resolver())
        assert again == bp, name


# -- garbage in: never a traceback ------------------------------------------------------------

_keys = st.sampled_from(
    [
        "blueprint",
        "pipelines",
        "stages",
        "code",
        "name",
        "kind",
        "semantics",
        "fields",
        "roles",
        "include",
        "automation",
        "trigger",
        "action",
        "ru",
        "en",
        "max_time",
        "type",
        "items",
        "x",
    ]
)
_scalars = st.one_of(
    st.integers(-5, 5),
    st.booleans(),
    st.text(max_size=6),
    st.sampled_from(
        [
            "deal",
            "lead",
            "success",
            "failure",
            "1d",
            "on_enter",
            "create_task",
            "enumeration",
            "small",
            "../x.toml",
        ]
    ),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=25,
)


def _load_or_input_error(text: str, tmp_path: Path) -> None:
    try:
        load_document(parse_toml(text, "fuzz.toml"), tmp_path / "fuzz.toml", lib(DATA).resolver())
    except InputError as exc:
        assert str(exc)
        assert "\n" not in str(exc)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.dictionaries(_keys, _values, max_size=6))
def test_random_toml_never_crashes_the_loader(tmp_path: Path, data: dict[str, object]) -> None:
    _load_or_input_error(tomli_w.dumps(data), tmp_path)


def _mutate(value: object, rnd: random.Random) -> object:
    """Change one random place: a wrong type, a dropped key, an extra key, an odd string."""
    if isinstance(value, dict) and value:
        key = rnd.choice(list(value))
        choice = rnd.random()
        out = dict(value)
        if choice < 0.15:
            del out[key]
        elif choice < 0.25:
            out["unexpected"] = 1
        else:
            out[key] = _mutate(value[key], rnd)
        return out
    if isinstance(value, list) and value:
        index = rnd.randrange(len(value))
        out_list = list(value)
        out_list[index] = _mutate(value[index], rnd)
        if rnd.random() < 0.2:
            out_list.append(rnd.choice([1, "x", {}, []]))
        return out_list
    deep: object = 1
    for _ in range(40):
        deep = {"a": deep}
    return rnd.choice(
        [0, -1, True, "", "ОЧЕНЬ длинный <script>", [], {}, {"ru": 1}, 1.5, "1d", "A:B"]
        # hostile: nested past the limit, beyond 64 bits, longer than any text, a long name
        + [deep, 2**70, "x" * 20_000, "n" * 300 + ".toml"]
    )


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4))
def test_mutated_blueprints_never_crash_the_loader(tmp_path: Path, seed: int, rounds: int) -> None:
    import tomllib

    rnd = random.Random(seed)
    data: object = tomllib.loads(SMALL.read_text(encoding="utf-8"))
    for _ in range(rounds):
        data = _mutate(data, rnd)
    assert isinstance(data, dict)
    _load_or_input_error(tomli_w.dumps(data), tmp_path)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.integers(0, 2**32 - 1))
def test_damaged_text_never_crashes_the_loader(tmp_path: Path, seed: int) -> None:
    rnd = random.Random(seed)
    text = list(SMALL.read_text(encoding="utf-8"))
    for _ in range(rnd.randint(1, 5)):
        index = rnd.randrange(len(text))
        action = rnd.random()
        if action < 0.4:
            del text[index]
        elif action < 0.8:
            text.insert(index, rnd.choice(string.printable + "«»ё"))
        else:
            text[index] = rnd.choice('[]{}="\n#.')
    _load_or_input_error("".join(text), tmp_path)
