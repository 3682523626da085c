"""Outlets and edges on the map: zone plans, site placement, site weights, virtual merchants' edges."""
