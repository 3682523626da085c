"""Ids of the engine: known values, fields that never overlap, and values too wide for their field refused."""

import itertools

import numpy as np
import pytest

from engine_kernels.ids import (ARRIVAL_ID, EDGE_ID, SITE_ID, arrival_ids, edge_ids, flow_ids, merchant_ids, session_ids,
                                site_ids)

LAYOUTS = {"site_id": (SITE_ID, site_ids), "edge_id": (EDGE_ID, edge_ids), "arrival_id": (ARRIVAL_ID, arrival_ids)}


def test_known_values():
    assert merchant_ids(3).tolist() == [1, 2, 3] and merchant_ids(3).dtype == np.uint64
    ids = site_ids(np.array([1, 1, 2, 2**39], np.uint64), 249, np.array([1, 2, 1, 16383]))
    assert ids.dtype == np.uint64 and ids.tolist() == [
        2**24 + 249 * 2**14 + 1, 2**24 + 249 * 2**14 + 2, 2 * 2**24 + 249 * 2**14 + 1, 2**63 + 249 * 2**14 + 16383]
    assert int(ids[3]) >> 24 == 2**39 and (int(ids[3]) >> 14) & 1023 == 249 and int(ids[3]) & 16383 == 16383
    assert edge_ids(np.array([7], np.uint64), np.array([3])).tolist() == [7 * 2**16 + 3]
    day = 20_454  # 2026-01-01
    assert arrival_ids(2, day, np.arange(2, dtype=np.uint64)).tolist() == [2 * 2**56 + day * 2**36,
                                                                         2 * 2**56 + day * 2**36 + 1]


@pytest.mark.parametrize("kind", sorted(LAYOUTS))
def test_fields_fill_64_bits_without_overlap(kind):
    layout, mint = LAYOUTS[kind]
    assert sum(bits for _, bits in layout) == 64
    # Each field at its largest value, the others 0: masks are disjoint and cover the word.
    masks = [int(mint(*[(1 << bits) - 1 if i == j else 0 for j, (_, bits) in enumerate(layout)]))
             for i, (_, bits) in enumerate(layout)]
    assert all(a & b == 0 for a, b in itertools.combinations(masks, 2))
    assert sum(masks) == 2**64 - 1


def test_distinct_parts_give_distinct_ids():
    merchant, country, order = (a.ravel() for a in np.meshgrid(np.arange(1, 40), [0, 1, 1023], [1, 2, 16383]))
    ids = np.concatenate([site_ids(merchant[country == c], c, order[country == c]) for c in (0, 1, 1023)])
    assert np.unique(ids).size == ids.size
    merchant, index = (a.ravel() for a in np.meshgrid(np.arange(1, 40), [0, 1, 65535]))
    assert np.unique(edge_ids(merchant, index)).size == merchant.size
    ids = np.concatenate([arrival_ids(s, d, np.arange(50)) for s in (0, 1, 255) for d in (0, 20_454, 2**20 - 1)])
    assert np.unique(ids).size == ids.size


@pytest.mark.parametrize("mint, message", [
    (lambda: site_ids(np.array([1]), 3, np.array([16384])), r"site_id: site_order 16384 does not fit its 14 bits"),
    (lambda: site_ids(np.array([1]), 1024, np.array([1])), r"site_id: country_index 1024 does not fit its 10 bits"),
    (lambda: site_ids(np.array([2**40]), 3, np.array([1])), r"site_id: merchant_id 1099511627776 does not fit"),
    (lambda: edge_ids(np.array([1]), np.array([65536])), r"edge_id: edge_index 65536 does not fit its 16 bits"),
    (lambda: arrival_ids(256, 0, np.arange(3)), r"arrival_id: scenario 256 does not fit its 8 bits"),
    (lambda: arrival_ids(0, 2**20, np.arange(3)), r"arrival_id: day 1048576 does not fit its 20 bits"),
    (lambda: arrival_ids(0, 0, np.array([2**36])), r"arrival_id: rank 68719476736 does not fit its 36 bits"),
    (lambda: edge_ids(np.array([1]), np.array([-1])), r"edge_id: edge_index -1 is negative"),
    (lambda: edge_ids(np.array([1.0]), np.array([1])), r"edge_id: merchant_id must be integers"),
    (lambda: merchant_ids(0), r"merchants must be an integer >= 1"),
    (lambda: merchant_ids(2**40), r"do not fit the 40 bits of merchant_id"),
])
def test_a_value_too_wide_for_its_field_is_refused(mint, message):
    with pytest.raises(ValueError, match=message):
        mint()


def test_flow_and_session_ids_share_the_arrival_layout_and_name_their_kind():
    """A day's flows and sessions are numbered like its arrivals (scenario, UTC day, rank), each kind in
    its own columns; an overflow names the kind."""
    rank = np.arange(5, dtype=np.uint64)
    assert flow_ids(1, 20_454, rank).tolist() == arrival_ids(1, 20_454, rank).tolist()
    assert session_ids(1, 20_454, rank).tolist() == arrival_ids(1, 20_454, rank).tolist()
    with pytest.raises(ValueError, match=r"flow_id: rank 68719476736 does not fit its 36 bits"):
        flow_ids(0, 0, np.array([2**36]))
    with pytest.raises(ValueError, match=r"session_id: day 1048576 does not fit its 20 bits"):
        session_ids(0, 2**20, rank)
