"""mlplab: train a neural network from scratch in NumPy and watch it learn.

The public API, floor by floor (see STYLE.md): data → nn/optim → train → viz/landscape.
"""

from mlplab.data import load_mnist
from mlplab.errors import ConfigError, DataError, MlplabError, RunFolderError
from mlplab.nn import MultiLayerNet, MultiLayerNetExtend, TwoLayerNet, build_network, gradient_check
from mlplab.optim import OPTIMIZERS, SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop, make_optimizer
from mlplab.train import History, TrainConfig, load_run

# `mlplab.train` is the package mlplab.train (TrainConfig, train, Trainer, …): importing the function
# `train` here would hide the package behind it, and `mlplab.train.TrainConfig` would fail.

# Floor 2 and 3 entry points, loaded on first use so that `import mlplab` stays light
# (matplotlib, plotly and dask are imported only by the modules that draw or distribute).
_LAZY_MODULES = {name: f"mlplab.{name}" for name in ("landscape", "viz", "diagnose", "sweep")}
_LAZY_NAMES = {
    "get_function": "mlplab.landscape",
    "descend": "mlplab.landscape",
    "judge": "mlplab.landscape",
    "FiniteSum": "mlplab.landscape",
    "stochastic_descent": "mlplab.landscape",
    "diagnose_run": "mlplab.diagnose",
    "draw_run": "mlplab.viz.training.run_figures",
    "write_report": "mlplab.viz.report",
    "explain_image": "mlplab.explain",
    "explain_run": "mlplab.explain",
}


def __getattr__(name: str):
    import importlib

    if name in _LAZY_MODULES:
        return importlib.import_module(_LAZY_MODULES[name])
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(_LAZY_NAMES[name]), name)
    raise AttributeError(f"module 'mlplab' has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "AdaGrad",
    "Adam",
    "ConfigError",
    "DataError",
    "History",
    "MlplabError",
    "Momentum",
    "MultiLayerNet",
    "MultiLayerNetExtend",
    "Nesterov",
    "RMSprop",
    "RunFolderError",
    "TrainConfig",
    "TwoLayerNet",
    "build_network",
    "gradient_check",
    "load_mnist",
    "load_run",
    "make_optimizer",
    "train",
    *_LAZY_MODULES,
    *_LAZY_NAMES,
]
