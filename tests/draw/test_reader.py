import pytest
from conftest import edit
from spotcheck.draw.reader import load_draw
from spotcheck.errors import SpotcheckError
from spotcheck.ledger.store import Ledger


def test_visits_csv_edited_after_the_ledger_recorded_it(draw_dir, visit_ledger):
    edit(draw_dir / "visits.csv", "t01|t02,B01|C01|A01", "t01|t02,B01|C01")
    with Ledger.open(visit_ledger) as led, pytest.raises(SpotcheckError) as exc:
        load_draw(draw_dir, led)
    assert [p.code for p in exc.value.problems] == ["S832"]
    assert "检查事项" in exc.value.problems[0].message


def test_draw_folder_without_transcript_or_visits(tmp_path):
    with pytest.raises(SpotcheckError) as exc:
        load_draw(tmp_path)
    assert [(p.code, p.file) for p in exc.value.problems] == [
        ("S830", str(tmp_path / "transcript.json")), ("S830", str(tmp_path / "visits.csv"))]
