"""The engine's one way of hashing a sequence of byte strings."""

import hashlib
from collections.abc import Iterable


def length_prefixed_sha256(tokens: Iterable[bytes]) -> "hashlib._Hash":
    """SHA-256 over each token as its length (8 bytes, big-endian) followed by its bytes.

    The length prefixes make the encoding injective: ("ab", "c") and ("a", "bc") hash differently.
    Parameter hashes, substream keys, manifest fingerprints and validation flags all use it.
    """
    h = hashlib.sha256()
    for token in tokens:
        h.update(len(token).to_bytes(8, "big"))
        h.update(token)
    return h
