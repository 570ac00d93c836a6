# Runs on MicroPython: the wearable's flash state on a real littlefs (os.VfsLfs2) over a RAM block device that
# loses power after N block writes. After every cut the filesystem mounts, the counter never goes back, and an
# alarm that was reported persisted is still there.
import os
import sys

from firmware.flashstore import AlarmState, FlashStore

BLOCK = 256
COUNT = 64


class PowerCut(Exception):
    pass


CUT = PowerCut()  # made once: littlefs calls the device with the heap locked, so nothing may allocate there


class CuttableFlash:
    """A block device whose writes stop taking effect after `budget` program operations (a power cut)."""

    def __init__(self):
        self.data = bytearray(BLOCK * COUNT)
        self.budget = -1

    def readblocks(self, block, buf, offset=0):
        start = block * BLOCK + offset
        data = self.data
        for i in range(len(buf)):
            buf[i] = data[start + i]

    def writeblocks(self, block, buf, offset=None):
        if offset is None:
            offset = 0
        if self.budget == 0:
            raise CUT
        if self.budget > 0:
            self.budget -= 1
        start = block * BLOCK + offset
        data = self.data
        for i in range(len(buf)):
            data[start + i] = buf[i]

    def ioctl(self, op, arg):
        if op == 4:
            return COUNT
        if op == 5:
            return BLOCK
        if op == 6:  # erase
            if self.budget == 0:
                raise CUT
            start = arg * BLOCK
            data = self.data
            for i in range(BLOCK):
                data[start + i] = 0xFF
            return 0
        return 0


def mount(dev):
    vfs = os.VfsLfs2(dev, progsize=BLOCK, readsize=BLOCK, lookahead=COUNT // 8)
    os.mount(vfs, "/flash")


def umount():
    try:
        os.umount("/flash")
    except OSError:
        pass


def run(cut_after):
    dev = CuttableFlash()
    os.VfsLfs2.mkfs(dev, progsize=BLOCK, readsize=BLOCK, lookahead=COUNT // 8)
    mount(dev)
    state = AlarmState(FlashStore("/flash"))
    done = []  # counters whose alarm add() returned: they must survive
    dev.budget = cut_after
    try:
        for i in range(6):
            n = state.next_counter()
            state.add({"n": n, "e": "SOS", "text": "DM1;n=%d" % n, "tries": 0, "a": {}})
            done.append(n)
            if i % 2:
                state.remove(done[0])
                done.pop(0)
    except (PowerCut, OSError):
        # littlefs reports the failed program as PowerCut or as EIO: either way the power is gone.
        cut = True
    else:
        cut = False
    umount()
    dev.budget = -1
    mount(dev)  # the device boots again on what the flash holds
    after = AlarmState(FlashStore("/flash"))
    umount()
    pending = [a["n"] for a in after.pending]
    for n in done:
        assert n in pending, "cut %d: alarm %d was persisted but is gone (%r)" % (cut_after, n, pending)
    assert after.counter >= (max(done) if done else 0), "cut %d: counter went back" % cut_after
    for n in pending:
        assert n <= after.counter, "cut %d: pending alarm %d above counter %d" % (cut_after, n, after.counter)
    return cut


runs = int(sys.argv[1])
interrupted = 0
for budget in range(runs):
    interrupted += run(budget)
print("OK", runs, interrupted)
