# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for self-heal to fill replaced bricks: when it is done, when to start the
self-heal daemons' crawl again, when it has stalled. Pure, no I/O.

Heal is crawled, not pushed: a self-heal daemon crawls its index when it starts
and then every cluster.heal-timeout (600 s). A replace-brick switches the daemons
to a new graph, whose first crawl may come before the new brick is connected; a
pool whose daemons have run for weeks then heals only at the next interval. So the
wait starts the crawl itself (`volume heal VOL`) and judges by progress, not by a
deadline alone:

- progress is the count of entries to heal on the set's bricks falling below the
  lowest seen; or the lowest count of one stretch of `retrigger_after` seconds
  falling below the lowest of the stretch before (entry heal lists the files it
  creates before it heals them, so the count may rise, then fall; a client's
  writes add entries that come and go within a stretch, which leave its lowest
  count alone); or the new bricks holding more bytes than the most seen (a large
  file heals in blocks while its entry stays listed);
- with no progress for `retrigger_after` seconds, the crawl is started again: the
  first time a full one, which Gluster's maintainers name for a replaced brick (it
  walks every file rather than the index), then index crawls;
- with no progress for `stall_after` seconds, the heal has stalled: the wait fails
  with the numbers.

Done is every brick of the set reached by heal info with nothing pending, in
split-brain or possibly healing. Measured on the lab (GlusterFS 10.3), a set under
constant VM-like writes (a FUSE writer rewriting a 32 MiB file in place, a qemu-io
writer on gluster://) reads 0 pending and 0 possibly healing before a replace and
again once heal has filled the new brick, a few seconds later, while both writers
go on: done needs no exception for writes. (A writer that appended to a file without
end, until the brick filled, kept two entries possibly healing for the 90 s watched:
that is what the stall rule is for.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

DONE = "done"
WAIT = "wait"
TRIGGER_INDEX = "trigger index"
TRIGGER_FULL = "trigger full"
STALLED = "stalled"
SPLIT_BRAIN = "split-brain"

RETRIGGER_AFTER = 60
STALL_AFTER = 900

# The bricks a run replaced whose heal it has not yet seen end, kept in the volume
# (`pending BRICK,BRICK`, then `done`), so that a re-run after an interruption or a
# stall waits for those sets before it moves on (detach, the next brick). A user.*
# option, as the rebalance mark: glusterd keeps it and never reads it.
HEAL_MARK = "user.ganeti-gluster.heal"
HEAL_DONE = "done"


def owed_heal(mark, volume_bricks):
    """The bricks of `mark` still in the volume: their sets still owe a heal."""
    if not mark or not mark.startswith("pending "):
        return []
    return [b for b in mark[len("pending ") :].split(",") if b in set(volume_bricks)]


def heal_mark(bricks):
    return f"pending {','.join(bricks)}" if bricks else HEAL_DONE


@dataclass(frozen=True)
class HealSample:
    """One read of a set: entries to heal on its bricks (pending + possibly healing;
    None when heal info did not reach one of them), entries in split-brain, and bytes
    on the new bricks (None when not read)."""

    entries: int | None
    split_brain: int = 0
    healed_bytes: int | None = None


@dataclass
class HealWatch:
    """The wait on one set. `observe` takes the time (seconds, monotonic) and a sample
    and says what to do next: DONE, WAIT, TRIGGER_FULL or TRIGGER_INDEX (start the
    crawl, then wait), STALLED or SPLIT_BRAIN (fail)."""

    started: float
    retrigger_after: float = RETRIGGER_AFTER
    stall_after: float = STALL_AFTER
    fewest_entries: int | None = None
    most_bytes: int | None = None
    first_entries: int | None = None
    last_progress: float = field(init=False)
    last_trigger: float = field(init=False)
    triggers: int = 0
    # The stretch of retrigger_after seconds under way: its start and its fewest entries;
    # and the fewest of the stretch before.
    stretch_start: float = field(init=False)
    stretch_fewest: int | None = None
    previous_stretch_fewest: int | None = None

    def __post_init__(self):
        self.last_progress = self.started
        self.last_trigger = self.started
        self.stretch_start = self.started

    def observe(self, now, sample):
        if sample.split_brain:
            return SPLIT_BRAIN
        if sample.entries == 0:
            return DONE
        if self.first_entries is None and sample.entries is not None:
            self.first_entries = sample.entries
        if sample.entries is not None and (self.fewest_entries is None or sample.entries < self.fewest_entries):
            self.fewest_entries = sample.entries
            self.last_progress = now
        if now - self.stretch_start >= self.retrigger_after:
            ended = self.stretch_fewest
            if ended is not None and self.previous_stretch_fewest is not None and ended < self.previous_stretch_fewest:
                self.last_progress = now
            if ended is not None:
                self.previous_stretch_fewest = ended
            self.stretch_start, self.stretch_fewest = now, None
        if sample.entries is not None and (self.stretch_fewest is None or sample.entries < self.stretch_fewest):
            self.stretch_fewest = sample.entries
        if sample.healed_bytes is not None and (self.most_bytes is None or sample.healed_bytes > self.most_bytes):
            if self.most_bytes is not None:
                self.last_progress = now
            self.most_bytes = sample.healed_bytes
        idle = now - self.last_progress
        if idle >= self.stall_after:
            return STALLED
        if now - max(self.last_progress, self.last_trigger) >= self.retrigger_after:
            self.last_trigger = now
            self.triggers += 1
            return TRIGGER_FULL if self.triggers == 1 else TRIGGER_INDEX
        return WAIT

    def progress(self, now):
        """What the wait has seen, for a report or a failure."""
        return {
            "seconds": round(now - self.started, 1),
            "entries_first": self.first_entries,
            "entries_fewest": self.fewest_entries,
            "healed_bytes": self.most_bytes,
            "retriggered": self.triggers,
            "seconds_without_progress": round(now - self.last_progress, 1),
        }
