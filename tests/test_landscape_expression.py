"""The whitelist parser and its symbolic derivatives: what it accepts, what it refuses, and that the
derivatives are exact (against central differences and hand-written formulas)."""

from __future__ import annotations

import builtins

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlplab.errors import ConfigError
from mlplab.landscape import function_from_expression, parse_expression
from mlplab.landscape.expression import tree_size
from mlplab.landscape.parser import MAX_LENGTH

# (text, the same function written with NumPy by hand)
GRAMMAR = [
    ("x**2/100 + y**2", lambda x, y: x**2 / 100 + y**2),
    ("-x + +y - 3", lambda x, y: -x + y - 3),
    ("2*x*y - x/y", lambda x, y: 2 * x * y - x / y),
    ("x**3 - y**-2 + 2**x", lambda x, y: x**3 - y**-2.0 + 2.0**x),
    ("x**y", lambda x, y: x**y),
    ("1.5e-1*pi*e", lambda x, y: 0.15 * np.pi * np.e + 0 * x),
    ("sin(x)*cos(y) + tan(x/4)", lambda x, y: np.sin(x) * np.cos(y) + np.tan(x / 4)),
    ("exp(-x**2 - y**2) + log(x*y)", lambda x, y: np.exp(-(x**2) - y**2) + np.log(x * y)),
    ("sqrt(x**2 + y**2 + 1) + tanh(x - y)", lambda x, y: np.sqrt(x**2 + y**2 + 1) + np.tanh(x - y)),
    ("sinh(x/3) + cosh(y/3) + atan(x*y)", lambda x, y: np.sinh(x / 3) + np.cosh(y / 3) + np.arctan(x * y)),
    ("abs(x - 0.3) + sign(y)*y", lambda x, y: np.abs(x - 0.3) + np.sign(y) * y),
    ("((x))", lambda x, y: x + 0 * y),
]

# Points with x, y > 0 and away from kinks, so every function above is smooth there.
POINTS = np.array([[0.7, 1.3], [1.9, 0.4], [2.6, 2.2], [0.35, 0.9]])


@pytest.mark.parametrize(("text", "reference"), GRAMMAR, ids=[g[0] for g in GRAMMAR])
def test_accepts_the_grammar_and_computes_the_same_values(text, reference):
    tree = parse_expression(text)
    x, y = POINTS[:, 0], POINTS[:, 1]
    np.testing.assert_allclose(tree.evaluate(x, y), reference(x, y), rtol=1e-13)


@pytest.mark.parametrize(("text", "reference"), GRAMMAR, ids=[g[0] for g in GRAMMAR])
def test_symbolic_gradient_agrees_with_central_differences(text, reference):
    f = function_from_expression(text)
    h = 1e-6
    for x, y in POINTS:
        gx, gy = f.gradient(x, y)
        nx = (reference(x + h, y) - reference(x - h, y)) / (2 * h)
        ny = (reference(x, y + h) - reference(x, y - h)) / (2 * h)
        exact, numeric = np.array([gx, gy]), np.array([nx, ny])
        scale = max(np.linalg.norm(exact) + np.linalg.norm(numeric), 1e-12)
        assert np.linalg.norm(exact - numeric) / scale < 1e-6, (text, x, y, exact, numeric)


def test_derivatives_are_readable_and_exact():
    f = parse_expression("x**2/100 + y**2")
    assert (str(f.derivative("x")), str(f.derivative("y"))) == ("0.02*x", "2*y")
    # Rosenbrock's gradient, symbolically, equals the textbook formula.
    r = parse_expression("(1 - x)**2 + 100*(y - x**2)**2")
    x, y = POINTS[:, 0], POINTS[:, 1]
    np.testing.assert_allclose(r.derivative("x").evaluate(x, y), -2 * (1 - x) - 400 * x * (y - x**2), rtol=1e-13)
    np.testing.assert_allclose(r.derivative("y").evaluate(x, y), 200 * (y - x**2), rtol=1e-13)
    np.testing.assert_allclose(r.derivative("x").derivative("x").evaluate(x, y), 2 - 400 * y + 1200 * x**2,
                               rtol=1e-12)


def test_a_quadratic_expression_gets_its_exact_hessian_and_minimum():
    f = function_from_expression("(x - 1)**2 + (y + 2)**2 + x*y")
    # f = x² + y² + xy − 2x + 4y + 5: H = [[2, 1], [1, 2]], b = (−2, 4), c = 5
    np.testing.assert_array_equal(f.quadratic.hessian, [[2.0, 1.0], [1.0, 2.0]])
    np.testing.assert_array_equal(f.quadratic.linear, [-2.0, 4.0])
    assert f.quadratic.constant == 5.0
    np.testing.assert_allclose(f.minima[0], np.linalg.solve([[2, 1], [1, 2]], [2, -4]), rtol=1e-14)
    assert f.f_min == pytest.approx(5 - 28 / 3, rel=1e-14)  # c + ½ bᵀw*
    assert function_from_expression("x**2 - y**2").minima == ()  # a saddle: nothing to converge to


def test_minima_of_a_non_quadratic_expression_are_found_numerically():
    f = function_from_expression("x**4 - 3*x**2 + y**2")  # minima at (±√1.5, 0), f* = −2.25
    assert sorted(round(m[0], 12) for m in f.minima) == [round(-np.sqrt(1.5), 12), round(np.sqrt(1.5), 12)]
    assert f.f_min == pytest.approx(-2.25, abs=1e-12)
    assert "numerically" in f.minima_note


