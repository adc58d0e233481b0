"""The placement planner: table cases from real layouts, then properties (hypothesis)."""

import itertools
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.brick_placement import (
    BrickRef,
    Layout,
    PlacementError,
    plan_sets,
)


def bricks(*specs):
    return [BrickRef.parse(s) for s in specs]


def hosts_of(plan):
    return [[b.host for b in group] for group in plan.sets]


REPLICA_2 = Layout(replica=2)
REPLICA_3 = Layout(replica=3)
ARBITER_2_1 = Layout(replica=3, arbiter=1)
DISPERSE_4_2 = Layout(disperse=6, redundancy=2)


def assert_sets_on_distinct_hosts(plan, size):
    for group in plan.sets:
        assert len(group) == size
        assert len({b.host for b in group}) == size, plan.sets


def test_replica_2_two_new_nodes():
    plan = plan_sets(bricks("n4:/b/1", "n5:/b/1"), REPLICA_2)
    assert hosts_of(plan) == [["n4", "n5"]]


def test_replica_3_one_new_node_alone_cannot_be_placed():
    with pytest.raises(PlacementError) as caught:
        plan_sets(bricks("n4:/b/1"), REPLICA_3)
    assert str(caught.value) == (
        "replica 3 needs bricks on 3 distinct hosts per set; the new bricks are on 1 host (n4); "
        "add 2 spare bricks on other hosts or 2 more nodes"
    )


def test_one_new_node_with_three_bricks_needs_two_more_hosts_worth_of_bricks():
    with pytest.raises(PlacementError) as caught:
        plan_sets(bricks("n4:/b/1", "n4:/b/2", "n4:/b/3"), REPLICA_3)
    assert str(caught.value).endswith("on 1 host (n4); add 6 bricks on other hosts, spread over at least 2 of them")


def test_replica_3_one_new_node_with_spares_on_existing_hosts():
    plan = plan_sets(bricks("n4:/b/1", "n1:/b/2", "n2:/b/2"), REPLICA_3)
    assert_sets_on_distinct_hosts(plan, 3)
    assert sorted(b.host for b in plan.bricks) == ["n1", "n2", "n4"]


def test_replica_3_three_new_nodes_two_bricks_each():
    plan = plan_sets(bricks("n4:/b/1", "n4:/b/2", "n5:/b/1", "n5:/b/2", "n6:/b/1", "n6:/b/2"), REPLICA_3)
    assert_sets_on_distinct_hosts(plan, 3)
    assert len(plan.sets) == 2


def test_replica_3_three_new_nodes_and_spares_uneven():
    plan = plan_sets(
        bricks("n4:/b/1", "n4:/b/2", "n5:/b/1", "n5:/b/2", "n6:/b/1", "n1:/b/9"),
        REPLICA_3,
    )
    assert_sets_on_distinct_hosts(plan, 3)


def test_one_host_holding_too_many_bricks_is_refused_with_a_fix():
    with pytest.raises(PlacementError) as caught:
        plan_sets(bricks("n4:/b/1", "n4:/b/2", "n4:/b/3", "n5:/b/1", "n6:/b/1", "n7:/b/1"), REPLICA_3)
    assert str(caught.value) == (
        "replica 3 needs bricks on 3 distinct hosts per set; the 6 new bricks make 2 sets, but n4 holds 3 "
        "of them (at most 2); add 3 bricks on other hosts, or move 1 of n4's bricks to other hosts"
    )


def test_partial_set_is_refused_before_placement():
    with pytest.raises(PlacementError, match=r"grows in whole sets of 3 bricks; 4 new bricks were given .* add 2 more"):
        plan_sets(bricks("n4:/b/1", "n5:/b/1", "n6:/b/1", "n7:/b/1"), REPLICA_3, volume="gv0")


def test_arbiter_2_plus_1():
    plan = plan_sets(bricks("n4:/b/1", "n5:/b/1", "n6:/arb/1"), ARBITER_2_1)
    assert_sets_on_distinct_hosts(plan, 3)
    assert len(plan.sets) == 1


