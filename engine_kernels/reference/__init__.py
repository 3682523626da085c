"""Reference tables of the closed world, built only from pinned, installed data packages."""
