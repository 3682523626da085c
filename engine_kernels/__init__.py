"""Pure numerical kernels of the engine (no Dagster). Importing the package pins the tz database."""

from engine_kernels.civil_time.tzdb import use_pinned_tzdata

TZDATA_VERSION = use_pinned_tzdata()
