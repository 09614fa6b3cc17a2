import datetime as dt
import itertools

import polars as pl
from conftest import QINGDAO
from spotcheck.plan.eligibility import (
    certified_through,
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
    framed = set(serving_officers(people).filter(certified_through("inspect_by"))["inspector_id"])
    assert framed == {r["inspector_id"] for r in rows if officer_ok(r, inspect_by)}
    assert 0 < len(framed) < len(rows)
    kinds = pool_kinds(load_policy(QINGDAO))
    pooled = set(serving_pool(people, kinds)["inspector_id"])
    assert pooled == {r["inspector_id"] for r in rows if not pool_reasons(r, kinds)}
    assert 0 < len(pooled) < len(rows)
