"""Generated docs stay in step with the spec."""

from remosphere import envdocs
from servicespec import envspec


def test_env_example_is_generated_from_the_spec():
    assert envdocs.ENV_EXAMPLE.read_text() == envdocs.env_example()


def test_readme_table_is_generated_from_the_spec():
    readme = envdocs.README.read_text()
    assert envdocs.readme_with_table(readme) == readme


def test_readme_table_has_a_row_per_variable():
    table = envdocs.markdown_table()
    assert all(f"| `{var.name}` |" in table for var in envspec.SPEC)


def test_env_example_never_holds_a_secret_default():
    text = envdocs.env_example()
    assert all(
        f"{var.name}={var.default}" not in text
        for var in envspec.SPEC
        if var.secret and var.default
    )
