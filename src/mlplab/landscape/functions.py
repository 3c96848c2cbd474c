"""Two-variable functions to run optimizers on: value, exact gradient, known minima, plotting box.

Each :class:`Function` is vectorised: ``f(x, y)`` and ``f.gradient(x, y)`` take numbers or whole grids
(``x`` and ``y`` of the same shape) and return arrays of that shape. The built-in gradients are written
out by hand, as in a textbook; a test checks them against central differences *and* against the
symbolic derivative of ``formula``, so the two independent routes agree.

``get_function("rosenbrock")`` gives a built-in; ``get_function("x**2/100 + y**2")`` parses the text
with the whitelist parser and differentiates it exactly (see ``expression.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mlplab.errors import ConfigError
from mlplab.landscape.budget import check_time
from mlplab.landscape.expression import MAX_COST, ZERO, Node, evaluation_cost, tree_size
from mlplab.landscape.minima import find_minima
from mlplab.landscape.parser import parse_expression
from mlplab.landscape.theory import Quadratic

Box = tuple[tuple[float, float], tuple[float, float]]
Vectorised = Callable[[np.ndarray, np.ndarray], np.ndarray]
GradientFn = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

#: Where a user's expression is searched for minima, and plotted by default.
EXPRESSION_BOX: Box = ((-10.0, 10.0), (-10.0, 10.0))


@dataclass(frozen=True)
class Function:
    """A function of two variables with everything an optimisation picture needs.

    ``minima`` are the global minima (where ``f = f_min``), or for a user's expression the local
    minima found numerically in :data:`EXPRESSION_BOX` (``minima_note`` says which). ``start`` and
    ``lr`` are a sensible default run; ``quadratic`` is set when ``f`` is exactly quadratic, which
    unlocks the closed-form theory.
    """

    name: str
    formula: str  # Python syntax, readable by parse_expression
    value: Vectorised
    gradient: GradientFn
    minima: tuple[tuple[float, float], ...]
    f_min: float | None
    bounds: Box
    start: tuple[float, float] = (-7.0, 2.0)
    lr: float = 0.9
    quadratic: Quadratic | None = None
    minima_note: str = "known global minima"
    note: str = ""

    def __call__(self, x, y) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.asarray(self.value(np.asarray(x, float), np.asarray(y, float)), dtype=np.float64)

    def gradient_at(self, w: np.ndarray) -> np.ndarray:
        """``∇f(w)`` for one point ``w`` of shape (2,), as a new (2,) array."""
        with np.errstate(all="ignore"):
            gx, gy = self.gradient(np.float64(w[0]), np.float64(w[1]))
        return np.array([gx, gy], dtype=np.float64)

    def value_at(self, w: np.ndarray) -> float:
        return float(self(w[0], w[1]))

    @property
    def gradient_formula(self) -> str:
        """The gradient as text, from the symbolic derivative of ``formula``: ``df/dx = 0.02*x, …``."""
        tree = parse_expression(self.formula)
        return f"df/dx = {tree.derivative('x')},  df/dy = {tree.derivative('y')}"

    @property
    def label(self) -> str:
        return self.name if self.name == self.formula else f"{self.name}: {self.formula}"


def _quadratic(name: str, formula: str, a: float, b: float, bounds: Box, lr: float, note: str,
               start: tuple[float, float] = (-7.0, 2.0)) -> Function:
    """``f = a·x² + b·y²``: gradient ``(2a·x, 2b·y)``, Hessian ``diag(2a, 2b)``."""
    convex = a > 0 and b > 0
    return Function(
        name=name, formula=formula,
        value=lambda x, y: a * x**2 + b * y**2,
        gradient=lambda x, y: (2 * a * x, 2 * b * y),
        minima=((0.0, 0.0),) if convex else (), f_min=0.0 if convex else None,
        bounds=bounds, start=start, lr=lr,
        quadratic=Quadratic(np.diag([2 * a, 2 * b])),
        minima_note="known global minima" if convex else "none: unbounded below",
        note=note,
    )


def _rosenbrock_gradient(x, y):
    # f = (1 − x)² + 100 (y − x²)²
    return -2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)


def _beale_gradient(x, y):
    # f = Σ_k (c_k − x + x·y^k)², k = 1, 2, 3
    total_x, total_y = 0.0 * x, 0.0 * y
    for k, c in ((1, 1.5), (2, 2.25), (3, 2.625)):
        r = c - x + x * y**k
        total_x = total_x + 2 * r * (y**k - 1)
        total_y = total_y + 2 * r * k * x * y ** (k - 1)
    return total_x, total_y


def _himmelblau_gradient(x, y):
    # f = (x² + y − 11)² + (x + y² − 7)²
    a, b = x**2 + y - 11, x + y**2 - 7
    return 4 * x * a + 2 * b, 2 * a + 4 * y * b


def _rastrigin_gradient(x, y):
    # f = 20 + Σ (u² − 10 cos 2πu)
    return 2 * x + 20 * np.pi * np.sin(2 * np.pi * x), 2 * y + 20 * np.pi * np.sin(2 * np.pi * y)


def _camel_gradient(x, y):
    # f = (4 − 2.1x² + x⁴/3)x² + xy + (−4 + 4y²)y²
    return 8 * x - 8.4 * x**3 + 2 * x**5 + y, x - 8 * y + 16 * y**3


#: name → Function; drives the CLI's ``--function`` names and the test parametrisation.
FUNCTIONS: dict[str, Function] = {f.name: f for f in (
    _quadratic("seed", "x**2/100 + y**2", 0.01, 1.0, ((-8.0, 8.0), (-3.0, 3.0)), 0.9,
               "the seed's long valley: condition number 100"),
    _quadratic("textbook", "x**2/20 + y**2", 0.05, 1.0, ((-8.0, 8.0), (-4.0, 4.0)), 0.95,
               "'Deep Learning from Scratch' fig. 6-1"),
    _quadratic("bowl", "x**2 + y**2", 1.0, 1.0, ((-8.0, 8.0), (-8.0, 8.0)), 0.2,
               "a round bowl: every direction alike"),
    _quadratic("saddle", "x**2 - y**2", 1.0, -1.0, ((-4.5, 4.5), (-3.0, 3.0)), 0.1,
               "a saddle: downhill forever along y", start=(-4.0, 0.001)),
    Function(
        "rosenbrock", "(1 - x)**2 + 100*(y - x**2)**2",
        lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2, _rosenbrock_gradient,
        minima=((1.0, 1.0),), f_min=0.0, bounds=((-2.0, 2.0), (-1.0, 3.0)), start=(-1.5, 2.0),
        lr=0.001, note="a curved, flat-bottomed banana valley",
    ),
    Function(
        "beale", "(1.5 - x + x*y)**2 + (2.25 - x + x*y**2)**2 + (2.625 - x + x*y**3)**2",
        lambda x, y: (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2,
        _beale_gradient, minima=((3.0, 0.5),), f_min=0.0, bounds=((-4.5, 4.5), (-4.5, 4.5)),
        start=(1.0, 1.5), lr=0.01, note="steep walls and flat plateaus",
    ),
    Function(
        "himmelblau", "(x**2 + y - 11)**2 + (x + y**2 - 7)**2",
        lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2, _himmelblau_gradient,
        minima=((3.0, 2.0), (-2.805118086952745, 3.131312518250573),
                (-3.779310253377747, -3.2831859912861696), (3.5844283403304917, -1.8481265269644034)),
        f_min=0.0, bounds=((-5.0, 5.0), (-5.0, 5.0)), start=(0.0, 0.0), lr=0.01,
        note="four equally deep minima: the start decides which one",
    ),
    Function(
        "rastrigin", "20 + x**2 - 10*cos(2*pi*x) + y**2 - 10*cos(2*pi*y)",
        lambda x, y: 20 + x**2 - 10 * np.cos(2 * np.pi * x) + y**2 - 10 * np.cos(2 * np.pi * y),
        _rastrigin_gradient, minima=((0.0, 0.0),), f_min=0.0, bounds=((-5.12, 5.12), (-5.12, 5.12)),
        start=(-3.3, 2.2), lr=0.002, note="an egg box of local minima around one global minimum",
    ),
    Function(
        "camel", "(4 - 2.1*x**2 + x**4/3)*x**2 + x*y + (-4 + 4*y**2)*y**2",
        lambda x, y: (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2,
        _camel_gradient,
        minima=((0.08984201310031806, -0.7126564030207396), (-0.08984201310031806, 0.7126564030207396)),
        f_min=-1.0316284534898774, bounds=((-2.0, 2.0), (-1.1, 1.1)), start=(-1.5, -0.5), lr=0.01,
        note="six-hump camel: two global and four local minima",
    ),
)}


def get_function(spec: str) -> Function:
    """A built-in by name (``"seed"``, ``"rosenbrock"``, …) or a user's expression in ``x`` and ``y``."""
    key = spec.strip().lower().replace("_", "-")
    if key in FUNCTIONS:
        return FUNCTIONS[key]
    if key in ("six-hump-camel", "six-hump", "sixhump"):
        return FUNCTIONS["camel"]
    try:
        return function_from_expression(spec)
    except ConfigError:
        if re.fullmatch(r"[A-Za-z_][\w-]*", spec.strip()) and spec.strip() not in ("x", "y"):
            raise ConfigError(
                f"unknown function {spec!r}; choose one of: {', '.join(FUNCTIONS)}, "
                "or give an expression in x and y such as 'x**2/100 + y**2'."
            ) from None
        raise


