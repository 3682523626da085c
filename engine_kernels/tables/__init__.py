"""Discrete laws as tables: alias tables, routing tables over them, and integerisation of shares."""
