"""A whitelist parser for a user's function of ``x`` and ``y``: text → expression tree, never ``eval``.

Python's own ``ast`` module reads the text (so ``**`` and operator precedence are Python's), then every
node of the syntax tree is checked against a short whitelist and turned into an
:mod:`~mlplab.landscape.expression` node. Allowed:

- numbers (``2``, ``0.5``, ``1e-3``), the variables ``x`` and ``y``, the constants ``pi`` and ``e``;
- ``+  -  *  /  **`` and unary ``-`` / ``+``, with parentheses;
- one-argument calls of the functions in :data:`~mlplab.landscape.expression.FUNCTIONS`
  (``sin cos tan exp log sqrt tanh sinh cosh atan abs sign``).

Everything else — attributes (``x.real``), dunder names, other names, lambdas, strings, indexing,
comparisons, keyword arguments, exponents larger than :data:`MAX_EXPONENT`, text longer than
:data:`MAX_LENGTH` characters or with more than :data:`MAX_NODES` parts — is refused with a
:class:`~mlplab.errors.ConfigError` that says what was found and what is allowed.
"""

from __future__ import annotations

import ast

from mlplab.errors import ConfigError
from mlplab.landscape.expression import (
    BINARY,
    CONSTANTS,
    FUNCTIONS,
    Add,
    Const,
    Div,
    Mul,
    Node,
    Pow,
    Sub,
    Var,
    call,
    neg,
)

MAX_LENGTH = 200  # characters: a landscape formula fits on one line
MAX_NODES = 120  # syntax-tree nodes: keeps the derivative trees small enough to evaluate on a grid
MAX_EXPONENT = 100.0  # |c| in u**c for a constant c: x**1000 is an overflow, not a landscape

ALLOWED = (
    "numbers, x, y, pi, e, + - * / ** and the functions " + ", ".join(FUNCTIONS)
)

_OPERATORS = {ast.Add: Add, ast.Sub: Sub, ast.Mult: Mul, ast.Div: Div, ast.Pow: Pow}

# What to call the syntax we refuse, so the message names it in the user's terms.
_REFUSED = {
    ast.Attribute: "attribute access ('.')",
    ast.Subscript: "indexing ('[...]')",
    ast.Lambda: "lambda",
    ast.Compare: "comparisons",
    ast.BoolOp: "'and' / 'or'",
    ast.IfExp: "'if ... else'",
    ast.NamedExpr: "':='",
    ast.Tuple: "tuples (',')",
    ast.List: "lists",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.JoinedStr: "f-strings",
    ast.Starred: "'*' unpacking",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "slices",
}
_REFUSED_OPERATORS = {
    ast.BitXor: "'^' (write powers as x**2)",
    ast.FloorDiv: "'//' (use /)",
    ast.Mod: "'%'",
    ast.MatMult: "'@'",
    ast.BitAnd: "'&'",
    ast.BitOr: "'|'",
    ast.LShift: "'<<'",
    ast.RShift: "'>>'",
    ast.Not: "'not'",
    ast.Invert: "'~'",
}


def refuse(text: str, what: str) -> ConfigError:
    return ConfigError(f"cannot use {what} in {text!r}; allowed: {ALLOWED}.")


def parse_expression(text: str) -> Node:
    """Parse ``text`` (e.g. ``"x**2/100 + y**2"``) into an expression tree, checking every part.

    Raises :class:`ConfigError` for anything outside the whitelist; the text is never executed.
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("the function is empty; give an expression in x and y, e.g. 'x**2/100 + y**2'.")
    if len(text) > MAX_LENGTH:
        raise ConfigError(
            f"the function is {len(text)} characters long; at most {MAX_LENGTH} are allowed."
        )
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        where = f" at column {exc.offset}" if getattr(exc, "offset", None) else ""
        raise ConfigError(
            f"the function {text!r} is not a valid expression{where}; write it like "
            "'x**2/100 + y**2' (use ** for powers and * for products)."
        ) from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise ConfigError(
            f"the function {text!r} has {count} parts; at most {MAX_NODES} are allowed — simplify it."
        )
    return _convert(tree.body, text)


def _convert(node: ast.AST, text: str) -> Node:
    """One syntax-tree node → one expression node, or a ConfigError naming what is not allowed."""
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "strings" if isinstance(value, (str, bytes)) else f"the value {value!r}"
            raise refuse(text, kind)
        try:
            return Const(float(value))
        except OverflowError:
            raise refuse(text, f"the number {value} (too large)") from None
    if isinstance(node, ast.Name):
        return _name(node.id, text)
    if isinstance(node, ast.BinOp):
        op = type(node.op)
        if op not in _OPERATORS:
            raise refuse(text, _REFUSED_OPERATORS.get(op, op.__name__))
        left, right = _convert(node.left, text), _convert(node.right, text)
        if op is ast.Pow and isinstance(right, Const) and abs(right.value) > MAX_EXPONENT:
            raise ConfigError(
                f"the exponent {right} in the function {text!r} is too large; constant exponents "
                f"must be between -{MAX_EXPONENT:g} and {MAX_EXPONENT:g}."
            )
        return BINARY[_OPERATORS[op]](left, right)
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.USub):
            return neg(_convert(node.operand, text))
        if isinstance(node.op, ast.UAdd):
            return _convert(node.operand, text)
        raise refuse(text, _REFUSED_OPERATORS.get(type(node.op), type(node.op).__name__))
    if isinstance(node, ast.Call):
        return _call(node, text)
    raise refuse(text, _REFUSED.get(type(node), type(node).__name__))


def _name(name: str, text: str) -> Node:
    if name in ("x", "y"):
        return Var(name)
    if name in CONSTANTS:
        return Const(CONSTANTS[name])
    if name.startswith("__") or name.endswith("__"):
        raise refuse(text, f"the dunder name {name!r}")
    if name in FUNCTIONS:
        raise ConfigError(f"{name} is a function; call it with one argument, e.g. {name}(x).")
    raise refuse(text, f"the name {name!r}")


def _call(node: ast.Call, text: str) -> Node:
    if not isinstance(node.func, ast.Name):
        raise refuse(text, _REFUSED.get(type(node.func), "calls of anything but a named function"))
    name = node.func.id
    if name not in FUNCTIONS:
        what = f"the dunder name {name!r}" if name.startswith("__") else f"the function {name!r}"
        raise refuse(text, what)
    if node.keywords:
        raise refuse(text, f"keyword arguments in {name}(...)")
    if len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
        raise ConfigError(f"{name} takes exactly one argument, e.g. {name}(x); got {len(node.args)}.")
    return call(name, _convert(node.args[0], text))
