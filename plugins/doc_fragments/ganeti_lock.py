# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The modules that move instances off nodes hold this lock (module_utils/ganeti_lock.py) while they act.
    DOCUMENTATION = r"""
options:
  lock_wait:
    description:
      - Seconds to wait while another run of this module or of a module that moves instances off nodes
        (M(ganeti_gluster.cluster.ganeti_node) with O(ganeti_gluster.cluster.ganeti_node#module:state=absent),
        M(ganeti_gluster.cluster.ganeti_node_maintenance)) holds the lock on this host, then fail naming it.
      - A controller killed mid-run does not end the module it ran on the master, which goes on moving
        instances; a re-run waits for it here and plans from what it left, instead of moving again an
        instance whose move has not ended.
      - The lock is a C(flock) held by the module's own process, so nothing is held once that process ends.
        It is taken in check mode too, where a plan made while another run's module moves instances would
        be stale.
      - Holding the lock, before it plans, the module waits as long again until Ganeti's queue holds no
        unfinished job that places instances (C(gnt-job list) summaries C(INSTANCE_CREATE),
        C(INSTANCE_MULTI_ALLOC), C(INSTANCE_MIGRATE), C(INSTANCE_FAILOVER), C(INSTANCE_MOVE),
        C(INSTANCE_REPLACE_DISKS), C(INSTANCE_RECREATE_DISKS), C(INSTANCE_SET_PARAMS), C(INSTANCE_CHANGE_GROUP),
        C(NODE_MIGRATE), C(NODE_EVACUATE), C(GROUP_EVACUATE), on any node, since a summary does not name the
        target) or names the node it plans for or an instance on it - a move whose run stopped waiting for it
        (a timeout), or an admin's - and fails naming those left, before any change. (For
        M(ganeti_gluster.cluster.ganeti_node), with O(ganeti_gluster.cluster.ganeti_node#module:state=absent)
        only.)
      - The playbooks set it from C(ganeti_lock_wait).
    type: int
    default: 900
  lock_owner:
    description: Who this run is, written into the lock for a waiting run's message.
    type: str
    default: a run of this module
  lock_path:
    description:
      - The lock file, on the host the module runs on (the master). Each run that holds it appends one line
        to C(LOCK_PATH.log) when it lets go (who, from when to when, and how long it waited).
    type: path
    default: /var/lib/ganeti-gluster/ganeti.lock
"""
