"""What the site reads from a draw's summary: split batches' year counts as fields, older folders' from words."""

from spotcheck.draw.records import TaskCounts
from spotcheck.site.disclosure import _split_years


def _counts(sampling: dict) -> TaskCounts:
    return TaskCounts.model_construct(task_id="t01", sampling=sampling)


def test_split_year_counts_come_from_the_summarys_fields():
    words = ["分两批次", "本次抽取：第二批", "东区：全年应抽23户，截至第二批累计应抽23户，前批已抽12户，本次抽11户"]
    typed = {"batches": words, "batch_counts": {"东区": {"year": 24, "earlier": 13}}}
    # The fields win over the sentence (which an older engine wrote and a wording change could break).
    assert _split_years(_counts(typed)) == {"东区": (24, 13)}
    assert _split_years(_counts({"batches": words})) == {"东区": (23, 12)}
