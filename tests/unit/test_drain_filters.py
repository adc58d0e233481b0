"""The drain's and the replacement's decisions (filter plugin gluster_drain): what a spare
brick is, why one cannot take the place the plan gives it, and other volumes' bricks on the
hosts a run detaches."""

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.filter.gluster_drain import (
    gluster_pool_other_volume_bricks,
    gluster_pool_spare_reads,
    gluster_pool_spare_refusals,
)

GiB = 1 << 30
MiB = 1 << 20


def brick_info(path, free=3 * GiB, entries=0, volume_id=None, exists=True):
    return {
        "path": path,
        "exists": exists,
        "free_bytes": free,
        "size_bytes": 4 * GiB,
        "entries": entries if exists else None,
        "empty": (entries == 0) if exists else None,
        "volume_id": volume_id,
    }


def device_check(path, device, brick, formatted=False, mounted=False, device_bytes=4 * GiB):
    return {
        "item": {"path": path, "device": device},
        "formatted": formatted,
        "mounted": mounted,
        "device_bytes": device_bytes,
        "brick": brick,
    }


# -- gluster_pool_spare_reads ---------------------------------------------------


def test_directory_and_mounted_device_spares_have_their_filesystems_free_space():
    specs = [{"path": "/bricks/b2/brick", "device": "/dev/sdc"}, {"path": "/srv/b3/brick"}]
    reads = gluster_pool_spare_reads(
        specs,
        [brick_info("/srv/b3/brick", free=2 * GiB, entries=3)],
        [device_check("/bricks/b2/brick", "/dev/sdc", brick_info("/bricks/b2/brick", free=GiB, volume_id="v-1"))],
        "node3.example.com",
    )
    assert reads == [
        {"name": "node3.example.com:/bricks/b2/brick", "path": "/bricks/b2/brick", "room": GiB, "entries": 0,
         "volume_id": "v-1"},
        {"name": "node3.example.com:/srv/b3/brick", "path": "/srv/b3/brick", "room": 2 * GiB, "entries": 3,
         "volume_id": None},
    ]  # fmt: skip


@pytest.mark.parametrize(("formatted", "mounted"), [(True, True), (False, True)])
def test_a_device_this_run_would_format_or_mount_counts_its_size_and_is_not_looked_into(formatted, mounted):
    # The brick path read then is a directory of the filesystem below the mount point.
    below = brick_info("/bricks/b2/brick", free=50 * GiB, entries=7, volume_id="not-its-own")
    check = device_check("/bricks/b2/brick", "/dev/sdc", below, formatted=formatted, mounted=mounted)
    [read] = gluster_pool_spare_reads([{"path": "/bricks/b2/brick", "device": "/dev/sdc"}], [], [check], "node3")
    assert (read["room"], read["entries"], read["volume_id"]) == (4 * GiB, None, None)


def test_a_device_check_that_failed_gives_nothing_to_judge():
    check = {"item": {"path": "/bricks/b2/brick", "device": "/dev/sdc"}, "failed": True, "msg": "carries ext4"}
    [read] = gluster_pool_spare_reads([{"path": "/bricks/b2/brick", "device": "/dev/sdc"}], [], [check], "node3")
    assert (read["room"], read["entries"]) == (None, None)


def test_a_directory_spare_not_created_yet_has_its_filesystems_room_and_no_entries():
    [read] = gluster_pool_spare_reads(
        [{"path": "/srv/b3/brick"}], [brick_info("/srv/b3/brick", free=GiB, exists=False)], [], "node3"
    )
    assert (read["room"], read["entries"]) == (GiB, None)


# -- gluster_pool_spare_refusals --------------------------------------------------


def health_brick(name, index, used, arbiter=False, total=4 * GiB):
    return {
        "name": name,
        "set": index,
        "arbiter": arbiter,
        "size_total": None if used is None else total,
        "size_free": None if used is None else total - used,
    }


