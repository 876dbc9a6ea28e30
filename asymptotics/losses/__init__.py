"""Surrogate losses as data: the engine derives the closure, numerics and late-time laws for any loss.

Public names are imported lazily (the command line imports :mod:`asymptotics.losses.cli`, which must stay
light): ``Loss``, ``get_loss``, ``registered_losses``, ``loss_from_expression``, ``loss_symbols``,
``FAMILIES``, ``REGISTERED``.

>>> from asymptotics.losses import get_loss
>>> get_loss("focal:gamma=2").is_shift_invariant
True
"""

__all__ = [
    "Loss",
    "FAMILIES",
    "REGISTERED",
    "get_loss",
    "registered_losses",
    "loss_from_expression",
    "loss_symbols",
]


def __getattr__(name):
    if name == "Loss":
        from asymptotics.losses.model import Loss

        return Loss
    if name in __all__:
        from asymptotics.losses import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'asymptotics.losses' has no attribute {name!r}")
