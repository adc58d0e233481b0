# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The modules that change the pool hold its lock (module_utils/pool_lock.py) while they act.
    DOCUMENTATION = r"""
options:
  lock_wait:
    description:
      - Seconds to wait while another run holds the pool's lock on this host, then fail naming it.
      - The lock is a C(flock) held by the module's own process, never by a file left behind, so
        nothing is held once that process ends (a controller killed mid-run does not end it, and the
        module finishes its step first). It is not taken in check mode.
    type: int
    default: 300
  lock_owner:
    description: Who this run is, written into the lock for a waiting run's message.
    type: str
    default: a run of this module
  lock_path:
    description:
      - The lock file. Every run that changes the pool must act on the same host with the same path, the
        member that acts for the pool (of the members in the inventory whose glusterd answers, the one with
        the lowest glusterd UUID).
      - A hand-over (O(ganeti_gluster.cluster.gluster_peer#module:state=leaving)) is recorded beside it,
        in C(LOCK_PATH.leaving).
    type: path
    default: /var/lib/ganeti-gluster/pool.lock
  pool_members:
    description:
      - The glusterd UUIDs of the pool's members as the run planned them. When given, the module checks,
        under the lock and before it reads or changes anything else, that this host is one of them and
        still sees every other as a peer, and fails when it does not (another run detached this host, or
        them, since the run read the pool); also in check mode.
      - It also fails when this host hands the pool over (a record beside O(lock_path) that is in force
        while this host still has a peer of the pool it hands over), unless this host is in O(pool_leaving).
      - Empty, nothing is checked (a pool being built has no members to expect).
    type: list
    elements: str
    default: []
  pool_leaving:
    description:
      - The glusterd UUIDs, among O(pool_members), of the hosts this run takes out of the pool. A host
        among them that hands the pool over still lets this run act from it (a re-run of its drain).
    type: list
    elements: str
    default: []
"""
