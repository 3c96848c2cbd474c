"""Expression trees in ``x`` and ``y`` with exact symbolic derivatives.

A user's function ``"x**2/100 + y**2"`` becomes a small tree of nodes (:class:`Const`, :class:`Var`,
:class:`Add`, :class:`Mul`, :class:`Pow`, :class:`Call`, …; the parser is in ``parser.py``). Every node
knows two things:

- ``evaluate(x, y)``: its value, vectorised — ``x`` and ``y`` may be numbers or whole grids;
- ``derivative(var)``: a *new tree* for ``∂node/∂var``, built by the rules of a calculus course:
  sum rule, product rule, quotient rule, power rule and the chain rule for ``sin``, ``exp``, …

So the gradient is exact (no finite differences) and printable::

    >>> from mlplab.landscape.parser import parse_expression
    >>> f = parse_expression("x**2/100 + y**2")
    >>> str(f.derivative("x")), str(f.derivative("y"))
    ('0.02*x', '2*y')

The smart constructors (:func:`add`, :func:`mul`, …) fold constants and drop ``+ 0`` and ``* 1`` so that
derivatives stay short enough to read. A constant that folds to ``inf`` or ``nan`` (``1/0``,
``log(-1)``) is refused with :class:`~mlplab.errors.ConfigError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mlplab.errors import ConfigError

# Printing precedence: a child gets parentheses when it binds less tightly than its parent.
_SUM, _PRODUCT, _NEGATION, _POWER, _ATOM = 1, 2, 3, 4, 5


class Node:
    """One node of an expression tree in ``x`` and ``y``."""

    precedence = _ATOM

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def derivative(self, var: str) -> Node:
        raise NotImplementedError

    def degree(self) -> int | None:
        """Polynomial degree in (x, y), or ``None`` if the node is not a polynomial."""
        return None

    def children(self) -> tuple[Node, ...]:
        return ()


def tree_size(node: Node, limit: int = 10**6) -> int:
    """Nodes visited when evaluating ``node`` (shared subtrees count each time), stopping past ``limit``.

    Derivatives share subtrees, so a tree can be cheap to build yet costly to evaluate; this is the
    cost of evaluating it, and the count stops early so that measuring it is never the slow part.
    """
    count, stack = 0, [node]
    while stack and count <= limit:
        current = stack.pop()
        count += 1
        stack.extend(current.children())
    return count


#: Nodes evaluated per point for a function's value, gradient and Hessian together (six trees), at most.
#: 34 nested ``sin`` need 17 395 and cost seconds per request; the test functions need under 300, and
#: sin(x)*cos(y) + exp(sin(x*y))/(1 + x**2 + y**2) + tanh(x - y)**3 needs 807.
MAX_COST = 2_500


def evaluation_cost(trees: tuple[Node, ...], limit: int = MAX_COST) -> int:
    """Nodes visited to evaluate every tree once; counting stops soon after ``2 × limit``."""
    total = 0
    for tree in trees:
        total += tree_size(tree, 2 * limit)
        if total > 2 * limit:
            break
    return total


def _wrap(node: Node, parent: int, strict: bool = False) -> str:
    """``str(node)``, parenthesised if it binds less tightly than its parent operator."""
    text = str(node)
    needs = node.precedence < parent or (strict and node.precedence == parent)
    return f"({text})" if needs else text


def _number(value: float) -> str:
    text = f"{value:.12g}"
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True)
class Const(Node):
    value: float

    @property
    def precedence(self) -> int:  # type: ignore[override]
        return _NEGATION if self.value < 0 else _ATOM

    def evaluate(self, x, y):
        return np.float64(self.value)

    def derivative(self, var: str) -> Node:
        return ZERO

    def degree(self) -> int:
        return 0

    def __str__(self) -> str:
        return _number(self.value)


ZERO, ONE, TWO = Const(0.0), Const(1.0), Const(2.0)


@dataclass(frozen=True)
class Var(Node):
    name: str  # "x" or "y"

    def evaluate(self, x, y):
        return x if self.name == "x" else y

    def derivative(self, var: str) -> Node:
        return ONE if var == self.name else ZERO

    def degree(self) -> int:
        return 1

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Binary(Node):
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


class Add(Binary):
    precedence = _SUM

    def evaluate(self, x, y):
        return self.left.evaluate(x, y) + self.right.evaluate(x, y)

    def derivative(self, var: str) -> Node:  # (u + v)' = u' + v'
        return add(self.left.derivative(var), self.right.derivative(var))

    def degree(self) -> int | None:
        return _max_degree(self.left.degree(), self.right.degree())

    def __str__(self) -> str:
        return f"{_wrap(self.left, _SUM)} + {_wrap(self.right, _SUM)}"


class Sub(Binary):
    precedence = _SUM

    def evaluate(self, x, y):
        return self.left.evaluate(x, y) - self.right.evaluate(x, y)

    def derivative(self, var: str) -> Node:  # (u − v)' = u' − v'
        return sub(self.left.derivative(var), self.right.derivative(var))

    def degree(self) -> int | None:
        return _max_degree(self.left.degree(), self.right.degree())

    def __str__(self) -> str:
        return f"{_wrap(self.left, _SUM)} - {_wrap(self.right, _SUM, strict=True)}"


class Mul(Binary):
    precedence = _PRODUCT

    def evaluate(self, x, y):
        return self.left.evaluate(x, y) * self.right.evaluate(x, y)

    def derivative(self, var: str) -> Node:  # product rule: (uv)' = u'v + uv'
        u, v = self.left, self.right
        return add(mul(u.derivative(var), v), mul(u, v.derivative(var)))

    def degree(self) -> int | None:
        a, b = self.left.degree(), self.right.degree()
        return None if a is None or b is None else a + b

    def __str__(self) -> str:
        # (a·b)·c = a·(b·c), so a product on the right needs no parentheses
        return f"{_wrap(self.left, _PRODUCT)}*{_wrap(self.right, _PRODUCT)}"


class Div(Binary):
    precedence = _PRODUCT

    def evaluate(self, x, y):
        return self.left.evaluate(x, y) / self.right.evaluate(x, y)

    def derivative(self, var: str) -> Node:  # quotient rule: (u/v)' = (u'v − uv') / v²
        u, v = self.left, self.right
        du, dv = u.derivative(var), v.derivative(var)
        if dv == ZERO:
            return div(du, v)
        return div(sub(mul(du, v), mul(u, dv)), power(v, TWO))

    def degree(self) -> int | None:
        return self.left.degree() if self.right.degree() == 0 else None

    def __str__(self) -> str:
        return f"{_wrap(self.left, _PRODUCT)}/{_wrap(self.right, _PRODUCT, strict=True)}"


class Pow(Binary):
    precedence = _POWER

    def evaluate(self, x, y):
        return np.power(self.left.evaluate(x, y), self.right.evaluate(x, y))

    def derivative(self, var: str) -> Node:
        u, v = self.left, self.right
        du, dv = u.derivative(var), v.derivative(var)
        if dv == ZERO:  # power rule: (u^c)' = c·u^(c−1)·u'
            return mul(mul(v, power(u, sub(v, ONE))), du)
        if du == ZERO:  # (a^v)' = a^v·ln(a)·v'
            return mul(mul(self, call("log", u)), dv)
        # general: (u^v)' = u^v·(v'·ln u + v·u'/u)
        return mul(self, add(mul(dv, call("log", u)), div(mul(v, du), u)))

    def degree(self) -> int | None:
        base, exponent = self.left.degree(), self.right
        if base is None or not isinstance(exponent, Const):
            return None
        c = exponent.value
        return base * int(c) if c >= 0 and c == int(c) else None

    def __str__(self) -> str:
        return f"{_wrap(self.left, _POWER, strict=True)}**{_wrap(self.right, _ATOM)}"


@dataclass(frozen=True)
class Neg(Node):
    arg: Node
    precedence = _NEGATION

    def evaluate(self, x, y):
        return -self.arg.evaluate(x, y)

    def derivative(self, var: str) -> Node:
        return neg(self.arg.derivative(var))

    def degree(self) -> int | None:
        return self.arg.degree()

    def children(self) -> tuple[Node, ...]:
        return (self.arg,)

    def __str__(self) -> str:
        return f"-{_wrap(self.arg, _PRODUCT)}"  # −(a·b) = (−a)·b: only sums need parentheses


@dataclass(frozen=True)
class Call(Node):
    name: str  # a key of FUNCTIONS
    arg: Node

    def evaluate(self, x, y):
        return FUNCTIONS[self.name].numpy(self.arg.evaluate(x, y))

    def derivative(self, var: str) -> Node:  # chain rule: g(u)' = g'(u)·u'
        du = self.arg.derivative(var)
        if du == ZERO:
            return ZERO
        return mul(FUNCTIONS[self.name].derivative(self.arg), du)

    def children(self) -> tuple[Node, ...]:
        return (self.arg,)

    def __str__(self) -> str:
        return f"{self.name}({self.arg})"


@dataclass(frozen=True)
class Elementary:
    """A named function the user may call: its NumPy version and its derivative rule ``g'(u)``."""

    numpy: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[Node], Node]


