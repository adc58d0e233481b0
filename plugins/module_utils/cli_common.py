# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every CLI layer (gluster_cli, ganeti_cli) shares: the locale its commands
run in, the error it raises (with what fail_json reports of it), and the pauses
of a wait."""

from __future__ import annotations

import time

# Messages stay untranslated for the operator reading a failure.
C_LOCALE = {"LANG": "C", "LC_ALL": "C", "LC_MESSAGES": "C"}


class CommandError(Exception):
    """A command failed, or a cluster is in no state to run one."""

    def __init__(self, message, argv=None, rc=None, stdout="", stderr=""):
        super().__init__(message)
        self.message = message
        self.argv = list(argv or [])
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr

    def fail_kwargs(self):
        """Keyword arguments for AnsibleModule.fail_json."""
        return {"msg": self.message, "cmd": self.argv, "rc": self.rc, "stdout": self.stdout, "stderr": self.stderr}


def backoff(first, longest):
    """Pauses for a wait on cluster state: short at first, since most waits end within
    a second or two, doubling up to `longest` so a long one polls gently."""
    pause = first
    while True:
        yield pause
        pause = min(pause * 2, longest)


def paced(first, longest, share=0.1, clock=None):
    """Pauses for a wait on work that takes a while (a heal, a data migration): each a
    `share` of the time since the wait began (when paced was called), from `first` up to
    `longest`. The wait then ends at most about that share after the work does, where
    doubling pauses can add as much again as the time waited, and a long wait still polls
    gently."""
    clock = clock or time.monotonic
    started = clock()

    def pauses():
        while True:
            yield min(longest, max(first, share * (clock() - started)))

    return pauses()
