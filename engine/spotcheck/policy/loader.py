"""Policy files → loaded policies, in one pass downward: parse (with positions) → merge parents → model
→ checks.

Each file is read strictly (yamlsource.py) and checked against its model, errors worded by
problems.py. A policy's `extends:` parent is loaded first and the child laid over it, never
loosening the parent's floors (inheritance.py); then the checks across the policy run (checks.py).
Which file is which kind: files.py; what loading produces: loaded.py.
"""

from __future__ import annotations

import os
import typing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from spotcheck.calendar.workdays import WorkCalendar
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.policy import references
from spotcheck.policy.checks import policy_problems
from spotcheck.policy.files import CASES_SUFFIX
from spotcheck.policy.inheritance import floor_problems, merge_child
from spotcheck.policy.kinds import document_vocabulary
from spotcheck.policy.loaded import Draft, LoadedItemList, LoadedPolicy, canonical_sha256
from spotcheck.policy.model import Item, ItemList, Policy
from spotcheck.policy.problems import model_problems, sorted_problems, validate_document
from spotcheck.policy.vocabulary import number_prefix_warning, undeclared_labels_warning
from spotcheck.policy.years import calendar_warning, year_warnings
from spotcheck.policy.yamlsource import Document, Pos, SourceMap, display, parse_yaml, place


@dataclass
class _Outcome:
    loaded: LoadedPolicy | None
    problems: list[Problem]
    warnings: list[Problem] = field(default_factory=list)  # the file's own, never its parent's


