"""asymptotics: a symbolic-numeric toolkit for the asymptotic theory of learning curves.

Layers (see README.md):

* ``asymptotics.symbolic``  -- unevaluated Gaussian expectations, Stein's lemma, derivations (SymPy)
* ``asymptotics.numeric``   -- the same expectations evaluated at any precision (mpmath) or fast (float64)
* ``asymptotics.dynamics``  -- integration of order-parameter flows, finite-N SGD simulation
* ``asymptotics.asymptotic``-- boundary-layer expansions, reduced flows, late-time series
* ``asymptotics.analysis``  -- local slopes, effective exponents, extrapolation
* ``asymptotics.peaked``    -- the peaked-distribution (softmax LM head) mechanism
"""

__version__ = "0.1.0"
