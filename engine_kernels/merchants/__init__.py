"""Segment 1A kernels: the merchant universe and its outlet catalogue.

`build_universe` draws merchants (home country, MCC, channel), decides single versus multi-site,
draws outlet counts from a truncated NB2, ranks candidate countries by gravity, chooses foreign
countries and splits each merchant's outlets across them. Every draw is keyed on
(substream label, merchant id), so any subset of merchants builds the same rows it would inside
the whole universe. `expand_outlets` lays the membership out as one entry per outlet, and
`realism_figures` measures the result against the design's corridors. Everything is arrays
indexed by merchant and country; engine_assets/world/seg_1a/tables.py names the published columns.
"""