def test_a_brick_marked_arbiter_is_the_arbiter_whatever_its_name_sorts_as():
    # Unmarked, n1's small disk would hold data (the last brick of a set is the arbiter).
    new = bricks("n4:/b/1", "n5:/b/1", "n1:/arb/1")
    assert plan_sets(new, ARBITER_2_1).sets[0][-1] != BrickRef("n1", "/arb/1")
    plan = plan_sets(new, ARBITER_2_1, arbiters=bricks("n1:/arb/1"))
    assert plan.sets == [bricks("n4:/b/1", "n5:/b/1", "n1:/arb/1")]


def test_arbiters_go_to_sets_without_their_host():
    # n4 and n5 hold data in both sets: n6's and n7's arbiters may go anywhere, n4's arbiter nowhere.
    new = bricks("n4:/b/1", "n4:/b/2", "n5:/b/1", "n6:/b/1", "n6:/arb/1", "n7:/arb/1")
    plan = plan_sets(new, ARBITER_2_1, arbiters=bricks("n6:/arb/1", "n7:/arb/1"))
    assert len(plan.sets) == 2
    assert_sets_on_distinct_hosts(plan, 3)
    assert sorted(group[-1] for group in plan.sets) == bricks("n6:/arb/1", "n7:/arb/1")
    # Dealt by name, n1 and n3 would share a set and their arbiters could only go to the other.
    new = bricks("n1:/b/1", "n2:/b/1", "n3:/b/1", "n4:/b/1", "n1:/arb/1", "n3:/arb/1")
    plan = plan_sets(new, ARBITER_2_1, arbiters=bricks("n1:/arb/1", "n3:/arb/1"))
    assert_sets_on_distinct_hosts(plan, 3)
    assert sorted(group[-1] for group in plan.sets) == bricks("n1:/arb/1", "n3:/arb/1")


def test_marked_arbiters_must_be_one_per_new_set_of_an_arbiter_volume():
    new = bricks("n4:/b/1", "n5:/b/1", "n6:/arb/1")
    with pytest.raises(
        PlacementError, match="make 1 set of replica 3 arbiter 1 volume gv0, each with one arbiter, but 2"
    ):
        plan_sets(new, ARBITER_2_1, volume="gv0", arbiters=bricks("n5:/b/1", "n6:/arb/1"))
    with pytest.raises(PlacementError, match="are marked arbiter, but replica 3 volume gv0 has no arbiters"):
        plan_sets(new, REPLICA_3, volume="gv0", arbiters=bricks("n6:/arb/1"))
    with pytest.raises(PlacementError, match="are marked arbiter, but distribute volume gv0 has no arbiters"):
        plan_sets(new, Layout(), volume="gv0", arbiters=bricks("n6:/arb/1"))


def test_disperse_4_plus_2_on_six_hosts():
    new = bricks(*(f"n{i}:/b/1" for i in range(1, 7)))
    plan = plan_sets(new, DISPERSE_4_2)
    assert_sets_on_distinct_hosts(plan, 6)


def test_disperse_4_plus_2_on_five_hosts_is_refused():
    new = bricks(*(f"n{i}:/b/1" for i in range(1, 6)), "n1:/b/2")
    with pytest.raises(PlacementError, match="disperse 6 redundancy 2 needs bricks on 6 distinct hosts per set"):
        plan_sets(new, DISPERSE_4_2)


def test_distribute_takes_bricks_as_they_come():
    plan = plan_sets(bricks("n1:/b/1", "n1:/b/2"), Layout())
    assert plan.bricks == bricks("n1:/b/1", "n1:/b/2")


def test_failure_domains_are_spread_when_possible():
    domains = {"n1": "rack-a", "n2": "rack-a", "n3": "rack-b", "n4": "rack-b", "n5": "rack-c", "n6": "rack-c"}
    plan = plan_sets(bricks(*(f"n{i}:/b/1" for i in range(1, 7))), REPLICA_3, domains)
    for group in plan.sets:
        assert len({domains[b.host] for b in group}) == 3
    assert plan.warnings == []


def test_failure_domains_fall_back_to_hosts_with_a_warning():
    domains = {"n1": "rack-a", "n2": "rack-a", "n3": "rack-b"}
    plan = plan_sets(bricks("n1:/b/1", "n2:/b/1", "n3:/b/1"), REPLICA_3, domains)
    assert_sets_on_distinct_hosts(plan, 3)
    assert plan.warnings == [
        "failure domain rack-a holds 2 of the 3 new bricks but there is 1 set; "
        "the sets span distinct hosts but not distinct failure domains"
    ]


