"""The one length-prefixed SHA-256 of the engine: known value and injectivity."""

import hashlib

from engine_kernels.digest import length_prefixed_sha256


def test_known_value_of_the_encoding():
    expected = hashlib.sha256((2).to_bytes(8, "big") + b"ab" + (1).to_bytes(8, "big") + b"c").hexdigest()
    assert length_prefixed_sha256([b"ab", b"c"]).hexdigest() == expected


def test_token_boundaries_change_the_hash():
    assert length_prefixed_sha256([b"ab", b"c"]).digest() != length_prefixed_sha256([b"a", b"bc"]).digest()
    assert length_prefixed_sha256([]).hexdigest() == hashlib.sha256().hexdigest()