BRICKS = [
    health_brick("node1:/b/1", 0, 100 * MiB),
    health_brick("node2:/b/1", 0, 110 * MiB),
    health_brick("node3:/b/1", 0, 90 * MiB),
    health_brick("node4:/b/1", 1, 2 * GiB),
    health_brick("node1:/b/2", 1, 2 * GiB + 5 * MiB),
    health_brick("node2:/b/2", 1, 2 * GiB),
]


def spare(name, room, entries=0, volume_id=None):
    return {"name": name, "path": name.split(":", 1)[1], "room": room, "entries": entries, "volume_id": volume_id}


def plan(*steps):
    return {"replace": [{"set": index, "old": old, "new": new} for index, old, new in steps]}


def test_a_spare_with_room_for_its_sets_data_is_fine():
    spares = [spare("node3:/b/2", 2 * GiB + 5 * MiB)]
    assert gluster_pool_spare_refusals(spares, plan((1, "node4:/b/1", "node3:/b/2")), BRICKS, "gv0") == []


def test_a_spare_smaller_than_its_sets_fullest_brick_is_refused_naming_the_set():
    spares = [spare("node3:/b/2", 2 * GiB)]
    [problem] = gluster_pool_spare_refusals(spares, plan((1, "node4:/b/1", "node3:/b/2")), BRICKS, "gv0")
    assert problem == (
        "node3:/b/2 has room for 2147483648 bytes, less than the 2152726528 bytes a brick of set 1 of gv0 holds "
        "(node4:/b/1, node1:/b/2, node2:/b/2): it cannot take node4:/b/1's place. Give it a larger filesystem, "
        "or take it out of gluster_pool_bricks so that another spare is chosen"
    )


def test_the_size_is_judged_against_the_set_the_plan_gives_the_spare():
    # Room for set 0 (110 MiB) but not set 1: only the spare going to set 1 is refused.
    spares = [spare("node5:/b/1", 200 * MiB), spare("node6:/b/1", 200 * MiB)]
    steps = plan((0, "node3:/b/1", "node5:/b/1"), (1, "node4:/b/1", "node6:/b/1"))
    problems = gluster_pool_spare_refusals(spares, steps, BRICKS, "gv0")
    assert len(problems) == 1 and problems[0].startswith("node6:/b/1 has room for 200.0 MiB, less than the 2.0 GiB")


def test_a_dead_bricks_unknown_size_does_not_count_and_an_all_unknown_set_is_not_judged():
    bricks = [health_brick("node1:/b/1", 0, 100 * MiB), health_brick("node3:/b/1", 0, None)]
    spares = [spare("node5:/b/1", 100 * MiB)]
    assert gluster_pool_spare_refusals(spares, plan((0, "node3:/b/1", "node5:/b/1")), bricks) == []
    unknown = [health_brick("node1:/b/1", 0, None), health_brick("node3:/b/1", 0, None)]
    assert gluster_pool_spare_refusals([spare("node5:/b/1", 1)], plan((0, "node3:/b/1", "node5:/b/1")), unknown) == []


def test_an_arbiter_spare_needs_only_what_the_arbiters_hold():
    bricks = [
        health_brick("node1:/b/1", 0, 3 * GiB),
        health_brick("node2:/b/1", 0, 3 * GiB),
        health_brick("node3:/a/1", 0, 20 * MiB, arbiter=True),
    ]
    steps = plan((0, "node3:/a/1", "node5:/a/1"))
    assert gluster_pool_spare_refusals([spare("node5:/a/1", 64 * MiB)], steps, bricks) == []
    assert gluster_pool_spare_refusals([spare("node5:/a/1", 10 * MiB)], steps, bricks) != []


