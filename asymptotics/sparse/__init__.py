"""Sparse-feature mechanism: asymmetric scaling laws of a random-feature learner on sparse inputs.

The model here is a stand-in model reproducing the abstract's claims of arXiv 2605.23591 (the
paper's body is not available); every formula is derived by this package, none is taken from the
paper.  Layers: :mod:`.model` (the model as data, the exact decomposition), :mod:`.harmonic` and
:mod:`.harmonic_mp` (the harmonic sums in float64 and at any precision), :mod:`.expectations`
(exact finite-D expectations), :mod:`.series` (their Mellin asymptotic series), :mod:`.learner`
(the expected loss: deterministic equivalents and exact inverse-Wishart moments), :mod:`.peak`
(threshold, peak, median), :mod:`.exponents` (the two exponents and their gap), :mod:`.simulate`
(the simulator) and :mod:`.cli`.
"""

#: how every output names the model
MODEL_NAME = "a stand-in model reproducing the abstract's claims of arXiv 2605.23591"
