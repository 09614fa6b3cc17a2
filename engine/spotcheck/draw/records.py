"""The records of a draw folder: transcript.json (everything needed to recompute the draw) and
summary.json (the counts officers read), as typed records.

The draw writes them from these records and every later stage reads them back through
spotcheck.draw.reader, so a key is spelled in one place. Field order is the order of the files.
Later stages add their own sections to summary.json (visits, teams, reassignments); the summary keeps
them as they are, after the draw's own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from spotcheck.draw.commitment import Seed, canonical, seed_from_dict, sha256_text
from spotcheck.ids import Id, PathId


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_json(self) -> dict[str, Any]:
        """The record as the JSON object written to the folder."""
        return self.model_dump(mode="json")


class SeedRecord(_Record):
    source: Literal["drill", "reveal"]
    value: str
    commitment_id: str | None
    key: str

    @classmethod
    def of(cls, seed: Seed) -> SeedRecord:
        return cls(**seed.to_dict())

    def seed(self) -> Seed:
        """The seed recomputed from its source (the key is derived, never taken from the file)."""
        return seed_from_dict(self.model_dump())


class PolicyRef(_Record):
    id: PathId  # the policy's file is found by it: a tampered id must not leave the policies folder
    sha256: str


class InputFile(_Record):
    file: str
    sha256: str
    rows: int


class HistoryFile(_Record):
    file: str
    sha256: str


class RoundRecord(_Record):
    round: int
    month: int
    unit: str  # the rank-hash unit, "{stratum}" standing for each stratum's name


class StratumRecord(_Record):
    stratum: str
    eligible: int
    eligible_sha256: str  # sha256 of the stratum's codes joined by newlines
    ratio: str | None  # "a/b", exact
    wanted: int
    drawn: int


class TaskRecord(_Record):
    task_id: Id
    campaign: str | None
    coordination: str  # "joint" or "independent"
    rounds: tuple[RoundRecord, ...]
    strata: tuple[StratumRecord, ...]


class Transcript(_Record):
    format: str
    engine_version: str
    drill: bool
    seed: SeedRecord
    rank_hash: str
    drawn_on: dt.date
    policy: PolicyRef
    entities: InputFile
    history: HistoryFile
    tasks: tuple[TaskRecord, ...]
    selection: dict[str, tuple[int, ...]] | None = None  # task → rounds, for a draw of only what is due
    lookback: HistoryFile | None = None  # the past checks the plan's frequency rules read, earlier years' too

    def to_json(self) -> dict[str, Any]:
        # A whole-year draw's transcript has no selection key at all, as before draws could select; a
        # plan whose rules read no past checks has no lookback key.
        unset = {k for k in ("selection", "lookback") if getattr(self, k) is None}
        return self.model_dump(mode="json", exclude=unset or None)

    @property
    def draw_id(self) -> str:
        """The draw's id: the first 16 hex digits of the transcript's canonical hash."""
        return sha256_text(canonical(self.to_json()))[:16]


class StratumCounts(_Record):
    stratum: str
    eligible: int
    ratio: str | None
    wanted: int
    drawn: int
    shortfall: int


class TaskCounts(_Record):
    task_id: Id
    name: str
    risk_based: bool
    eligible: int
    wanted: int
    drawn: int
    shortfall: int
    strata: tuple[StratumCounts, ...]
    by_district: dict[str, int]
    excluded_by_cap: dict[str, int]
    sampling: dict[str, Any]  # the sampling clause in words and how each number follows from it


class DirectoryCounts(_Record):
    entities: int
    enterprises_operating: int


class Coverage(_Record):
    value: str  # "12.34%"
    target: str | None
    met: bool | None


class Share(_Record):
    value: str
    target: str | None


class Coordination(_Record):
    used: tuple[str, ...]
    distinct_entities: dict[str, int]  # coordination mode(s) → distinct entities the draw would take


class Summary(_Record):
    model_config = ConfigDict(frozen=True, extra="allow")  # later stages' sections follow the draw's

    draw_id: Id
    drill: bool
    policy: PathId
    directory: DirectoryCounts
    distinct_entities_drawn: int
    distinct_enterprises_drawn: int
    enterprise_coverage: Coverage
    risk_based_share: Share
    caps: dict[str, str]
    tasks: tuple[TaskCounts, ...]
    coordination: Coordination
    cap_priority: str | None = None  # which task keeps an entity a cap limits, when the plan says so

    def to_json(self) -> dict[str, Any]:
        # A plan that says nothing about it keeps the summary as it was (tasks keep entities in the plan's order).
        return self.model_dump(mode="json", exclude={"cap_priority"} if self.cap_priority is None else None)

    def section(self, name: str) -> dict[str, Any] | None:
        """A section a later stage added (visits, teams), as written."""
        return (self.model_extra or {}).get(name)

    def with_sections(self, **sections: Any) -> Summary:
        """The summary with later stages' sections set (replaced where present, else added at the end)."""
        return Summary.model_validate({**self.to_json(), **sections})
