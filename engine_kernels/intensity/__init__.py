"""Expected demand: merchants' weekly volumes and shapes, calendars, and λ per bucket."""
