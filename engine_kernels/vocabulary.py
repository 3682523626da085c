"""The engine's closed vocabularies: the values a merchant's sector, channel and classes may take.

Order matters: a value's position is its index in kernels' integer codes and policy vectors, and
the order of the dictionary it is published with. Contracts list the same values
(tests/kernels/test_vocabulary.py keeps them equal).

SECTORS                demand sector of a merchant category code (reference/mcc) and so of a merchant
CHANNELS               a merchant's main acceptance channel (1A)
VIRTUAL_CLASSES        how a merchant sells online (3B): not at all, only online, or both
DEMAND_CLASSES         the weekly rhythm of a merchant's demand (5A); ONLINE_DEMAND_CLASSES are the
                       ones of merchants that sell online
PARTY_TYPES ... ROLES  the entity world (6A): who the parties are, what they hold, the devices and
                       networks they use, and the roles fraud gives some of them. DEVICE_TYPES and
                       IP_TYPES are one vocabulary with the networks devices connect through;
                       ASN_CLASSES[i] is the class of an address of IP_TYPES[i]
FLOW_TYPES ... EVENT_TYPES  payments (6B): a flow's type and channel, how its payer was found, its
                       authorisation outcome, decline reason, ISO 8583 response code and 3-D Secure
                       result, and the types of its events in lifecycle order
FRAUD_TYPES ... CASE_KEYS  fraud (6B): campaign types, a flow's truth label and its payer's role, the
                       bank's rule inputs and decisions, its labels, disputes, chargebacks and
                       cases; PROFILE_CHANGES are the profile changes a session may open with
"""

