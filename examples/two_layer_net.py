"""The textbook's ``ch04/two_layer_net.py``, written with mlplab's building blocks.

Run it: ``python examples/two_layer_net.py``. It builds the 784-50-10 network, pushes one mini-batch
through it and checks backprop against the numerical gradient — the textbook's ``gradient_check.py``.
"""

import numpy as np

from mlplab.data import load_mnist
from mlplab.nn import TwoLayerNet, relative_error

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True, dtype=np.float64)

network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10, weight_init_std=0.1, seed=0)
print({key: value.shape for key, value in network.params.items()})

x_batch, t_batch = x_train[:3], t_train[:3]
print("loss of 3 images:", network.loss(x_batch, t_batch))

grad_numerical = network.numerical_gradient(x_batch, t_batch)  # slow: 2 forward passes per weight
grad_backprop = network.gradient(x_batch, t_batch)              # fast: one forward, one backward

for key in ("W1", "b1", "W2", "b2"):
    diff = np.average(np.abs(grad_backprop[key] - grad_numerical[key]))
    print(f"{key}: mean |backprop - numerical| = {diff:.3e}, "
          f"relative error = {relative_error(grad_backprop[key], grad_numerical[key]):.3e}")
