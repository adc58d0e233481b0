"""The gluster_pool role's decisions (filter plugin): membership, joins, refusals, brick problems."""

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.filter.gluster_pool import (
    gluster_pool_acting,
    gluster_pool_brick_list_problems,
    gluster_pool_brick_problems,
    gluster_pool_bricks,
    gluster_pool_join_blockers,
    gluster_pool_layout,
    gluster_pool_placement,
    gluster_pool_plan,
)

HOSTS = ["node1", "node2", "node3", "node4"]


def peer(name, uuid, state=3, connected=True):
    return {
        "hostname": name,
        "hostnames": [name],
        "uuid": uuid,
        "state": state,
        "connected": connected,
        "state_str": "Peer in Cluster" if state == 3 else "Peer Rejected",
        "local": False,
        "in_cluster": state == 3 and connected,
    }


def me(uuid):
    return {
        "hostname": "localhost",
        "hostnames": ["localhost"],
        "uuid": uuid,
        "local": True,
        "in_cluster": True,
        "connected": True,
        "state": None,
    }


def view(uuid, *peers):
    return {"failed": False, "local_uuid": uuid, "peers": [me(uuid), *peers]}


NO_GLUSTERD = {"failed": True, "msg": "Failed to find required executable"}
UNREACHABLE = {"unreachable": True, "msg": "ssh: connect to host"}


def established_pool(**overrides):
    views = {
        "node1": view("u1", peer("node2", "u2"), peer("node3", "u3")),
        "node2": view("u2", peer("node1", "u1"), peer("node3", "u3")),
        "node3": view("u3", peer("node1", "u1"), peer("node2", "u2")),
        "node4": NO_GLUSTERD,
    }
    views.update(overrides)
    return views


def test_a_host_serving_a_volume_alone_is_a_pool_of_one_that_others_join():
    alone = {**view("u1"), "peers": [with_bricks(me("u1"), "gv0:node1:/b")]}
    plan = gluster_pool_plan({"node1": alone, "node2": NO_GLUSTERD}, ["node1", "node2"])
    assert (plan["fresh"], plan["anchor"], plan["members"], plan["joining"], plan["errors"]) == (
        False,
        "node1",
        ["node1"],
        ["node2"],
        [],
    )


def test_fresh_hosts_make_the_first_the_anchor_and_the_rest_join():
    plan = gluster_pool_plan({h: NO_GLUSTERD for h in HOSTS}, HOSTS)
    assert plan == {
        "anchor": "node1",
        "fresh": True,
        "members": ["node1"],
        "pool_members": [],
        "joining": ["node2", "node3", "node4"],
        "skipped": [],
        "peer_names": {h: h for h in HOSTS},
        "uuids": {},
        "detach": [],
        "lost": {},
        "errors": [],
        "warnings": [],
    }


def test_an_established_pool_keeps_its_members_and_joins_the_new_host():
    plan = gluster_pool_plan(established_pool(), HOSTS)
    assert (plan["anchor"], plan["fresh"], plan["members"], plan["joining"]) == (
        "node1",
        False,
        ["node1", "node2", "node3"],
        ["node4"],
    )
    assert plan["errors"] == []


def test_add_nodes_limits_the_join_and_names_must_be_in_the_inventory():
    views = established_pool(node5=NO_GLUSTERD)
    plan = gluster_pool_plan(views, [*HOSTS, "node5"], "node5")
    assert (plan["joining"], plan["skipped"]) == (["node5"], ["node4"])
    bad = gluster_pool_plan(views, [*HOSTS, "node5"], ["node9"])
    assert bad["errors"] == ["add_nodes names hosts that are not in the gluster_pool group: node9"]


def test_an_unreachable_new_host_left_out_by_add_nodes_does_not_block():
    plan = gluster_pool_plan(established_pool(node4=UNREACHABLE, node5=NO_GLUSTERD), [*HOSTS, "node5"], ["node5"])
    assert plan["errors"] == [] and plan["skipped"] == ["node4"]


def test_an_unreachable_member_or_joining_host_is_refused():
    plan = gluster_pool_plan(established_pool(node3=UNREACHABLE), HOSTS)
    assert "existing member node3 is unreachable; fix it (or its SSH access) before joining hosts" in plan["errors"]
    plan = gluster_pool_plan(established_pool(node4=UNREACHABLE), HOSTS)
    assert plan["errors"] == ["node4 is unreachable; it cannot join"]


def test_a_member_not_in_cluster_is_refused_with_its_state():
    views = established_pool(node1=view("u1", peer("node2", "u2", connected=False), peer("node3", "u3", state=6)))
    errors = gluster_pool_plan(views, HOSTS)["errors"]
    assert errors == [
        "existing member node2 is Peer in Cluster, disconnected, as node1 sees it; "
        "every member must be Peer in Cluster and connected",
        "existing member node3 is Peer Rejected, connected, as node1 sees it; "
        "every member must be Peer in Cluster and connected",
    ]


def test_a_member_another_member_sees_disconnected_is_refused():
    views = established_pool(node2=view("u2", peer("node1", "u1"), peer("node3", "u3", connected=False)))
    errors = gluster_pool_plan(views, HOSTS)["errors"]
    assert errors == [
        "existing member node3 is Peer in Cluster, disconnected, as node2 sees it; "
        "every member must be Peer in Cluster and connected"
    ]


def test_two_hosts_with_one_glusterd_uuid_are_refused_naming_both():
    fresh = gluster_pool_plan({**{h: NO_GLUSTERD for h in HOSTS}, "node2": view("u7"), "node3": view("u7")}, HOSTS)
    assert len(fresh["errors"]) == 1
    assert fresh["errors"][0].startswith("node2, node3 answer with one glusterd UUID (u7)")
    member_clone = gluster_pool_plan(established_pool(node4=view("u3")), HOSTS)
    assert any(e.startswith("node3, node4 answer with one glusterd UUID (u3)") for e in member_clone["errors"])


