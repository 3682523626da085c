"""The one-pass lifecycle audit: known summaries for whole, broken and shuffled flows."""

import numpy as np

from engine_kernels.flows.audit import audit_events
from engine_kernels.vocabulary import EVENT_TYPES

AUTH, REQUEST, RESPONSE, REVERSAL, CLEARING, REFUND = (EVENT_TYPES.index(n) for n in EVENT_TYPES)


def _events(rows):
    flow, seq, code, ts, amount = zip(*rows)
    return (np.array(flow, np.uint64), np.array(seq, np.int16), np.array(code, np.int8), np.array(ts, np.int64),
            np.array(amount, np.float64))


def _signature(*codes):
    return sum((c + 1) * 8 ** i for i, c in enumerate(codes))


ROWS = [
    # flow 10: request, response, clearing 40, refund 15 - whole
    (10, 0, REQUEST, 100, 40.0), (10, 1, RESPONSE, 200, 40.0), (10, 2, CLEARING, 300, 40.0), (10, 3, REFUND, 400, 15.0),
    # flow 11: reversed; its response's time repeats the request's
    (11, 0, REQUEST, 100, 9.0), (11, 1, RESPONSE, 100, 9.0), (11, 2, REVERSAL, 150, 9.0),
    # flow 12: seq skips 1, refund over the cleared amount
    (12, 0, REQUEST, 100, 5.0), (12, 2, RESPONSE, 110, 5.0), (12, 3, CLEARING, 120, 5.0), (12, 4, REFUND, 130, 6.0),
]


def test_each_flow_is_summarised_from_its_own_events():
    a = audit_events(*_events(ROWS))
    assert a.flow_id.tolist() == [10, 11, 12]
    assert a.signature.tolist() == [_signature(REQUEST, RESPONSE, CLEARING, REFUND),
                                    _signature(REQUEST, RESPONSE, REVERSAL),
                                    _signature(REQUEST, RESPONSE, CLEARING, REFUND)]
    assert a.seq_ok.tolist() == [True, True, False]
    assert a.times_ok.tolist() == [True, False, True]
    assert a.cleared.tolist() == [40.0, 0.0, 5.0]
    assert a.refunded.tolist() == [15.0, 0.0, 6.0]
    assert a.settled.tolist() == [True, True, True]
    assert a.has_refund.tolist() == [True, False, True]


def test_flows_interleaved_in_the_file_keep_their_own_event_order():
    shuffled = [ROWS[i] for i in (4, 0, 7, 5, 1, 8, 2, 6, 9, 3, 10)]  # each flow's events still in file order
    a, b = audit_events(*_events(shuffled)), audit_events(*_events(ROWS))
    for name in ("flow_id", "signature", "seq_ok", "times_ok", "cleared", "refunded", "settled", "has_refund"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_events_out_of_order_within_a_flow_break_its_template_and_times():
    swapped = [ROWS[1], ROWS[0], *ROWS[2:4]]
    a = audit_events(*_events(swapped))
    assert a.signature[0] != _signature(REQUEST, RESPONSE, CLEARING, REFUND)
    assert not a.seq_ok[0] and not a.times_ok[0]


def test_no_events_and_runaway_flows():
    empty = audit_events(*_events([(0, 0, REQUEST, 0, 0.0)]))
    assert empty.flow_id.size == 1
    nothing = audit_events(*(x[:0] for x in _events([(0, 0, REQUEST, 0, 0.0)])))
    assert nothing.flow_id.size == 0 and nothing.signature.size == 0
    long = audit_events(*_events([(7, i, REFUND, i, 1.0) for i in range(25)]))
    assert long.signature.tolist() == [-1]
