# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: inject a fault when a named task starts, and report the run.

The fault suite (tests/integration/test_faults.py) enables it with
ANSIBLE_CALLBACK_PLUGINS/ANSIBLE_CALLBACKS_ENABLED and names the moment:

  FAULT_AT_TASK   the task's name; the fault fires once, at its first start
  FAULT_AT_PLAY   optional: only in the play of this name (a role's tasks file that
                  two plays include, as remove-node.yml's check and drain, starts
                  each of its tasks in both)
  FAULT_COMMAND   JSON argv run at that moment (FAULT_PLAYBOOK_PID in its environment)
  FAULT_WAIT      "sync" (default): the task waits for the command to end, so the
                  fault is in place before the task runs anywhere; "async": the
                  command runs beside the task (to strike during it), and what of
                  it still runs when the playbook ends is killed then
  FAULT_KILL      "1": once the command ended, SIGKILL the playbook's whole
                  session, as a controller that dies

v2_playbook_on_task_start runs in the playbook's main process before the task is
queued to any host, which makes "between task A and task B" exact.

RUN_REPORT names a JSON file that gets, at the end of the run, the play recap's
counts per host and the message of each failed or unreachable task.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: fault_at_task
type: aggregate
short_description: Run a fault command when a named task starts (tests only)
description:
  - Runs the argv in E(FAULT_COMMAND) once, when the task named in E(FAULT_AT_TASK) starts.
requirements:
  - enabled in ANSIBLE_CALLBACKS_ENABLED
"""

import json
import os
import signal
import subprocess
import threading

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "fault_at_task"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.task = os.environ.get("FAULT_AT_TASK")
        self.in_play = os.environ.get("FAULT_AT_PLAY")
        self.play = None
        self.command = json.loads(os.environ.get("FAULT_COMMAND") or "null")
        self.kill = os.environ.get("FAULT_KILL") == "1"
        self.wait = os.environ.get("FAULT_WAIT", "sync") == "sync"
        self.fired = False
        self.fault = None
        self.report = os.environ.get("RUN_REPORT")
        self.failures = {}

    def _failed(self, result, ignore_errors=False):
        if not ignore_errors:
            self.failures.setdefault(result._host.get_name(), str(result._result.get("msg", "")))

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._failed(result, ignore_errors)

    def v2_runner_on_unreachable(self, result):
        if not result._task.ignore_unreachable:
            self._failed(result)

    def v2_playbook_on_stats(self, stats):
        # A fault still waiting for its moment must not outlive the run into the next case.
        if self.fault is not None and self.fault.poll() is None:
            os.killpg(self.fault.pid, signal.SIGKILL)
            self.fault.wait()
        if not self.report:
            return
        counts = {host: stats.summarize(host) for host in sorted(stats.processed)}
        with open(self.report, "w") as handle:
            json.dump({"stats": counts, "failures": self.failures}, handle)

    def v2_playbook_on_play_start(self, play):
        self.play = play.get_name()

    def v2_playbook_on_task_start(self, task, is_conditional):
        if self.fired or not self.task or self.task not in (task.name, task.get_name()):
            return
        if self.in_play and self.play != self.in_play:
            return
        self.fired = True
        if self.wait:
            self.fire()
        else:
            threading.Thread(target=self.fire, daemon=True).start()

    def fire(self):
        if self.command:
            # A process group of its own, so that it and its children can be ended together.
            self.fault = subprocess.Popen(
                self.command, env=dict(os.environ, FAULT_PLAYBOOK_PID=str(os.getpid())), process_group=0
            )
            self.fault.wait()
            if self.report:
                # Read by the suite: a fault that failed did not build the state its case is about.
                with open(f"{self.report}.fault", "w") as handle:
                    handle.write(str(self.fault.returncode))
        if self.kill:
            # The playbook leads its own session (the suite starts it so).
            os.killpg(os.getsid(0), signal.SIGKILL)
