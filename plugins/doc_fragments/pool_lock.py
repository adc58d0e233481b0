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
      - The lock is a C(flock) held by the module's own process, never by a file left behind, so a
        run that was killed holds nothing. It is not taken in check mode.
    type: int
    default: 300
  lock_owner:
    description: Who this run is, written into the lock for a waiting run's message.
    type: str
    default: a run of this module
  lock_path:
    description: The lock file. Every run that changes the pool must act on the same host with the same path.
    type: path
    default: /var/lib/ganeti-gluster/pool.lock
"""
