"""Loading YAML with positions: duplicates, merges, bombs and oversized files."""

from __future__ import annotations

import pytest

from blueprintcheck import loader


def codes(text: str | bytes) -> list[str]:
    with pytest.raises(loader.LoadError) as raised:
        loader.load(text)
    return [p.code for p in raised.value.problems]


def test_positions_are_one_based_line_and_column():
    document = loader.load("services:\n  - type: web\n    name: api\n")
    assert document.position(("services", 0, "name")) == (3, 11)


def test_key_positions_point_at_the_key():
    document = loader.load("services:\n  - type: web\n    name: api\n")
    assert document.position(("services", 0, "name"), at_key=True) == (3, 5)


def test_a_duplicate_key_is_refused():
    assert codes("a: 1\na: 2\n") == ["Y002"]


def test_every_duplicate_is_reported_at_once():
    assert codes("a: 1\na: 2\nb: 1\nb: 2\n") == ["Y002", "Y002"]


def test_merge_keys_merge_without_counting_as_duplicates():
    document = loader.load("base: &b {plan: starter}\nweb:\n  <<: *b\n  name: api\n")
    assert document.data["web"] == {"name": "api", "plan": "starter"}


def test_own_keys_win_over_merged_ones():
    document = loader.load("base: &b {plan: starter}\nweb:\n  <<: *b\n  plan: pro\n")
    assert document.data["web"]["plan"] == "pro"


def test_an_alias_bomb_stops_with_a_problem():
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    assert codes("\n".join(lines) + "\n") == ["Y005"]


def test_an_oversized_file_is_refused_unread():
    assert codes(b"#" * (loader.MAX_BYTES + 1)) == ["Y005"]


def test_non_utf8_bytes_are_a_yaml_problem():
    assert codes(b"services: \xff\xfe\n") == ["Y001"]


def test_a_mapping_as_key_is_a_yaml_problem():
    assert codes("? {a: 1}\n: b\n") == ["Y001"]


def test_a_tab_indentation_error_has_a_position():
    with pytest.raises(loader.LoadError) as raised:
        loader.load("services:\n\t- type: web\n")
    assert raised.value.problems[0].line == 2