class Session:
    """Loads files once each: a folder of policies shares parents, item lists and calendars."""

    def __init__(self) -> None:
        self._docs: dict[Path, tuple[Document | None, list[Problem]]] = {}
        self._policies: dict[Path, _Outcome] = {}
        self._item_lists: dict[Path, tuple[LoadedItemList | None, list[Problem]]] = {}

    def document(self, path: Path) -> tuple[Document | None, list[Problem]]:
        key = path.resolve()
        if key not in self._docs:
            self._docs[key] = parse_yaml(path)
        return self._docs[key]

    def item_list(self, path: Path) -> tuple[LoadedItemList | None, list[Problem]]:
        key = path.resolve()
        if key not in self._item_lists:
            doc, problems = self.document(path)
            loaded = None
            if doc is not None:
                model, more = validate_document(ItemList, doc, "事项清单")
                problems = [*problems, *more]
                if model is not None:
                    problems += _item_list_problems(model, doc)
                    loaded = LoadedItemList(path, model, doc.positions)
            self._item_lists[key] = (loaded if not problems else None, problems)
        return self._item_lists[key]

    def policy(self, path: Path) -> _Outcome:
        return self._policy(Path(os.path.normpath(path)), ())

    def _policy(self, path: Path, stack: tuple[Path, ...]) -> _Outcome:
        key = path.resolve()
        if key not in self._policies:
            self._policies[key] = self._build(path, (*stack, key))
        return self._policies[key]

    def _build(self, path: Path, stack: tuple[Path, ...]) -> _Outcome:
        doc, read_problems = self.document(path)
        problems = list(read_problems)
        if doc is None:
            return _Outcome(None, problems)
        if not isinstance(doc.data, dict):
            _, more = validate_document(Policy, doc, "策略文件")
            return _Outcome(None, problems + more)
        data, positions = doc.data, doc.positions
        chain: tuple[Path, ...] = (path,)
        parent: _Outcome | None = None
        extends = data.get("extends")
        if isinstance(extends, str):
            parent_path = references.resolve(extends, path.parent)
            pos = positions.value(("extends",))
            if parent_path.resolve() in stack:
                loop = " → ".join(display(p) for p in (*stack[stack.index(parent_path.resolve()):], parent_path))
                problems.append(_at(Problem("P302", f"extends 循环引用：{loop}", where="extends",
                                            hint="上级策略不能直接或间接继承下级策略"), pos))
            elif not parent_path.is_file():
                problems.append(_at(references.missing(extends, parent_path, "extends"), pos))
            else:
                parent = self._policy(parent_path, stack)
                problems += [p for p in parent.problems if p not in problems]
                if parent.loaded is not None:
                    data, positions = merge_child(parent.loaded, doc)
                    chain = (*parent.loaded.chain, path)
        draft, more = self._draft(path, doc.file, data, positions)
        problems += more
        if draft.policy is not None and parent is not None and parent.loaded is not None:
            problems += floor_problems(draft, draft.policy, parent.loaded)
        warnings: list[Problem] = []
        if draft.policy is not None:
            problems += policy_problems(draft)
            warnings = year_warnings(doc, draft.policy.year) + undeclared_labels_warning(draft) + number_prefix_warning(draft)
            if draft.calendar is not None:
                warnings += calendar_warning(doc, draft.policy.year, draft.calendar.known_years())
        if problems or draft.policy is None or draft.item_lists is None or draft.items is None or draft.calendar is None:
            return _Outcome(None, problems, warnings)
        return _Outcome(LoadedPolicy(
            policy=draft.policy, path=path, chain=chain, items=draft.items, item_lists=draft.item_lists,
            calendar=draft.calendar, positions=positions, data=data,
            sha256=canonical_sha256(draft.policy, draft.item_lists)), [], warnings)

    def _draft(self, path: Path, file: str, data: dict[str, Any], positions: SourceMap) -> tuple[Draft, list[Problem]]:
        problems: list[Problem] = []
        index: dict[str, tuple[int, ...]] = {}
        broken: frozenset[str] = frozenset()
        # Conditions may name the kinds of object and scale values the policy (or a parent) declares.
        context = {"vocabulary": document_vocabulary(data)}
        try:
            policy: Policy | None = Policy.model_validate(data, context=context)
        except ValidationError as exc:
            problems += model_problems(exc, Policy, data, positions, file)
            policy, index, broken = _partial(data, context)
        item_lists: list[ItemList] | None = None
        items: dict[str, Item] | None = None
        calendar: WorkCalendar | None = None
        lists = data.get("item_lists", [])
        if isinstance(lists, list):
            item_lists, items = [], {}
            for i, ref in enumerate(lists):
                if not isinstance(ref, str):
                    continue
                list_path = references.resolve(ref, path.parent)
                if not list_path.is_file():
                    problems.append(place(references.missing(ref, list_path, "item_lists"),
                                          positions, ("item_lists", i), data))
                    item_lists = items = None
                    continue
                loaded, more = self.item_list(list_path)
                problems += [p for p in more if p not in problems]
                if loaded is None:
                    item_lists = items = None
                elif item_lists is not None and items is not None:
                    item_lists.append(loaded.item_list)
                    for k, item in enumerate(loaded.item_list.items):
                        kept = items.setdefault(item.code, item)
                        if kept != item:
                            problems.append(place(Problem(
                                "P216", f"事项编码 '{item.code}' 在引用的另一份清单中已有不同的内容",
                                where=f"事项 '{item.code}'",
                                hint="同一策略引用的各清单中，一个编码只能指一个事项；给补充的事项另编编码"),
                                loaded.positions, ("items", k, "code"), {}))
        cal_refs = data.get("calendars", [])
        if isinstance(cal_refs, list):
            files = []
            for i, ref in enumerate(cal_refs):
                if not isinstance(ref, str):
                    continue
                cal_path = references.resolve(ref, path.parent)
                if cal_path.is_file():
                    files.append(cal_path)
                else:
                    problems.append(place(references.missing(ref, cal_path, "calendars"),
                                          positions, ("calendars", i), data))
            try:
                calendar = WorkCalendar.standard(files, policy=path)
            except SpotcheckError as exc:
                problems += [p for p in exc.problems if p not in problems]
        draft = Draft(path, file, data, positions, policy, broken, index,
                      tuple(item_lists) if item_lists is not None else None, items, calendar)
        return draft, problems


