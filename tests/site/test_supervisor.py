"""The folder lodged with the supervisor: everything the public site leaves out, checked by `spotcheck verify`."""

from __future__ import annotations

import json

import pytest
from conftest import SITE_POLICY
from spotcheck.draw import pipeline
from spotcheck.errors import SpotcheckError
from spotcheck.site import supervisor


@pytest.fixture(scope="module")
def lodged(site_year, tmp_path_factory):
    out = tmp_path_factory.mktemp("lodged") / "lodged"
    return supervisor.lodge(site_year.draw, site_year.data / "entities.csv", out, ledger_path=site_year.ledger)


def test_the_lodged_folder_holds_the_internal_lists_and_the_commitment(lodged):
    names = {p.name for p in lodged.out.iterdir()}
    assert {"eligible.csv", "draws.csv", "transcript.json", "history.csv", "entities.csv", "commitment.json", "说明.txt"} <= names
    records = json.loads((lodged.out / "commitment.json").read_text("utf-8"))
    assert records["commitment"]["body"]["beacon"] == "中国福利彩票双色球2023130期开奖号码"
    assert "tier" in (lodged.out / "draws.csv").read_text("utf-8").splitlines()[0]


def test_verify_checks_the_lodged_folder_end_to_end(lodged):
    result = pipeline.verify(lodged.out, lodged.out / lodged.entities, policy_path=SITE_POLICY)
    assert result.ok, result.problems


def test_verify_finds_a_commitment_that_is_not_the_one_revealed(lodged, tmp_path):
    import shutil

    copy = tmp_path / "lodged"
    shutil.copytree(lodged.out, copy)
    records = json.loads((copy / "commitment.json").read_text("utf-8"))
    records["commitment"]["body"]["beacon"] = "另一期开奖号码"
    (copy / "commitment.json").write_text(json.dumps(records, ensure_ascii=False), "utf-8")
    result = pipeline.verify(copy, copy / lodged.entities, policy_path=SITE_POLICY)
    assert [p.code for p in result.problems] == ["V721"]


def test_only_the_directory_the_draw_read_is_lodged(site_year, tmp_path):
    other = tmp_path / "entities.csv"
    other.write_bytes((site_year.data / "entities.csv").read_bytes() + b"\n")
    with pytest.raises(SpotcheckError) as err:
        supervisor.lodge(site_year.draw, other, tmp_path / "out", ledger_path=site_year.ledger)
    assert err.value.problems[0].code == "W911" and not (tmp_path / "out").exists()


def test_the_supervisor_is_the_one_the_policy_names(site_year, tmp_path, lodged):
    import shutil

    from conftest import SITE_POLICIES, edit

    policies = tmp_path / "policies"
    shutil.copytree(SITE_POLICIES, policies)
    policy = policies / SITE_POLICY.relative_to(SITE_POLICIES)
    edit(policy, "\ntasks:", "\nsupervisor: 驻局纪检监察组\ntasks:")
    named = supervisor.lodge(site_year.draw, site_year.data / "entities.csv", tmp_path / "out", ledger_path=site_year.ledger,
                             policy_path=policy)
    assert named.supervisor == "驻局纪检监察组" and "supervisor" in named.named_by
    assert (tmp_path / "out" / "说明.txt").read_text("utf-8").startswith("本目录报送驻局纪检监察组")
    # The test policy is not under policies/: the generic body, and the officer is told why.
    assert (lodged.supervisor, lodged.named_by) == ("纪检监察机构", "未找到策略 demo/site/2023，按通用名称")