def test_two_pools_in_one_group_are_refused():
    views = {
        "node1": view("u1", peer("node2", "u2")),
        "node2": view("u2", peer("node1", "u1")),
        "node3": view("u3", peer("node4", "u4")),
        "node4": view("u4", peer("node3", "u3")),
    }
    errors = gluster_pool_plan(views, HOSTS)["errors"]
    assert errors[0].startswith("node1 and node3 belong to different trusted pools")


def test_peers_outside_the_inventory_are_left_alone_with_a_warning():
    views = established_pool(node1=view("u1", peer("node2", "u2"), peer("node3", "u3"), peer("old9", "u9")))
    plan = gluster_pool_plan(views, HOSTS)
    assert plan["warnings"] == ["peer old9 is in the pool but not in the gluster_pool group; left as it is"]
    assert plan["errors"] == []


def test_peer_names_map_hosts_to_gluster_names():
    views = established_pool(node1=view("u1", peer("gl2.storage", "u2"), peer("node3", "u3")))
    plan = gluster_pool_plan(views, HOSTS, peer_names={"node2": "gl2.storage"})
    assert plan["members"] == ["node1", "node2", "node3"]


def test_layout_of_an_existing_volume_and_of_the_variables():
    volume = {"replica_count": 3, "arbiter_count": 1, "disperse_count": 0, "redundancy_count": 0}
    assert gluster_pool_layout(volume) == {"replica": 3, "arbiter": 1, "disperse": 0, "redundancy": 0}
    ec = {"replica_count": 1, "arbiter_count": 0, "disperse_count": 3, "redundancy_count": 1}
    assert gluster_pool_layout(ec) == {"replica": 1, "arbiter": 0, "disperse": 3, "redundancy": 1}
    assert gluster_pool_layout(None, 3, 0, 3, 1) == gluster_pool_layout(ec)


def test_placement_filter_returns_sets_or_the_planners_refusal():
    layout = {"replica": 3}
    ok = gluster_pool_placement(["node4:/b", "node1:/s", "node2:/s"], layout, {"node4": "", "node1": "rack-a"})
    assert len(ok["sets"]) == 1 and sorted(ok["sets"][0]) == ["node1:/s", "node2:/s", "node4:/b"]
    arbiter = {"replica": 3, "arbiter": 1}
    marked = gluster_pool_placement(["node1:/arb", "node2:/s", "node4:/b"], arbiter, {}, "gv0", ["node1:/arb"])
    assert marked["sets"] == [["node2:/s", "node4:/b", "node1:/arb"]] and marked["error"] is None
    twice = gluster_pool_placement(
        ["node1:/arb", "node2:/s", "node4:/b"], arbiter, {}, "gv0", ["node1:/arb", "node2:/s"]
    )
    assert twice["error"].startswith("the 3 new bricks make 1 set of replica 3 arbiter 1 volume gv0")
    refused = gluster_pool_placement(["node4:/a", "node4:/b", "node4:/c"], layout, {}, "gv0")
    assert refused["sets"] == [] and "the new bricks are on 1 host" in refused["error"]
    assert ok["error"] is None


def info(path, **fields):
    base = {"path": path, "exists": True, "on_root_fs": False, "size_bytes": 4 << 30, "volume_id": None, "empty": True}
    return {**base, **fields}


def problems(infos, specs, checks=(), volume_paths=(), allow_root=False):
    return gluster_pool_brick_problems(
        infos, specs, list(checks), list(volume_paths), "gv0", "vol-id", allow_root, 1 << 30
    )


def test_brick_problems():
    root = [info("/srv/brick", on_root_fs=True)]
    assert problems(root, [{"path": "/srv/brick"}]) == [
        "/srv/brick is on the root filesystem (set gluster_pool_allow_root_bricks: true to allow it)"
    ]
    assert problems(root, [{"path": "/srv/brick"}], allow_root=True) == []
    small = [info("/b", size_bytes=1000)]
    assert "less than gluster_pool_brick_min_bytes" in problems(small, [{"path": "/b"}])[0]
    other = [info("/b", volume_id="other-id")]
    assert problems(other, [{"path": "/b"}]) == [
        "/b carries the id of another volume (other-id); it is, or was, a brick elsewhere"
    ]
    # The volume is not there yet: an empty brick with another id is what a failed create leaves.
    left_by_create = gluster_pool_brick_problems(other, [{"path": "/b"}], [], [], "gv0", None, False, 1 << 30)
    assert left_by_create[0].endswith(
        "If no volume of the pool has that id (gluster volume info), clear it (setfattr -x "
        "trusted.glusterfs.volume-id /b; setfattr -x trusted.gfid /b; rm -rf /b/.glusterfs) and run again"
    )
    stale_with_data = [info("/b", volume_id="vol-id", empty=False)]
    assert (
        "carries volume gv0's id but is not one of its bricks, and holds data"
        in problems(stale_with_data, [{"path": "/b"}])[0]
    )
    assert problems(stale_with_data, [{"path": "/b"}], volume_paths=["/b"]) == []


def test_a_brick_inside_another_or_with_an_old_gfid_is_refused_as_glusterd_would():
    inside = [info("/bricks/b1/brick/new", part_of_volume_at="/bricks/b1/brick")]
    assert problems(inside, [{"path": "/bricks/b1/brick/new"}]) == [
        "/bricks/b1/brick/new lies inside /bricks/b1/brick, which carries a brick's gfid or volume id (it is, or "
        "was, a brick): glusterd refuses a brick inside another; use a path elsewhere"
    ]
    old = [info("/b", part_of_volume_at="/b")]
    assert problems(old, [{"path": "/b"}])[0].startswith(
        "/b carries a brick's gfid (trusted.gfid) and no volume id: it was a brick."
    )
    # A brick of the volume carries both, as it should.
    assert (
        problems([info("/b", part_of_volume_at="/b", volume_id="vol-id", empty=False)], [{"path": "/b"}], [], ["/b"])
        == []
    )


