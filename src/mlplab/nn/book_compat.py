"""The textbook's spellings and mlplab's: the one table that says what maps to what.

"Deep Learning from Scratch" names some arguments differently from mlplab (and once misspells one).
mlplab's networks accept both; this module is the only place that knows the pairs, so a book script
such as ``MultiLayerNetExtend(input_size=784, hidden_size_list=[100] * 5, output_size=10,
weight_init_std='relu', use_dropout=True, dropout_ration=0.15)`` runs unchanged. The remaining
differences in behaviour are listed in ``docs/differences_from_the_book.md``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from mlplab.errors import ConfigError

#: The book's keyword → mlplab's, for the networks' constructors.
BOOK_KEYWORDS: dict[str, str] = {
    "hidden_size_list": "hidden_sizes",
    "dropout_ration": "dropout_ratio",  # sic: the book's common/multi_layer_net_extend.py spells it so
}

#: The book's names for ``weight_init_std`` → mlplab's. The book names the initialisation after the
#: activation it suits: 'relu' is He's √(2/n), 'sigmoid' is Xavier's √(1/n) (n = the fan-in).
BOOK_WEIGHT_INIT: dict[str, str] = {"relu": "he", "sigmoid": "xavier"}

F = TypeVar("F", bound=Callable[..., Any])


def book_keywords(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with the book's keywords renamed to mlplab's (``BOOK_KEYWORDS``)."""
    out = dict(kwargs)
    for book_name, ours in BOOK_KEYWORDS.items():
        if book_name in out:
            if ours in out:
                raise ConfigError(f"give {ours}= or the book's {book_name}=, not both.")
            out[ours] = out.pop(book_name)
    return out


def accepts_book_keywords(init: F) -> F:
    """Let a constructor written with mlplab's names be called with the book's too."""

    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **book_keywords(kwargs))

    return wrapper  # type: ignore[return-value]
