import pytest
from spotcheck.version import engine_version
from spotcheck.draw.commitment import (
    check_inputs,
    drill_seed,
    make_commitment,
    revealed_seed,
    seed_from_dict,
)
from spotcheck.errors import SpotcheckError

INPUTS = {"policy_sha256": "a" * 64, "entities_sha256": "b" * 64, "history_sha256": "c" * 64}


def commit(beacon="双色球2023130期开奖号码", **changes):
    return make_commitment(**{**INPUTS, **changes}, beacon=beacon, drawn_on="2023-11-13", reveal_as="numbers:6+1")


@pytest.mark.parametrize("beacon", ["", "   "])
def test_a_commitment_must_name_its_beacon(beacon):
    with pytest.raises(SpotcheckError) as exc:
        commit(beacon)
    assert [p.code for p in exc.value.problems] == ["R501"]


def test_the_id_follows_every_committed_value():
    first = commit()
    assert commit().id == first.id and len(first.id) == 16
    assert first.body["engine_version"] == engine_version()
    assert commit(beacon="另一期开奖号码").id != first.id
    assert commit(entities_sha256="d" * 64).id != first.id


def test_unchanged_inputs_pass_the_check():
    check_inputs(commit().body, **INPUTS)


def test_check_inputs_names_each_changed_input():
    body = commit().body
    with pytest.raises(SpotcheckError) as exc:
        check_inputs(body, **{**INPUTS, "policy_sha256": "e" * 64, "history_sha256": "f" * 64})
    problems = exc.value.problems
    assert [p.code for p in problems] == ["R502", "R502"]
    assert problems[0].message.startswith("策略与承诺时不一致（承诺 aaaaaaaaaaaa…，现在 eeeeeeeeeeee…）")
    assert problems[1].message.startswith("抽查历史与承诺时不一致")
    with pytest.raises(SpotcheckError) as exc:
        check_inputs(body, **{**INPUTS, "entities_sha256": "0" * 64})
    assert [p.message.split("与")[0] for p in exc.value.problems] == ["检查对象名录"]


def test_a_reveal_under_another_engine_version_is_refused():
    body = {**commit().body, "engine_version": "0.0.0-other"}
    with pytest.raises(SpotcheckError) as exc:
        check_inputs(body, **INPUTS)
    assert [p.code for p in exc.value.problems] == ["R503"]


def test_seeds_round_trip_and_drills_never_share_a_key_with_reveals():
    drill, reveal = drill_seed("7"), revealed_seed("c1", "7")
    assert drill.drill and not reveal.drill
    assert drill.key != reveal.key != revealed_seed("c2", "7").key
    assert seed_from_dict(drill.to_dict()) == drill and seed_from_dict(reveal.to_dict()) == reveal


@pytest.mark.parametrize(("spec", "typed", "normal"), [
    ("numbers:6+1", "03 07 12 19 25 31 + 09", "03 07 12 19 25 31 + 09"),
    ("numbers:6+1", "3,7,12,19,25,31+9", "03 07 12 19 25 31 + 09"),
    ("numbers:6+1", "03，07，12，19，25，31，09", "03 07 12 19 25 31 + 09"),
    ("numbers:3", "7 11 23", "07 11 23"),
    ("hex:8", "DEAD beef", "deadbeef"),
])
def test_a_reveal_is_normalised_to_the_committed_format(spec, typed, normal):
    from spotcheck.draw.commitment import normalize_reveal

    assert normalize_reveal(spec, typed) == normal


@pytest.mark.parametrize(("spec", "typed"), [
    ("numbers:6+1", "03 07 12 19 25 + 09"), ("numbers:6+1", "03 07 12 19 25 31 + 09 10"), ("numbers:3", "7 11 x"),
    ("numbers:3", "7 11 123"), ("hex:8", "deadbee"), ("hex:8", "deadbeeg"),
])
def test_a_reveal_in_another_shape_is_refused(spec, typed):
    from spotcheck.draw.commitment import normalize_reveal

    with pytest.raises(SpotcheckError) as err:
        normalize_reveal(spec, typed)
    assert err.value.problems[0].code == "R509" and spec in err.value.problems[0].message
