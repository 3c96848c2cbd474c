"""Pictures of a training run: curves, the network, hidden units, confusion, mistakes, gradient check,
and the registry that draws them all (``run_figures``)."""