#: The functions allowed in expressions, with the derivative each contributes to the chain rule.
FUNCTIONS: dict[str, Elementary] = {
    "sin": Elementary(np.sin, lambda u: call("cos", u)),
    "cos": Elementary(np.cos, lambda u: neg(call("sin", u))),
    "tan": Elementary(np.tan, lambda u: div(ONE, power(call("cos", u), TWO))),
    "exp": Elementary(np.exp, lambda u: call("exp", u)),
    "log": Elementary(np.log, lambda u: div(ONE, u)),
    "sqrt": Elementary(np.sqrt, lambda u: div(Const(0.5), call("sqrt", u))),
    "tanh": Elementary(np.tanh, lambda u: sub(ONE, power(call("tanh", u), TWO))),
    "sinh": Elementary(np.sinh, lambda u: call("cosh", u)),
    "cosh": Elementary(np.cosh, lambda u: call("sinh", u)),
    "atan": Elementary(np.arctan, lambda u: div(ONE, add(ONE, power(u, TWO)))),
    "abs": Elementary(np.abs, lambda u: call("sign", u)),
    "sign": Elementary(np.sign, lambda u: ZERO),
}

#: Named constants the user may write.
CONSTANTS = {"pi": np.pi, "e": np.e}


# --- smart constructors: fold constants, drop neutral elements, gather signs and coefficients ---


