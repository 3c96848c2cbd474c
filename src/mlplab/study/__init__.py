"""The ch. 6 studies of "Deep Learning from Scratch", one module each (``mlplab study NAME``).

=============  ==============================================================  ==================
study          what it compares                                                 the book
=============  ==============================================================  ==================
``init``       weight scales: activation histograms, MNIST loss curves          figs 6-10 … 6-15
``batchnorm``  with and without batch norm over 16 weight scales                fig 6-18, 6-19
``overfit``    300 images, 6×100 ReLU: none, weight decay 0.1, dropout 0.15      figs 6-20 … 6-23
``optimizers`` six optimizers on MNIST, one chart                               fig 6-9
``search``     random search over lr and weight decay, ranked on validation     figs 6-24
=============  ==============================================================  ==================

Each ``run_<name>(folder, quick=False)`` trains, returns a :class:`~mlplab.study.common.StudyResult`
and writes ``study.json``; :mod:`mlplab.viz.study` draws the figures and the page.
"""

from mlplab.study.common import SAME_SEED_NOTE, StudyResult

__all__ = ["SAME_SEED_NOTE", "StudyResult"]
