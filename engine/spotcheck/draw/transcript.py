"""What a draw writes besides its sample: the transcript (everything needed to recompute it), the
summary officers read, and the big CSV files produced in pieces as they are written."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import polars as pl
from spotcheck.draw.pools import Pool
from spotcheck.draw.ranking import RANK_HASH, rank_unit
from spotcheck.draw.records import (
    Coverage,
    DirectoryCounts,
    HistoryFile,
    InputFile,
    PolicyRef,
    RoundRecord,
    SeedRecord,
    Share,
    StratumCounts,
    StratumRecord,
    Summary,
    TaskCounts,
    TaskRecord,
    Transcript,
)
from spotcheck.policy.cadence import priority_words
from spotcheck.policy.model import coverage_kinds, percent_fraction
from spotcheck.policy.sampling import sampling_text
from spotcheck.rules.fields import OPERATING_STATUSES
from spotcheck.version import engine_version

FORMAT = "spotcheck-draw/1"


# A CSV of tens of millions of lines is written in pieces of this many rows, never held whole.
_PIECE_ROWS = 1_000_000


def csv_bytes(frame: pl.DataFrame, include_header: bool = True) -> bytes:
    """The frame as CSV bytes, written straight into a buffer (write_csv to a string decodes them, and the
    folder would encode them again)."""
    out = io.BytesIO()
    frame.write_csv(out, include_header=include_header)
    return out.getvalue()


def csv_pieces(frame: pl.DataFrame) -> Iterator[bytes]:
    for start in range(0, max(frame.height, 1), _PIECE_ROWS):
        yield csv_bytes(frame.slice(start, _PIECE_ROWS), include_header=start == 0)


def eligible_part(pool: Pool, uscc: pl.Series, rows: pl.Series, stratum: pl.Series) -> pl.DataFrame:
    names = pl.Series(pool.strata, dtype=pl.String)
    return pl.DataFrame(
        [
            pl.repeat(pool.plan.task.id, rows.len(), dtype=pl.String, eager=True).alias("task_id"),
            names.gather(stratum).alias("stratum"),
            uscc.gather(rows).alias("uscc"),
        ]
    )


def eligible_pieces(pools: list[Pool], uscc: pl.Series) -> Iterator[bytes]:
    yield b"task_id,stratum,uscc\n"
    for pool in pools:
        for start in range(0, pool.rows.len(), _PIECE_ROWS):
            part = eligible_part(pool, uscc, pool.rows.slice(start, _PIECE_ROWS), pool.stratum.slice(start, _PIECE_ROWS))
            yield csv_bytes(part, include_header=False)


# A draw whose strata hold this many rows in all hashes them from fixed-width records; a smaller one
# from each stratum's joined codes.
_RECORDS_FROM = 100_000


class Codes:
    """The directory's codes, for hashing each stratum's newline-joined list in the transcript.

    Validated codes are 18 ASCII characters, so for a large draw they are kept once as fixed 19-byte
    records (code and newline) and a stratum's list is one gather of records, not its codes joined as
    text (several times slower per row). The records are built on the first stratum of a large draw:
    a draw of one small task never pays for them.
    """

    def __init__(self, uscc: pl.Series, rows: int = 0) -> None:
        self.uscc = uscc
        self.records = None
        sizes = uscc.str.len_bytes()
        self.fixed = bool(uscc.len()) and sizes.min() == 18 == sizes.max() and rows >= _RECORDS_FROM

    def _records(self) -> np.ndarray:
        if self.records is None:
            flat = np.frombuffer(self.uscc.str.join("").item().encode("utf-8"), dtype=np.uint8).reshape(-1, 18)
            records = np.empty((self.uscc.len(), 19), dtype=np.uint8)
            records[:, :18] = flat
            records[:, 18] = ord("\n")
            # One item per record: a gather copies whole records instead of indexing bytes.
            self.records = records.view("V19").ravel()
        return self.records

    def sha256(self, rows: pl.Series) -> str:
        """sha256 of the codes of `rows` joined by newlines."""
        if rows.len() == 0:
            return hashlib.sha256(b"").hexdigest()
        if not self.fixed:
            return hashlib.sha256(self.uscc.gather(rows).str.join("\n").item().encode("utf-8")).hexdigest()
        joined = np.take(self._records(), rows.to_numpy())
        return hashlib.sha256(memoryview(joined).cast("B")[:-1]).hexdigest()


def json_bytes(obj: dict) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")


def _fraction_text(f: Fraction | None) -> str | None:
    return None if f is None else f"{f.numerator}/{f.denominator}"


def make_transcript(loaded, entities, seed, drawn_on, history_bytes, pools, codes, selection=None, lookback_bytes=None) -> Transcript:
    """The transcript; `selection` (task id → rounds) when the draw drew only some tasks and rounds;
    `lookback_bytes`, the past checks of earlier years too, when the plan's rules read them."""
    tasks = []
    for pool in pools:
        plan, quotas = pool.plan, pool.quotas
        tasks.append(
            TaskRecord(
                task_id=plan.task.id,
                campaign=plan.campaign,
                coordination=plan.coordination,
                rounds=tuple(RoundRecord(round=r, month=m, unit=rank_unit(plan, plan.unit_round(r), "{stratum}")) for r, m in plan.drawn_rounds()),
                strata=tuple(
                    StratumRecord(
                        stratum=q.stratum,
                        eligible=q.eligible,
                        eligible_sha256=codes.sha256(pool.members(q.stratum)),
                        ratio=_fraction_text(q.ratio),
                        wanted=q.wanted,
                        drawn=q.drawn,
                    )
                    for q in quotas
                ),
            )
        )
    return Transcript(
        format=FORMAT,
        engine_version=engine_version(),
        drill=seed.drill,
        seed=SeedRecord.of(seed),
        rank_hash=RANK_HASH,
        drawn_on=drawn_on,
        policy=PolicyRef(id=loaded.policy.id, sha256=loaded.sha256),
        entities=InputFile(file=entities.path.name, sha256=entities.sha256, rows=len(entities)),
        history=HistoryFile(file="history.csv", sha256=hashlib.sha256(history_bytes).hexdigest()),
        tasks=tuple(tasks),
        selection=selection,
        lookback=None if lookback_bytes is None else HistoryFile(file="lookback.csv", sha256=hashlib.sha256(lookback_bytes).hexdigest()),
    )


