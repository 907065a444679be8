"""systemd readiness and watchdog (docs/operations.md "Running under systemd"; deploy/systemd/).

The test plays the service manager: it binds the AF_UNIX datagram socket that systemd would pass in
NOTIFY_SOCKET (sd_notify(3)) and starts the gateway with it and with WATCHDOG_USEC, as a
`Type=notify` unit with `WatchdogSec=` would. It checks, in order:
- READY=1 with the status line, once the gateway answers SIP and HTTP;
- WATCHDOG=1 pings at half the watchdog period while the gateway runs;
- the STATUS line follows the live calls (1 live call while a caller is up);
- SIGTERM: STOPPING=1 with the draining status at once, and exit 0 after the last call.
And the shipped unit deploy/systemd/warmline.service: `systemd-analyze verify` accepts it, its
hardening keeps `systemd-analyze security` exposure at 1.5 or below, and its ExecStartPre and ExecStart
command lines are ones this binary accepts.
"""
import os
import shlex
import signal
import socket
import subprocess
import time
import unittest

from harness import SOURCE_DIR, Agent, E2ETestCase, Gateway, gateway_binary
from sipp_peer import start_caller

SCRIPT = """\
on start: tone 440 2000
"""
WATCHDOG_USEC = 1_000_000  # pings every 0.5 s


class NotifySocket:
    """The service manager's end of NOTIFY_SOCKET: an abstract-namespace datagram socket."""

    def __init__(self, case):
        self.name = f"@warmline-e2e-notify-{os.getpid()}-{time.monotonic_ns()}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.name[1:])
        case.addCleanup(self.sock.close)
        self.seen = []

    def next(self, timeout):
        self.sock.settimeout(timeout)
        try:
            message = self.sock.recv(4096).decode()
        except socket.timeout:
            return None
        self.seen.append(message)
        return message

    def wait(self, predicate, timeout, what):
        """The first message for which `predicate` holds, within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self.next(left)
            if message is not None and predicate(message):
                return message
        raise AssertionError(f"no notification for {what} within {timeout}s; got {self.seen}")


class SystemdNotify(E2ETestCase):
    def test_ready_watchdog_status_and_stopping(self):
        notify = NotifySocket(self)
        env = dict(os.environ, NOTIFY_SOCKET=notify.name, WATCHDOG_USEC=str(WATCHDOG_USEC))
        env.pop("WATCHDOG_PID", None)
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url, env=env)

        first = notify.next(10)
        self.assertEqual(first, "READY=1\nSTATUS=taking calls: 0 live call(s)")

        # Pings at half the period: three within 3 s (one is sent at once with READY's round).
        for i in range(3):
            notify.wait(lambda m: m.split("\n")[0] == "WATCHDOG=1", 3, f"watchdog ping #{i + 1}")

        sipp, _rtp = start_caller(self, gateway, "uac-call-until-trigger.xml")
        agent.wait_event(type="start")
        notify.wait(lambda m: "STATUS=taking calls: 1 live call(s)" in m.split("\n"), 5,
                    "the status line with the live call")

        gateway.proc.signal(signal.SIGTERM)
        stopping = notify.wait(lambda m: m.startswith("STOPPING=1"), 5, "STOPPING=1 after SIGTERM")
        self.assertEqual(stopping, "STOPPING=1\nSTATUS=draining, then exiting: 1 live call(s)")

        sipp.trigger()  # the last call ends: the drained gateway exits
        sipp.assert_passed()
        self.assertEqual(gateway.proc.wait(15), 0, "the drained gateway must exit 0")


UNIT = SOURCE_DIR / "deploy" / "systemd" / "warmline.service"
MAX_EXPOSURE = 15  # systemd-analyze's scale: 15 = an overall exposure level of 1.5


def unit_settings(text):
    """{key: [values]} of the [Service] section."""
    settings, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line:
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


class ShippedUnit(E2ETestCase):
    def test_unit_verifies_is_hardened_and_runs_this_binary(self):
        text = UNIT.read_text().replace("/usr/bin/warmline", str(gateway_binary()))
        unit = self.workdir / "warmline.service"
        unit.write_text(text)
        verify = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True,
                                timeout=60)
        self.assertEqual((verify.returncode, verify.stderr), (0, ""), verify.stdout)
        security = subprocess.run(["systemd-analyze", "security", "--offline=yes", f"--threshold={MAX_EXPOSURE}",
                                   str(unit)], capture_output=True, text=True, timeout=60)
        self.assertEqual(security.returncode, 0, security.stdout[-2000:] + security.stderr)

        service = unit_settings(text)
        self.assertEqual(service["Type"], ["notify"])
        self.assertEqual(service["WatchdogSec"], ["10"])
        # The unit's own command lines, pointed at the shipped default configuration: check-config
        # accepts it (exit 0) and the start line parses as `--config FILE`.
        config = SOURCE_DIR / "conf" / "warmline.toml"
        for key in ("ExecStartPre", "ExecStart"):
            (line,) = service[key]
            argv = [str(config) if a == "/etc/warmline/warmline.toml" else a for a in shlex.split(line)]
            self.assertEqual(argv[0], str(gateway_binary()), key)
            if key == "ExecStartPre":
                check = subprocess.run(argv, capture_output=True, text=True, timeout=60)
                self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
            else:
                self.assertEqual(argv[1:], ["--config", str(config)])


if __name__ == "__main__":
    unittest.main()
