"""Arrivals: latent bursts, overdispersed counts, and each arrival's time and route."""
