"""Finding a directory file's header row and mapping its headers onto the fields of `spotcheck.rules.fields`.

Exports put a title line or two above the header, mark required columns with "*" and spell headers
in Chinese or English, sometimes with a typo. The header row is the one among the first rows with
most recognised headers; every missing, doubled or mistyped header is a problem at that row, so the
officer fixes the header once. Only the header row is read here, never the data, which is why this
stands apart from the cell checks in `directory_cells`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import polars as pl
from spotcheck.errors import Problem
from spotcheck.rules.fields import Field


def _norm_header(header: str) -> str:
    # Templates mark required columns with "*"; English headers may come in any case.
    return header.replace("\ufeff", "").strip().strip("*＊").strip().casefold()


def header_spellings(fields: dict[str, Field]) -> dict[str, Field]:
    """Every accepted header spelling → its field. Fields without headers are derived, never read."""
    out: dict[str, Field] = {}
    for field in fields.values():
        if not field.headers:
            continue
        for spelling in (field.name, *field.headers):
            out[_norm_header(spelling)] = field
    return out


def readable_fields(fields: dict[str, Field]) -> list[Field]:
    return [f for f in fields.values() if f.headers]


def find_header_row(head: pl.DataFrame, spellings: dict[str, Field]) -> int:
    """Index of the row with most recognised headers among the first rows (title lines sit above it)."""
    best, best_hits = 0, 0
    for i, cells in enumerate(head.iter_rows()):
        hits = sum(1 for c in cells if c is not None and _norm_header(c) in spellings)
        if hits > best_hits:
            best, best_hits = i, hits
    if best_hits == 0:
        # Nothing recognised: the first non-empty row is the header, so the officer sees it named.
        for i, cells in enumerate(head.iter_rows()):
            if any(c is not None and c.strip() for c in cells):
                return i
    return best


@dataclass(frozen=True)
class HeaderLayout:
    columns: dict[str, str]  # field name → raw frame column
    headers: dict[str, str]  # field name → header as written


def map_headers(
    headers: list[tuple[str, str]], fields: dict[str, Field], file: str
) -> tuple[HeaderLayout, list[Problem]]:
    """Match (raw column, header as written) pairs to fields; problems for missing, doubled and mistyped headers."""
    spellings = header_spellings(fields)
    columns: dict[str, str] = {}
    written: dict[str, str] = {}
    unknown: list[str] = []
    problems: list[Problem] = []
    for col, header in headers:
        field = spellings.get(_norm_header(header))
        if field is None:
            if header.strip():
                unknown.append(header)
            continue
        if field.name in columns:
            problems.append(
                Problem(
                    "D204",
                    f"列「{header}」与列「{written[field.name]}」都表示{field.title}",
                    file=file,
                    row=1,
                    column=header,
                    hint="请删除其中一列，或改正列名",
                )
            )
            continue
        columns[field.name] = col
        written[field.name] = header

    # A header close to a field the file lacks is most likely a typo of it; one close to a field
    # already present is an extra column of the export and is left alone.
    absent = {s: f for s, f in spellings.items() if f.name not in columns}
    claimed: dict[str, str] = {}  # field name → the unknown header suggested for it
    for header in unknown:
        match = difflib.get_close_matches(_norm_header(header), list(absent), n=1, cutoff=0.75)
        if not match:
            continue
        field = absent[match[0]]
        claimed.setdefault(field.name, header)
        if not field.required:
            problems.append(
                Problem(
                    "D203",
                    f"无法识别的列名「{header}」",
                    file=file,
                    row=1,
                    column=header,
                    hint=f"是否应为「{field.headers[0]}」？可用列名：{_spelling_list(field)}",
                )
            )
    for field in readable_fields(fields):
        if field.required and field.name not in columns:
            guess = claimed.get(field.name)
            problems.append(
                Problem(
                    "D202",
                    f"缺少必填列「{field.title}」" + (f"（文件中的列「{guess}」是否就是它？）" if guess else ""),
                    file=file,
                    row=1 if guess else None,
                    column=guess,
                    hint=f"请添加该列或改正列名，可用列名：{_spelling_list(field)}",
                )
            )
    return HeaderLayout(columns, written), problems


def _spelling_list(field: Field) -> str:
    return "、".join((*field.headers, field.name))
