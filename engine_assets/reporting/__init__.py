"""Layer 4: what people open, the realism report of each world and scenario."""
