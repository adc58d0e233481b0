# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The modules that wait for heal (module_utils/heal_wait.py): when to start the crawl again, when to give up.
    DOCUMENTATION = r"""
options:
  heal_retrigger_after:
    description:
      - Seconds without progress of heal after which the self-heal daemons' crawl is started again (a full
        crawl the first time after a brick was replaced, else an index crawl).
    type: int
    default: 60
  heal_stall_timeout:
    description: Seconds without progress of heal after which the module fails, naming the counts.
    type: int
    default: 900
"""
