"""The ``xpbackprop`` command: ``train``, ``predict`` and ``info``.

``xpbackprop`` (or ``python -m xpbackprop``) with no arguments is ``xpbackprop train``: an MLP
on the digits shipped with the package, on the numpy backend. ``xpbackprop demo`` is
``xpbackprop train spirals``. Errors print one line on stderr and exit with status 1
(argument errors: status 2, from argparse). The modules: ``parser`` (the argument tables),
``command`` (``main``), ``train``, ``predict``, ``info``, and what they share: ``task``
(classification or regression), ``scaling``, ``paths`` (inputs, outputs, fallbacks),
``modelfile`` (what a model file keeps beside the network), ``progress``, ``runtime`` (threads,
memory).
"""

from .command import main, parse_arguments
from .parser import build_parser
from .scaling import fold_standardization

__all__ = ["build_parser", "fold_standardization", "main", "parse_arguments"]
