"""Layer 1: reference world, merchants, sites, time zones, routing, virtual merchants."""