def _at(problem: Problem, pos: Pos | None) -> Problem:
    if pos is None:
        return problem
    return replace(problem, file=pos.file, line=pos.line, col=pos.col)


def _partial(data: dict[str, Any], context: dict[str, Any]) -> tuple[Policy | None, dict[str, tuple[int, ...]], frozenset[str]]:
    """The parts of an invalid policy that validate on their own (None if a required part fails), the
    original index of each kept list element, and the optional parts that failed as a whole."""
    values: dict[str, Any] = {}
    index: dict[str, tuple[int, ...]] = {}
    broken: set[str] = set()
    for name, info in Policy.model_fields.items():
        if name not in data:
            if info.is_required():
                return None, {}, frozenset()
            continue
        raw = data[name]
        annotation = info.annotation
        origin = typing.get_origin(annotation)
        if origin is list and isinstance(raw, list):
            adapter = TypeAdapter(typing.get_args(annotation)[0])
            kept = [(i, v) for i, elem in enumerate(raw) if (v := _valid(adapter, elem, context)) is not _INVALID]
            values[name] = [v for _, v in kept]
            index[name] = tuple(i for i, _ in kept)
        elif origin is dict and isinstance(raw, dict):
            pair = TypeAdapter(tuple[typing.get_args(annotation)])  # type: ignore[misc]
            values[name] = dict(v for entry in raw.items() if (v := _valid(pair, entry, context)) is not _INVALID)
        # a field's bounds (ge, le …) travel beside its annotation, in its metadata
        elif (value := _valid(TypeAdapter(typing.Annotated[(annotation, *info.metadata)] if info.metadata
                                          else annotation), raw, context)) is not _INVALID:
            values[name] = value
        elif info.is_required():
            return None, {}, frozenset()
        else:
            broken.add(name)
    return Policy.model_construct(**values), index, frozenset(broken)


_INVALID = object()


def _valid(adapter: TypeAdapter[Any], value: Any, context: dict[str, Any]) -> Any:
    try:
        return adapter.validate_python(value, context=context)
    except ValidationError:
        return _INVALID


def _item_list_problems(item_list: ItemList, doc: Document) -> list[Problem]:
    found = []
    first: dict[str, int] = {}
    for i, item in enumerate(item_list.items):
        if item.code in first:
            pos = doc.positions.value(("items", first[item.code], "code"))
            found.append(place(Problem("P215", f"事项编码 '{item.code}' 重复（第 {pos.line if pos else '?'} 行已有）",
                                       hint="同一清单中每个事项编码只能出现一次"),
                               doc.positions, ("items", i, "code"), doc.data))
        else:
            first[item.code] = i
    return found


# ---------------------------------------------------------------- public entry points

def load_policy(path: str | Path) -> LoadedPolicy:
    """Load, resolve and check one policy file; raise SpotcheckError with every problem found."""
    if Path(path).name.endswith(CASES_SUFFIX):
        raise SpotcheckError([_cases_not_policy(Path(path))])
    outcome = Session().policy(Path(path))
    if outcome.loaded is None:
        raise SpotcheckError(sorted_problems(outcome.problems))
    return outcome.loaded


def _cases_not_policy(path: Path) -> Problem:
    """A policy's test cases given where the policy belongs: one problem, not its keys checked as a policy's."""
    beside = path.with_name(path.name.removesuffix(CASES_SUFFIX) + ".yaml")
    return Problem("P107", "这是策略的测试用例文件（*.cases.yaml），不是策略", file=display(path),
                   hint=(f"给出策略文件 {display(beside)}；" if beside.is_file() else "给出它测试的策略文件；")
                   + f"用例用 spotcheck test {display(path)} 运行")


def load_item_list(path: str | Path) -> LoadedItemList:
    loaded, problems = Session().item_list(Path(path))
    if loaded is None:
        raise SpotcheckError(problems)
    return loaded
