"""Cases (engine_kernels/fraud/cases.py): alerts grouped per card within a window, decided and closed."""

import numpy as np

from engine_kernels.fraud.cases import FRAUD, LEGIT, OPEN, SERVICE, group_cases

DAY = 86_400_000_000


def test_alerts_of_a_card_within_the_window_share_a_case_and_its_timeline():
    #            card 1: two alerts 3 days apart, then one 40 days later; card 2: a service dispute;
    #            card 3: a confirmed false decline; party 9: an undecided alert
    key = np.array([1, 1, 1, 2, 3, 9])
    kind = np.array([0, 0, 0, 0, 0, 1])
    alerted = np.array([0, 3, 40, 5, 7, 8]) * DAY
    detected = np.array([-1, 4 * DAY, -1, -1, -1, -1])
    disputed = np.array([20 * DAY, -1, 50 * DAY, 25 * DAY, -1, -1])
    fraud_dispute = np.array([True, False, True, False, False, False])
    chargeback = np.array([26 * DAY, -1, -1, 30 * DAY, -1, -1])
    confirmed = np.array([-1, -1, -1, -1, 7 * DAY + 10, -1])
    c = group_cases(key, kind, alerted, detected, disputed, fraud_dispute, chargeback, confirmed, 30 * DAY, DAY)
    assert c.case_of.tolist() == [0, 0, 1, 2, 3, 4]
    assert c.key.tolist() == [1, 1, 2, 3, 9] and c.key_kind.tolist() == [0, 0, 0, 0, 1]
    assert c.flows.tolist() == [2, 1, 1, 1, 1]
    assert c.opened_at.tolist() == [0, 40 * DAY, 5 * DAY, 7 * DAY, 8 * DAY]
    assert c.detected_at[0] == 4 * DAY and c.disputed_at[0] == 20 * DAY and c.chargeback_at[0] == 26 * DAY
    assert c.decision.tolist() == [FRAUD, FRAUD, SERVICE, LEGIT, OPEN]
    assert c.decided_at.tolist() == [4 * DAY, 50 * DAY, 25 * DAY, 7 * DAY + 10, -1]
    assert c.closed_at[0] == 27 * DAY and c.closed_at[4] == -1
    assert (c.closed_at[c.decision != OPEN] >= c.decided_at[c.decision != OPEN]).all()
