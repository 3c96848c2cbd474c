"""The book's small pieces, as its scripts call them: numerical_gradient, shuffle_dataset, smooth_curve,
the optimizers' default learning rates, Trainer, and ``import mlplab.train`` giving the package.

References are independent of mlplab's code: numbers printed in the book, closed forms, and the
book's ``common/optimizer.py`` defaults.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from mlplab.data import shuffle_dataset
from mlplab.errors import DataError
from mlplab.nn import MultiLayerNet, MultiLayerNetExtend, numerical_gradient, softmax
from mlplab.nn.layers import SoftmaxWithLoss
from mlplab.optim import OPTIMIZERS
from mlplab.train import Trainer
from mlplab.viz import smooth_curve


# -- numerical_gradient (ch. 4) ---------------------------------------------------------------
def test_numerical_gradient_closed_forms():
    """The book's §4.4 examples: ∇(x0² + x1²) at (3, 4), (0, 2), (3, 0) is (6, 8), (0, 4), (6, 0)."""
    def f(x):
        return float(np.sum(x**2))

    for point, grad in [((3.0, 4.0), (6, 8)), ((0.0, 2.0), (0, 4)), ((3.0, 0.0), (6, 0))]:
        np.testing.assert_allclose(numerical_gradient(f, np.array(point)), grad, atol=1e-8)
    x = np.arange(6.0).reshape(2, 3)  # any shape; restored afterwards
    np.testing.assert_allclose(numerical_gradient(lambda a: float(np.sum(np.sin(a))), x), np.cos(x), atol=1e-8)
    np.testing.assert_array_equal(x, np.arange(6.0).reshape(2, 3))
    with pytest.raises(TypeError, match="float array"):
        numerical_gradient(f, np.array([3, 4]))


def test_the_books_simple_net_prints_its_gradient():
    """§4.4.2, gradient_simplenet.py with the book's printed W: it prints
    dW = [[0.21924763, 0.14356247, -0.36281009], [0.32887144, 0.2153437, -0.54421514]]."""
    W = np.array([[0.47355232, 0.9977393, 0.84668094], [0.85557411, 0.03563661, 0.69422093]])
    x, t = np.array([[0.6, 0.9]]), np.array([[0, 0, 1]])
    np.testing.assert_allclose(x @ W, [[1.05414809, 0.63071653, 1.1328074]], atol=1e-8)  # also printed
    dW = numerical_gradient(lambda _: SoftmaxWithLoss().forward(x @ W, t), W)
    book = [[0.21924763, 0.14356247, -0.36281009], [0.32887144, 0.2153437, -0.54421514]]
    np.testing.assert_allclose(dW, book, atol=1e-8)
    np.testing.assert_allclose(dW, x.T @ (softmax(x @ W) - t), atol=1e-8)  # and the closed form


# -- shuffle_dataset and smooth_curve ---------------------------------------------------------
def test_shuffle_dataset_keeps_pairs_and_follows_the_global_seed():
    x = np.arange(20.0).reshape(10, 2)
    t = np.arange(10) * 10
    xs, ts = shuffle_dataset(x, t)
    np.testing.assert_array_equal(xs[:, 0] / 2 * 10, ts)  # each row still with its label
    assert sorted(ts) == list(t)
    np.random.seed(5)
    a = shuffle_dataset(x, t)[1]
    np.random.seed(5)
    np.testing.assert_array_equal(a, np.random.permutation(10) * 10)
    np.testing.assert_array_equal(shuffle_dataset(x, t, seed=1)[1], shuffle_dataset(x, t, seed=1)[1])
    with pytest.raises(DataError, match="10 rows but t has 9"):
        shuffle_dataset(x, t[:9])


def test_smooth_curve_keeps_length_constants_and_lines():
    assert smooth_curve(np.full(30, 2.5)) == pytest.approx(np.full(30, 2.5))
    ramp = np.arange(40.0)
    out = smooth_curve(ramp)
    assert out.shape == (40,)
    np.testing.assert_allclose(out[5:-5], ramp[5:-5])  # a symmetric window leaves a line alone
    noisy = np.random.default_rng(0).standard_normal(2000)
    assert np.std(smooth_curve(noisy)) < 0.5 * np.std(noisy)  # and it does smooth


