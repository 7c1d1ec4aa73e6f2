"""xpbackprop: backpropagation as batched matrix formulas on any Python array API library."""

from .activations import ACTIVATIONS
from .backend import BACKENDS, available_backends, namespace, to_numpy
from .gradcheck import check_gradients
from .history import DivergenceError, DivergenceWarning, History, TrainingInterrupted
from .io import ModelFileError, load, save, saved_classes
from .layers import Activation, Conv1D, Dense, Dropout, Flatten, Layer
from .losses import BCE, LOSSES, MSE, CrossEntropy, Loss, Poisson
from .metrics import accuracy, r2_score
from .mlp import MLP
from .network import Sequential
from .optimizers import SGD, Adam, Optimizer
from .plot import plot_history
from .trainer import Trainer
from .training import fit

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "BACKENDS",
    "BCE",
    "LOSSES",
    "MLP",
    "MSE",
    "SGD",
    "Activation",
    "Adam",
    "Conv1D",
    "CrossEntropy",
    "Dense",
    "DivergenceError",
    "DivergenceWarning",
    "Dropout",
    "Flatten",
    "History",
    "Layer",
    "Loss",
    "ModelFileError",
    "Optimizer",
    "Poisson",
    "Sequential",
    "Trainer",
    "TrainingInterrupted",
    "__version__",
    "accuracy",
    "available_backends",
    "check_gradients",
    "fit",
    "load",
    "namespace",
    "plot_history",
    "r2_score",
    "save",
    "saved_classes",
    "to_numpy",
]