HOSTILE = [
    ("__import__('os').system('echo hacked')", "attribute access"),
    ("__import__('os')", "dunder name '__import__'"),
    ("x.__class__", "attribute access"),
    ("().__class__.__bases__[0]", "indexing"),
    ("__builtins__", "dunder name"),
    ("os", "the name 'os'"),
    ("open('/etc/passwd')", "the function 'open'"),
    ("lambda: 1", "lambda"),
    ("x**1000", "exponent 1000"),
    ("9**9**9", "exponent 387420489"),
    ("x**(2*60)", "exponent 120"),
    ("'x'", "strings"),
    ("x[0]", "indexing"),
    ("x if y else 1", "'if ... else'"),
    ("x < y", "comparisons"),
    ("x and y", "'and' / 'or'"),
    ("[x for x in y]", "comprehensions"),
    ("(x, y)", "tuples"),
    ("x^2", "write powers as x**2"),
    ("x // 2", "'//'"),
    ("x % 2", "'%'"),
    ("~x", "'~'"),
    ("sin(x=1)", "keyword arguments"),
    ("sin(x, y)", "exactly one argument"),
    ("sin", "call it with one argument"),
    ("True + x", "the value True"),
    ("1j*x", "the value 1j"),
    ("(y := 2)", "':='"),
    ("f'{x}'", "f-strings"),
    ("1/0 + x", "not a finite number"),
    ("log(-1) + x", "not a finite number"),
    ("exp(1000) + x", "not a finite number"),
    ("x +", "not a valid expression"),
    ("import os", "not a valid expression"),
    ("", "empty"),
    ("x" + "+x" * 60, "parts"),
    ("x" * (MAX_LENGTH + 1), "characters long"),
]


@pytest.mark.parametrize(("text", "message"), HOSTILE, ids=[h[0][:30] for h in HOSTILE])
def test_refuses_hostile_input_with_a_clear_message(text, message):
    with pytest.raises(ConfigError) as caught:
        parse_expression(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_user_text_is_never_evaluated(monkeypatch):
    """Parsing and evaluating work with eval and exec removed (ast.parse only builds a syntax tree)."""
    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec must not be called on user text")

    for name in ("eval", "exec"):
        monkeypatch.setattr(builtins, name, forbidden)
    tree = parse_expression("sin(x)**2 + y")
    assert tree.evaluate(np.pi / 2, 1.0) == pytest.approx(2.0)


def test_derivative_size_is_bounded_by_the_limits():
    # The worst shape the length and node limits allow is a tower of powers; its Hessian entry stays
    # small enough to evaluate on a grid, or is refused.
    text = "**".join(["x"] * 30)
    tree = parse_expression(text)
    assert tree_size(tree.derivative("x"), 10**6) < 5_000
    with pytest.raises(ConfigError, match="too complicated"):
        function_from_expression(text)


def _nested(n: int, var: str) -> str:
    return "sin(" * n + var + ")" * n


@pytest.mark.parametrize("text", [_nested(34, "x") + " + y**2", _nested(18, "x") + " + y**2",
                                  _nested(13, "x") + " + " + _nested(13, "y")])
def test_a_costly_expression_is_refused_before_it_is_evaluated(text, monkeypatch):
    """Issue 13: 34 nested sin were accepted and cost 20 s per request. Refused, and never evaluated."""
    import mlplab.landscape.functions as functions

    def not_evaluated(node):
        raise AssertionError("a refused expression must not be evaluated")

    monkeypatch.setattr(functions, "_evaluator", not_evaluated)
    with pytest.raises(ConfigError, match="too complicated"):
        function_from_expression(text)


def test_the_total_cost_of_value_gradient_and_hessian_is_named():
    with pytest.raises(ConfigError, match=r"value, gradient and Hessian take 2,826 operations per point and at "
                                          r"most 2,500 are allowed"):
        function_from_expression(_nested(13, "x") + " + " + _nested(13, "y"))


@pytest.mark.parametrize("text", [_nested(16, "x") + " + y**2", _nested(12, "x") + " + " + _nested(12, "y"),
                                  "sin(x)*cos(y) + exp(sin(x*y))/(1 + x**2 + y**2) + tanh(x - y)**3"])
def test_expressions_just_below_the_cost_limit_still_work(text):
    f = function_from_expression(text)
    assert np.isfinite(f.value_at(np.array([0.3, -0.2])))


# Text made of the parser's own vocabulary (and some it refuses), so that most draws get deep into it.
_TOKENS = ["x", "y", "pi", "e", "1", "2.5", "1e3", "+", "-", "*", "/", "**", "(", ")", "sin(", "exp(", "log(",
           "sqrt(", "tanh(", "abs(", ",", ".", "[", "__import__(", "lambda", "'", "%", "0"]


@given(st.lists(st.sampled_from(_TOKENS), max_size=60).map("".join))
@settings(max_examples=300, deadline=None)
def test_fuzz_the_parser_only_config_errors_come_out(text):
    """Whatever the text, the parser and the function builder give a Function or a ConfigError."""
    try:
        f = function_from_expression(text)
    except ConfigError as exc:
        assert str(exc)  # a sentence, never an empty error
        return
    with np.errstate(all="ignore"):
        f.value_at(np.array([0.5, 0.5]))