def test_two_paths_to_one_disk_are_refused_by_its_device_number():
    specs = [{"path": "/data/b1", "device": "/dev/disk/by-id/ata-A"}, {"path": "/data/b2", "device": "/dev/sdb"}]

    def check(spec, number):
        return {"item": spec, "brick": {"path": spec["path"]}, "device_bytes": 8 << 30, "device_number": number}

    same = [check(specs[0], "8:16"), check(specs[1], "8:16")]
    assert problems([info("/data/b1"), info("/data/b2")], specs, same) == [
        "/dev/disk/by-id/ata-A and /dev/sdb are one disk (device 8:16), given for more than one brick; each "
        "device makes one filesystem"
    ]
    assert (
        problems([info("/data/b1"), info("/data/b2")], specs, [check(specs[0], "8:16"), check(specs[1], "8:32")]) == []
    )
    assert problems([info("/b", volume_id="vol-id")], [{"path": "/b"}]) == []  # stale, empty: cleared later
    # As registered with failed_when: false: `failed` is overwritten, the refusal has no `brick`.
    failed_device = {"failed": False, "msg": "/dev/sdb carries an ext4 filesystem; refusing to format it"}
    assert problems([info("/b", on_root_fs=True)], [{"path": "/b", "device": "/dev/sdb"}], [failed_device]) == [
        failed_device["msg"]
    ]
    tiny = {"failed": False, "device_bytes": 1000, "item": {"device": "/dev/sdb"}, "brick": {}}
    assert problems([], [], [tiny]) == ["/dev/sdb has 1000 bytes, less than gluster_pool_brick_min_bytes (1073741824)"]


# -- host identity: an inventory keyed by address, short name or FQDN, while
# Gluster knows the hosts by another of these.

FQDN = {"10.0.0.1": "node1.example.net", "10.0.0.2": "node2.example.net", "10.0.0.3": "node3.example.net"}


def fqdn_peer(address, uuid, **kw):
    entry = peer(FQDN[address], uuid, **kw)
    entry["addresses"] = [address]
    return entry


def ip_view(address, uuid, *peers):
    result = view(uuid, *peers)
    result["host"] = {"hostname": FQDN[address].split(".")[0], "fqdn": FQDN[address], "addresses": [address]}
    return result


def fqdn_pool_by_address(**overrides):
    """A pool built with FQDNs, seen through an inventory keyed by IP address."""
    views = {
        "10.0.0.1": ip_view("10.0.0.1", "u1", fqdn_peer("10.0.0.2", "u2"), fqdn_peer("10.0.0.3", "u3")),
        "10.0.0.2": ip_view("10.0.0.2", "u2", fqdn_peer("10.0.0.1", "u1"), fqdn_peer("10.0.0.3", "u3")),
        "10.0.0.3": ip_view("10.0.0.3", "u3", fqdn_peer("10.0.0.1", "u1"), fqdn_peer("10.0.0.2", "u2")),
        "10.0.0.4": {**NO_GLUSTERD, "host": {"hostname": "node4", "fqdn": "node4", "addresses": ["10.0.0.4"]}},
    }
    views.update(overrides)
    return views


def no_resolver(name):
    return set()


IPS = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]


def test_an_inventory_keyed_by_address_finds_members_by_uuid_and_their_gluster_names():
    plan = gluster_pool_plan(fqdn_pool_by_address(), IPS, resolve=no_resolver)
    assert plan["errors"] == [] and plan["warnings"] == []
    assert plan["members"] == IPS[:3] and plan["joining"] == ["10.0.0.4"]
    assert plan["peer_names"] == {**{a: FQDN[a] for a in IPS[:3]}, "10.0.0.4": "10.0.0.4"}
    assert plan["uuids"] == {"10.0.0.1": "u1", "10.0.0.2": "u2", "10.0.0.3": "u3"}


def short_name_pool_by_fqdn():
    """A pool built with short names, seen through an inventory keyed by FQDN."""
    short = {a: name.split(".", maxsplit=1)[0] for a, name in FQDN.items()}

    def member(address, uuid, *others):
        peers = []
        for other, other_uuid in others:
            entry = peer(short[other], other_uuid)
            entry["addresses"] = [other]
            peers.append(entry)
        return ip_view(address, uuid, *peers)

    return {
        FQDN["10.0.0.1"]: member("10.0.0.1", "u1", ("10.0.0.2", "u2"), ("10.0.0.3", "u3")),
        FQDN["10.0.0.2"]: member("10.0.0.2", "u2", ("10.0.0.1", "u1"), ("10.0.0.3", "u3")),
        FQDN["10.0.0.3"]: member("10.0.0.3", "u3", ("10.0.0.1", "u1"), ("10.0.0.2", "u2")),
        "node4.example.net": {
            **NO_GLUSTERD,
            "host": {"hostname": "node4", "fqdn": "node4.example.net", "addresses": ["10.0.0.4"]},
        },
    }


def test_an_inventory_keyed_by_fqdn_finds_the_members_of_a_pool_built_with_short_names():
    views = short_name_pool_by_fqdn()
    plan = gluster_pool_plan(views, list(views), resolve=no_resolver)
    assert plan["errors"] == [] and plan["warnings"] == []
    assert plan["members"] == list(FQDN.values()) and plan["joining"] == ["node4.example.net"]
    # New bricks of members take the names the pool knows them by; the new host is probed by its inventory name.
    assert plan["peer_names"] == {
        "node1.example.net": "node1",
        "node2.example.net": "node2",
        "node3.example.net": "node3",
        "node4.example.net": "node4.example.net",
    }


