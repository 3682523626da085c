"""Segment 6B's kernels: the party behind every arrival, transfers, payment lifecycles and sessions."""
