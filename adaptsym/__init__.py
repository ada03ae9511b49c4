"""adaptsym: the computations behind the book on adaptive-symmetry breaking in deep networks."""

__version__ = "0.1.0"
