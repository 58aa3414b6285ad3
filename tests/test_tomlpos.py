import tomllib

from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.tomlpos import format_path, locate

TEXT = '''# a comment
[blueprint]
name = {ru = "Имя", en = "Name"}
include = [
  "a",
  "b",
]

[[pipelines]]
code = "leads"
description = """
several
lines = "not a key"
"""

[[pipelines.stages]]
code = "NEW"
name.ru = "Новый"

[[pipelines.stages]]
code = 'X'
items = [{value = "a"}, {value = "b"}]

[[pipelines]]
code = "deal"
[pipelines.extra]
key = 1
[[pipelines.stages]]
code = "D1"
'''


def test_lines_of_keys_tables_and_arrays() -> None:
    tomllib.loads(TEXT)  # the fixture itself is valid TOML
    pos = locate(TEXT)
    assert pos.line_of(("blueprint",)) == 2
    assert pos.line_of(("blueprint", "name", "en")) == 3
    assert pos.line_of(("blueprint", "include", 1)) == 6
    assert pos.line_of(("pipelines", 0)) == 9
    assert pos.line_of(("pipelines", 0, "description")) == 11
    assert pos.line_of(("pipelines", 0, "stages", 0, "code")) == 17
    assert pos.line_of(("pipelines", 0, "stages", 0, "name", "ru")) == 18
    assert pos.line_of(("pipelines", 0, "stages", 1, "items", 1, "value")) == 22
    assert pos.line_of(("pipelines", 1, "extra", "key")) == 27
    assert pos.line_of(("pipelines", 1, "stages", 0, "code")) == 29
    # a key inside a multi-line string is not a key
    assert ("pipelines", 0, "lines") not in pos.lines
    # an unknown child falls back to its nearest known parent
    assert pos.line_of(("pipelines", 1, "stages", 0, "nope", 3)) == 28


def test_format_path() -> None:
    assert format_path(("pipelines", 2, "stages", 0, "code")) == "pipelines[2].stages[0].code"
    assert format_path(("a b", "c")) == '"a b".c'


_keys = st.text(alphabet="abcxyz_", min_size=1, max_size=5)
_scalars = st.one_of(st.integers(), st.booleans(), st.text(max_size=12), st.floats(allow_nan=False))
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=3)),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=5))
def test_every_top_level_key_is_found_in_any_valid_document(data: dict[str, object]) -> None:
    import tomli_w

    text = tomli_w.dumps(data)
    pos = locate(text)
    lines = text.split("\n")  # TOML lines end at \n only (splitlines also splits at U+0085)
    for key in data:
        line = pos.line_of((key,))
        assert line is not None
        assert key in lines[line - 1]
