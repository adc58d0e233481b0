"""PID 1 of a lab host: reaps orphans until told to stop.

Daemons started in the host (sshd, glusterd, ganeti-noded) double-fork and are
re-parented to this process; without a reaper they would linger as zombies.
SIGTERM ends it, and with it the host's PID namespace and every process in it.
"""

import os
import signal
import sys


def main() -> None:
    wanted = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, wanted)
    while True:
        received = signal.sigwait(wanted)
        if received != signal.SIGCHLD:
            sys.exit(0)
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break


if __name__ == "__main__":
    main()
