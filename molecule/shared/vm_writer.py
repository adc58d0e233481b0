"""VM-like writers, through a FUSE mount and through libgfapi, and the file they
leave, for lab tests (molecule's rolling scenario and tests/integration/writers.py).

    python3 vm_writer.py write PATH STATE       rewrite PATH's blocks until SIGTERM, one
                                                every PAUSE_S, then write "WRITTEN FAILED"
                                                to STATE
    python3 vm_writer.py gfapi OPTS WRITES MS   qemu-io on the image QEMU's --image-opts
                                                OPTS name: WRITES writes, MS apart
    python3 vm_writer.py expected WRITTEN       the sha256 of the file after WRITTEN writes

Each writer rewrites the 64 KiB blocks of one file in place, in turn, with one open
file as a VM keeps its disk; write i of the sequence fills block i % BLOCKS with
the byte i % 250 + 1, so once stopped the whole file is known and is compared byte
for byte: through the volume and on every brick of its set.

qemu-io takes no commands from a pipe (it echoes them and writes nothing, seen on the
lab with QEMU 7.2), so the gfapi writer is one qemu-io with its commands on the
command line, over one open. Each write is flushed before qemu-io reports it
(writethrough), as a guest's acknowledged durable write; it reports each as "wrote
65536/65536" and a failure as "write failed: ERROR".
"""

import hashlib
import os
import signal
import sys
import time

BLOCK = 65536
BLOCKS = 128  # 8 MiB a file
# A steady writer, as a VM's disk sees, not one as fast as the CPU allows: unpaced,
# the FUSE writer and the bricks it kept busy took most of a core of the 2-core CI
# machine for the rolling scenario's hour, from the lanes beside it.
PAUSE_S = 0.01


def pattern(write):
    """The byte write number `write` fills its block with."""
    return write % 250 + 1


def expected(written):
    """The file after `written` writes of the sequence."""
    blocks = [bytes(BLOCK)] * BLOCKS
    for i in range(max(written - BLOCKS, 0), written):
        blocks[i % BLOCKS] = bytes([pattern(i)]) * BLOCK
    return b"".join(blocks)


def write(path, state):
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    written = failed = 0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    while not stop:
        try:
            os.pwrite(fd, bytes([pattern(written)]) * BLOCK, (written % BLOCKS) * BLOCK)
            if written % 16 == 15:
                os.fsync(fd)
            written += 1
        except OSError as exc:
            failed += 1
            print(exc, file=sys.stderr, flush=True)
        time.sleep(PAUSE_S)
    os.fsync(fd)
    with open(state, "w") as f:
        f.write(f"{written} {failed}")


def qemu_io_argv(image_opts, writes, pause_ms):
    argv = ["qemu-io", "--image-opts", "-t", "writethrough"]
    for i in range(writes):
        argv += ["-c", f"write -P {pattern(i)} {(i % BLOCKS) * BLOCK} 64k", "-c", f"sleep {pause_ms}"]
    return [*argv, image_opts]


def main(argv):
    if argv[:1] == ["write"] and len(argv) == 3:
        write(argv[1], argv[2])
    elif argv[:1] == ["gfapi"] and len(argv) == 4:
        command = qemu_io_argv(argv[1], int(argv[2]), int(argv[3]))
        os.execvp(command[0], command)
    elif argv[:1] == ["expected"] and len(argv) == 2:
        print(hashlib.sha256(expected(int(argv[1]))).hexdigest())
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
