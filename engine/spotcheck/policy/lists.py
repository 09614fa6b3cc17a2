"""Named lists a policy imports: another body's published draw, or a 重点 list another agency keeps.

A plan may say "以联合双随机牵头单位抽查数为准" (the sample is the lead body's published draw) or target
the entities on a list another agency publishes (重点监管名单, 信用失信名单 …). The policy names the file
and its SHA-256, so what the draw reads is what the plan adopted; the file is checked at validation
(missing, changed since it was adopted, codes that are not USCCs, each located) and read again by the
draw. An entity's `lists` are the ids of the lists naming its USCC: conditions test it like labels, and
a task whose `sampling.from_list` names a list draws every entity of the list within its scope.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

import polars as pl
from pydantic import Field, StrictStr

from spotcheck.directory import uscc as uscc_code
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.policy.numbers import Model
from spotcheck.policy.problems import did_you_mean
from spotcheck.rules.conditions import AllOf, Leaf, Node
from spotcheck.rules.fields import ENTITY_FIELDS

class NamedList(Model):
    """A list of entities another body published, adopted by its file and SHA-256."""

    id: StrictStr = Field(title="名单标识", description="条件中写 {field: lists, op: contains, value: <标识>}")
    name: StrictStr = Field(title="名单名称", description="如 市烟草专卖局2024年度联合双随机抽查名单")
    issuer: StrictStr | None = Field(None, title="发布单位")
    file: StrictStr = Field(title="名单文件", description="相对本策略文件的路径；CSV（UTF-8）或 XLSX，须有“统一社会信用代码”一栏")
    sha256: StrictStr = Field(pattern=r"^[0-9a-f]{64}$", title="文件 SHA-256",
                              description="采用的名单文件的 SHA-256（64 位小写十六进制）；文件改动后须重新核对并更新")
    text: StrictStr | None = Field(None, title="原文", description="计划中的原话，如“以联合双随机牵头单位抽查数为准”")


_HEADERS = ENTITY_FIELDS["uscc"].headers
ROW_CAP = 20


def list_path(declared_in: str | Path, file: str) -> Path:
    """The list file a policy file names, relative to that policy file."""
    return Path(declared_in).parent / file


def _frame(path: Path) -> pl.DataFrame:
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        return pl.read_excel(path, engine="calamine", infer_schema_length=0)
    return pl.read_csv(path, infer_schema=False, encoding="utf8")


def _valid_key(code: str) -> bool:
    holder, sep, own = code.partition("/")
    if sep:
        return uscc_code.is_valid(holder) and ":" in own
    return ":" in code or uscc_code.is_valid(code)


def read_list(path: Path, sha256: str) -> tuple[pl.Series | None, list[Problem]]:
    """The USCCs of a list file, after checking it is the adopted file; every problem, located."""
    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, [Problem("P270", f"找不到名单文件：{exc.strerror or exc}", file=file,
                              hint="file 写相对本策略文件的路径；名单文件须与策略一同保存")]
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        return None, [Problem("P271", f"名单文件的 SHA-256 为 {actual}，与策略中写明的 {sha256} 不符：文件在采用后被改动或换成了另一份",
                              file=file, hint="核对名单是否为发布单位公布的版本；确认无误后把策略中的 sha256 改为新值")]
    try:
        frame = _frame(path)
    except (pl.exceptions.PolarsError, ValueError, OSError) as exc:
        return None, [Problem("P272", f"无法读取名单文件：{exc}", file=file,
                              hint="名单应为 CSV（UTF-8）或 XLSX，第一行为表头，含“统一社会信用代码”一栏")]
    column = next((c for c in frame.columns if c.strip() in _HEADERS), None)
    if column is None:
        return None, [Problem("P272", "名单文件没有“统一社会信用代码”一栏", file=file, row=1,
                              hint=f"表头写 {'、'.join(_HEADERS[:3])} 之一")]
    written = frame.get_column(column).str.strip_chars()
    # An object known by a number (a 库点 under its holder, a person's certificate) is listed by its key.
    codes = pl.select(pl.when(written.str.contains(":", literal=True)).then(written).otherwise(written.str.to_uppercase())).to_series()
    problems = []
    for n, code in enumerate(codes.to_list(), start=2):
        if code is None or code == "":
            continue
        if not _valid_key(code):
            problems.append(Problem("P272", f"'{code}' 不是有效的统一社会信用代码", file=file, row=n, column=column,
                                    hint="请与发布单位公布的名单核对"))
    if len(problems) > ROW_CAP:
        problems = problems[:ROW_CAP] + [Problem("P272", f"另有 {len(problems) - ROW_CAP} 行代码无效，未逐行列出", file=file, column=column)]
    if problems:
        return None, problems
    return codes.filter(codes.is_not_null() & (codes != "")).unique(maintain_order=True).alias("uscc"), []


def declared_lists(policy_lists: list[NamedList], positions, leaf: Path) -> list[tuple[int, NamedList, Path]]:
    """Each declared list with the file it names, resolved against the policy file that declared it."""
    out = []
    for i, named in enumerate(policy_lists):
        pos = positions.nearest(("lists", i, "file"))
        out.append((i, named, list_path(pos.file if pos is not None else leaf, named.file)))
    return out


def list_members(loaded) -> dict[str, pl.Series]:
    """Every declared list's USCCs, as the draw reads them; SpotcheckError if a file is not the adopted one."""
    members, problems = {}, []
    for _, named, path in declared_lists(loaded.policy.lists, loaded.positions, loaded.path):
        codes, found = read_list(path, named.sha256)
        problems += found
        if codes is not None:
            members[named.id] = codes
    if problems:
        raise SpotcheckError([Problem("R560", f"名单“{p.file}”不能用于抽取：{p.message}", file=p.file, row=p.row,
                                      column=p.column, hint=p.hint) for p in problems])
    return members


