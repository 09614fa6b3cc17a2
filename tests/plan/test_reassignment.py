import polars as pl
import pytest
from conftest import QINGDAO
from spotcheck.plan import reassignment
from spotcheck.errors import SpotcheckError
from spotcheck.policy.loader import load_policy
from plan.test_teams import HOME, directory, person, recusal_frame, staff, visit_rows


@pytest.fixture(scope="module")
def qingdao():
    return load_policy(QINGDAO)


def test_swap_checks_the_newcomer(qingdao):
    people = directory(person("P1"), person("P2"), person("P3"), person("R1", status="退休"),
                       person("O1", unit="青岛市市北区市场监督管理局"), person("X1"))
    v = visit_rows(("V1", "E1", ["SD20-03"]))
    result = staff(qingdao, v, people.filter(pl.col("inspector_id").is_in(["P1", "P2"])))
    frame = v.with_columns(pl.lit(True).alias("staffed"), pl.lit(None, dtype=pl.String).alias("reason"))
    recused = recusal_frame(("X1", "E1"))

    def check(out, new):
        return reassignment.check_swap(qingdao, frame, result.teams, people, recused, visit_id="V1", out_inspector=out,
                                in_inspector=new, caps={HOME: 5}, previous_leads={"E1": "P3"})

    for new, words in (("R1", "不在岗"), ("O1", "不负责该检查"), ("X1", "回避名单"), ("P2", "已在该检查组中")):
        with pytest.raises(SpotcheckError) as exc_info:
            check("P1", new)
        assert words in str(exc_info.value)
    lead = result.teams.filter(pl.col("role") == "主查")["inspector_id"][0]
    with pytest.raises(SpotcheckError, match="不得连续担任主查"):
        check(lead, "P3")
    member = result.teams.filter(pl.col("role") == "组员")["inspector_id"][0]
    swapped = check(member, "P3")
    assert sorted(swapped.teams["inspector_id"].to_list()) == sorted([lead, "P3"]) and swapped.role == "组员"
