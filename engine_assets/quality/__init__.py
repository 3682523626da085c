"""What makes a dataset trustworthy: contracts, the checks generated from them, realism corridors
and the validation bundles that gate every segment."""