def test_an_unreachable_member_keyed_by_fqdn_is_found_through_the_resolver():
    views = {**short_name_pool_by_fqdn(), FQDN["10.0.0.3"]: UNREACHABLE}
    plan = gluster_pool_plan(views, list(views), resolve={FQDN["10.0.0.3"]: {"10.0.0.3"}}.get)
    assert plan["errors"] == [
        "existing member node3.example.net is unreachable; fix it (or its SSH access) before joining hosts"
    ]
    assert plan["joining"] == ["node4.example.net"]  # node3 is not taken for a new host


def test_a_member_without_glusterd_is_found_by_address_and_refused():
    down = {**NO_GLUSTERD, "host": {"hostname": "node3", "fqdn": FQDN["10.0.0.3"], "addresses": ["10.0.0.3"]}}
    plan = gluster_pool_plan(
        fqdn_pool_by_address(
            **{
                "10.0.0.3": down,
                "10.0.0.1": ip_view(
                    "10.0.0.1", "u1", fqdn_peer("10.0.0.2", "u2"), fqdn_peer("10.0.0.3", "u3", connected=False)
                ),
            }
        ),
        IPS,
        resolve=no_resolver,
    )
    assert plan["errors"] == [
        "existing member 10.0.0.3 is Peer in Cluster, disconnected, as 10.0.0.1 sees it; "
        "every member must be Peer in Cluster and connected"
    ]
    assert "10.0.0.3" not in plan["joining"]


def test_an_unreachable_member_keyed_by_short_name_is_found_through_the_resolver():
    views = fqdn_pool_by_address()
    views = {"node1": views["10.0.0.1"], "node2": views["10.0.0.2"], "node3": UNREACHABLE}
    plan = gluster_pool_plan(views, ["node1", "node2", "node3"], resolve={"node3": {"10.0.0.3"}}.get)
    assert plan["errors"] == ["existing member node3 is unreachable; fix it (or its SSH access) before joining hosts"]
    assert plan["joining"] == []


def test_first_labels_are_no_evidence_of_identity():
    # node1.rack-b is not node1.rack-a, and 10.0.0.5 is not 10.0.0.1
    views = {
        "node1.rack-a": view("u1", peer("node2.rack-a", "u2")),
        "node2.rack-a": view("u2", peer("node1.rack-a", "u1")),
        "node1.rack-b": UNREACHABLE,
    }
    plan = gluster_pool_plan(views, list(views), resolve=no_resolver)
    assert plan["members"] == ["node1.rack-a", "node2.rack-a"]
    assert plan["errors"] == ["node1.rack-b is unreachable; it cannot join"]


def test_two_hosts_that_look_like_one_peer_are_refused_naming_both():
    views = {
        "a.example": view("u1", peer("b", "u2")),
        "b.rack-a": UNREACHABLE,
        "b.rack-b": {**NO_GLUSTERD, "host": {"hostname": "b", "fqdn": "b.rack-b", "addresses": ["10.9.0.2"]}},
    }
    views["b.rack-a"] = {**NO_GLUSTERD, "host": {"hostname": "b", "fqdn": "b.rack-a", "addresses": ["10.9.0.1"]}}
    plan = gluster_pool_plan(views, list(views), resolve=no_resolver)
    assert plan["errors"] == [
        "peer b matches more than one host: b.rack-a (by name b), b.rack-b (by name b); "
        "give each host a name that only it has"
    ]


def test_a_reinstalled_host_under_a_members_name_is_refused():
    views = fqdn_pool_by_address(**{"10.0.0.3": ip_view("10.0.0.3", "u9")})
    plan = gluster_pool_plan(views, IPS, resolve=no_resolver)
    assert plan["errors"] == [
        "10.0.0.3 answers with glusterd UUID u9, but the pool knows it as peer node3.example.net with UUID u3 "
        "(by name node3.example.net); it was reinstalled, or another machine has its name: detach the old peer "
        "(gluster peer detach node3.example.net) once it holds no bricks, or fix the inventory"
    ]


def test_a_peer_name_the_pool_does_not_know_is_refused_naming_both():
    plan = gluster_pool_plan(fqdn_pool_by_address(), IPS, peer_names={"10.0.0.2": "gl2"}, resolve=no_resolver)
    assert plan["errors"] == [
        "gluster_pool_peer_name of 10.0.0.2 is gl2, but the pool knows that host (UUID u2) as node2.example.net; "
        "set it to one of these or leave it unset"
    ]


def test_bricks_in_the_volume_keep_their_names_and_new_ones_take_the_hosts_gluster_name():
    plan = gluster_pool_plan(fqdn_pool_by_address(), IPS, resolve=no_resolver)
    declared = {a: [{"path": "/srv/b1"}, {"path": "/srv/b2"}] for a in IPS}
    volume = [{"name": f"{FQDN[a]}:/srv/b1", "host_uuid": u} for a, u in zip(IPS, ["u1", "u2", "u3"], strict=False)]
    bricks = gluster_pool_bricks(declared, plan, volume)
    assert bricks["in_volume"] == {
        "10.0.0.1": ["/srv/b1"],
        "10.0.0.2": ["/srv/b1"],
        "10.0.0.3": ["/srv/b1"],
        "10.0.0.4": [],
    }
    assert bricks["all"] == [
        "node1.example.net:/srv/b1",
        "node1.example.net:/srv/b2",
        "node2.example.net:/srv/b1",
        "node2.example.net:/srv/b2",
        "node3.example.net:/srv/b1",
        "node3.example.net:/srv/b2",
        "10.0.0.4:/srv/b1",
        "10.0.0.4:/srv/b2",
    ]


def with_bricks(entry, *bricks):
    return {**entry, "bricks": list(bricks)}


