"""Open and overdue counts kept as incidents change, against counting them all."""

import random
from datetime import timedelta

from wallclient.demo.district import District
from wallclient.incidents import Tally, next_deadline
from wallclient.protocol import now


def brute(incidents, at):
    live = [i for i in incidents.values() if i["status"] != "closed"]
    return {"open": len(live), "overdue": sum(1 for i in live if next_deadline(i, at)[1])}


def test_tally_matches_a_full_count_through_random_changes():
    rng = random.Random(4)
    d = District(seed=4)
    t = now()
    d.seed_incidents(t)
    incidents = {i["id"]: i for i in d.incidents.values()}
    tally = Tally()
    tally.reset(incidents.values())
    for step in range(600):
        roll = rng.random()
        if roll < 0.4:
            inc = d.new_incident(t - timedelta(minutes=rng.randint(0, 90)))
            incidents[inc["id"]] = inc
            tally.update(inc["id"], inc)
        elif roll < 0.8 and incidents:
            iid = rng.choice(list(incidents))
            inc = {
                **incidents[iid],
                "status": rng.choice(["dispatched", "arrived", "controlled", "closed"]),
            }
            incidents[iid] = inc
            tally.update(iid, inc)
        elif incidents:
            iid = rng.choice(list(incidents))
            del incidents[iid]
            tally.update(iid, None)
        if step % 50 == 0:
            for ahead in (0, 15, 120):
                at = t + timedelta(minutes=ahead)
                assert tally.counts(at) == brute(incidents, at)
    assert tally.counts(t) == brute(incidents, t)
