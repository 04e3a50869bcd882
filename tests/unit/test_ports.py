import random

from cmem_ops.store.ports import AVOID, PORT_RANGE, choose_port


def test_choose_port_is_private_and_never_6379():
    rng = random.Random(7)
    for _ in range(200):
        port = choose_port(lambda p: True, rng)
        assert PORT_RANGE[0] <= port <= PORT_RANGE[1] and port not in AVOID


def test_choose_port_skips_busy_ports():
    busy = set(range(PORT_RANGE[0], PORT_RANGE[0] + 5000))
    assert choose_port(lambda p: p not in busy, random.Random(1)) not in busy
