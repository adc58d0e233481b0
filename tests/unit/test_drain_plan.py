"""The drain planner: table cases, then properties (hypothesis) against a brute force."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.brick_placement import BrickRef
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.drain_plan import (
    DrainError,
    SetState,
    plan_differences,
    plan_drain,
)

GIB = 1 << 30


def b(text):
    return BrickRef.parse(text)


def volume(*sets, used=1 * GIB, free=10 * GIB):
    return [SetState(tuple(b(x) for x in s), used, free) for s in sets]


def test_a_set_wholly_on_leaving_hosts_is_removed_with_its_data_moved():
    sets = volume(["n1:/a", "n2:/a", "n3:/a"], ["n4:/a", "n5:/a", "n6:/a"])
    plan = plan_drain(sets, {"n4", "n5", "n6"})
    assert plan.remove_sets == [(1, [b("n4:/a"), b("n5:/a"), b("n6:/a")])]
    assert plan.replace == [] and plan.data_to_move == GIB


def test_a_brick_whose_set_stays_goes_to_a_spare_on_another_host():
    sets = volume(["n1:/a", "n2:/a", "n3:/a"])
    plan = plan_drain(sets, {"n3"}, spares=[b("n1:/s"), b("n4:/s")])
    assert plan.replace == [(0, b("n3:/a"), b("n4:/s"))]
    assert plan.data_to_heal == GIB


def test_each_spare_goes_where_it_has_room_when_an_assignment_allows():
    # n3 leaves a data set and an arbiter set; n4 declares its small arbiter disk first.
    sets = volume(["n1:/a", "n2:/a", "n3:/a"], ["n1:/b", "n2:/b", "n3:/arb"])
    room = {"n4:/small": 1, "n4:/big": 100}
    need = {0: 50, 1: 1}
    spares = [b("n4:/small"), b("n4:/big")]

    def fits(index, _old, spare):
        return room[str(spare)] >= need[index]

    assert plan_drain(sets, {"n3"}, spares=spares).replace[0] == (0, b("n3:/a"), b("n4:/small"))
    plan = plan_drain(sets, {"n3"}, spares=spares, fits=fits)
    assert plan.replace == [(0, b("n3:/a"), b("n4:/big")), (1, b("n3:/arb"), b("n4:/small"))]
    # No assignment where each fits: the plan is made anyway, for the caller to refuse by room.
    assert plan_drain(sets, {"n3"}, spares=spares, fits=lambda *_: False).replace


def test_no_spare_on_a_host_outside_the_set_is_refused_naming_what_to_add():
    sets = volume(["n1:/a", "n2:/a", "n3:/a"])
    with pytest.raises(DrainError) as caught:
        plan_drain(sets, {"n3"}, spares=[b("n1:/s"), b("n2:/s")], volume="gv0")
    assert "set 0 (n1:/a, n2:/a, n3:/a) keeps n1, n2 and needs 1 spare brick(s)" in str(caught.value)
    assert "Spare bricks declared (gluster_pool_bricks, not in the volume): n1:/s, n2:/s" in str(caught.value)


def test_removing_the_last_set_is_refused():
    with pytest.raises(DrainError, match="no set would remain"):
        plan_drain(volume(["n1:/a", "n2:/a", "n3:/a"]), {"n1", "n2", "n3"})


def test_not_enough_room_on_the_other_sets_is_refused():
    sets = [SetState((b("n1:/a"),), used=9 * GIB, free=1 * GIB), SetState((b("n2:/a"),), used=5 * GIB, free=5 * GIB)]
    with pytest.raises(DrainError, match=re.escape("moves 5.0 GiB onto the other sets, which have 1.0 GiB free")):
        plan_drain(sets, {"n2"})


def test_two_leaving_bricks_of_one_set_need_two_hosts():
    sets = volume(["n1:/a", "n2:/a", "n3:/a"])
    with pytest.raises(DrainError):
        plan_drain(sets, {"n2", "n3"}, spares=[b("n4:/s"), b("n4:/t")])
    plan = plan_drain(sets, {"n2", "n3"}, spares=[b("n4:/s"), b("n4:/t"), b("n5:/s")])
    assert sorted(new.host for _index, _old, new in plan.replace) == ["n4", "n5"]


def test_a_search_finds_what_a_greedy_choice_would_miss():
    # n3's brick could take n5 or n4; n6's brick only n5 (n4 is in its set). Greedy n3->n5 fails.
    sets = volume(["n1:/a", "n2:/a", "n3:/a"], ["n4:/b", "n2:/b", "n6:/b"])
    plan = plan_drain(sets, {"n3", "n6"}, spares=[b("n5:/s"), b("n4:/s")])
    assert {str(old): str(new) for _index, old, new in plan.replace} == {"n3:/a": "n4:/s", "n6:/b": "n5:/s"}


def test_failure_domains_are_kept_apart_when_the_spares_allow():
    sets = volume(["n1:/a", "n2:/a", "n3:/a"])
    domains = {"n1": "r1", "n2": "r2", "n3": "r3", "n4": "r1", "n5": "r3"}
    plan = plan_drain(sets, {"n3"}, spares=[b("n4:/s"), b("n5:/s")], failure_domains=domains)
    assert plan.replace[0][2] == b("n5:/s") and plan.warnings == []
    plan = plan_drain(sets, {"n3"}, spares=[b("n4:/s")], failure_domains=domains)
    assert plan.replace[0][2] == b("n4:/s") and "two bricks in one failure domain" in plan.warnings[0]


# -- properties --

HOSTS = [f"n{i}" for i in range(1, 8)]


@st.composite
def cases(draw):
    size = draw(st.integers(1, 3))
    count = draw(st.integers(1, 3))
    sets = []
    for index in range(count):
        hosts = draw(st.permutations(HOSTS).map(lambda p: p[:size]))
        sets.append(SetState(tuple(BrickRef(h, f"/b{index}") for h in hosts), used=GIB, free=4 * GIB))
    leaving = set(draw(st.lists(st.sampled_from(HOSTS), max_size=3)))
    spares = draw(
        st.lists(st.sampled_from(HOSTS), max_size=5).map(lambda hs: [BrickRef(h, f"/s{i}") for i, h in enumerate(hs)])
    )
    return sets, leaving, spares


def brute_force_exists(sets, leaving, spares):
    """Whether any assignment of distinct spares keeps every partly leaving set on distinct hosts."""
    slots = [(i, brick) for i, s in enumerate(sets) for brick in s.bricks if brick.host in leaving]
    slots = [(i, brick) for i, brick in slots if any(x.host not in leaving for x in sets[i].bricks)]
    usable = [s for s in spares if s.host not in leaving]
    for choice in itertools.permutations(usable, len(slots)):
        hosts = {i: [x.host for x in sets[i].bricks if x.host not in leaving] for i, _old in slots}
        for (i, _old), spare in zip(slots, choice, strict=True):
            hosts[i].append(spare.host)
        if all(len(h) == len(set(h)) for h in hosts.values()):
            return True
    return not slots


@settings(max_examples=300, deadline=None)
@given(cases())
def test_a_plan_exists_exactly_when_one_does_and_it_is_sound(case):
    sets, leaving, spares = case
    whole = [s for s in sets if all(x.host in leaving for x in s.bricks)]
    try:
        plan = plan_drain(sets, leaving, spares)
    except DrainError:
        assert (
            not brute_force_exists(sets, leaving, spares)
            or len(whole) == len(sets)
            or (whole and len(whole) * GIB * 1.2 > (len(sets) - len(whole)) * 4 * GIB)
        )
        return
    assert brute_force_exists(sets, leaving, spares)
    after = {i: list(s.bricks) for i, s in enumerate(sets)}
    for index, old, new in plan.replace:
        after[index][after[index].index(old)] = new
    for index, _bricks in plan.remove_sets:
        del after[index]
    for bricks in after.values():
        assert all(x.host not in leaving for x in bricks)  # every leaving brick is gone
        assert len({x.host for x in bricks}) == len(bricks)  # each set on distinct hosts
    news = [new for _index, _old, new in plan.replace]
    assert len(news) == len(set(news)) and set(news) <= set(spares)


def test_the_warning_names_only_the_spares_on_leaving_hosts():
    sets = volume(["n1:/a", "n2:/a", "n3:/a"])
    plan = plan_drain(sets, {"n3"}, spares=[b("n4:/s"), b("n3:/s")])
    assert plan.warnings == ["spare bricks on leaving hosts are not used: n3:/s"]


def test_a_lost_hosts_bricks_are_replaced_and_never_migrated():
    sets = volume(["n1:/a", "n2:/a", "n3:/a"], ["n1:/b", "n2:/b", "n3:/b"])
    plan = plan_drain(sets, {"n3"}, spares=[b("n4:/a"), b("n4:/b")], lost=True)
    assert plan.remove_sets == [] and plan.data_to_move == 0
    assert sorted((i, str(old), str(new)) for i, old, new in plan.replace) == [
        (0, "n3:/a", "n4:/a"),
        (1, "n3:/b", "n4:/b"),
    ]


def test_a_set_only_on_a_lost_host_is_refused_not_removed():
    sets = volume(["n1:/a"], ["n3:/a"])
    with pytest.raises(DrainError, match=r"set 1 of gv0 \(n3:/a\) has no brick outside the failed host\(s\) n3"):
        plan_drain(sets, {"n3"}, spares=[b("n4:/a")], volume="gv0", lost=True)


# -- hosts are keys, not names ---------------------------------------------------

# Three names each for hosts 1..6: what `volume info` or a spare may call them.
NAMINGS = {h: (f"n{h}", f"n{h}.example.com", f"10.0.0.{h}") for h in range(1, 7)}


@settings(max_examples=60, deadline=None)
@given(
    naming=st.lists(st.integers(0, 2), min_size=12, max_size=12),
    leaving=st.sets(st.integers(1, 6), min_size=1, max_size=2),
)
def test_any_naming_of_the_same_pool_gives_the_same_plan(naming, leaving):
    """Two sets on hosts 1-3 and 4-6 and a spare on each host, every brick named by any of
    its host's names: keyed by host, the plan is the one of the canonical naming."""
    layout = [(1, "/a"), (2, "/a"), (3, "/a"), (4, "/a"), (5, "/a"), (6, "/a")]
    spares_at = [(h, "/s") for h in range(1, 7)]
    host_of = {}

    def named(entries, picks):
        refs = []
        for (host, path), pick in zip(entries, picks, strict=True):
            ref = BrickRef(NAMINGS[host][pick], path)
            host_of[ref] = host
            refs.append(ref)
        return refs

    bricks = named(layout, naming[:6])
    spares = named(spares_at, naming[6:])
    sets = [SetState(tuple(bricks[:3]), GIB, 10 * GIB), SetState(tuple(bricks[3:]), GIB, 10 * GIB)]
    canonical = [
        SetState(tuple(BrickRef(f"n{h}", p) for h, p in group), GIB, 10 * GIB) for group in (layout[:3], layout[3:])
    ]

    def outcome(sets, spares, key):
        try:
            plan = plan_drain(sets, leaving, spares, host_key=key)
        except DrainError as exc:
            return "refused", str(exc).count("needs")
        return (
            [(i, key(old), key(new)) for i, old, new in plan.replace],
            [(i, [key(x) for x in group]) for i, group in plan.remove_sets],
        )

    canonical_spares = [BrickRef(f"n{h}", p) for h, p in spares_at]
    assert outcome(sets, spares, host_of.__getitem__) == outcome(
        canonical, canonical_spares, lambda ref: int(ref.host[1:])
    )


