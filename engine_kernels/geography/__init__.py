"""The Earth as the engine measures it: distances, grid cells and rasters."""