def operating_enterprises(policy) -> pl.Expr:
    """Whether a directory row counts towards enterprise coverage: of a counted kind, and operating."""
    return pl.col("type").is_in(list(coverage_kinds(policy))) & pl.col("status").is_in(list(OPERATING_STATUSES))


@dataclass(frozen=True)
class DrawnCounts:
    """What the summary reads of the drawn rows, which need not be at hand (spotcheck.draw.spark.counted
    counts them on Spark): rows per task and district, and the distinct entities and enterprises drawn."""

    by_district: pl.DataFrame  # task_id, district, len
    entities: int
    enterprises: int


def drawn_counts(policy, drawn: pl.DataFrame) -> DrawnCounts:
    enterprises = drawn.filter(pl.col("type").is_in(list(coverage_kinds(policy))))
    return DrawnCounts(drawn.group_by("task_id", "district").len(), drawn["uscc"].n_unique(), enterprises["uscc"].n_unique())


def make_summary(loaded, entities, drawn: pl.DataFrame | DrawnCounts, exclusions, pools, caps, draw_id, seed, coordination,
                 counts: DirectoryCounts | None = None) -> Summary:
    """The summary; `counts`, the directory's, when the directory is not at hand (spotcheck.draw.spark.counted)."""
    policy = loaded.policy
    if counts is None:
        ent = entities.frame
        counts = DirectoryCounts(entities=ent.height, enterprises_operating=ent.select(operating_enterprises(policy).sum()).item())
    operating = counts.enterprises_operating
    if isinstance(drawn, pl.DataFrame):
        drawn = drawn_counts(policy, drawn)
    # Each task's counts from one grouping of the drawn rows, not a pass over them per task.
    districts: dict[str, dict[str, int]] = {}
    for task_id, district, n in drawn.by_district.sort("task_id", "district").iter_rows():
        districts.setdefault(task_id, {})[district] = n
    capped: dict[str, dict[str, int]] = {}
    for task_id, cap_id, n in exclusions.group_by("task_id", "cap_id").len().sort("task_id", "cap_id").iter_rows():
        capped.setdefault(task_id, {})[cap_id] = n
    tasks = []
    for pool in pools:
        plan, quotas, t = pool.plan, pool.quotas, pool.plan.task
        by_district = districts.get(t.id, {})
        tasks.append(
            TaskCounts(
                task_id=t.id,
                name=t.name,
                risk_based="tier" in t.sampling.stratify,
                eligible=sum(q.eligible for q in quotas),
                wanted=sum(q.wanted for q in quotas) * plan.times(),
                drawn=sum(by_district.values()),
                shortfall=sum(q.shortfall for q in quotas) * plan.times(),
                strata=tuple(
                    StratumCounts(stratum=q.stratum, eligible=q.eligible, ratio=_fraction_text(q.ratio), wanted=q.wanted,
                                  drawn=q.drawn, shortfall=q.shortfall)
                    for q in quotas
                ),
                by_district=by_district,
                excluded_by_cap=capped.get(t.id, {}),
                sampling={"text": sampling_text(t.sampling), **pool.explain},
            )
        )
    total_draws = sum(t.drawn for t in tasks)
    risk_based = sum(t.drawn for t in tasks if t.risk_based)
    target = policy.targets.get("enterprise_coverage")
    coverage = Fraction(drawn.enterprises, operating) if operating else Fraction(0)
    return Summary(
        draw_id=draw_id,
        drill=seed.drill,
        policy=policy.id,
        directory=counts,
        distinct_entities_drawn=drawn.entities,
        distinct_enterprises_drawn=drawn.enterprises,
        enterprise_coverage=Coverage(
            value=f"{float(coverage) * 100:.2f}%",
            target=f"{target.value}%" if target else None,
            met=(coverage >= percent_fraction(target.value)) if target else None,
        ),
        risk_based_share=Share(
            value=f"{(risk_based / total_draws * 100) if total_draws else 0:.2f}%",
            target=f"{policy.targets['risk_based_share'].value}%" if "risk_based_share" in policy.targets else None,
        ),
        caps={c.id: c.name for c in caps},
        tasks=tuple(tasks),
        coordination=coordination,
        cap_priority=priority_words(policy.cap_priority, [pool.plan.task.id for pool in pools]) if caps else None,
    )