def test_duplicates_are_refused():
    with pytest.raises(PlacementError, match="listed more than once: n1:/b/1"):
        plan_sets(bricks("n1:/b/1", "n1:/b/1"), REPLICA_2)


@pytest.mark.parametrize("text", ["n1", "n1:relative", ":/b", "n1:"])
def test_malformed_brick(text):
    with pytest.raises(PlacementError, match="is not HOST:/absolute/path"):
        BrickRef.parse(text)


def test_brick_parse_keeps_ipv6_hosts_and_strips_trailing_slash():
    assert BrickRef.parse("fe80::1:/bricks/b1/") == BrickRef("fe80::1", "/bricks/b1")


# -- properties ---------------------------------------------------------------

layouts = st.sampled_from([REPLICA_2, REPLICA_3, ARBITER_2_1, DISPERSE_4_2, Layout(disperse=3, redundancy=1)])


@st.composite
def placements(draw):
    layout = draw(layouts)
    host_count = draw(st.integers(min_value=1, max_value=9))
    hosts = [f"h{i}" for i in range(host_count)]
    domain_count = draw(st.integers(min_value=1, max_value=host_count))
    with_domains = draw(st.booleans())
    domains = {h: f"d{draw(st.integers(0, domain_count - 1))}" for h in hosts} if with_domains else {}
    per_host = draw(st.lists(st.integers(0, 4), min_size=host_count, max_size=host_count))
    new = [BrickRef(h, f"/b/{n}") for h, k in zip(hosts, per_host, strict=True) for n in range(k)]
    new = draw(st.permutations(new))
    return layout, new, domains


def valid_plan_exists(new, size, key):
    """A plan with sets distinct in `key` exists iff the sets are whole and no key fills more than one per set."""
    if not new or len(new) % size:
        return False
    return max(Counter(map(key, new)).values()) <= len(new) // size


@settings(max_examples=400, deadline=None)
@given(placements())
def test_property_no_set_repeats_a_host_and_domains_spread_whenever_possible(case):
    layout, new, domains = case
    size = layout.set_size

    def domain(b):
        return domains.get(b.host) or f"host:{b.host}"

    if not valid_plan_exists(new, size, lambda b: b.host):
        if new:
            with pytest.raises(PlacementError):
                plan_sets(new, layout, domains)
        return
    plan = plan_sets(new, layout, domains)
    assert sorted(plan.bricks) == sorted(new)
    assert_sets_on_distinct_hosts(plan, size)
    if valid_plan_exists(new, size, domain):
        for group in plan.sets:
            assert len({domain(b) for b in group}) == size
        assert plan.warnings == []
    else:
        assert plan.warnings


@st.composite
def arbiter_placements(draw):
    """Up to 3 new sets of replica 3 arbiter 1: data and arbiter bricks on up to 6 hosts."""
    set_count = draw(st.integers(1, 3))
    hosts = [f"h{i}" for i in range(draw(st.integers(2, 6)))]
    data = [BrickRef(draw(st.sampled_from(hosts)), f"/d/{n}") for n in range(2 * set_count)]
    arbiters = [BrickRef(draw(st.sampled_from(hosts)), f"/a/{n}") for n in range(set_count)]
    return draw(st.permutations(data + arbiters)), arbiters


def arbiter_plan_exists(new, arbiters):
    """By brute force: every way of giving each set its arbiter and two data bricks."""
    data = [b for b in new if b not in arbiters]
    count = len(arbiters)
    for order in itertools.permutations(data):
        for arbiter_order in itertools.permutations(arbiters):
            sets = [[*order[2 * i : 2 * i + 2], arbiter_order[i]] for i in range(count)]
            if all(len({b.host for b in group}) == 3 for group in sets):
                return True
    return False


@settings(max_examples=300, deadline=None)
@given(arbiter_placements())
def test_property_marked_arbiters_are_last_on_distinct_hosts_whenever_possible(case):
    new, arbiters = case
    if not arbiter_plan_exists(new, arbiters):
        with pytest.raises(PlacementError):
            plan_sets(new, ARBITER_2_1, arbiters=arbiters)
        return
    plan = plan_sets(new, ARBITER_2_1, arbiters=arbiters)
    assert_sets_on_distinct_hosts(plan, 3)
    assert sorted(group[-1] for group in plan.sets) == sorted(arbiters)
    assert sorted(plan.bricks) == sorted(new)