# -- optimizers: the book's default learning rates ---------------------------------------------
BOOK_LR = {"sgd": 0.01, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.01, "rmsprop": 0.01, "adam": 0.001}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizers_default_lr_is_the_books(name):
    """From the book's common/optimizer.py: SGD(lr=0.01), …, Adam(lr=0.001)."""
    assert OPTIMIZERS[name]().lr == BOOK_LR[name]
    assert inspect.signature(OPTIMIZERS[name]).parameters["lr"].default == BOOK_LR[name]


# -- import mlplab.train ------------------------------------------------------------------------
def test_mlplab_train_is_the_package():
    import mlplab
    import mlplab.train
    from mlplab import train as train_package

    assert mlplab.train.__name__ == "mlplab.train" and train_package is mlplab.train
    assert mlplab.train.TrainConfig is not None and callable(mlplab.train.train)
    assert mlplab.train.Trainer is Trainer


# -- Trainer ----------------------------------------------------------------------------------
def test_trainer_runs_the_books_loop(small_mnist):
    """300 images, batch 100: iter_per_epoch = 3, so 5 epochs are 15 steps and 5 evaluations."""
    (x_train, t_train), (x_test, t_test) = small_mnist
    np.random.seed(0)
    net = MultiLayerNet(input_size=784, hidden_size_list=[50], output_size=10)
    trainer = Trainer(net, x_train[:300], t_train[:300], x_test, t_test, epochs=5, mini_batch_size=100,
                      optimizer="Adam", optimizer_param={"lr": 0.01}, verbose=False)
    assert type(trainer.optimizer).__name__ == "Adam" and trainer.optimizer.lr == 0.01
    final = trainer.train()
    assert len(trainer.train_loss_list) == 15
    assert len(trainer.train_acc_list) == len(trainer.test_acc_list) == 5
    assert final == net.accuracy(x_test, t_test) == trainer.final_test_acc
    assert trainer.train_acc_list[-1] > 0.8  # 15 Adam steps on 300 images do learn
    assert trainer.train_loss_list[-1] < 0.5 * trainer.train_loss_list[0]


def test_trainer_draws_batches_like_the_book(small_mnist):
    """seed=None: the batches are np.random.choice(train_size, batch_size), the book's draw, so the
    same global seed gives the same run; with a seed, its own stream."""
    (x_train, t_train), (x_test, t_test) = small_mnist

    def run(seed=None):
        np.random.seed(1)
        net = MultiLayerNetExtend(784, [20], 10, use_dropout=True, dropout_ratio=0.2)
        trainer = Trainer(net, x_train[:200], t_train[:200], x_test[:100], t_test[:100], epochs=2,
                          mini_batch_size=50, evaluate_sample_num_per_epoch=100, verbose=False, seed=seed)
        trainer.train()
        return trainer.train_loss_list

    assert run() == run()
    assert run(seed=3) == run(seed=3) != run()


def test_trainer_prints_as_the_book(small_mnist, capsys):
    (x_train, t_train), (x_test, t_test) = small_mnist
    net = MultiLayerNet(784, [10], 10, seed=0)
    Trainer(net, x_train[:100], t_train[:100], x_test[:50], t_test[:50], epochs=1, optimizer="sgd").train()
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("train loss:") and out[1].startswith("=== epoch:1, train acc:")
    assert out[-2] == "=============== Final Test Accuracy ===============" and out[-1].startswith("test acc:")


def test_trainer_names_the_optimizers_it_knows(small_mnist):
    (x_train, t_train), (x_test, t_test) = small_mnist
    with pytest.raises(Exception, match="unknown optimizer 'lbfgs'; choose one of: sgd, momentum"):
        Trainer(MultiLayerNet(784, [5], 10, seed=0), x_train, t_train, x_test, t_test, optimizer="lbfgs")
