"""Layer 3, behaviour: the entity world (customers, accounts, cards, devices, IPs, fraud roles), then per scenario their payments, fraud and labels."""
