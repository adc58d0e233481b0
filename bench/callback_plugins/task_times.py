"""Where a playbook's time goes: each task's wall time, from its start to the next
task's (or the play's end), appended as JSON lines to $BENCH_TASK_TIMES.

    ANSIBLE_CALLBACK_PLUGINS=bench/callback_plugins ANSIBLE_CALLBACKS_ENABLED=task_times \\
        BENCH_TASK_TIMES=/tmp/times.jsonl ansible-playbook ...
    bench/task_times.py /tmp/times.jsonl     (the slowest tasks, summed by name)
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: task_times
type: aggregate
short_description: each task's wall time, as JSON lines (bench only)
description: Appends {"playbook", "play", "task", "seconds"} per task to the file $BENCH_TASK_TIMES.
requirements: [BENCH_TASK_TIMES set]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.path = os.environ.get("BENCH_TASK_TIMES")
        self.playbook = self.play = self.task = None
        self.started = 0.0

    def close_task(self):
        if self.task is not None and self.path:
            entry = {
                "playbook": self.playbook,
                "play": self.play,
                "task": self.task,
                "seconds": round(time.monotonic() - self.started, 3),
            }
            with open(self.path, "a") as out:
                out.write(json.dumps(entry) + "\n")
        self.task = None

    def v2_playbook_on_start(self, playbook):
        self.playbook = os.path.basename(playbook._file_name)

    def v2_playbook_on_play_start(self, play):
        self.close_task()
        self.play = play.get_name()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.close_task()
        self.task, self.started = task.get_name(), time.monotonic()

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def v2_playbook_on_stats(self, stats):
        self.close_task()
