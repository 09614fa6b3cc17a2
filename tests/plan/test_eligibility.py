import datetime as dt
import itertools

import polars as pl
from conftest import QINGDAO
from spotcheck.plan.eligibility import (
    certified_through,
    days,
    officer_ok,
    pool_kinds,
    pool_reasons,
    serving_officers,
    serving_pool,
)
from spotcheck.policy.loader import load_policy


def test_the_matchers_frame_filters_apply_the_same_officer_and_pool_rules():
    """Every combination of role, status, certificate and expiry: the frame form and the
    one-person form of each rule agree."""
    inspect_by = dt.date(2024, 6, 30)
    rows = [
        {"inspector_id": f"p{n}", "role": role, "status": status, "certificate": cert, "certificate_expires": expires,
         "inspect_by": inspect_by}
        for n, (role, status, cert, expires) in enumerate(itertools.product(
            ["执法人员", "专家", "第三方机构"], ["在岗", "退休"], [None, "C1"],
            [None, dt.date(2024, 6, 29), dt.date(2024, 6, 30)]))
    ]
    people = pl.DataFrame(rows)
    serving = serving_officers(people)
    framed = set(serving.filter(certified_through(days(serving["certificate_expires"]), days(serving["inspect_by"])))["inspector_id"])
    assert framed == {r["inspector_id"] for r in rows if officer_ok(r, inspect_by)}
    assert 0 < len(framed) < len(rows)
    kinds = pool_kinds(load_policy(QINGDAO))
    pooled = set(serving_pool(people, kinds)["inspector_id"])
    assert pooled == {r["inspector_id"] for r in rows if not pool_reasons(r, kinds)}
    assert 0 < len(pooled) < len(rows)


def test_a_certificate_expiring_on_the_inspect_by_date_still_serves():
    """Valid through its expiry date: the last day counts; the day before inspect_by does not."""
    inspect_by = dt.date(2024, 6, 30)
    base = {"role": "执法人员", "status": "在岗", "certificate": "C1", "inspect_by": inspect_by}
    on_the_day = {**base, "inspector_id": "on", "certificate_expires": inspect_by}
    day_before = {**base, "inspector_id": "before", "certificate_expires": inspect_by - dt.timedelta(days=1)}
    assert officer_ok(on_the_day, inspect_by) and not officer_ok(day_before, inspect_by)
    framed = pl.DataFrame([on_the_day, day_before])
    framed = framed.filter(certified_through(days(framed["certificate_expires"]), days(framed["inspect_by"])))
    assert framed["inspector_id"].to_list() == ["on"]
