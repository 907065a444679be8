"""baresip (1.0.0, headless) as a test peer: a real SIP phone that dials, answers and follows a REFER.

Its config is tests/e2e/peers/baresip/ (from /work/shared/peers/baresip: a 48 kHz stereo sine source,
no player, ctrl_tcp), copied per test into a temporary folder with fresh ports. The test drives it
through ctrl_tcp (netstring-framed JSON, as /work/shared/peers/baresip_ctrl.py does); a reader thread
collects every event so the test can wait for one with a deadline.
"""
import json
import os
import socket
import struct
import tempfile
import threading
from pathlib import Path

from harness import PEERS_DIR, _bindable, free_port, free_port_range, wait_for
from rtp_peer import tone_ratio

_REPLACED = ("sip_listen", "rtp_ports", "ctrl_tcp_listen", "snd_path", "audio_source")


def wav_samples(path):
    """(sample rate, samples of the first channel) of a WAV file that may still be being written
    (baresip's sndfile module): the data chunk is read to the end of the file, whatever its header
    says yet. 16-bit PCM or 32-bit float (scaled to 16-bit)."""
    data = path.read_bytes()
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return 0, []
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body = pos + 8
        if chunk == b"fmt ":
            tag, channels, rate = struct.unpack("<HHI", data[body:body + 8])
            bits = struct.unpack("<H", data[body + 14:body + 16])[0]
            fmt = (tag, channels, rate, bits)
        elif chunk == b"data" and fmt:
            tag, channels, rate, bits = fmt
            frame = channels * bits // 8
            raw = data[body:]
            raw = raw[:len(raw) - len(raw) % frame]
            if tag == 1 and bits == 16:
                values = struct.unpack(f"<{len(raw) // 2}h", raw)
            elif tag == 3 and bits == 32:
                values = [int(v * 32767) for v in struct.unpack(f"<{len(raw) // 4}f", raw)]
            else:
                raise AssertionError(f"{path.name}: WAV format {fmt} not understood")
            return rate, list(values[::channels])
        pos = body + size + (size & 1)
    return 0, []


def _sip_port():
    """A port free for UDP and TCP whose successor is free for TCP too: baresip also opens its SIP/TLS
    transport on sip_listen's port + 1, and fails to start ("Address already in use") when another
    process holds that one."""
    for _ in range(200):
        port = free_port()
        if port < 65535 and _bindable(socket.SOCK_STREAM, "127.0.0.1", port + 1):
            return port
    raise RuntimeError("no free port pair for baresip found")


