"""Each optimizer's settings besides lr, as forms list them: read from the constructor, they are the
very values a default-built optimizer reports; an unknown one is refused with the list, at build time."""

from __future__ import annotations

import pytest

from mlplab.errors import ConfigError
from mlplab.optim import OPTIMIZERS, hyperparameter_defaults, make_optimizer
from mlplab.train import TrainConfig


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_the_defaults_are_those_a_default_optimizer_reports(name):
    reported = OPTIMIZERS[name](lr=0.1).hyperparameters()  # the optimizer's own account of itself
    assert hyperparameter_defaults(name) == {k: v for k, v in reported.items() if k != "lr"}


def test_an_unknown_setting_is_refused_with_the_optimizers_settings():
    with pytest.raises(ConfigError, match="adam has no setting momentum; its settings are: beta1, beta2, eps"):
        make_optimizer("adam", 0.1, momentum=0.9)
    with pytest.raises(ConfigError, match="sgd has no setting momentum; its settings are: none besides lr"):
        make_optimizer("sgd", 0.1, momentum=0.9)


def test_a_training_config_checks_its_optimizer_options_when_built():
    assert TrainConfig(optimizer="momentum", optimizer_options={"momentum": 0.5}).optimizer_options == {"momentum": 0.5}
    with pytest.raises(ConfigError, match=r"beta2 must be in \[0, 1\), got 1.5"):
        TrainConfig(optimizer="adam", optimizer_options={"beta2": 1.5})
