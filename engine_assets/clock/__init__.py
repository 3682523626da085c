"""Layer 2: intensity surfaces, calendars, burst fields and arrivals."""