def test_a_peer_cut_off_before_it_got_a_brick_is_detached_not_blocking():
    lost = with_bricks(peer("node4", "u4", connected=False))
    views = established_pool(
        node1=view("u1", with_bricks(peer("node2", "u2"), "gv0:node2:/b"), peer("node3", "u3"), lost),
        node4=UNREACHABLE,
        node5=NO_GLUSTERD,
    )
    plan = gluster_pool_plan(views, [*HOSTS, "node5"], ["node5"], storage_hosts=HOSTS, resolve=no_resolver)
    assert plan["errors"] == [] and plan["detach"] == ["node4"]
    assert (plan["joining"], plan["skipped"]) == (["node5"], ["node4"])
    assert plan["warnings"] == [
        "peer node4 is disconnected, unreachable and holds no brick of any volume: it is detached so that it "
        "does not block the pool. Before it joins again, clear its /var/lib/glusterd/peers."
    ]
    # Named to join (a hook's run for it): refused, as a host that cannot be reached.
    named = gluster_pool_plan(views, [*HOSTS, "node5"], ["node4"], storage_hosts=HOSTS, resolve=no_resolver)
    assert named["errors"] == [
        "node4 is unreachable; it cannot join. Its peer entry (no brick, disconnected) is detached by a run that "
        "does not name it"
    ]
    # site.yml, or add-node.yml without add_nodes: the detached host is not taken for a joiner.
    every = gluster_pool_plan(views, [*HOSTS, "node5"], None, storage_hosts=HOSTS, resolve=no_resolver)
    assert (every["errors"], every["detach"]) == ([], ["node4"])
    assert (every["joining"], every["skipped"]) == (["node5"], ["node4"])


def test_a_brickless_client_or_a_peer_outside_the_inventory_is_never_detached():
    lost = with_bricks(peer("node4", "u4", connected=False))
    views = established_pool(node1=view("u1", peer("node2", "u2"), peer("node3", "u3"), lost), node4=UNREACHABLE)
    # node4 declares no bricks: a client of the volume, rebooting.
    plan = gluster_pool_plan(views, HOSTS, storage_hosts=["node1"], resolve=no_resolver)
    # glusterd sees it disconnected: no word of a peer it "still counts connected".
    assert plan["detach"] == [] and plan["errors"] == [
        "existing member node4 is unreachable; fix it (or its SSH access) before joining hosts"
    ]
    outside = with_bricks(peer("old9", "u9", connected=False))
    views = established_pool(node1=view("u1", peer("node2", "u2"), peer("node3", "u3"), outside))
    plan = gluster_pool_plan(views, HOSTS, storage_hosts=HOSTS, resolve=no_resolver)
    assert plan["detach"] == [] and plan["warnings"] == [
        "peer old9 is in the pool but not in the gluster_pool group; left as it is"
    ]


def test_a_disconnected_peer_that_holds_bricks_is_never_detached():
    down = with_bricks(peer("node3", "u3", connected=False), "gv0:node3:/b")
    views = established_pool(node1=view("u1", peer("node2", "u2"), down), node3=UNREACHABLE)
    plan = gluster_pool_plan(views, HOSTS, storage_hosts=HOSTS)
    assert plan["detach"] == []
    assert "existing member node3 is unreachable; fix it (or its SSH access) before joining hosts" in plan["errors"]
    outside = with_bricks(peer("old9", "u9", connected=False), "gv0:old9:/b")
    plan = gluster_pool_plan(
        established_pool(node1=view("u1", peer("node2", "u2"), peer("node3", "u3"), outside)), HOSTS
    )
    assert plan["detach"] == []
    assert plan["errors"] == [
        "peer old9 (not in the gluster_pool group) holds bricks and is Peer in Cluster, disconnected; "
        "bring it back first"
    ]


@pytest.mark.parametrize(
    ("bricks", "problem"),
    [
        (
            "/bricks/b1",
            "gluster_pool_bricks must be a list of {path: /absolute/path, device: /dev/...}, not '/bricks/b1'",
        ),
        (
            [{"device": "/dev/sdb"}],
            "brick path None must be an absolute, normalized path of letters, digits and . _ + - /",
        ),
        ([{"path": "bricks/b1"}], "brick path 'bricks/b1' must be an absolute, normalized path"),
        ([{"path": "/bricks/b 1/brick"}], "brick path '/bricks/b 1/brick' must be an absolute, normalized path"),
        ([{"path": "/bricks/b1:x/brick"}], "brick path '/bricks/b1:x/brick' must be an absolute, normalized path"),
        ([{"path": "/bricks/../etc"}], "brick path '/bricks/../etc' must be an absolute, normalized path"),
        ([{"path": "/brick"}], "brick path /brick must be a directory below a mount point"),
        ([{"path": "/b/x", "device": "sdb"}], "brick device 'sdb' must be a block device path under /dev"),
        ([{"path": "/b/x", "device": None}], "brick device None must be a block device path under /dev (leave"),
        ([{"path": "/b/x/"}], "brick path /b/x/ ends with '/': write it as /b/x"),
        ([{"path": "/b/x", "size": 3}], "brick {'path': '/b/x', 'size': 3} has unknown keys ['size']"),
        ([{"path": "/b/x"}, {"path": "/b/x/"}], "brick path /b/x is listed more than once"),
        ([{"path": "/b/x"}, {"path": "/b/x/y"}], "brick path /b/x/y is inside brick /b/x; bricks must not nest"),
        (
            [{"path": "/b1/x", "device": "/dev/sdb"}, {"path": "/b2/x", "device": "/dev/sdb"}],
            "device /dev/sdb is given for more than one brick",
        ),
    ],
)
def test_brick_list_problems(bricks, problem):
    assert any(p.startswith(problem) for p in gluster_pool_brick_list_problems(bricks)), (
        gluster_pool_brick_list_problems(bricks)
    )


