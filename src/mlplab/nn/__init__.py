"""A neural network from scratch: functions, layers with forward/backward, networks, gradient check."""

from mlplab.nn.functions import (
    ACTIVATIONS,
    cross_entropy_error,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from mlplab.nn.gradcheck import ParamCheck, gradient_check, relative_error
from mlplab.nn.layers import (
    ACTIVATION_LAYERS,
    Affine,
    BatchNormalization,
    Dropout,
    Relu,
    Sigmoid,
    SoftmaxWithLoss,
    Tanh,
)
from mlplab.nn.networks import LayerNet, MultiLayerNet, MultiLayerNetExtend, TwoLayerNet, build_network
from mlplab.nn.numerical import numerical_gradient
from mlplab.nn.sharpness import Sharpness, sharpness, stability_factor

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_LAYERS",
    "Affine",
    "BatchNormalization",
    "Dropout",
    "LayerNet",
    "MultiLayerNet",
    "MultiLayerNetExtend",
    "ParamCheck",
    "Relu",
    "Sharpness",
    "Sigmoid",
    "SoftmaxWithLoss",
    "Tanh",
    "TwoLayerNet",
    "build_network",
    "cross_entropy_error",
    "gradient_check",
    "numerical_gradient",
    "relative_error",
    "relu",
    "sharpness",
    "sigmoid",
    "softmax",
    "stability_factor",
    "tanh",
]
