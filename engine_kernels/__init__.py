"""Pure numerical kernels of the engine (no Dagster). Importing the package changes no global state."""