def test_a_brick_is_marked_arbiter_with_a_boolean_and_only_on_an_arbiter_volume():
    marked = [{"path": "/bricks/b1/brick"}, {"path": "/bricks/arb/brick", "arbiter": True}]
    assert gluster_pool_brick_list_problems(marked, 1) == []
    assert gluster_pool_brick_list_problems(marked) == [
        "brick /bricks/arb/brick is marked arbiter, but gluster_pool_arbiter is 0: the volume has none"
    ]
    assert gluster_pool_brick_list_problems([{"path": "/bricks/arb/brick", "arbiter": "yes"}], 1) == [
        "brick /bricks/arb/brick: arbiter must be true or false, not 'yes'"
    ]
    plan = gluster_pool_plan(fqdn_pool_by_address(), IPS, resolve=no_resolver)
    declared = {a: [{"path": "/srv/b1"}] for a in IPS} | {"10.0.0.4": [{"path": "/srv/b1", "arbiter": True}]}
    assert gluster_pool_bricks(declared, plan)["arbiters"] == ["10.0.0.4:/srv/b1"]


def test_a_sound_brick_list_has_no_problems():
    assert (
        gluster_pool_brick_list_problems([{"path": "/bricks/b1/brick", "device": "/dev/vdb"}, {"path": "/srv/b/x"}])
        == []
    )


def test_add_nodes_naming_a_member_is_a_warning_so_that_a_rerun_converges():
    plan = gluster_pool_plan(established_pool(), HOSTS, "node4,node2")
    assert plan["errors"] == [] and plan["joining"] == ["node4"]
    assert plan["warnings"] == ["add_nodes names hosts that are members of the pool already: node2"]


def test_every_controller_acts_on_the_same_member_whatever_its_inventory_order():
    views = established_pool(node1=view("u9", peer("node2", "u2"), peer("node3", "u3")))
    views["node2"] = view("u2", peer("node1", "u9"), peer("node3", "u3"))
    views["node3"] = view("u3", peer("node1", "u9"), peer("node2", "u2"))
    assert gluster_pool_plan(views, HOSTS)["anchor"] == "node2"
    assert gluster_pool_plan(views, list(reversed(HOSTS)))["anchor"] == "node2"


def test_a_silently_vanished_peer_without_bricks_is_refused_with_what_unblocks_it():
    # glusterd still counts it connected: detaching it now would hang.
    views = established_pool(
        node1=view("u1", peer("node2", "u2"), peer("node3", "u3"), with_bricks(peer("node4", "u4"))), node4=UNREACHABLE
    )
    plan = gluster_pool_plan(views, [*HOSTS, "node5"], ["node5"], storage_hosts=HOSTS, resolve=no_resolver)
    assert plan["detach"] == []
    assert plan["errors"] == [
        "existing member node4 is unreachable and holds no brick (a join cut short?), but node1's glusterd still "
        "counts it connected: restore it and re-run, or, once `gluster pool list` on node1 shows it Disconnected, "
        "re-run and it is detached"
    ]


def test_a_plan_that_joins_no_host_leaves_every_non_member_out():
    plan = gluster_pool_plan(established_pool(node4=UNREACHABLE), HOSTS, joins=False)
    assert (plan["members"], plan["joining"], plan["skipped"], plan["errors"]) == (
        ["node1", "node2", "node3"],
        [],
        ["node4"],
        [],
    )


def test_a_dead_member_to_replace_is_neither_a_member_nor_an_error():
    dead = with_bricks(peer("node3", "u3", connected=False), "gv0:node3:/b")
    views = established_pool(
        node1=view("u1", peer("node2", "u2"), dead), node2=view("u2", peer("node1", "u1"), dead), node3=UNREACHABLE
    )
    plan = gluster_pool_plan(views, HOSTS, ["node4"], storage_hosts=HOSTS, resolve=no_resolver, lost=["node3"])
    assert plan["errors"] == []
    assert (plan["members"], plan["joining"], plan["lost"]) == (["node1", "node2"], ["node4"], {"node3": "node3"})
    # Once replaced and detached, nothing is left to do for it.
    views = established_pool(node1=view("u1", peer("node2", "u2")), node2=view("u2", peer("node1", "u1")))
    views.update(node3=UNREACHABLE)
    plan = gluster_pool_plan(views, HOSTS, ["node4"], storage_hosts=HOSTS, resolve=no_resolver, lost=["node3"])
    assert plan["errors"] == [] and plan["lost"] == {} and plan["joining"] == ["node4"]


def test_a_failed_host_that_answers_or_that_glusterd_counts_connected_is_refused():
    plan = gluster_pool_plan(established_pool(), HOSTS, ["node4"], lost=["node3"])
    assert plan["errors"] == [
        "node3 is not dead: its glusterd answers, as a member of the pool (UUID u3). To retire a host that "
        "runs, drain it with remove-node.yml -e remove_nodes=node3"
    ]
    views = established_pool(node3=UNREACHABLE)
    plan = gluster_pool_plan(views, HOSTS, ["node4"], resolve=no_resolver, lost=["node3"])
    assert len(plan["errors"]) == 1 and plan["errors"][0].startswith(
        "node1, node2's glusterd counts the failed host node3 (peer node3) connected: it is not dead"
    )
    # One member that still reaches it is enough: node3 may be on node2's side of a partition.
    dead = with_bricks(peer("node3", "u3", connected=False), "gv0:node3:/b")
    views = established_pool(node1=view("u1", peer("node2", "u2"), dead), node3=UNREACHABLE)
    plan = gluster_pool_plan(views, HOSTS, ["node4"], resolve=no_resolver, lost=["node3"])
    assert len(plan["errors"]) == 1 and plan["errors"][0].startswith("node2's glusterd counts the failed host node3")
    plan = gluster_pool_plan(views, HOSTS, ["node4"], resolve=no_resolver, lost=["node9"])
    assert plan["errors"][0].startswith("the failed host node9 is not in the gluster_pool group")