def test_a_spare_that_holds_files_is_refused_unless_a_volume_id_judges_it():
    steps = plan((1, "node4:/b/1", "node3:/b/2"))
    [problem] = gluster_pool_spare_refusals([spare("node3:/b/2", 3 * GiB, entries=2)], steps, BRICKS, "gv0")
    assert problem.startswith("node3:/b/2 holds 2 entries besides Gluster's metadata: self-heal makes a spare a copy")
    # The join's checks (gluster_pool_brick_problems) refuse a volume id on a brick that holds data.
    assert gluster_pool_spare_refusals([spare("node3:/b/2", 3 * GiB, 2, "v-1")], steps, BRICKS) == []


def test_a_spare_whose_content_is_not_known_yet_is_judged_by_its_size_only():
    steps = plan((1, "node4:/b/1", "node3:/b/2"))
    assert gluster_pool_spare_refusals([spare("node3:/b/2", 4 * GiB, entries=None)], steps, BRICKS) == []


def test_a_planned_spare_that_no_read_covers_is_refused():
    steps = plan((1, "node4:/b/1", "node3.example.com:/b/2"))
    [problem] = gluster_pool_spare_refusals([spare("node3:/b/2", 4 * GiB)], steps, BRICKS)
    assert problem == "node3.example.com:/b/2 was not checked (it is not among the spares read: node3:/b/2)"


def test_no_plan_or_a_plan_without_replacements_refuses_nothing():
    assert gluster_pool_spare_refusals([spare("node3:/b/2", 1, entries=5)], None, BRICKS) == []
    assert gluster_pool_spare_refusals([spare("node3:/b/2", 1, entries=5)], {"replace": []}, BRICKS) == []


# -- gluster_pool_other_volume_bricks ---------------------------------------------


def pool_peer(hostname, uuid, *bricks):
    return {"hostname": hostname, "uuid": uuid, "bricks": list(bricks)}


def test_other_volumes_bricks_are_found_by_uuid_whatever_their_names():
    # The pool knows node4 by its FQDN, gv1 by its short name, gv2 by an address.
    peers = [
        pool_peer("localhost", "u1", "gv0:node1:/b/1", "gv1:node1:/g/1"),
        pool_peer("node4.example.com", "u4", "gv0:node4.example.com:/b/1", "gv1:node4:/g/1", "gv2:10.0.0.4:/x/1"),
        pool_peer("node5", "u5", "gv0:node5:/b/1"),
    ]
    uuids = {"node1": "u1", "node4": "u4", "node5": "u5"}
    assert gluster_pool_other_volume_bricks(peers, uuids, ["node4", "node5"], "gv0") == [
        "node4 holds bricks of volume gv1 (node4:/g/1), volume gv2 (10.0.0.4:/x/1)"
    ]


def test_a_name_alone_never_matches_a_host_to_bricks():
    # A peer named like the host but with another UUID holds nothing of the host's.
    peers = [pool_peer("node4", "u9", "gv1:node4:/g/1"), pool_peer("node4.example.com", "u4", "gv0:node4:/b/1")]
    assert gluster_pool_other_volume_bricks(peers, {"node4": "u4"}, ["node4"], "gv0") == []


def test_a_host_that_is_no_peer_holds_nothing():
    peers = [pool_peer("localhost", "u1", "gv1:node1:/g/1")]
    assert gluster_pool_other_volume_bricks(peers, {"node1": "u1"}, ["node4"], "gv0") == []
    assert gluster_pool_other_volume_bricks(peers, {}, ["node1"], "gv0") == []


def test_bricks_of_several_volumes_on_several_hosts_are_all_named():
    peers = [
        pool_peer("node3", "u3", "gv1:node3:/g/1", "gv1:node3:/g/2"),
        pool_peer("node4", "u4", "backup:node4:/k/1"),
    ]
    lines = gluster_pool_other_volume_bricks(peers, {"node3": "u3", "node4": "u4"}, ["node3", "node4"], "gv0")
    assert lines == [
        "node3 holds bricks of volume gv1 (node3:/g/1, node3:/g/2)",
        "node4 holds bricks of volume backup (node4:/k/1)",
    ]
