# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wait for heal that the modules share: start the self-heal daemons' crawl, then
read heal info until the sets watched have nothing to heal, judged by heal_watch's
rules (progress, the crawl started again, a stall). The drain waits after a
replace-brick; the rolling maintenance after a host's bricks came back."""

from __future__ import annotations

import time

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.cli_common import paced
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import GlusterError
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.heal_watch import (
    DONE,
    RETRIGGER_AFTER,
    SPLIT_BRAIN,
    STALL_AFTER,
    STALLED,
    TRIGGER_FULL,
    TRIGGER_INDEX,
    HealSample,
    HealWatch,
)

# A wait of a few seconds polls every quarter second, one of an hour every 5 s (paced).
POLL_SECONDS = (0.25, 5.0)
BYTES_EVERY_SECONDS = 15
# heal info is read by glfsheal, a gfapi client of its own: on a host whose glusterd or
# bricks have just come back it fails for a while ("Not able to fetch volfile from
# glusterd", "All the bricks are not running"). A wait goes on through failed reads for
# this long, then fails with the last error.
READ_FAILURE_GRACE_SECONDS = 120
# The options of a module that waits for heal (doc fragment heal_wait).
HEAL_OPTIONS = {
    "heal_retrigger_after": {"type": "int", "default": RETRIGGER_AFTER},
    "heal_stall_timeout": {"type": "int", "default": STALL_AFTER},
}


