"""What world a run builds and how it is launched: configuration, run identity, the engine
resource, partitions, errors and the jobs derived from the asset graph."""
