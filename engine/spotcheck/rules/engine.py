"""Rules: conditions compiled for durable-rules and evaluated once per class of entities.

This is the only module that talks to durable-rules. Entities are never sent one by one: callers
project them onto the fields the rules read, and each distinct projection (a class) is asserted
once as a fact. Durable-rules 2.0.28 has sharp edges, each handled here on purpose:

- Loose type coercion ("abc" >= 1000 holds): every fact property is a small int. Values the rules
  cannot tell apart share a class code (see branches.ValueClasses); labels and substrings the rules mention are
  0/1 flags. Inside the engine every test is an equality or inequality of ints: no string, date or
  regular expression is compared there (wide CJK regex classes crash the engine), and a 600-value
  `in` list is a single test.
- `any`/`all`/`none` of durable-rules range over facts, not over tests of one fact, and its nested
  `$or`/`$and` inside one fact are capped at a few groups: each condition is brought to disjunctive
  normal form (negations pushed to the leaves) and every conjunction becomes one durable rule, a flat
  chain of tests. Identical conjunctions of different rules become one durable rule.
- A ruleset hangs while being built when one node of its network has more than 512 children,
  fails to match a fact when more than 64 passing tests wait on its stack, and refuses more than
  4096 rules: rules are spread over several rulesets ("shards") so that no node has more than
  FANOUT_LIMIT children, matching never needs more than STACK_LIMIT entries (_Trie), and no shard
  has more than RULES_PER_SHARD rules.
- Ruleset names cannot be reused: each compiled ruleset gets a content hash plus a process serial,
  and compiled rules are cached by content.
- Facts are identified by a content hash unless they carry an id: every fact gets a unique id, and
  is retracted after its answer is read, so one session ("sid") ever holds at most one fact.
- Exceptions inside actions are swallowed and batch posts return before actions run: facts are
  asserted one at a time, actions only append to a list, and a catch-all rule ("seen") must fire for
  every fact, or evaluation fails loudly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from durable import engine as durable
from spotcheck.rules.conditions import Node, Vocabulary
from spotcheck.rules.branches import MAX_BRANCHES, Branch, Flag, TooComplex, ValueClasses, to_branches
from spotcheck.rules.semantics import entity_value
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.rules.fields import ENTITY_FIELDS, Field

FANOUT_LIMIT = 200  # children of one network node; durable-rules hangs above 512
STACK_LIMIT = 40  # tests pending while matching one fact; durable-rules fails above 64
RULES_PER_SHARD = 1000  # durable-rules refuses more than 4096 rules per ruleset
MAX_PROPERTIES = 240  # durable-rules reads at most 255 properties of a fact

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()  # polars counts days from 1970-01-01


@dataclass
class EngineStats:
    """What this process asked of durable-rules; tests read it to check calls follow classes."""

    facts: int = 0  # facts asserted (one per class and shard)
    rulesets: int = 0  # durable rulesets built


STATS = EngineStats()


@dataclass(frozen=True)
class Rule:
    """A condition and the id reported when it holds; `payload` is for the caller alone."""

    id: str
    when: Node
    payload: Mapping[str, Any] = field(default_factory=dict, compare=False)


# ---------------------------------------------------------------------------------------------
# Durable rules: flat chains of (property, op, code) tests

Test = tuple[str, str, int]  # op: "eq" or "ne"


class _Emitter:
    """Turns branches into chains of tests, once the classes and flags of all rules are known."""

    def __init__(self, branches: Sequence[Branch], vocab: Vocabulary) -> None:
        constraints: dict[str, dict[Any, None]] = {}
        texts: dict[str, set[str]] = {}
        for branch in branches:
            for key, constraint in branch.items():
                if key[0] == "flag":
                    texts.setdefault(key[1], set()).add(key[2])
                else:
                    constraints.setdefault(key[1], {})[constraint] = None
        self.order = {name: i for i, name in enumerate(vocab)}  # tests in the vocabulary's field order
        self.properties: dict[str, ValueClasses | Flag] = {}
        self.flag_names: dict[tuple[str, str], str] = {}
        for name, f in vocab.items():
            if name in constraints:
                self.properties[name] = ValueClasses(f, list(constraints[name]))
            for i, text in enumerate(sorted(texts.get(name, ()))):
                self.flag_names[(name, text)] = f"{name}__{i}"
                self.properties[f"{name}__{i}"] = Flag(f, text)

    def chains(self, branch: Branch) -> list[tuple[Test, ...]]:
        """Alternative chains of tests that together pass exactly the values the branch allows."""
        chains: list[list[Test]] = [[]]
        for key, constraint in sorted(branch.items(), key=lambda item: (self.order[item[0][1]], item[0])):
            options = self._alternatives(key, constraint)
            chains = [chain + option for chain in chains for option in options]
        return [tuple(chain) for chain in chains]

    def _alternatives(self, key: tuple, constraint: Any) -> list[list[Test]]:
        if key[0] == "flag":
            return [[(self.flag_names[(key[1], key[2])], "eq", int(constraint))]]
        classes = self.properties[key[1]]
        allowed = classes.allowed(constraint)
        refused = set(range(len(classes.signatures))) - allowed
        # Each allowed class is one more alternative chain (they multiply across fields), while
        # each refused class is one more test in a single chain: prefer the chain unless one
        # equality says it all.
        if len(allowed) == 1 or len(allowed) < len(refused):
            return [[(key[1], "eq", code)] for code in sorted(allowed)]
        return [[(key[1], "ne", code) for code in sorted(refused)]]


def _expression(tests: tuple[Test, ...]) -> dict[str, Any]:
    parts = [{prop: code} if op == "eq" else {"$neq": {prop: code}} for prop, op, code in tests]
    return parts[0] if len(parts) == 1 else {"$and": parts}


_SEEN: Test = ("fact", "eq", 1)  # every fact carries fact=1; the catch-all rule tests only that


class _Trie:
    """The network durable-rules builds for one ruleset: chains sharing leading tests share nodes.

    Matching a fact, the engine pops a node and pushes every child whose test passes onto a stack
    of 64 entries. Equalities on one property pass at most one at a time; any other test may pass
    together with its siblings. `need` bounds the stack the subtree takes once its node is popped.
    """

    def __init__(self) -> None:
        self.children: dict[Test, _Trie] = {}
        self.equal_props: set[str] = set()
        self.others = 0
        self.need = 0

    def width(self, extra: Test | None = None) -> int:
        """How many children can pass at once, counting `extra` as one more child."""
        props, others = set(self.equal_props), self.others
        if extra is not None:
            if extra[1] == "eq":
                props.add(extra[0])
            else:
                others += 1
        return len(props) + others

    @staticmethod
    def _need(width: int, deepest_child: int) -> int:
        # The children wait on the stack while the first of them is explored.
        return 0 if width == 0 else max(width, width - 1 + deepest_child)

    def fits(self, chain: tuple[Test, ...]) -> bool:
        """Add the chain unless a node would get too many children or matching could overflow."""
        path, node = [], self
        for i, test in enumerate(chain):
            if test not in node.children:
                break
            path.append((node, test))
            node = node.children[test]
        else:
            return True
        rest = chain[i:]
        if len(node.children) >= FANOUT_LIMIT:
            return False
        new_head = 1 if len(rest) > 1 else 0  # the new nodes form a line: one child each
        deepest = max([c.need for c in node.children.values()] + [new_head])
        need = self._need(node.width(rest[0]), deepest)
        for parent, test in reversed(path):
            others = max((c.need for t, c in parent.children.items() if t != test), default=0)
            need = self._need(parent.width(), max(others, need))
        if need > STACK_LIMIT:
            return False
        visited, node = [], self
        for test in chain:
            visited.append(node)
            if test not in node.children:
                node.children[test] = _Trie()
                if test[1] == "eq":
                    node.equal_props.add(test[0])
                else:
                    node.others += 1
            node = node.children[test]
        for n in reversed(visited):
            n.need = self._need(n.width(), max(c.need for c in n.children.values()))
        return True


def _shards(chains: Sequence[tuple[Test, ...]]) -> list[list[tuple[Test, ...]]]:
    """Spread chains over rulesets so that no network node is too wide or too deep to match."""
    shards: list[tuple[_Trie, list]] = []
    for chain in chains:
        for trie, members in shards:
            if len(members) < RULES_PER_SHARD and trie.fits(chain):
                members.append(chain)
                break
        else:
            trie = _Trie()
            trie.fits((_SEEN,))
            trie.fits(chain)  # any one chain fits beside the catch-all rule
            shards.append((trie, [chain]))
    return [members for _, members in shards] or [[]]


# ---------------------------------------------------------------------------------------------
# Compiled rules

_RULESET_SERIAL = itertools.count(1)
_FACT_SERIAL = itertools.count(1)


class _Shard:
    """One durable ruleset. Actions only record; a fact is asserted, answered and retracted alone."""

    def __init__(self, name: str, fires: Mapping[str, frozenset[str]], chains: Mapping[str, tuple[Test, ...]]) -> None:
        self._fired: list[tuple[str, str]] = []
        definition = {"seen": {"all": [{"m": _expression((_SEEN,))}], "run": self._recorder("seen")}}
        for rule_name, chain in chains.items():
            definition[rule_name] = {"all": [{"m": _expression(chain)}], "run": self._recorder(rule_name)}
        self._ruleset = durable.Ruleset(name, None, definition)
        STATS.rulesets += 1
        self._fires = fires

    def _recorder(self, rule_name: str) -> Any:
        fired = self._fired

        def record(c: Any) -> None:  # one parameter: durable-rules treats two as an async action
            fired.append((c.m.id, rule_name))

        return record

    def run(self, fact: dict[str, Any]) -> set[str]:
        self._fired.clear()
        errors: list[Any] = []
        STATS.facts += 1
        handle = self._ruleset.assert_fact(fact)
        self._ruleset.do_actions(handle, lambda error, _state: errors.append(error) if error else None)
        self._ruleset.retract_fact(fact)
        names = {rule_name for fact_id, rule_name in self._fired if fact_id == fact["id"]}
        if errors or "seen" not in names:
            raise RuntimeError(f"durable-rules gave no answer for fact {fact['id']}: {errors or self._fired}")
        return set().union(*(self._fires[n] for n in names))


def _too_complex(rule_id: str) -> SpotcheckError:
    return SpotcheckError(
        Problem(
            code="E801",
            message=f"规则 '{rule_id}' 的条件过于复杂：展开后超过 {MAX_BRANCHES} 种情形",
            where=f"规则 '{rule_id}'",
            hint="把条件拆成几条规则，或把多个并列的 any 合并为 in、any_of",
        )
    )


class CompiledRules:
    """Rules compiled once for durable-rules; `evaluate` answers one class of entities per fact."""

    def __init__(self, rules: Sequence[Rule], vocabulary: Vocabulary, key: str) -> None:
        self.ids: tuple[str, ...] = tuple(r.id for r in rules)
        self.vocabulary = vocabulary
        self.key = key
        chains: dict[tuple[Test, ...], set[str]] = {(): set()}  # () is the catch-all "seen" rule
        per_rule = []
        for rule in rules:
            try:
                per_rule.append((rule.id, to_branches(rule.when, vocabulary)))
            except TooComplex:
                raise _too_complex(rule.id) from None
        emitter = _Emitter([b for _, branches in per_rule for b in branches], vocabulary)
        reads: dict[str, frozenset[str]] = {}
        for rule_id, branches in per_rule:
            own = {chain for branch in branches for chain in emitter.chains(branch)}
            if len(own) > MAX_BRANCHES:
                raise _too_complex(rule_id)
            for chain in own:
                chains.setdefault(chain, set()).add(rule_id)
            reads[rule_id] = frozenset(prop for chain in own for prop, _, _ in chain)
        # Rules grouped by the fact properties they test: a rule's answer depends on those alone.
        self._groups: dict[tuple[str, ...], frozenset[str]] = {}
        for rule_id, props in reads.items():
            key = tuple(sorted(props))
            self._groups[key] = self._groups.get(key, frozenset()) | {rule_id}
        used = {prop for chain in chains for prop, _, _ in chain}
        self._properties = {name: prop for name, prop in emitter.properties.items() if name in used}
        if len(self._properties) > MAX_PROPERTIES:
            raise SpotcheckError(
                Problem(
                    code="E802",
                    message=f"规则共用到 {len(self._properties)} 个标签、文字片段和字段，超过规则引擎上限 {MAX_PROPERTIES}",
                    hint="把规则分成几组分别计算，或减少列举的标签",
                )
            )
        # Chains in a stable order so that rule names and shards do not depend on dict history.
        ordered = sorted(c for c in chains if c)
        self._always = frozenset(chains[()])
        self._names = {chain: f"r{i}" for i, chain in enumerate(ordered)}
        self._fires = {self._names[c]: frozenset(chains[c]) for c in ordered} | {"seen": self._always}
        self._layout = [[self._names[c] for c in members] for members in _shards(ordered)]
        chain_of = {name: chain for chain, name in self._names.items()}
        self._shards = [
            _Shard(
                f"spotcheck_{key[:16]}_{next(_RULESET_SERIAL)}",
                self._fires,
                {name: chain_of[name] for name in members},
            )
            for members in self._layout
        ]
        self.fields_read = frozenset(p.field.name for p in self._properties.values())
        self._lock = threading.Lock()

    def fact(self, entity: Mapping[str, Any], fact_id: str) -> dict[str, Any]:
        """The engine's view of an entity (or class): int properties only, plus a unique id."""
        values = {
            name: entity_value(self.vocabulary[name], entity.get(name)) for name in self.fields_read
        }
        fact: dict[str, Any] = {"id": fact_id, "fact": 1}
        for name, prop in self._properties.items():
            fact[name] = prop.encode(values[prop.field.name])
        return fact

    def evaluate(self, classes: Sequence[Mapping[str, Any]]) -> list[frozenset[str]]:
        """For each class (a mapping of the fields the rules read), the ids of the rules that hold."""
        return self.evaluate_encoded([self.fact(entity, "") for entity in classes])

    def evaluate_encoded(self, facts: Sequence[Mapping[str, int]]) -> list[frozenset[str]]:
        """Like `evaluate`, for facts already encoded (property name -> code, as `fact` or `encode_frame` make)."""
        answers = []
        with self._lock:
            for codes in facts:
                fact = {**codes, "id": f"f{next(_FACT_SERIAL)}", "fact": 1}
                fired: set[str] = set()
                for shard in self._shards:
                    fired |= shard.run(fact)
                answers.append(frozenset(fired))
        return answers

    def evaluate_classes(self, classes: pl.DataFrame) -> list[frozenset[str]]:
        """The rules holding for each row of distinct codes (as `encode_frame` makes), with few engine calls.

        A rule's answer depends only on the properties it tests, so each group of rules reading the same
        properties can be asked once per distinct projection of the classes onto those properties (other
        properties 0): tens of facts where the classes number thousands. When that would take more
        facts than the classes themselves, the classes are asked directly.
        """
        indexed = classes.with_row_index("_class")
        asks = []
        for props, rule_ids in self._groups.items():
            if props:
                projected = indexed.group_by(list(props)).agg(pl.col("_class"))
                asks.append((rule_ids, projected.select(props).to_dicts(), projected["_class"].to_list()))
            else:
                asks.append((rule_ids, [{}], [list(range(classes.height))]))
        if sum(len(keys) for _, keys, _ in asks) >= classes.height:
            return self.evaluate_encoded(classes.to_dicts())
        answers: list[set[str]] = [set() for _ in range(classes.height)]
        for rule_ids, keys, members in asks:
            facts = [dict.fromkeys(self._properties, 0) | key for key in keys]
            for fired, rows in zip(self.evaluate_encoded(facts), members, strict=True):
                hit = fired & rule_ids
                for row in rows if hit else ():
                    answers[row] |= hit
        return [frozenset(a) for a in answers]

    def encode_frame(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Every row's fact codes, computed as column expressions: the same codes `fact` gives one entity.

        Rows that the rules cannot tell apart get equal codes, so `unique()` over this frame yields the
        classes: labels the rules never mention, dates between the same cut points and values no rule
        names all collapse, and the number of engine calls stays small however varied the rows are.
        """
        masks, coded = self.code_exprs(frame)
        if not coded:
            return pl.DataFrame({"_none": pl.zeros(frame.height, dtype=pl.Int32, eager=True)})
        exprs = [expr.alias(name) for name, expr, _ in coded]
        return frame.with_columns(masks).select(exprs) if masks else frame.select(exprs)

    def code_exprs(self, frame: pl.DataFrame) -> tuple[list[pl.Expr], list[tuple[str, pl.Expr, int]]]:
        """Helper columns to add first, and per fact property (name, Int32 code expression, number of codes)."""
        masks, bits = self._label_masks(frame)
        coded = []
        for name, prop in self._properties.items():
            f = prop.field
            col = _column(frame, f)
            if isinstance(prop, Flag):
                if f.kind == "labels":
                    mask, bit = bits[name]
                    hit = (pl.col(mask) & pl.lit(bit, dtype=pl.Int64)) != 0
                else:
                    hit = col.cast(pl.String).str.contains(prop.text, literal=True)
                coded.append((name, hit.fill_null(False).cast(pl.Int32), 2))
            elif f.kind in ("str", "enum"):
                code = col.replace_strict(prop.values, default=0, return_dtype=pl.Int32).fill_null(0)
                coded.append((name, code, len(prop.signatures)))
            else:
                number = (col.dt.epoch("d") + _EPOCH_ORDINAL) if f.kind == "date" else col
                segment = pl.lit(pl.Series(prop.cuts, dtype=pl.Int64)).search_sorted(
                    number.cast(pl.Int64), side="right"
                )
                codes = dict(enumerate(prop.segment_codes))
                code = (
                    pl.when(col.is_null())
                    .then(pl.lit(0, dtype=pl.Int32))
                    .otherwise(segment.replace_strict(codes, return_dtype=pl.Int32))
                )
                coded.append((name, code, len(prop.signatures)))
        return masks, coded

    def flag_bits(self, frame: pl.DataFrame) -> dict[str, tuple[str, int]]:
        """Per flag property of a labels field: the mask column `code_exprs` adds first, and its bit there."""
        return self._label_masks(frame)[1]

    def _label_masks(self, frame: pl.DataFrame) -> tuple[list[pl.Expr], dict[str, tuple[str, int]]]:
        """One pass over each labels column sets a bit per label the rules mention (instead of one scan per label).

        Returns the mask columns and, per flag property, (mask column, bit).
        """
        flags: dict[str, list[tuple[str, str]]] = {}
        for name, prop in self._properties.items():
            if isinstance(prop, Flag) and prop.field.kind == "labels":
                flags.setdefault(prop.field.name, []).append((name, prop.text))
        masks, bits = [], {}
        for field_name, named in flags.items():
            for start in range(0, len(named), 62):  # bits of one Int64 mask, sign bit left alone
                group = named[start : start + 62]
                column = f"_labels_mask:{field_name}:{start}"
                values = {text: 1 << i for i, (_, text) in enumerate(group)}
                masks.append(
                    _column(frame, self.vocabulary[field_name])
                    .list.eval(pl.element().replace_strict(values, default=0, return_dtype=pl.Int64).bitwise_or())
                    .list.first()
                    .fill_null(0)
                    .alias(column)
                )
                bits |= {name: (column, 1 << i) for i, (name, _) in enumerate(group)}
        return masks, bits

    def to_json(self) -> dict[str, Any]:
        """A stable description of what was compiled: fact encoding and durable rules by shard."""
        chain_of = {name: chain for chain, name in self._names.items()}
        return {
            "rules": list(self.ids),
            "always": sorted(self._always),
            "facts": {"fact": {"encoding": "constant", "value": 1}}
            | {name: prop.to_json() for name, prop in self._properties.items()},
            "shards": [
                {"seen": {"fires": sorted(self._always), "when": _expression((_SEEN,))}}
                | {name: {"fires": sorted(self._fires[name]), "when": _expression(chain_of[name])} for name in members}
                for members in self._layout
            ],
        }


_CACHE: dict[str, CompiledRules] = {}
_CACHE_LOCK = threading.Lock()


def compile_rules(rules: Sequence[Rule], facts_kinds: Vocabulary = ENTITY_FIELDS) -> CompiledRules:
    """Compile rules for the engine, or return the rules compiled earlier from the same content."""
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise ValueError(f"rule ids must be unique: {ids}")
    content = json.dumps(
        {
            "rules": [[r.id, r.when.model_dump(mode="json", by_alias=True)] for r in rules],
            "fields": {n: [f.kind, list(f.values)] for n, f in facts_kinds.items()},
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    key = hashlib.sha256(content.encode()).hexdigest()
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = CompiledRules(rules, facts_kinds, key)
        return _CACHE[key]


# ---------------------------------------------------------------------------------------------
# Frames

_DTYPES = {"str": pl.String, "enum": pl.String, "labels": pl.List(pl.String), "date": pl.Date, "int": pl.Int64}


def _column(frame: pl.DataFrame, f: Field) -> pl.Expr:
    if f.name not in frame.columns:
        return pl.lit(None, dtype=_DTYPES[f.kind]).alias(f.name)
    dtype = frame.schema[f.name]
    column = pl.col(f.name)
    if f.kind == "date" and dtype == pl.Datetime:
        return column.dt.date()
    return column