def with_lists(frame: pl.DataFrame, members: Mapping[str, pl.Series]) -> pl.DataFrame:
    """The directory with `lists`: the ids of the declared lists naming each row's USCC."""
    if not members:
        return frame
    flags = [pl.when(pl.col("uscc").is_in(codes.implode())).then(pl.lit(list_id))
             for list_id, codes in sorted(members.items())]
    return frame.with_columns(pl.concat_list(flags).list.drop_nulls().alias("lists"))


def listed_words(loaded, task, members: Mapping[str, pl.Series], drawn: int, uscc: pl.Series) -> dict:
    """How a task drawn from a list compares with the list: its file, and the listed entities the
    directory lacks or the task's scope (or a cap) left out, by USCC."""
    list_id = task.sampling.from_list
    named = next(n for n in loaded.policy.lists if n.id == list_id)
    codes = members[list_id]
    absent = codes.filter(~codes.is_in(uscc.implode()))
    return {
        "id": list_id, "name": named.name, "issuer": named.issuer, "sha256": named.sha256, "text": named.text,
        "listed": codes.len(), "drawn": drawn, "not_in_directory": sorted(absent.to_list()),
        "words": f"名单“{named.name}”共{codes.len()}户，抽取{drawn}户；名录中没有的{absent.len()}户"
                 + ("" if codes.len() - absent.len() == drawn else f"，名录中有但不在抽查范围内或已达频次上限的{codes.len() - absent.len() - drawn}户"),
    }


def task_scope(task) -> Node:
    """The scope the draw uses: the task's own, and for a task drawn from a list, on that list too."""
    if task.sampling.from_list is None:
        return task.scope
    return AllOf(all=(task.scope, Leaf(field="lists", op="contains", value=task.sampling.from_list)))


def _list_conditions(value, path: tuple) -> list[tuple[tuple, str]]:
    """(path of the value, list id) of every condition leaf on `lists` in a document, as written."""
    found = []
    if isinstance(value, Mapping):
        if value.get("field") == "lists":
            wanted = value.get("value")
            ids = wanted if isinstance(wanted, list) else [wanted]
            for j, list_id in enumerate(ids):
                if isinstance(list_id, str):
                    found.append(((*path, "value", j) if isinstance(wanted, list) else (*path, "value"), list_id))
        for key, child in value.items():
            found += _list_conditions(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            found += _list_conditions(child, (*path, i))
    return found


def list_problems(draft) -> list[Problem]:
    """Declared lists whose file is missing, changed or not a list of USCCs, duplicate ids, and
    conditions or tasks naming a list the policy does not declare."""
    policy = draft.policy
    if policy is None:
        return []
    found: list[Problem] = []
    seen: dict[str, int] = {}
    for i, named, path in declared_lists(policy.lists, draft.positions, draft.path):
        if named.id in seen:
            found.append(draft.locate(Problem("P273", f"名单标识 '{named.id}' 重复", hint="每个名单在本策略中只能声明一次"),
                                      draft.at("lists", i, "id")))
        seen.setdefault(named.id, i)
        _, problems = read_list(path, named.sha256)
        for p in problems:
            if p.code in ("P270", "P271"):
                key = "file" if p.code == "P270" else "sha256"
                found.append(draft.locate(Problem(p.code, f"{p.message}（{p.file}）", hint=p.hint), draft.at("lists", i, key)))
            else:
                found.append(p)
    known = list(seen)
    for path, list_id in _list_conditions(draft.data, ()):
        if list_id not in seen:
            found.append(draft.locate(Problem("P274", f"条件中的名单 '{list_id}' 未在 lists 中声明{did_you_mean(list_id, known)}",
                                              hint=f"已声明的名单：{'、'.join(known) or '（无）'}"), path))
    for i, task in enumerate(policy.tasks):
        list_id = task.sampling.from_list
        if list_id is not None and list_id not in seen:
            found.append(draft.locate(Problem("P274", f"任务按名单 '{list_id}' 抽查，但该名单未在 lists 中声明{did_you_mean(list_id, known)}",
                                              hint=f"已声明的名单：{'、'.join(known) or '（无）'}"),
                                      draft.at("tasks", i, "sampling", "from_list")))
    return found
