"""Training: configuration, the textbook loop, its history and the run folder; the book's ``Trainer``."""

from mlplab.train.book_trainer import Trainer
from mlplab.train.config import TrainConfig
from mlplab.train.history import History
from mlplab.train.layer_stats import LayerStats, LayerStatsRecorder, load_layer_stats
from mlplab.train.observers import LatestEvaluation, Observer, SnapshotRecorder, StreamWriter, TrainingState
from mlplab.train.run_folder import Run, load_run, load_snapshots, new_run_dir
from mlplab.train.trainer import TrainResult, evaluate, load_dataset, train

__all__ = [
    "History",
    "LayerStats",
    "LatestEvaluation",
    "LayerStatsRecorder",
    "Observer",
    "Run",
    "SnapshotRecorder",
    "StreamWriter",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "TrainingState",
    "evaluate",
    "load_dataset",
    "load_layer_stats",
    "load_run",
    "load_snapshots",
    "new_run_dir",
    "train",
]