def test_a_failed_host_that_matches_no_disconnected_peer_is_not_guessed():
    # The pool knows the dead host as gl3 (another name, no shared address): which peer is it?
    dead = with_bricks(peer("gl3", "u3", connected=False), "gv0:gl3:/b")
    views = established_pool(
        node1=view("u1", peer("node2", "u2"), dead), node2=view("u2", peer("node1", "u1"), dead), node3=UNREACHABLE
    )
    plan = gluster_pool_plan(views, HOSTS, ["node4"], storage_hosts=HOSTS, resolve=no_resolver, lost=["node3"])
    assert plan["lost"] == {}
    assert plan["errors"] == [
        "cannot tell which peer is the failed host node3: none has its name or address, and gl3 is disconnected. "
        "Set gluster_pool_peer_name of node3 to the name the pool knows it by"
    ]


def test_brick_infos_come_from_the_directory_read_and_the_device_checks_in_declared_order():
    from ansible_collections.ganeti_gluster.cluster.plugins.filter.gluster_pool import gluster_pool_brick_infos

    specs = [{"path": "/b/1", "device": "/dev/vdb"}, {"path": "/srv/dir"}, {"path": "/b/2", "device": "/dev/vdc"}]
    directory_infos = [{"path": "/srv/dir", "exists": True}]
    device_checks = [
        {"item": specs[0], "brick": {"path": "/b/1", "exists": True}},
        {"item": specs[2], "msg": "/dev/vdc carries an ext4 filesystem"},  # a refusal: no `brick`
    ]
    infos = gluster_pool_brick_infos(specs, directory_infos, device_checks)
    assert infos == [{"path": "/b/1", "exists": True}, {"path": "/srv/dir", "exists": True}, {"path": "/b/2"}]
    # device: null goes with the device checks, as the role's selectattr('device', 'defined') sends it.
    null_device = [{"path": "/srv/dir", "device": None}]
    checked = [{"item": null_device[0], "brick": {"path": "/srv/dir", "exists": False}}]
    assert gluster_pool_brick_infos(null_device, [], checked) == [{"path": "/srv/dir", "exists": False}]
    # Fewer reads than bricks (a read that failed): the bare path, never another brick's entry.
    assert gluster_pool_brick_infos([{"path": "/srv/a"}, {"path": "/srv/b"}], [{"path": "/srv/a"}], []) == [
        {"path": "/srv/a"},
        {"path": "/srv/b"},
    ]


# -- the member that acts for the pool: one rule for every entry point ---------------


def low_uuid_pool(**overrides):
    """node1-3 in one pool, node3 with the lowest glusterd UUID (u0), node4 new."""
    views = {
        "node1": view("u1", peer("node2", "u2"), peer("node3", "u0")),
        "node2": view("u2", peer("node1", "u1"), peer("node3", "u0")),
        "node3": view("u0", peer("node1", "u1"), peer("node2", "u2")),
        "node4": NO_GLUSTERD,
    }
    views.update(overrides)
    return views


def test_a_join_and_a_drain_of_the_lowest_uuid_act_from_the_same_member():
    # add-node.yml (and site.yml, and the node-add hook that runs it) and remove-node.yml
    # plan the same pool: the host that leaves is a member until it is detached.
    join = gluster_pool_plan(low_uuid_pool(), HOSTS, ["node4"])
    drain = gluster_pool_plan(low_uuid_pool(), HOSTS, joins=False)
    assert join["anchor"] == drain["anchor"] == gluster_pool_acting(join) == gluster_pool_acting(drain) == "node3"
    assert join["pool_members"] == drain["pool_members"] == ["u0", "u1", "u2"]
    # Where the drain of node3 detaches it from: the member that acts once it is gone.
    assert gluster_pool_acting(drain, ["node3"]) == "node1"
    assert gluster_pool_acting(drain, "node3") == "node1"  # as -e remove_nodes=node3 gives it


def test_two_drains_of_hosts_of_one_set_act_from_the_same_member():
    plan = gluster_pool_plan(low_uuid_pool(), HOSTS, joins=False)
    # Whoever leaves, both runs lock node3 for their changes; each detaches from a host that stays.
    assert gluster_pool_acting(plan) == "node3"
    assert (gluster_pool_acting(plan, ["node3"]), gluster_pool_acting(plan, ["node1"])) == ("node1", "node3")
    assert gluster_pool_acting(plan, ["node1", "node2", "node3"]) is None


def test_a_replacement_acts_from_the_lowest_uuid_of_the_living():
    dead = with_bricks(peer("node3", "u0", connected=False), "gv0:node3:/b")
    views = low_uuid_pool(
        node1=view("u1", peer("node2", "u2"), dead), node2=view("u2", peer("node1", "u1"), dead), node3=UNREACHABLE
    )
    plan = gluster_pool_plan(views, HOSTS, ["node4"], storage_hosts=HOSTS, resolve=no_resolver, lost=["node3"])
    assert plan["errors"] == []
    # A dead host holds no lock; while it is a member that does not answer, every other run refuses.
    assert plan["anchor"] == gluster_pool_acting(plan) == "node1"
    assert plan["pool_members"] == ["u1", "u2"]
    for other in (gluster_pool_plan(views, HOSTS, ["node4"]), gluster_pool_plan(views, HOSTS, joins=False)):
        assert any(e.startswith("existing member node3 is unreachable") for e in other["errors"]), other["errors"]


def test_the_acting_member_is_the_same_from_every_inventory_order_and_controller():
    forward = gluster_pool_plan(low_uuid_pool(), HOSTS, joins=False)
    backward = gluster_pool_plan(low_uuid_pool(), list(reversed(HOSTS)), joins=False)
    assert gluster_pool_acting(forward) == gluster_pool_acting(backward) == "node3"
    assert gluster_pool_acting(forward, ["node3"]) == gluster_pool_acting(backward, ["node3"]) == "node1"


def test_a_pool_being_built_acts_from_its_first_reachable_host_and_expects_no_members():
    plan = gluster_pool_plan({h: NO_GLUSTERD for h in HOSTS}, HOSTS)
    assert (gluster_pool_acting(plan), plan["pool_members"]) == ("node1", [])
    assert gluster_pool_acting(plan, ["node1"]) is None


