"""The gluster_pool role's decisions (filter plugin): membership, joins, refusals, brick problems."""

from ansible_collections.ganeti_gluster.cluster.plugins.filter.gluster_pool import (
    gluster_pool_brick_problems,
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


def test_fresh_hosts_make_the_first_the_anchor_and_the_rest_join():
    plan = gluster_pool_plan({h: NO_GLUSTERD for h in HOSTS}, HOSTS)
    assert plan == {
        "anchor": "node1",
        "fresh": True,
        "members": ["node1"],
        "joining": ["node2", "node3", "node4"],
        "skipped": [],
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
    refused = gluster_pool_placement(["node4:/a", "node4:/b", "node4:/c"], layout, {}, "gv0")
    assert refused["sets"] == [] and "the new bricks are on 1 host" in refused["error"]
    assert ok["error"] is None


def info(path, **fields):
    base = {"path": path, "exists": True, "on_root_fs": False, "size_bytes": 4 << 30, "volume_id": None, "empty": True}
    return {**base, **fields}


def problems(infos, specs, checks=(), volume_bricks=(), allow_root=False):
    return gluster_pool_brick_problems(
        infos, specs, list(checks), "node4", "gv0", "vol-id", list(volume_bricks), allow_root, 1 << 30
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
    stale_with_data = [info("/b", volume_id="vol-id", empty=False)]
    assert (
        "carries volume gv0's id but is not one of its bricks, and holds data"
        in problems(stale_with_data, [{"path": "/b"}])[0]
    )
    assert problems(stale_with_data, [{"path": "/b"}], volume_bricks=["node4:/b"]) == []
    assert problems([info("/b", volume_id="vol-id")], [{"path": "/b"}]) == []  # stale, empty: cleared later
    # As registered with failed_when: false: `failed` is overwritten, the refusal has no `brick`.
    failed_device = {"failed": False, "msg": "/dev/sdb carries an ext4 filesystem; refusing to format it"}
    assert problems([info("/b", on_root_fs=True)], [{"path": "/b", "device": "/dev/sdb"}], [failed_device]) == [
        failed_device["msg"]
    ]
    tiny = {"failed": False, "device_bytes": 1000, "item": {"device": "/dev/sdb"}, "brick": {}}
    assert problems([], [], [tiny]) == ["/dev/sdb has 1000 bytes, less than gluster_pool_brick_min_bytes (1073741824)"]
