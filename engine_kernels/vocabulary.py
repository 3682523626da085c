"""The engine's closed vocabularies: the values a merchant's sector, channel and classes may take.

Order matters: a value's position is its index in kernels' integer codes and policy vectors, and
the order of the dictionary it is published with. Contracts list the same values
(tests/kernels/test_vocabulary.py keeps them equal).

SECTORS                demand sector of a merchant category code (reference/mcc) and so of a merchant
CHANNELS               a merchant's main acceptance channel (1A)
VIRTUAL_CLASSES        how a merchant sells online (3B): not at all, only online, or both
DEMAND_CLASSES         the weekly rhythm of a merchant's demand (5A); ONLINE_DEMAND_CLASSES are the
                       ones of merchants that sell online
"""

__all__ = [
    "CARD_NOT_PRESENT",
    "CARD_PRESENT",
    "CHANNELS",
    "DEMAND_CLASSES",
    "HYBRID",
    "NON_VIRTUAL",
    "ONLINE_DEMAND_CLASSES",
    "SECTORS",
    "VIRTUAL_CLASSES",
    "VIRTUAL_ONLY",
]

SECTORS = ("grocery", "restaurants", "fuel", "retail", "travel", "digital", "services", "utilities", "health",
           "government", "financial", "entertainment")

CHANNELS = ("card_present", "card_not_present")
CARD_PRESENT, CARD_NOT_PRESENT = CHANNELS

VIRTUAL_CLASSES = ("NON_VIRTUAL", "VIRTUAL_ONLY", "HYBRID")
NON_VIRTUAL, VIRTUAL_ONLY, HYBRID = VIRTUAL_CLASSES

DEMAND_CLASSES = ("always_on_local", "bills_utilities", "consumer_daytime", "evening_weekend", "fuel_convenience",
                  "low_volume_tail", "office_hours", "online_24h", "online_bursty", "travel_hospitality")
ONLINE_DEMAND_CLASSES = ("online_24h", "online_bursty")
