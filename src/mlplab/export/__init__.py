"""Exports of a run to other tools (TensorBoard)."""
