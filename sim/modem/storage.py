"""SMS storage of a simulated modem: numbered slots with a capacity, as on a SIM card (EF-SMS) or in the module."""
from dataclasses import dataclass

REC_UNREAD, REC_READ, STO_UNSENT, STO_SENT = 0, 1, 2, 3
TEXT_STAT = {REC_UNREAD: "REC UNREAD", REC_READ: "REC READ", STO_UNSENT: "STO UNSENT", STO_SENT: "STO SENT"}


@dataclass
class StoredSMS:
    stat: int
    pdu_hex: str     # SMSC field + TPDU, upper-case hex, as AT+CMGR shows it
    tpdu_length: int


class SMSStorage:
    """Numbered slots from first_index (1 on most modems, 0 on SIM7600).

    The SIM's contents survive a modem reboot: the simulator keeps this object across power cycles.
    """

    def __init__(self, name, capacity, first_index=1):
        self.name = name
        self.capacity = capacity
        self.first_index = first_index
        self.slots = {}
        self.forced_full = False

    @property
    def used(self):
        return len(self.slots)

    def is_full(self):
        return self.forced_full or len(self.slots) >= self.capacity

    def store(self, stat, pdu_hex, tpdu_length):
        """Index of the new message, or None when the storage is full."""
        if self.is_full():
            return None
        index = next(i for i in self.indexes() if i not in self.slots)
        self.slots[index] = StoredSMS(stat, pdu_hex.upper(), tpdu_length)
        return index

    def indexes(self):
        return range(self.first_index, self.first_index + self.capacity)

    def in_range(self, index):
        return self.first_index <= index < self.first_index + self.capacity

    def delete_by_flag(self, flag):
        """AT+CMGD=<index>,<delflag> for delflag 1..4 (3GPP TS 27.005 section 3.5.4)."""
        doomed = {
            1: (REC_READ,),
            2: (REC_READ, STO_SENT),
            3: (REC_READ, STO_SENT, STO_UNSENT),
            4: (REC_UNREAD, REC_READ, STO_UNSENT, STO_SENT),
        }[flag]
        for index in [i for i, m in self.slots.items() if m.stat in doomed]:
            del self.slots[index]
