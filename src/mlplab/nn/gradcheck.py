"""Compare backprop with central differences, per parameter, as in the textbook's gradient check."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlplab.nn.networks import LayerNet


@dataclass(frozen=True)
class ParamCheck:
    """How far backprop is from the numerical gradient for one parameter array."""

    name: str
    shape: tuple[int, ...]
    mean_abs_diff: float
    max_abs_diff: float
    relative_error: float  # ‖g_num − g_bp‖ / max(‖g_num‖ + ‖g_bp‖, tiny)


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """‖a − b‖ / (‖a‖ + ‖b‖): scale-free, 0 when equal, 1 when unrelated; 0 if both are zero."""
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / denom) if denom > 0 else 0.0


def gradient_check(
    network: LayerNet, x: np.ndarray, t: np.ndarray
) -> tuple[list[ParamCheck], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Run both gradients on ``(x, t)`` and return per-parameter results plus both gradient dicts.

    Both see the loss in training mode; dropout masks are drawn once and held for both, so they
    differentiate the same function.
    """
    with network.fixed_dropout_masks():
        numerical = network.numerical_gradient(x, t)
        backprop = {k: v.copy() for k, v in network.gradient(x, t).items()}
    checks = []
    for key in network.params:
        diff = np.abs(numerical[key] - backprop[key])
        checks.append(
            ParamCheck(
                name=key,
                shape=tuple(network.params[key].shape),
                mean_abs_diff=float(np.mean(diff)),
                max_abs_diff=float(np.max(diff)),
                relative_error=relative_error(numerical[key], backprop[key]),
            )
        )
    return checks, numerical, backprop
