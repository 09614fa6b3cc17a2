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


def _rows_one_by_one(draw_dir, seed, today):
    """The sample's rows as the per-visit loop wrote them before the sample was built from columns."""
    import datetime as dt
    import hashlib

    from spotcheck.draw.reader import load_draw
    from spotcheck.results.categories import CATEGORIES, NO_PROBLEM, UNREACHABLE

    folder = load_draw(draw_dir)
    calendar = results.policy_for(folder, POLICY).calendar
    digest = {vid: hashlib.sha256(f"{seed}|{vid}".encode()).hexdigest() for vid in folder.visits}
    unreachable = min(digest, key=digest.get)
    rows = []
    for vid, visit in folder.visits.items():
        h = digest[vid]
        latest = min(visit.inspect_by or folder.drawn_on + dt.timedelta(days=30), today)
        span = calendar.working_days_between(folder.drawn_on, latest)
        done = (calendar.add_working_days(folder.drawn_on, 1 + int(h[8:16], 16) % span) if span > 0
                else folder.drawn_on).isoformat()
        if vid == unreachable:
            rows.append([vid, visit.name, visit.uscc, done, "实地检查", CATEGORIES[UNREACHABLE].name, "",
                         "按登记住所实地核查未找到该主体，登记电话无法接通", "列入经营异常名录", ""])
        elif int(h[:8], 16) % 100 < results_sample.SAMPLE_PROBLEM_PERCENT and visit.item_codes:
            code, finding, action = results_sample._SAMPLE_PROBLEMS[int(h[16:24], 16) % 3]
            bad = visit.item_codes[int(h[24:32], 16) % len(visit.item_codes)]
            for item in visit.item_codes:
                rows.append([vid, visit.name, visit.uscc, done, "实地检查、书面检查", CATEGORIES[code].name, item, finding, action, ""]
                            if item == bad else
                            [vid, visit.name, visit.uscc, done, "实地检查", CATEGORIES[NO_PROBLEM].name, item, "", "", ""])
        else:
            rows.append([vid, visit.name, visit.uscc, done, "实地检查", CATEGORIES[NO_PROBLEM].name, "", "", "", ""])
    return rows


def test_the_sample_built_from_columns_is_the_sample_visit_by_visit(tmp_path, draw_dir):
    """Hundreds of visits (items from none to three, deadlines missing, before and after today): every
    seed gives the bytes the per-visit loop gives, in CSV and XLSX."""
    import csv
    import datetime as dt

    from spotcheck.results.tables import table_bytes

    with open(draw_dir / "visits.csv", encoding="utf-8", newline="") as f:
        base = list(csv.DictReader(f))
    items = ["", "B01", "B01|A01", "C01|A01|B01"]
    days = ["", "2023-09-20", "2023-10-09", "2023-12-20", "2023-08-01"]
    rows = [{**base[i % len(base)], "visit_id": f"V{i:04x}", "item_codes": items[i % 4], "inspect_by": days[i % 5]}
            for i in range(400)]
    with open(draw_dir / "visits.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(base[0]))
        writer.writeheader()
        writer.writerows(rows)
    for seed, today in (("1", TODAY), ("2", TODAY), ("3", dt.date(2023, 9, 30)), ("4", dt.date(2023, 8, 1))):
        expected = _rows_one_by_one(draw_dir, seed, today)
        # Some visits found a problem (one row per item); before the draw's day every date is the draw's day.
        assert any(r[6] for r in expected) and (seed != "4" or {r[3] for r in expected} == {"2023-09-01"})
        for suffix in (".csv", ".xlsx"):
            out = sample(draw_dir, tmp_path / f"s{seed}{suffix}", seed) if today == TODAY else \
                results_sample.sample_results(draw_dir, tmp_path / f"s{seed}{suffix}", policy_path=POLICY, seed=seed, today=today)
            assert out.path.read_bytes() == table_bytes(suffix, results_sample.SAMPLE_HEADERS, expected), (seed, suffix)
            assert out.rows == len(expected)
