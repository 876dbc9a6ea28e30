"""Surrogate losses as data: the engine derives the closure, numerics and late-time laws for any loss.

>>> from asymptotics.losses import get_loss
>>> get_loss("focal:gamma=2").is_shift_invariant
True
"""

from asymptotics.losses.model import Loss
from asymptotics.losses.registry import (FAMILIES, REGISTERED, get_loss, loss_from_expression, loss_symbols,
                                         registered_losses)

__all__ = ["Loss", "FAMILIES", "REGISTERED", "get_loss", "registered_losses", "loss_from_expression",
           "loss_symbols"]
