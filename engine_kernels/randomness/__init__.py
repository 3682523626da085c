"""Counter-based random numbers: Philox streams keyed by substream labels, and the samplers on them."""