__all__ = [
    "ACCOUNT_TYPES",
    "AGE_BANDS",
    "ASN_CLASSES",
    "ATTACHMENTS",
    "BANK_LABELS",
    "CARD_NOT_PRESENT",
    "CARD_PRESENT",
    "CASE_DECISIONS",
    "CASE_KEYS",
    "CHANNELS",
    "CHARGEBACK_OUTCOMES",
    "DECLINE_REASONS",
    "DEMAND_CLASSES",
    "DEVICE_TYPES",
    "DEVICE_USAGES",
    "DISPUTE_KINDS",
    "ENTITY_KINDS",
    "EVENT_TYPES",
    "FLOW_TYPES",
    "FLOW_TYPE_KEYS",
    "FRAUD_ROLES",
    "FRAUD_TYPES",
    "HYBRID",
    "INCOME_BANDS",
    "INSTRUMENT_FORMS",
    "INSTRUMENT_TYPES",
    "IP_TYPES",
    "LABELS",
    "LABEL_ROLES",
    "LINK_ROLES",
    "NON_VIRTUAL",
    "ONLINE_DEMAND_CLASSES",
    "OPERATING_SYSTEMS",
    "OUTCOMES",
    "PARTY_TYPES",
    "PATRONAGE_RELATIONS",
    "PAYMENT_CHANNELS",
    "PROFILE_CHANGES",
    "REGIONS",
    "RESPONSE_CODES",
    "RISK_TIERS",
    "RULE_DECISIONS",
    "RULE_FEATURES",
    "SCAM_KINDS",
    "SCHEMES",
    "SECTORS",
    "SEGMENTS",
    "SEGMENTS_BY_TYPE",
    "THREE_DS_RESULTS",
    "TRANSFER_KINDS",
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

# --- 6A: the entity world ---
PARTY_TYPES = ("retail", "business", "other")
SEGMENTS_BY_TYPE = {
    "retail": ("student", "mass", "family", "affluent", "retired"),
    "business": ("sole_trader", "sme", "corporate"),
    "other": ("non_profit", "public_body"),
}
SEGMENTS = tuple(s for t in PARTY_TYPES for s in SEGMENTS_BY_TYPE[t])
# UN M.49 regions as CLDR contains countries in them; a code in none takes the policy's `default`.
REGIONS = ("Africa", "Americas", "Asia", "Europe", "Oceania")
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
INCOME_BANDS = ("low", "lower_middle", "upper_middle", "high")
ACCOUNT_TYPES = ("current", "savings", "credit_card", "loan",
                 "business_current", "business_savings", "business_credit_card", "business_loan")
INSTRUMENT_TYPES = ("debit_card", "credit_card", "wallet_token", "transfer_handle")
INSTRUMENT_FORMS = ("physical", "virtual", "token", "alias")
SCHEMES = ("VISA", "MASTERCARD", "AMEX", "DISCOVER", "UNIONPAY", "RUPAY", "JCB", "MIR", "CB")
DEVICE_TYPES = ("mobile", "laptop", "desktop", "tablet", "terminal")
OPERATING_SYSTEMS = ("android", "ios", "windows", "macos", "linux", "ipados", "embedded")
DEVICE_USAGES = ("personal", "shared", "business", "farm", "terminal")
LINK_ROLES = ("owner", "shared_user")
IP_TYPES = ("residential", "mobile_cgnat", "corporate", "public_wifi", "datacentre", "vpn_proxy")
ASN_CLASSES = ("residential_isp", "mobile_carrier", "enterprise", "hospitality", "hosting", "anonymiser")
RISK_TIERS = ("low", "standard", "elevated", "high")
ENTITY_KINDS = ("party", "account", "device", "ip", "merchant")
FRAUD_ROLES = ("synthetic_identity", "ring_organiser", "ring_associate", "mule", "risky_account", "risky_device",
               "device_farm", "ring_ip", "risky_merchant", "collusive_merchant")

# --- 6B: payments and their lifecycle ---
# A flow's type; its index also keys the per-type policy tables (decline rates, reasons).
FLOW_TYPES = ("card_present_purchase", "card_not_present_purchase", "atm_withdrawal", "transfer")
CP_PURCHASE, CNP_PURCHASE, ATM_WITHDRAWAL, TRANSFER = range(4)
# The policy's per-type keys, in FLOW_TYPES order.
FLOW_TYPE_KEYS = ("card_present", "card_not_present", "atm", "transfer")
PAYMENT_CHANNELS = ("card_present", "card_not_present", "account_to_account")
TRANSFER_KINDS = ("p2p", "bill", "salary", "benefit")
# A party's tie to a site (seg_6b/patronage): its favourite of the sector, or a home nearest the site.
PATRONAGE_RELATIONS = ("regular", "neighbour")
# How the paying party was found for an arrival (engine_kernels/flows/attach.py).
ATTACHMENTS = ("regular", "neighbour", "domestic", "visitor", "online_regular", "online", "online_foreign")
OUTCOMES = ("approved", "partially_approved", "declined", "authentication_failed")
DECLINE_REASONS = ("insufficient_funds", "do_not_honour", "suspected_fraud", "invalid_card_data")
# ISO 8583 response codes: approval, partial approval, then one per decline reason in order.
RESPONSE_CODES = ("00", "10", "51", "05", "59", "14")
THREE_DS_RESULTS = ("frictionless", "challenge_passed", "challenge_failed")
# Event types in the order a flow's events may follow one another.
EVENT_TYPES = ("authentication", "auth_request", "auth_response", "reversal", "clearing", "refund")

# --- 6B: fraud, labels and the bank's view ---
FRAUD_TYPES = ("card_testing", "stolen_cards", "account_takeover", "app_scam", "refund_abuse", "merchant_collusion",
               "first_party")
# A flow's truth: legitimate, or the type of the campaign that made or claimed it.
LABELS = ("legit", *FRAUD_TYPES)
# The part a flow's payer plays in its campaign.
LABEL_ROLES = ("victim", "fraudster", "mule")
SCAM_KINDS = ("purchase", "investment", "romance")
# Auth-time inputs of the bank's rule (engine_kernels/fraud/rule.py), in weight order.
RULE_FEATURES = ("new_device", "risky_ip", "ip_country_mismatch", "card_not_present", "cross_border", "night",
                 "cash_like", "amount_vs_usual")
RULE_DECISIONS = ("approve", "decline")
# What the bank believes of a flow at a moment: nothing yet, fraud, or legitimate.
BANK_LABELS = ("unknown", "fraud", "legit")
DISPUTE_KINDS = ("fraud", "service")
CHARGEBACK_OUTCOMES = ("cardholder_won", "merchant_won")
CASE_KEYS = ("card", "party")
CASE_DECISIONS = ("fraud", "legit", "service", "open")
# Changes to a party's profile made at the start of an online session (seg_6b/sessions).
PROFILE_CHANGES = ("password_reset", "email_change", "phone_change", "new_payee")
