"""A DNS server for tests of RFC 3263 targets: dnsmasq (Debian's dnsmasq-base, installed by
scripts/install-deps.sh) on 127.0.0.1 and a free port, serving only the records a test gives it, never
the machine's own configuration or resolver. The gateway asks it through `[server] dns_servers`.

Records are dnsmasq options, e.g. `--srv-host=_sip._udp.target.test,bob.target.test,5062,10,0`
(name, target, port, priority, weight) and `--host-record=bob.target.test,127.0.0.1`. Everything
under `.test` is answered from them alone (a name not given is NXDOMAIN). Like
tests/unit/sip/resolve/dnsmasq_peer.cpp, which the resolver's unit tests use.
"""
import random
import shutil
import socket
import struct
from pathlib import Path

from harness import free_port, wait_for

QTYPE_A = 1
QTYPE_SRV = 33


def dnsmasq_binary():
    for candidate in (shutil.which("dnsmasq"), "/usr/sbin/dnsmasq"):
        if candidate and Path(candidate).exists():
            return candidate
    # Not a skip: a test that needs DNS cannot say anything without it.
    raise AssertionError("dnsmasq is not installed (Debian's dnsmasq-base; scripts/install-deps.sh installs it)")


def dns_query(port, name, qtype, timeout=0.2):
    """(rcode, answer count) of one query to 127.0.0.1:`port`, or None when nothing came back."""
    qid = random.getrandbits(16)
    question = b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0"
    packet = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + question + struct.pack("!HH", qtype, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(packet, ("127.0.0.1", port))
        try:
            data = s.recv(4096)
        except socket.timeout:
            return None
    if len(data) < 12:
        return None
    rid, flags, _, ancount, _, _ = struct.unpack("!HHHHHH", data[:12])
    return (flags & 0x0F, ancount) if rid == qid else None


class DnsServer:
    """dnsmasq serving `records`, started by PID in the test's folder (its query log is printed when the
    test fails). `address` is what goes into `[server] dns_servers`."""

    def __init__(self, case, records, name="dnsmasq", ready_name=None, ready_type=QTYPE_SRV):
        """`ready_name`/`ready_type`: a query that must be answered with records before the server
        counts as started (default: the first --srv-host's name)."""
        self.case = case
        if ready_name is None:
            srv = [r for r in records if r.startswith("--srv-host=")]
            ready_name, ready_type = (srv[0].split("=", 1)[1].split(",")[0], QTYPE_SRV) if srv else ("", None)
        binary = dnsmasq_binary()
        # A port free a moment ago may be taken before dnsmasq binds it: a few fresh tries.
        for attempt in range(5):
            self.port = free_port()  # UDP and TCP: dnsmasq listens on both (TCP for truncated answers)
            self.proc = case.start(f"{name}-{attempt}" if attempt else name, [
                binary,
                "--no-daemon",            # foreground, no pid file, no change of user id
                "--conf-file=/dev/null",  # none of the machine's configuration
                "--no-resolv", "--no-hosts", "--no-poll",
                "--listen-address=127.0.0.1", "--bind-interfaces", f"--port={self.port}",
                "--local=/test/",         # .test only from the records below; NXDOMAIN otherwise
                "--local-ttl=60", "--log-queries", "--log-facility=-",
                *records])
            if wait_for(lambda: self._answered(ready_name, ready_type), 10, f"{name} to answer on port {self.port}"):
                if self.proc.running():
                    return
        raise AssertionError(f"{name} did not start on a free port in 5 tries")

    def _answered(self, qname, qtype):
        if not self.proc.running():
            return "exited"  # e.g. the port was taken after all: the caller tries another one
        if not qname:
            return dns_query(self.port, "ready.test", QTYPE_A) is not None
        answer = dns_query(self.port, qname, qtype)
        return answer is not None and answer[0] == 0 and answer[1] > 0

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def log(self):
        return self.proc.output()