# -- what a later step of a join would fail on ----------------------------------------

VOLUME = {"name": "gv0", "options": {}}


def report(bricks_online=(True, True, True), tasks=(), findings=()):
    bricks = [
        {"name": f"node{i}:/bricks/b1/brick", "host": f"node{i}", "online": online}
        for i, online in enumerate(bricks_online, 1)
    ]
    return {"name": "gv0", "bricks": bricks, "tasks": list(tasks), "findings": list(findings)}


def task(kind, running, status, bricks=()):
    return {"type": kind, "running": running, "status": status, "bricks": list(bricks)}


BRICK_DOWN = report(
    (True, False, True),
    findings=[
        {
            "severity": "degraded",
            "subject": "node2:/bricks/b1/brick",
            "reason": "brick offline (its brick process is not running)",
        }
    ],
)
REMOVING = ["node4:/bricks/b1/brick", "node5:/bricks/b1/brick", "node6:/bricks/b1/brick"]


def test_a_healthy_volume_blocks_no_join():
    assert gluster_pool_join_blockers(report(), VOLUME, 1, "fix-layout") == []
    assert gluster_pool_join_blockers(None, VOLUME, 1, "fix-layout") == []  # not assessed: nothing to say


def test_a_brick_offline_blocks_a_join_that_rebalances_naming_it_and_what_to_do():
    (blocker,) = gluster_pool_join_blockers(BRICK_DOWN, VOLUME, 1, "fix-layout")
    assert blocker == (
        "brick node2:/bricks/b1/brick is offline (its brick process is not running), and this run ends with a "
        "fix-layout rebalance (gluster_pool_rebalance: fix-layout), which needs every brick online (it waits 60 s "
        "for them, after the new bricks are in): start it (gluster volume start gv0 force starts the brick "
        "processes that are down) or bring node2 back, then run again; or grow the volume with "
        "gluster_pool_rebalance: none and rebalance later"
    )
    assert "full rebalance" in gluster_pool_join_blockers(BRICK_DOWN, VOLUME, 1, "full")[0]


def test_a_brick_offline_does_not_block_a_join_that_does_not_rebalance():
    assert gluster_pool_join_blockers(BRICK_DOWN, VOLUME, 1, "none") == []
    assert gluster_pool_join_blockers(BRICK_DOWN, VOLUME, 0, "fix-layout") == []  # no new set: no rebalance


def test_a_rebalance_an_earlier_run_left_owed_needs_every_brick_whatever_this_run_adds():
    owed = {"name": "gv0", "options": {"user.ganeti-gluster.rebalance": "pending full"}}
    for new_sets, rebalance in ((0, "fix-layout"), (1, "none")):
        (blocker,) = gluster_pool_join_blockers(BRICK_DOWN, owed, new_sets, rebalance)
        assert "this run pays the full rebalance an earlier run left owed (user.ganeti-gluster.rebalance)" in blocker
        assert "gluster_pool_rebalance: none" not in blocker  # it would not help
    done = {"name": "gv0", "options": {"user.ganeti-gluster.rebalance": "done"}}
    assert gluster_pool_join_blockers(BRICK_DOWN, done, 0, "fix-layout") == []


def test_a_rebalance_mark_gluster_volume_never_writes_blocks_the_join():
    odd = {"name": "gv0", "options": {"user.ganeti-gluster.rebalance": "later"}}
    (blocker,) = gluster_pool_join_blockers(report(), odd, 1, "fix-layout")
    assert blocker.startswith("volume gv0 has user.ganeti-gluster.rebalance = 'later'")


def test_a_running_remove_brick_blocks_add_brick():
    running = report(tasks=[task("Remove brick", True, "in progress", REMOVING)])
    (blocker,) = gluster_pool_join_blockers(running, VOLUME, 1, "none")
    assert blocker.startswith(
        f"a remove-brick of {', '.join(REMOVING)} is running (in progress): glusterd refuses add-brick while it "
        "migrates data"
    )
    assert f"gluster volume remove-brick gv0 {' '.join(REMOVING)} status" in blocker
    assert gluster_pool_join_blockers(running, VOLUME, 0, "fix-layout") == []  # adds nothing


def test_a_remove_brick_not_committed_blocks_the_rebalance_only():
    waiting = report(tasks=[task("Remove brick", False, "completed", REMOVING)])
    (blocker,) = gluster_pool_join_blockers(waiting, VOLUME, 1, "fix-layout")
    assert "was started and not committed (completed)" in blocker
    assert "glusterd refuses to start a rebalance until it is committed or stopped" in blocker
    assert gluster_pool_join_blockers(waiting, VOLUME, 1, "none") == []


def test_a_rebalance_running_blocks_a_join_unless_the_mark_owes_it():
    running = report(tasks=[task("Rebalance", True, "in progress")])
    (blocker,) = gluster_pool_join_blockers(running, VOLUME, 1, "fix-layout")
    assert blocker.startswith(
        "a rebalance of gv0 is running (in progress) that no run of this project left owed "
        "(user.ganeti-gluster.rebalance is not pending)"
    )
    # An interrupted run's pass: gluster_volume waits for it, then pays what is owed.
    owed = {"name": "gv0", "options": {"user.ganeti-gluster.rebalance": "pending fix-layout"}}
    assert gluster_pool_join_blockers(running, owed, 1, "fix-layout") == []
    # A finished or failed one blocks nothing.
    ended = report(tasks=[task("Rebalance", False, "failed")])
    assert gluster_pool_join_blockers(ended, VOLUME, 1, "fix-layout") == []


def test_a_self_heal_daemon_down_blocks_no_join():
    # The join waits for no heal; the health report's warning stays a warning.
    shd_down = report(findings=[{"severity": "degraded", "subject": "node2", "reason": "self-heal daemon not running"}])
    assert gluster_pool_join_blockers(shd_down, VOLUME, 1, "full") == []
