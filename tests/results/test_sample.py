from conftest import RESULTS_POLICY as POLICY
from conftest import RESULTS_TODAY as TODAY
from spotcheck.results import records as results
from spotcheck.results import sample as results_sample
from spotcheck.ledger.store import Ledger


def sample(draw_dir, out, seed):
    return results_sample.sample_results(draw_dir, out, policy_path=POLICY, seed=seed, today=TODAY)


def test_sample_is_deterministic_and_imports_cleanly(tmp_path, draw_dir, visit_ledger, visit_rows):
    a = sample(draw_dir, tmp_path / "a.csv", "7")
    b = sample(draw_dir, tmp_path / "b.csv", "7")
    c = sample(draw_dir, tmp_path / "c.csv", "8")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "c.csv").read_bytes()
    assert a.visits == len(visit_rows) and a.unreachable in {v["visit_id"] for v in visit_rows}
    assert (tmp_path / "a.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    out = results.import_results(tmp_path / "a.csv", draw_dir, ledger_path=visit_ledger, today=TODAY)
    assert len(out.added) == len(visit_rows)
    with Ledger.open(visit_ledger) as led:
        categories = [r.body["categories"] for r in led.find("result")]
    assert categories.count(["R0203"]) == 1
    assert categories.count(["R01"]) >= len(visit_rows) - 1 - a.problems
    assert (b.rows, c.visits) == (a.rows, a.visits)


def test_sample_xlsx(tmp_path, draw_dir, visit_ledger):
    sample(draw_dir, tmp_path / "s.xlsx", "1")
    out = results.import_results(tmp_path / "s.xlsx", draw_dir, ledger_path=visit_ledger, today=TODAY)
    assert len(out.added) == 5
