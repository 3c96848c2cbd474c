"""The textbook's ``ch04/train_neuralnet.py``: the training loop written out, with mlplab's network.

Run it: ``python examples/train_neuralnet.py [iters]`` (default 10000, as in the book). It prints the
train and test accuracy once per epoch and saves the accuracy plot as ``train_neuralnet.png``.
The same run is one command with the CLI: ``mlplab train``.
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from mlplab.data import load_mnist
from mlplab.nn import TwoLayerNet
from mlplab.optim import SGD

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)

network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10, seed=0, dtype=np.float32)
optimizer = SGD(lr=0.1)
rng = np.random.default_rng(0)

iters_num = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
train_size, batch_size = x_train.shape[0], 100
iter_per_epoch = max(train_size // batch_size, 1)

train_loss_list, train_acc_list, test_acc_list = [], [], []
for i in range(iters_num):
    batch_mask = rng.choice(train_size, batch_size)  # with replacement, as in the book
    x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]

    grad = network.gradient(x_batch, t_batch)
    optimizer.update(network.params, grad)
    train_loss_list.append(network.last_loss)

    if i % iter_per_epoch == 0:
        train_acc_list.append(network.accuracy(x_train, t_train))
        test_acc_list.append(network.accuracy(x_test, t_test))
        print(f"train acc, test acc | {train_acc_list[-1]:.4f}, {test_acc_list[-1]:.4f}")

with plt.style.context("dark_background"):
    fig, ax = plt.subplots(layout="constrained")
    epochs = np.arange(len(train_acc_list))
    ax.plot(epochs, train_acc_list, marker="o", label="train acc")
    ax.plot(epochs, test_acc_list, marker="s", linestyle="--", label="test acc")
    ax.set(xlabel="epochs", ylabel="accuracy", ylim=(0, 1.0))
    ax.legend(loc="lower right")
    fig.savefig("train_neuralnet.png")
print("saved train_neuralnet.png")