def test_a_spare_named_otherwise_is_not_put_into_a_set_that_holds_its_host():
    """The pool knows node2 as node2.example.com, a spare names it node2: compared as text,
    the spare would look like another host and give the set two bricks on node2."""
    sets = volume(["node1.example.com:/a", "node2.example.com:/a", "node3.example.com:/a"])
    hosts = {"node1.example.com": 1, "node2.example.com": 2, "node3.example.com": 3, "node2": 2, "node4": 4}

    def key(ref):
        return hosts[ref.host]

    with pytest.raises(DrainError, match="needs 1 spare"):
        plan_drain(sets, {3}, spares=[b("node2:/s")], host_key=key, host_name=lambda k: f"node{k}")
    plan = plan_drain(sets, {3}, spares=[b("node2:/s"), b("node4:/s")], host_key=key)
    assert plan.replace == [(0, b("node3.example.com:/a"), b("node4:/s"))]


def test_plan_differences_name_what_changed_since_the_check_and_ignore_sizes():
    checked = {
        "replace": [{"set": 0, "old": "n3:/b/1", "new": "n5:/b/2"}],
        "remove_sets": [],
        "data_to_heal": 100,
        "warnings": [],
    }
    assert plan_differences(checked, {**checked, "data_to_heal": 900, "warnings": ["a domain shared"]}) == []
    now = {
        "replace": [{"set": 0, "old": "n3:/b/1", "new": "n6:/b/2"}],
        "remove_sets": [{"set": 1, "bricks": ["a", "b"]}],
    }
    assert plan_differences(checked, now) == [
        "now remove set 1 (a, b)",
        "now replace n3:/b/1 by n6:/b/2 in set 0",
        "no longer replace n3:/b/1 by n5:/b/2 in set 0",
    ]
    assert plan_differences(None, {}) == []