def _max_degree(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else max(a, b)


def _fold(text: str, compute: Callable[[], float]) -> Const:
    """A constant sub-expression, computed once in float64; it must be a finite number."""
    with np.errstate(all="ignore"):
        try:
            value = float(compute())
        except ArithmeticError:  # Python floats raise on 1/0 and overflow
            value = float("nan")
    if not np.isfinite(value):
        raise ConfigError(
            f"the constant part {text} of the expression is not a finite number ({value}); "
            "rewrite that part (no division by zero, log or sqrt of a negative number, or overflow)."
        )
    return Const(value)


def _negative_term(node: Node) -> Node | None:
    """``v`` if ``node`` is ``−v`` written as a negative constant, a ``Neg`` or ``(−c)·u``; else None."""
    if isinstance(node, Const) and node.value < 0:
        return Const(-node.value)
    if isinstance(node, Neg):
        return node.arg
    if isinstance(node, Mul) and isinstance(node.left, Const) and node.left.value < 0:
        return mul(Const(-node.left.value), node.right)
    return None


def add(a: Node, b: Node) -> Node:
    if isinstance(a, Const) and isinstance(b, Const):
        return _fold(f"{a} + {b}", lambda: a.value + b.value)
    if a == ZERO:
        return b
    if b == ZERO:
        return a
    minus_b = _negative_term(b)
    if minus_b is not None:  # u + (−v) = u − v
        return sub(a, minus_b)
    return Add(a, b)


def sub(a: Node, b: Node) -> Node:
    if isinstance(a, Const) and isinstance(b, Const):
        return _fold(f"{a} - {b}", lambda: a.value - b.value)
    if b == ZERO:
        return a
    if a == ZERO:
        return neg(b)
    if a == b:
        return ZERO
    minus_b = _negative_term(b)
    if minus_b is not None:  # u − (−v) = u + v
        return add(a, minus_b)
    return Sub(a, b)


def mul(a: Node, b: Node) -> Node:
    if isinstance(a, Const) and isinstance(b, Const):
        return _fold(f"{a}*{b}", lambda: a.value * b.value)
    if isinstance(b, Const):  # constants first: 2*x, not x*2
        a, b = b, a
    if isinstance(a, Const):
        if a == ZERO:
            return ZERO
        if a == ONE:
            return b
        if a.value == -1.0:
            return neg(b)
        if isinstance(b, Mul) and isinstance(b.left, Const):  # c1·(c2·u) = (c1·c2)·u
            return mul(mul(a, b.left), b.right)
        if isinstance(b, Div):  # c·(u/v) = (c·u)/v
            return div(mul(a, b.left), b.right)
        if isinstance(b, Neg):  # c·(−u) = (−c)·u
            return mul(neg(a), b.arg)
        return Mul(a, b)
    if isinstance(a, Neg):  # (−u)·v = −(u·v)
        return neg(mul(a.arg, b))
    if isinstance(b, Neg):
        return neg(mul(a, b.arg))
    if isinstance(a, Mul) and isinstance(a.left, Const):  # (c·u)·v = c·(u·v)
        return mul(a.left, mul(a.right, b))
    if isinstance(b, Mul) and isinstance(b.left, Const):  # u·(c·v) = c·(u·v)
        return mul(b.left, mul(a, b.right))
    if isinstance(a, Div) and isinstance(a.left, Const):  # (c/u)·v = (c·v)/u
        return div(mul(a.left, b), a.right)
    if isinstance(b, Div) and isinstance(b.left, Const):
        return div(mul(b.left, a), b.right)
    return Mul(a, b)


def div(a: Node, b: Node) -> Node:
    if isinstance(a, Const) and isinstance(b, Const):
        return _fold(f"{a}/{b}", lambda: np.divide(a.value, b.value))
    if b == ONE:
        return a
    if a == ZERO:
        return ZERO
    if isinstance(a, Neg):  # (−u)/v = −(u/v)
        return neg(div(a.arg, b))
    if isinstance(b, Const) and isinstance(a, Mul) and isinstance(a.left, Const):
        return mul(div(a.left, b), a.right)  # (c1·u)/c2 = (c1/c2)·u
    return Div(a, b)


def power(a: Node, b: Node) -> Node:
    if isinstance(a, Const) and isinstance(b, Const):
        return _fold(f"{a}**{b}", lambda: np.power(a.value, b.value))
    if b == ZERO:
        return ONE
    if b == ONE:
        return a
    return Pow(a, b)


def neg(a: Node) -> Node:
    if isinstance(a, Const):
        return Const(-a.value) if a.value != 0 else ZERO
    if isinstance(a, Neg):
        return a.arg
    if isinstance(a, Mul) and isinstance(a.left, Const):  # −(c·u) = (−c)·u
        return mul(Const(-a.left.value), a.right)
    if isinstance(a, Sub):  # −(u − v) = v − u
        return sub(a.right, a.left)
    return Neg(a)


def call(name: str, a: Node) -> Node:
    if isinstance(a, Const):
        return _fold(f"{name}({a})", lambda: FUNCTIONS[name].numpy(np.float64(a.value)))
    return Call(name, a)


#: Node class → its smart constructor, used by the parser so every tree is built the same way.
BINARY = {Add: add, Sub: sub, Mul: mul, Div: div, Pow: power}
