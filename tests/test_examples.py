"""The examples are documentation: they must keep running (examples/python_api.py: tests/test_python_api_example.py)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

pytest_plugins = ["pytester"]


def test_pytest_examples_pass_without_training(pytester):
    """Every examples/test_*.py passes, with rows from the committed model: an empty model cache proves
    nothing was trained (a stale model would be retrained there, with a warning)."""
    examples = sorted(str(path) for path in EXAMPLES.glob("test_*.py"))
    assert len(examples) >= 2
    result = pytester.runpytest(
        "--rootdir",
        str(ROOT),
        "-p",
        "no:cacheprovider",
        "-p",
        "no:hypothesispytest",
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",  # in-process: synthgen is imported already
        "--synthgen-cache",
        str(pytester.path / "cache"),
        *examples,
    )
    output = result.stdout.str()
    assert result.ret == 0, output
    assert "german_credit: loaded (given)" in output, output
    assert "trained in" not in output, (
        "examples/models/german_credit is stale; remake it with `synthgen train recipes/german_credit.yaml "
        f"--out examples/models/german_credit --device cpu`:\n{output}"
    )
