"""How an env file's lines are read: the validator's --env-file and blueprint_up's
--env-file share this reader."""

import pytest

from blueprintcheck.variables import EnvFileError, parse_dotenv


def values(text: str) -> dict[str, str]:
    return dict(parse_dotenv(text, "test.env").values)


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("A=plain", "plain"),
        ("A = spaced ", "spaced"),
        ("export A=exported", "exported"),
        ("A=", ""),
        ("A=   # nothing but a comment", ""),
        ("A=http://127.0.0.1:8025   # a stand-in", "http://127.0.0.1:8025"),
        ("A=#hash-first", "#hash-first"),
        ("A=a#b", "a#b"),
        ('A="quoted # not a comment"', "quoted # not a comment"),
        ("A='single'  # then a comment", "single"),
        ('A="a" # then "b"', "a"),
        ('A="  kept spaces  "', "  kept spaces  "),
    ],
)
def test_a_line_s_value(line, value):
    assert values(line) == {"A": value}


def test_comments_and_blank_lines_are_skipped_and_lines_are_remembered():
    environment = parse_dotenv("# header\n\nA=1\n  # indented comment\nB=2\n", "test.env")
    assert dict(environment.values) == {"A": "1", "B": "2"}
    assert dict(environment.lines) == {"A": 3, "B": 5}


def test_a_name_set_twice_keeps_its_last_value_and_line():
    environment = parse_dotenv("A=1\nA=2\n", "test.env")
    assert environment.values["A"] == "2" and environment.lines["A"] == 2


def test_a_line_that_is_not_name_equals_value_says_where():
    with pytest.raises(EnvFileError, match=r"test.env:2: expected NAME=value"):
        values("A=1\nnot an assignment\n")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('A="a\\"b"', 'a"b'),  # an escaped quote
        ('A="one\\ntwo"', "one\ntwo"),  # \n in double quotes is a newline
        ("A='one\\ntwo'", "one\\ntwo"),  # ...not in single quotes
        ('A="first\nsecond"', "first\nsecond"),  # a quoted value over two lines
        ("B=base\nA=${B}/more", "base/more"),  # a name above it
        ("A=${REMOSPHERE_DOTENV_TEST}", "from the environment"),
    ],
)
def test_values_are_read_as_python_dotenv_reads_them(text, value, monkeypatch):
    monkeypatch.setenv("REMOSPHERE_DOTENV_TEST", "from the environment")
    assert values(text)["A"] == value


def test_a_multi_line_value_keeps_the_line_it_starts_on_and_the_next_name_its_own():
    variables = parse_dotenv('A="x\ny"\nB=1\n', "test.env")
    assert dict(variables.lines) == {"A": 1, "B": 3}


def test_a_name_without_equals_is_refused_rather_than_read_as_unset():
    with pytest.raises(EnvFileError, match=r"test.env:2: B has no '='"):
        values("A=1\nB\n")
