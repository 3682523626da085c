"""Datasets on disk: atomic publication, partition paths, the `shards` IO manager and the reader
every asset and validation reads through."""