def _evaluator(node: Node) -> Vectorised:
    def evaluate(x, y):
        check_time()  # every evaluation: a request's deadline stops a costly expression promptly
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        with np.errstate(all="ignore"):
            out = node.evaluate(x, y)
        return np.broadcast_to(out, np.broadcast(x, y).shape).astype(np.float64)
    return evaluate


def _checked_derivative(node: Node, var: str, text: str) -> Node:
    d = node.derivative(var)
    if tree_size(d, MAX_COST) > MAX_COST:  # before differentiating it again
        raise ConfigError(
            f"the function {text!r} is too complicated to differentiate quickly; simplify it "
            "(for example x**4 instead of x*x*x*x)."
        )
    return d


def _check_cost(trees: tuple[Node, ...], text: str) -> None:
    cost = evaluation_cost(trees)
    if cost > MAX_COST:
        raise ConfigError(
            f"the function {text!r} is too complicated: its value, gradient and Hessian take {cost:,}"
            f"{'+' if cost > 2 * MAX_COST else ''} operations per point and at most {MAX_COST:,} are allowed; "
            "simplify it (fewer nested calls, x**4 instead of x*x*x*x)."
        )


def function_from_expression(text: str) -> Function:
    """Parse ``text`` and build a :class:`Function` with exact symbolic gradients.

    A polynomial of degree ≤ 2 becomes a :class:`Quadratic` (Hessian, linear term and constant read
    off exactly), so the closed-form theory applies; otherwise the local minima are searched for
    numerically in :data:`EXPRESSION_BOX` with Newton's method.
    """
    tree = parse_expression(text)
    dx, dy = (_checked_derivative(tree, v, text) for v in "xy")
    dxx, dxy = (_checked_derivative(dx, v, text) for v in "xy")
    dyy = _checked_derivative(dy, "y", text)
    _check_cost((tree, dx, dy, dxx, dxy, dyy), text)  # before a single evaluation
    value, grad_x, grad_y = _evaluator(tree), _evaluator(dx), _evaluator(dy)
    hxx, hxy, hyy = _evaluator(dxx), _evaluator(dxy), _evaluator(dyy)

    def gradient(x, y):
        return grad_x(x, y), grad_y(x, y)

    def hessian(x, y):
        row_x = np.stack([hxx(x, y), hxy(x, y)], axis=-1)
        row_y = np.stack([hxy(x, y), hyy(x, y)], axis=-1)
        return np.stack([row_x, row_y], axis=-2)  # (..., 2, 2)

    formula = " ".join(text.split())
    common = dict(name=formula, formula=formula, value=value, gradient=gradient, bounds=EXPRESSION_BOX,
                  note="your expression")
    degree = tree.degree()
    if degree is not None and degree <= 2 and tree != ZERO:
        q = Quadratic(hessian(0.0, 0.0), np.array(gradient(0.0, 0.0)), float(value(0.0, 0.0)))
        centre = q.stationary_point if q.is_convex else None
        if centre is None:
            return Function(**common, minima=(), f_min=None, quadratic=q,
                            minima_note="none: it is unbounded below")
        return Function(**common, minima=((float(centre[0]) + 0.0, float(centre[1]) + 0.0),),
                        f_min=float(q.value(centre)), quadratic=q,
                        minima_note="the exact minimum of the quadratic")
    minima = find_minima(value, gradient, hessian, EXPRESSION_BOX)
    (x0, x1), (y0, y1) = EXPRESSION_BOX
    box = f"[{x0:g}, {x1:g}] x [{y0:g}, {y1:g}]"
    if not minima:
        return Function(**common, minima=(), f_min=None, minima_note=f"none found in {box}")
    return Function(**common, minima=minima, f_min=min(float(value(*m)) for m in minima),
                    minima_note=f"local minima found numerically in {box}")