class HealWaiter:
    """Waits for heal on sets of a volume for `module` (a GlusterCli `cli`), appending each
    command to `commands` and each wait's progress to `reports`; `fail(msg)` ends the module."""

    def __init__(self, module, cli, commands, reports, fail, retrigger_after, stall_after, timeout):
        self.module, self.cli, self.commands, self.reports, self.fail = module, cli, commands, reports, fail
        self.retrigger_after, self.stall_after, self.timeout = retrigger_after, stall_after, timeout

    @classmethod
    def for_module(cls, module, cli, commands, reports, fail):
        """The waiter with the module's HEAL_OPTIONS and its `timeout`."""
        p = module.params
        unset = [name for name in ("heal_retrigger_after", "heal_stall_timeout", "timeout") if p[name] <= 0]
        if unset:
            fail(f"{', '.join(unset)} must be a number of seconds above 0; nothing was done")
        return cls(
            module, cli, commands, reports, fail, p["heal_retrigger_after"], p["heal_stall_timeout"], p["timeout"]
        )

    def sample(self, name, indices, new_bricks=(), with_bytes=True):
        """Entries to heal on the sets `indices` (None when heal info misses a brick of
        theirs), entries in split-brain, and with `with_bytes` the bytes on the `new_bricks`
        (as placed)."""
        volume = self.cli.volume(name)
        members = {b.name: b for i in indices for b in volume.bricks[i * volume.set_size : (i + 1) * volume.set_size]}
        counts = [h for h in self.cli.heal_summary(name) if h.name in members]
        reached = len(counts) == len(members) and all(h.reached for h in counts)
        entries = sum(h.pending + h.possibly_healing for h in counts) if reached else None
        split_brain = sum(h.split_brain or 0 for h in counts if h.reached)
        healed = None
        placed = [members[b] for b in new_bricks if b in members]
        if placed and with_bytes and entries != 0:
            detail = {(d.peer_uuid, d.path): d for d in self.cli.volume_status_detail(name)}
            sizes = [detail.get((b.host_uuid, b.path)) for b in placed]
            if all(d is not None and d.size_total is not None for d in sizes):
                healed = sum(d.size_total - d.size_free for d in sizes)
        return HealSample(entries, split_brain, healed)

    def sample_patiently(self, name, indices, new_bricks=(), with_bytes=True, deadline=None):
        """sample(), read again while it fails for up to READ_FAILURE_GRACE_SECONDS (and not
        past `deadline`, in time.monotonic()); then the error, which says so."""
        pauses = paced(*POLL_SECONDS)
        failing_since = None
        while True:
            try:
                return self.sample(name, indices, new_bricks, with_bytes)
            except GlusterError as exc:
                now = time.monotonic()
                failing_since = now if failing_since is None else failing_since
                if now - failing_since >= READ_FAILURE_GRACE_SECONDS or (deadline is not None and now >= deadline):
                    exc.message += (
                        f" It still failed after {round(now - failing_since)} s. Heal goes on by itself: see "
                        f"/var/log/glusterfs/glfsheal-{name}.log and glusterd's log on this host, then run again."
                    )
                    exc.args = (exc.message,)
                    raise
                self.module.log(f"heal info of volume {name} could not be read ({exc.message}); reading again")
                time.sleep(next(pauses))

    def trigger(self, name, full=False):
        """Start the crawl. A refusal that outlasts GlusterCli's wait is a warning: glusterd
        fails the command when any daemon cannot start every crawl (a brick down anywhere in
        the volume), while the others started theirs; the wait judges by progress, starts it
        again, and fails with the counts if heal stalls."""
        self.commands.append(self.cli.heal_argv(name, full))
        try:
            self.cli.trigger_heal(name, full=full)
        except GlusterError as exc:
            self.module.warn(f"{exc.message} The wait for heal goes on and starts the crawl again if nothing moves.")

    def wait(self, name, indices, new_bricks=(), after="the replacement", fresh=True):
        """Start the self-heal daemons' crawl, then wait until heal shows nothing pending, in
        split-brain or possibly healing on the sets `indices` of volume `name`: the crawl
        started again when nothing moves, a failure with the numbers when heal stalls or
        outlasts the timeout. `after` names what made the heal (for messages). With `fresh`
        false (an earlier run's heal), sets already healed are left alone. Returns the
        wait's report, or None when nothing was to heal."""
        label = f"set{'s' if len(indices) > 1 else ''} {', '.join(map(str, indices))} of volume {name}"
        if not fresh and self.sample_patiently(name, indices, new_bricks, with_bytes=False).entries == 0:
            return None
        self.trigger(name)
        watch = HealWatch(time.monotonic(), self.retrigger_after, self.stall_after)
        deadline = watch.started + self.timeout
        pauses = paced(*POLL_SECONDS)
        report = {"volume": name, "sets": indices, **watch.progress(watch.started)}
        self.reports.append(report)
        last = (None, None)
        bytes_read = None
        while True:
            # The new bricks' fill takes glusterd's volume lock (status detail): read it seldom.
            with_bytes = bytes_read is None or time.monotonic() - bytes_read >= BYTES_EVERY_SECONDS
            try:
                sample = self.sample_patiently(name, indices, new_bricks, with_bytes, deadline)
            except GlusterError as exc:
                self.fail(
                    f"heal of {label} after {after}: {exc.message} The next run waits for the same heal "
                    f"(gluster volume heal {name} info shows where it is)."
                )
            now = time.monotonic()
            if with_bytes:
                bytes_read = now
            action = watch.observe(now, sample)
            report.update(watch.progress(now))
            seen = (sample.entries, sample.healed_bytes if sample.healed_bytes is not None else last[1])
            if seen != last:
                last = seen
                filled = f", {seen[1]} bytes on the new bricks" if new_bricks else ""
                self.module.log(f"heal of {label}: {seen[0]} entries to heal{filled}")
            if action == DONE:
                return report
            if action == SPLIT_BRAIN:
                self.fail(
                    f"{label} has {sample.split_brain} entries in split-brain after {after}; resolve them "
                    f"(gluster volume heal {name} info split-brain), then run again"
                )
            if action == STALLED:
                filled = f", {watch.most_bytes} bytes on the new bricks" if new_bricks else ""
                self.fail(
                    f"heal of {label} after {after} has stalled: "
                    f"{sample.entries if sample.entries is not None else 'unknown'} entries still to heal (first "
                    f"{watch.first_entries}, fewest {watch.fewest_entries}){filled}, no progress for "
                    f"{self.stall_after} s although the crawl was started {watch.triggers + 1} times. See gluster "
                    f"volume heal {name} info and /var/log/glusterfs/glustershd.log on the hosts of those sets (a "
                    "full brick, a file locked by a client, a brick that does not answer); fix it and run again, "
                    "which waits for the same heal. One large file whose heal takes longer than that shows no "
                    "progress in these counts: when glustershd.log shows it healing, run again with a longer "
                    "heal_stall_timeout."
                )
            if action in (TRIGGER_FULL, TRIGGER_INDEX):
                # A full crawl walks every file of every brick: it is for a brick put in new
                # (Gluster's advice after a replacement); bricks that were only down have their
                # entries in the index, which the index crawl reads.
                self.trigger(name, full=action == TRIGGER_FULL and bool(new_bricks))
            if now >= deadline:
                self.fail(
                    f"heal of {label} after {after} not done after {self.timeout} s ({sample.entries} entries still "
                    f"to heal, first {watch.first_entries}); it goes on in the background, and the next run waits "
                    "for it again"
                )
            time.sleep(next(pauses))
