#!/usr/bin/env python3
"""A small client for rtpengine's ng control protocol, and the relay allocation for scenario 3.

ng protocol (rtpengine's docs, "The NG Control Protocol"): one UDP datagram per request,
`<cookie> <bencoded dictionary>`; the reply carries the same cookie. `offer` gives rtpengine the caller's
SDP and returns it rewritten with the port the *callee* must send to; `answer` gives it the callee's SDP
and returns the port the *caller* must send to. So for one relay session with caller port A and callee
port B, rtpengine forwards  A -> (port in the answer's reply) -> B  and  B -> (port in the offer's reply) -> A.

Allocation output (`--out FILE`), the contract of warmline-load's `--rtp-relay FILE`: one line per call
    <sendto_ip>:<sendto_port> <recv_local_port>
meaning: send real-time RTP to sendto (rtpengine's port for the caller side), receive it relayed on
recv_local_port (the callee port written into the answer SDP).
"""

import argparse
import os
import random
import re
import socket
import sys


# --- bencode (only what ng uses: dict, list, str/bytes, int) ------------------------------------------

def bencode(value):
    if isinstance(value, bool):
        raise TypeError("bencode has no booleans")
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(f"cannot bencode {type(value).__name__}")


def bdecode(data, pos=0):
    """Returns (value, next position). Strings come back as str when they are UTF-8, else bytes."""
    c = data[pos:pos + 1]
    if c == b"i":
        end = data.index(b"e", pos)
        return int(data[pos + 1:end]), end + 1
    if c == b"l":
        out, pos = [], pos + 1
        while data[pos:pos + 1] != b"e":
            v, pos = bdecode(data, pos)
            out.append(v)
        return out, pos + 1
    if c == b"d":
        out, pos = {}, pos + 1
        while data[pos:pos + 1] != b"e":
            k, pos = bdecode(data, pos)
            v, pos = bdecode(data, pos)
            out[k] = v
        return out, pos + 1
    if c.isdigit():
        colon = data.index(b":", pos)
        n = int(data[pos:colon])
        raw = data[colon + 1:colon + 1 + n]
        if len(raw) != n:
            raise ValueError("truncated bencode string")
        try:
            return raw.decode(), colon + 1 + n
        except UnicodeDecodeError:
            return raw, colon + 1 + n
    raise ValueError(f"bad bencode at {pos}")


class NgClient:
    def __init__(self, addr, timeout_s=2.0, retries=3):
        host, port = addr.rsplit(":", 1)
        self.addr = (host, int(port))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(timeout_s)
        self.retries = retries
        self.cookie = random.randrange(1 << 30)

    def request(self, command, **fields):
        self.cookie += 1
        cookie = str(self.cookie).encode()
        msg = cookie + b" " + bencode(dict(fields, command=command))
        for _ in range(self.retries):  # UDP: resend on timeout, bounded
            self.sock.sendto(msg, self.addr)
            try:
                while True:
                    data, _ = self.sock.recvfrom(65536)
                    got, _, body = data.partition(b" ")
                    if got == cookie:
                        reply, _ = bdecode(body)
                        return reply
            except socket.timeout:
                continue
        raise TimeoutError(f"rtpengine did not answer {command}")

    def close(self):
        self.sock.close()


def sdp(port, session_id):
    return ("v=0\r\n"
            f"o=- {session_id} 1 IN IP4 127.0.0.1\r\n"
            "s=-\r\n"
            "c=IN IP4 127.0.0.1\r\n"
            "t=0 0\r\n"
            f"m=audio {port} RTP/AVP 0\r\n"
            "a=rtpmap:0 PCMU/8000\r\n"
            "a=ptime:20\r\n"
            "a=sendrecv\r\n")


def media_port(sdp_text):
    m = re.search(r"^m=audio (\d+) ", sdp_text, re.M)
    if not m:
        raise ValueError("no m=audio line in rtpengine's SDP")
    return int(m.group(1))


def allocate(client, index, caller_port, callee_port):
    """One relay session; returns (port the caller sends to, port the callee sends to)."""
    call_id = f"warmline-load-relay-{index}"
    common = {"call-id": call_id, "from-tag": f"a{index}", "flags": ["no-rtcp-attribute"],
              "replace": ["origin", "session-connection"], "rtcp-mux": ["demux"]}
    offer = client.request("offer", sdp=sdp(caller_port, 1000 + index), **common)
    if offer.get("result") != "ok":
        raise RuntimeError(f"offer {index}: {offer}")
    answer = client.request("answer", sdp=sdp(callee_port, 2000 + index), **{**common, "to-tag": f"b{index}"})
    if answer.get("result") != "ok":
        raise RuntimeError(f"answer {index}: {answer}")
    return media_port(answer["sdp"]), media_port(offer["sdp"])


def delete_all(client, count):
    for i in range(count):
        try:
            client.request("delete", **{"call-id": f"warmline-load-relay-{i}", "from-tag": f"a{i}"})
        except (TimeoutError, OSError):
            pass


def main():
    ap = argparse.ArgumentParser(description="allocate rtpengine relay sessions for warmline-load --rtp-relay")
    ap.add_argument("--ng", default="127.0.0.1:22222", help="rtpengine's --listen-ng address")
    ap.add_argument("--sessions", type=int, required=True)
    ap.add_argument("--callee-ports", type=int, default=61000,
                    help="first local port warmline-load receives on (one per session)")
    ap.add_argument("--caller-ports", type=int, default=20000,
                    help="first port written as the caller's in the offer (nobody listens there)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--delete", action="store_true", help="delete the sessions instead of creating them")
    args = ap.parse_args()
    if not 0 < args.sessions <= 4000:
        sys.exit("--sessions must be 1..4000 (the port plan in bench/README.md \"Load scenarios\")")
    client = NgClient(args.ng)
    try:
        if client.request("ping").get("result") != "pong":
            sys.exit("rtpengine did not answer ping")
        if args.delete:
            delete_all(client, args.sessions)
            return
        lines = []
        for i in range(args.sessions):
            callee = args.callee_ports + i
            send_to, _ = allocate(client, i, args.caller_ports + i, callee)
            lines.append(f"127.0.0.1:{send_to} {callee}\n")
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            f.writelines(lines)
        os.replace(tmp, args.out)
        print(f"rtpengine_ng: {len(lines)} relay sessions -> {args.out}")
    finally:
        client.close()


if __name__ == "__main__":
    main()
