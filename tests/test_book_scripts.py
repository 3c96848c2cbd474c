"""The book's ch. 6 scripts in compact form, against the numbers the book's *own code* prints.

Each test repeats one script of ``oreilly-japan/deep-learning-from-scratch`` with mlplab's API and
``np.random.seed(0)`` before it, as recorded in ``docs/book.md``: with ``seed=None`` mlplab draws the
initial weights, the dropout masks and the batches from NumPy's global state in the book's order, so
the book's code and mlplab make the same draws and must end on the same accuracies. Evaluations that
draw nothing are trimmed to save time; they cannot change the run.
"""

from __future__ import annotations

import numpy as np
import pytest

from mlplab.nn import MultiLayerNet, MultiLayerNetExtend
from mlplab.optim import SGD
from mlplab.train import Trainer
from mlplab.train.threads import blas_threads


def test_overfit_weight_decay_ends_where_the_books_code_does(mnist):
    """ch06/overfit_weight_decay.py (fig. 6-21): 300 images, 6 × 100 ReLU, λ = 0.1, SGD lr 0.01,
    201 epochs of 3 steps. The book's code prints ``epoch:200, train acc:0.92, test acc:0.7331``."""
    (x_train, t_train), (x_test, t_test) = mnist
    x_train, t_train = x_train[:300], t_train[:300]
    np.random.seed(0)
    network = MultiLayerNet(input_size=784, hidden_size_list=[100] * 6, output_size=10, weight_decay_lambda=0.1)
    optimizer = SGD(lr=0.01)
    with blas_threads(1):  # small products: one thread is many times faster on a shared machine
        for _ in range(601):  # the book stops right after the evaluation at step 600 (epoch 200)
            batch_mask = np.random.choice(300, 100)
            grads = network.gradient(x_train[batch_mask], t_train[batch_mask])
            optimizer.update(network.params, grads)
    assert network.accuracy(x_train, t_train) == 0.92
    assert network.accuracy(x_test, t_test) == 0.7331


@pytest.mark.slow
def test_overfit_dropout_ends_where_the_books_code_does(mnist):
    """ch06/overfit_dropout.py (fig. 6-23): the same network with dropout 0.2, through ``Trainer``,
    301 epochs. The book's code prints ``epoch:301, train acc:0.6166…, test acc:0.4875`` and a final
    ``test acc:0.4875``."""
    (x_train, t_train), (x_test, t_test) = mnist
    np.random.seed(0)
    network = MultiLayerNetExtend(input_size=784, hidden_size_list=[100] * 6, output_size=10,
                                  use_dropout=True, dropout_ration=0.2)
    trainer = Trainer(network, x_train[:300], t_train[:300], x_test, t_test, epochs=301, mini_batch_size=100,
                      optimizer="sgd", optimizer_param={"lr": 0.01}, evaluate_sample_num_per_epoch=300,
                      verbose=False)
    with blas_threads(1):  # the evaluations too: 300 rows are small products
        assert trainer.train() == 0.4875
    assert len(trainer.train_loss_list) == 903 and len(trainer.train_acc_list) == 301
    assert trainer.train_acc_list[-1] == 185 / 300  # 0.6166…
