"""Civil time: the pinned tz database, UTC offset tables, and the zone of a place."""
