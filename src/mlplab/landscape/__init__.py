"""Optimisation landscapes: mlplab's optimizers moving a point on 2-D functions, told honestly.

Floor 2 (processes): functions and their exact gradients, a whitelist expression parser with symbolic
derivatives, paths, SGD on a finite sum, schedules, the closed-form theory for quadratics, and the
verdict. The pictures are in :mod:`mlplab.viz.landscape.plots` and :mod:`mlplab.viz.landscape.interactive`.
"""

from mlplab.landscape.compare import PRESETS, compare_optimizers
from mlplab.landscape.expression import FUNCTIONS as ELEMENTARY_FUNCTIONS
from mlplab.landscape.functions import FUNCTIONS, Function, function_from_expression, get_function
from mlplab.landscape.minima import find_minima
from mlplab.landscape.parser import parse_expression
from mlplab.landscape.paths import BLOW_UP, Path, descend, follow, paths_csv
from mlplab.landscape.schedules import SCHEDULES, make_schedule
from mlplab.landscape.sgd_study import SgdStudy, run_sgd_study
from mlplab.landscape.stochastic import FiniteSum, ensemble, gradient_noise, stochastic_descent
from mlplab.landscape.theory import Quadratic
from mlplab.landscape.verdict import TOLERANCE, Verdict, judge

__all__ = [
    "BLOW_UP",
    "ELEMENTARY_FUNCTIONS",
    "FUNCTIONS",
    "PRESETS",
    "SCHEDULES",
    "TOLERANCE",
    "FiniteSum",
    "Function",
    "Path",
    "Quadratic",
    "SgdStudy",
    "Verdict",
    "compare_optimizers",
    "descend",
    "ensemble",
    "find_minima",
    "follow",
    "function_from_expression",
    "get_function",
    "gradient_noise",
    "judge",
    "make_schedule",
    "parse_expression",
    "paths_csv",
    "run_sgd_study",
    "stochastic_descent",
]
