"""Layer 3's cast (segment 6A): parties, what they hold, the devices and addresses they use, and
the roles fraud gives some of them, built one country at a time (country.py)."""
