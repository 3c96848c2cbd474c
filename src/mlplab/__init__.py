"""mlplab: train a neural network from scratch in NumPy and watch it learn.

The public API, floor by floor (see STYLE.md): data → nn/optim → train → viz/landscape.
"""

from mlplab.data import load_mnist
from mlplab.errors import ConfigError, DataError, MlplabError, RunFolderError
from mlplab.nn import MultiLayerNet, TwoLayerNet, build_network, gradient_check
from mlplab.optim import OPTIMIZERS, SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop, make_optimizer
from mlplab.train import History, TrainConfig, load_run, train

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
]