class Baresip:
    def __init__(self, case, name="baresip", user="bob", lifetime_s=150, audio_codecs="PCMU", tone_hz=440,
                 mediaenc=None, tls_cert=None, tls_ca=None):
        """`audio_codecs`: the account's codecs, in order (e.g. "PCMA" for a phone without PCMU; "opus"
        loads baresip's opus module);
        `tone_hz`: the sine it sends (its `ausine` source, 10-20000 Hz), so a test can tell it from
        another party's tone or from ringback (the US ringback has 440 Hz in it); `mediaenc`: the
        account's media encryption (e.g. "srtp-mand": SDES-SRTP, RTP/SAVP, nothing else), which
        loads baresip's srtp module; `tls_cert`: a PEM file with its certificate and key, for its SIP/TLS
        listener on `tls_port` (sip_port + 1); `tls_ca`: the CA file it trusts for TLS it opens."""
        self.case = case
        self.name = name
        self.sip_port = _sip_port()  # UDP and TCP, and TLS on the next port
        self.ctrl_port = free_port(kinds=(socket.SOCK_STREAM,))
        rtp_first, rtp_last = free_port_range(20)
        self.dir = case.workdir / name
        self.rec_dir = self.dir / "rec"
        self.rec_dir.mkdir(parents=True)
        settings = {"sip_listen": f"127.0.0.1:{self.sip_port}", "rtp_ports": f"{rtp_first}-{rtp_last}",
                    "ctrl_tcp_listen": f"127.0.0.1:{self.ctrl_port}", "snd_path": self._short_link(case, self.rec_dir),
                    "audio_source": f"ausine,{tone_hz}"}
        lines = [ln for ln in (PEERS_DIR / "baresip" / "config").read_text().splitlines()
                 if (ln.split() or [""])[0] not in _REPLACED]
        lines += [f"{k}\t\t{v}" for k, v in settings.items()]
        if mediaenc:
            lines.append("module\t\tsrtp.so")
        if "opus" in audio_codecs.lower():
            lines.append("module\t\topus.so")
        if tls_cert:
            lines.append(f"sip_certificate\t{tls_cert}")
        if tls_ca:
            lines.append(f"sip_cafile\t{tls_ca}")
        self.tls_port = self.sip_port + 1
        self.rtp_ports = (rtp_first, rtp_last)
        (self.dir / "config").write_text("\n".join(lines) + "\n")
        (self.dir / "accounts").write_text(
            f"<sip:{user}@127.0.0.1:{self.sip_port}>;regint=0;answermode=auto;audio_codecs={audio_codecs}"
            + (f";mediaenc={mediaenc}" if mediaenc else "") + "\n")
        self.uri = f"sip:{user}@127.0.0.1:{self.sip_port}"
        # -t: baresip quits by itself at the latest after lifetime_s (a bound if cleanup never runs).
        # -s: SIP trace on stdout, printed when the test fails.
        self.proc = case.start(name, ["baresip", "-f", self.dir, "-t", lifetime_s, "-s"])
        self._events = []
        self._lock = threading.Lock()
        self.sock = wait_for(self._connect, 15, f"{name}'s ctrl_tcp to listen")
        self._token = 0
        self._reader = threading.Thread(target=self._read, name=f"{name}-ctrl", daemon=True)
        self._reader.start()
        case.addCleanup(self._close)

    @staticmethod
    def _short_link(case, target):
        """A short path to `target`: baresip 1.0.0's sndfile module builds each WAV's name in a
        128-byte buffer ("<snd_path>/dump-<time>-enc.wav"), and a test folder's long path cuts off
        the "-enc"/"-dec" suffix, so both directions are written over each other into one file."""
        link = Path(tempfile.mkdtemp(prefix="wl-rec-")) / "rec"
        link.symlink_to(target, target_is_directory=True)
        case.addCleanup(lambda: (link.unlink(), os.rmdir(link.parent)))
        return str(link)

    def recordings(self, direction="dec"):
        """baresip's WAVs of what it decoded (`dec`: received) or encoded (`enc`: sent), oldest first."""
        return sorted(self.rec_dir.glob(f"dump-*-{direction}.wav"))

    def received(self):
        """(sample rate, samples) of what it decoded in its latest call so far (the newest `dec`
        recording, still being written), or (0, []) before there is one."""
        recordings = self.recordings("dec")
        return wav_samples(recordings[-1]) if recordings else (0, [])

    def hears_tone(self, hz, seconds=0.2):
        """Whether the last `seconds` of what it received are a pure `hz` tone."""
        rate, samples = self.received()
        n = int(rate * seconds)
        return n > 0 and len(samples) >= n and tone_ratio(samples[-n:], hz, rate) > 0.5

    def _connect(self):
        if not self.proc.running():
            raise AssertionError(f"{self.name} exited with {self.proc.popen.returncode} at start-up")
        try:
            return socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=1)
        except OSError:
            return None

    def _close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self._reader.join(timeout=5)

    def _read(self):
        buf = b""
        self.sock.settimeout(None)
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b":" in buf:
                length, rest = buf.split(b":", 1)
                if not length.isdigit():
                    return  # not netstring framing: stop reading rather than guess
                n = int(length)
                if len(rest) < n + 1:
                    break
                try:
                    message = json.loads(rest[:n])
                except ValueError:
                    message = {"unparsed": rest[:n].decode(errors="replace")}
                buf = rest[n + 1:]
                with self._lock:
                    self._events.append(message)
                with open(self.dir / "ctrl-events.log", "a") as log:
                    log.write(json.dumps(message) + "\n")

    def command(self, command, params=""):
        self._token += 1
        body = json.dumps({"command": command, "params": params, "token": f"t{self._token}"}).encode()
        self.sock.sendall(str(len(body)).encode() + b":" + body + b",")

    def dial(self, uri):
        self.command("dial", uri)

    def hangup(self):
        self.command("hangup")

    def events(self):
        with self._lock:
            return list(self._events)

    def find(self, **fields):
        return [e for e in self.events() if all(e.get(k) == v for k, v in fields.items())]

    def wait_event(self, timeout=15, **fields):
        """The first ctrl_tcp event with all `fields`, e.g. type="CALL_ESTABLISHED"."""
        return wait_for(lambda: self.find(**fields), timeout, f"{self.name} event {fields}")[0]
