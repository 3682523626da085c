"""Every substream label of the engine, in one place.

A label names one family of draws; its key is SHA-256 over (seed, parameter_hash, label), and
the ids of a unit are folded in after (engine_kernels/randomness/streams.py). Two families sharing a label would
draw the same numbers, so every label is defined here once and tests/kernels/randomness/test_substreams.py checks
that they are distinct. CDN edges reuse the site-placement labels of 1B behind `EDGE_PREFIX`.
"""

# 1A: merchants and their outlets
MERCHANT_HOME = "1a.home"
MERCHANT_MCC = "1a.mcc"
MERCHANT_CHANNEL = "1a.channel"
OUTLET_HURDLE = "1a.hurdle"
OUTLET_COUNT_NB = "1a.nb"
CROSS_BORDER = "1a.cross_border"
FOREIGN_COUNT = "1a.foreign_count"
FOREIGN_PICK = "1a.foreign_pick"
# 3A: zones of a merchant's sites
ZONE_ESCALATE = "3a.escalate"
ZONE_PICK = "3a.zone_pick"
ZONE_SHARES = "3a.zone_shares"
# 1B: sites on the map
SITE_ANCHOR = "1b.anchor"
SITE_CELL = "1b.cell_pick"
SITE_JITTER = "1b.jitter"
# 2B: routing weights and day effects
WEIGHT_SHAPE = "2b.shape"
WEIGHT_SITE_NOISE = "2b.site_noise"
DAY_EFFECT = "2b.day_effect"
# 3B: virtual merchants and edges
SETTLEMENT = "3b.settlement"
EDGE_PROFILE = "3b.edge_profile"
EDGE_COUNTRY = "3b.edge_country"
EDGE_PREFIX = "3b."
# 5A: demand and calendars
SHAPE_JITTER = "5a.shape_jitter"
SHAPE_VARIANT = "5a.shape_variant"
VOLUME = "5a.volume"
OUTAGE = "5a.outage"
# 5B: bursts and arrivals
LATENT = "5b.latent"
CELL = "5b.cell"
# 6A: the entity world (homes reuse the site-placement labels of 1B behind `HOME_PREFIX`)
PARTY = "6a.party"
HOUSEHOLD = "6a.household"
HOME_PREFIX = "6a.home."
HOLDING = "6a.holding"
CARD = "6a.card"
DEVICE = "6a.device"
NETWORK = "6a.network"
IP_POOL = "6a.ip_pool"
RISK = "6a.risk"
ROLE = "6a.role"
RING = "6a.ring"
TOKEN = "6a.token"
# 6B: payments (part 1, legitimate behaviour)
CARD_ACTIVE = "6b.card_active"
CARD_ORDER = "6b.card_order"
FAVOURITE = "6b.favourite"
ATTACH = "6b.attach"
ONLINE_POOL = "6b.online_pool"
EQUIP = "6b.equip"
AMOUNT = "6b.amount"
LIFECYCLE = "6b.lifecycle"
TRANSFER = "6b.transfer"
SESSION = "6b.session"
# 6B: fraud campaigns, the bank's rule and its later view
FRAUD_PLAN = "6b.fraud_plan"
FRAUD_TARGET = "6b.fraud_target"
FRAUD_ACT = "6b.fraud_act"
FRAUD_RULE = "6b.fraud_rule"
BANK_VIEW = "6b.bank_view"
PROFILE_CHANGE = "6b.profile_change"

LABELS = tuple(value for name, value in sorted(globals().items()) if name.isupper() and name not in ("EDGE_PREFIX", "HOME_PREFIX"))
