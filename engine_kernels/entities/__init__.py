"""Layer 3's cast (segment 6A): how many of each thing every owner holds."""
