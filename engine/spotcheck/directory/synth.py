"""Synthetic directories: realistic entity and inspector directories and a recusal list from a seed.

Used to try a policy before real exports arrive and to test the pipeline at a city's scale. Every
random choice comes from SHAKE-256 streams keyed by (seed, purpose); value i of a stream depends only
on the seed, the purpose and i, so the same seed gives the same rows on any machine and version
(numpy's and Python's generators promise no such thing) and byte-identical files. The arithmetic
on those numbers is vectorised in polars: a million entities take seconds.

Every profile of the spec (one per policy task, derived from its scope) is planted in every district
a few times, so every task of the policy has a non-empty scope in every district.

The spec and its checks are in synth_spec, the random streams in synth_random, the rows in synth_rows;
this module puts them together and writes the files.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from spotcheck.directory.synth_rows import (
    entity_chunk,
    entity_rows,
    entity_streams,
    inspector_rows,
    readable,
    recusal_picks,
    recusal_rows,
    recusals_of,
)
from spotcheck.directory.synth_spec import SynthSpec, check_spec
from spotcheck.errors import SpotcheckError
from spotcheck.directory.cells import NUMBERED_FIELDS
from spotcheck.rules.fields import (
    ENTITY_FIELDS,
    INSPECTOR_FIELDS,
    LABEL_SEPARATORS,
    RECUSAL_FIELDS,
    Field,
)


@dataclass(frozen=True, eq=False)
class SynthResult:
    """The three synthetic tables, columns named as in fields.py."""

    spec: SynthSpec
    seed: int | str
    entities: pl.DataFrame
    inspectors: pl.DataFrame
    recusals: pl.DataFrame = field(repr=False)


def synthesize(spec: SynthSpec, entities: int, inspectors: int, seed: int | str, *, dense: bool = False) -> SynthResult:
    """Entity and inspector directories and a recusal list, all derived from `seed` alone.

    Labels are as rare as in a real city unless `dense` (every label on 4% of entities: many entities
    in several tasks' scopes, for stress tests); `dense` changes nothing else."""
    problems = check_spec(spec, entities, inspectors)
    if problems:
        raise SpotcheckError(problems)
    key = str(seed).encode("utf-8")
    ent = entity_rows(spec, entities, key, dense)
    ins = inspector_rows(spec, inspectors, key)
    return SynthResult(spec, seed, ent, ins, recusal_rows(ent, ins, key))


def write(result: SynthResult, out_dir: str | Path) -> dict[str, Path]:
    """Write entities.csv, inspectors.csv and recusals.csv (UTF-8, Chinese headers), each atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame, fields in (
        ("entities", result.entities, _entity_fields(result.entities)),
        ("inspectors", result.inspectors, INSPECTOR_FIELDS),
        ("recusals", result.recusals, RECUSAL_FIELDS),
    ):
        paths[name] = _write_csv([_for_export(frame, fields)], out / f"{name}.csv")
    return paths


# Rows of the entity directory built and written at a time by `synthesize_to`.
CHUNK_ROWS = 500_000


def synthesize_to(spec: SynthSpec, entities: int, inspectors: int, seed: int | str, out_dir: str | Path, *,
                  dense: bool = False, chunk_rows: int = CHUNK_ROWS) -> dict[str, Path]:
    """`write(synthesize(…))` with the same bytes, the entity directory built and written `chunk_rows`
    rows at a time: memory holds the random streams and one chunk's text, not a province's directory."""
    problems = check_spec(spec, entities, inspectors)
    if problems:
        raise SpotcheckError(problems)
    key = str(seed).encode("utf-8")
    ins = inspector_rows(spec, inspectors, key)
    picks = recusal_picks(entities, inspectors, key)
    streams = entity_streams(spec, entities, key, dense)
    codes: list[pl.DataFrame] = []

    def chunks(streams: pl.DataFrame):
        for start in range(0, entities, chunk_rows):
            rows = entity_chunk(spec, streams.slice(start, chunk_rows), key)
            # The picked entities' codes, found as their chunk goes by.
            wanted = picks.with_row_index("_pick").filter(pl.col("b").is_between(start, start + rows.height - 1))
            codes.append(wanted.select("_pick", rows["uscc"].gather(wanted["b"] - start).alias("uscc")))
            yield _for_export(rows, _entity_fields(rows))

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"entities": _write_csv(chunks(streams), out / "entities.csv")}
    del streams
    picked = pl.concat(codes).sort("_pick")["uscc"]
    paths["inspectors"] = _write_csv([_for_export(ins, INSPECTOR_FIELDS)], out / "inspectors.csv")
    paths["recusals"] = _write_csv([_for_export(recusals_of(picks, picked, ins), RECUSAL_FIELDS)], out / "recusals.csv")
    return paths


def _entity_fields(frame: pl.DataFrame) -> dict[str, Field]:
    return NUMBERED_FIELDS if "object_id" in frame.columns else ENTITY_FIELDS


def _for_export(frame: pl.DataFrame, fields: dict[str, Field]) -> pl.DataFrame:
    exprs = []
    for f in readable(fields):
        col = pl.col(f.name)
        if f.kind == "labels":
            col = pl.when(col.list.len() > 0).then(col.list.join(LABEL_SEPARATORS[0]))
        elif f.kind == "date":
            col = col.dt.strftime("%Y-%m-%d")
        exprs.append(col.alias(f.headers[0]))
    return frame.select(exprs)


def _write_csv(frames: Iterable[pl.DataFrame], path: Path) -> Path:
    """The frames one after the other as one CSV file (the header once), written atomically."""
    # Opened by name (not mkstemp) so the file gets the usual permissions rather than 0600.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as fh:
            for n, frame in enumerate(frames):
                frame.write_csv(fh, include_header=n == 0)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
