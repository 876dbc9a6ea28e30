"""report layer: reproduce everything, figures, the LaTeX report."""
