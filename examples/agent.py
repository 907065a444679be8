#!/usr/bin/python3
"""warmline reference agent: a scripted WebSocket server speaking warmline's native protocol.

warmline connects to it once per call. What the agent does is read from a script file (see
examples/README.md for the format); everything it receives can be logged as JSON lines (--events), so
end-to-end tests can assert what the agent saw.

Needs Debian's python3-websockets (10.4): run it with /usr/bin/python3.
"""

import argparse
import asyncio
import json
import math
import os
import re
import shlex
import signal
import struct
import sys
import time
import wave

import websockets

FRAME_MS = 20
DEFAULT_RATE = 16000
TRIGGERS = {"start", "dtmf", "mark", "transfer", "stop", "error", "audio"}
ACTIONS = {"say", "play", "tone", "mark", "transfer", "hangup", "clear", "send", "wait", "dtmf",
           "accept", "cancel", "complete", "close"}


class ScriptError(Exception):
    pass


# --- script -------------------------------------------------------------------------------------

def split_outside_quotes(text, sep):
    """Splits on `sep` except inside double-quoted strings (backslash escapes honoured)."""
    parts, current, quoted, escaped = [], [], False, False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


def parse_text(rest):
    rest = rest.strip()
    if rest.startswith('"'):
        try:
            return json.loads(rest)
        except json.JSONDecodeError as e:
            raise ScriptError(f"bad quoted text {rest!r}: {e}") from e
    return rest


def parse_action(text, base_dir):
    word, _, rest = text.strip().partition(" ")
    rest = rest.strip()
    if word not in ACTIONS:
        raise ScriptError(f"unknown action {word!r} (one of {', '.join(sorted(ACTIONS))})")
    if word == "say":
        return (word, parse_text(rest))
    if word == "play":
        return (word, os.path.join(base_dir, parse_text(rest)))
    if word in ("tone",):
        args = rest.split()
        if len(args) != 2 or not all(a.isdigit() for a in args):
            raise ScriptError("tone needs HZ MS, e.g. 'tone 440 500'")
        return (word, int(args[0]), int(args[1]))
    if word == "wait":
        if not rest.isdigit():
            raise ScriptError("wait needs MS")
        return (word, int(rest))
    if word == "transfer":
        return (word, parse_transfer(rest))
    if word in ("mark", "dtmf") and not rest:
        raise ScriptError(f"{word} needs an argument")
    if word == "send" and not rest:
        raise ScriptError("send needs a raw frame")
    return (word, rest)


def parse_transfer(rest):
    tokens = shlex.split(rest)
    if len(tokens) < 2:
        raise ScriptError("transfer needs MODE TARGET..., e.g. 'transfer cold Support'")
    msg = {"type": "transfer", "mode": tokens[0], "targets": []}
    for tok in tokens[1:]:
        key, eq, value = tok.partition("=")
        if not eq:
            msg["targets"].append(tok)
        elif key == "ring_timeout_s":
            msg[key] = int(value)
        elif key == "introduce":
            if value not in ("true", "false"):
                raise ScriptError("introduce needs true or false")
            msg[key] = value == "true"
        elif key.startswith("header."):
            msg.setdefault("headers", {})[key[len("header."):]] = value
        else:
            msg[key] = value
    return msg


def parse_trigger(text):
    words = text.split()
    if not words or words[0] not in TRIGGERS:
        raise ScriptError(f"unknown trigger {text!r} (one of {', '.join(sorted(TRIGGERS))})")
    return tuple(words)


def load_script(path):
    """Returns [(trigger words, [actions])]. Raises ScriptError with FILE:LINE on a bad line."""
    rules = []
    base_dir = os.path.dirname(os.path.abspath(path))
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                if not line.startswith("on ") or ":" not in line:
                    raise ScriptError("expected 'on TRIGGER: ACTION; ACTION...'")
                trigger, _, actions = line[3:].partition(":")
                parsed = [parse_action(a, base_dir) for a in split_outside_quotes(actions, ";") if a.strip()]
                if not parsed:
                    raise ScriptError("a rule needs at least one action")
                rules.append((parse_trigger(trigger), parsed))
            except ScriptError as e:
                raise ScriptError(f"{path}:{number}: {e}") from None
    return rules


def matches(trigger, msg):
    """Whether a rule's trigger words match a received text frame."""
    kind, args = trigger[0], trigger[1:]
    if msg.get("type") != kind:
        return False
    if kind == "dtmf":
        return not args or args[0] in ("any", msg.get("digit"))
    if kind == "mark":
        return msg.get("event") == "played" and (not args or args[0] == msg.get("name"))
    if kind == "transfer":
        if args and args[0] != msg.get("state"):
            return False
        if len(args) < 2:
            return True
        result = msg.get("result")
        return result != args[1][1:] if args[1].startswith("!") else result == args[1]
    return True


def fill(text, values):
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), m.group(0))), text)


# --- audio --------------------------------------------------------------------------------------

def tone_pcm(hz, ms, rate):
    n = rate * ms // 1000
    amplitude = 0.3 * 32767
    return struct.pack(f"<{n}h", *(int(amplitude * math.sin(2 * math.pi * hz * i / rate)) for i in range(n)))


def wav_pcm(path, rate):
    """Reads a 16-bit WAV as mono L16 at `rate` (linear resampling: a test agent, not a studio)."""
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit WAV files are supported")
        channels, src_rate = w.getnchannels(), w.getframerate()
        raw = w.readframes(w.getnframes())
    samples = struct.unpack(f"<{len(raw) // 2}h", raw)
    mono = [sum(samples[i:i + channels]) // channels for i in range(0, len(samples), channels)]
    if src_rate != rate and mono:
        n = len(mono) * rate // src_rate
        mono = [mono[min(int(i * src_rate / rate), len(mono) - 1)] for i in range(n)]
    return struct.pack(f"<{len(mono)}h", *mono)


# --- one connection (one call) ------------------------------------------------------------------

class Agent:
    def __init__(self, rules, events_path, exit_after, record_dir=None):
        self.rules = rules
        self.events = open(events_path, "a", encoding="utf-8") if events_path else None
        self.record_dir = record_dir
        self.exit_after = exit_after
        self.finished_calls = 0
        self.next_conn = 1
        self.done = None  # future, set by main()

    def log(self, record):
        if self.events:
            record["ts"] = round(time.time(), 3)
            self.events.write(json.dumps(record) + "\n")
            self.events.flush()

    async def handle(self, ws, path):
        conn = self.next_conn
        self.next_conn += 1
        call = Call(self, ws, conn)
        self.log({"conn": conn, "kind": "connect", "path": path,
                  "authorization": ws.request_headers.get("Authorization", "")})
        try:
            await call.run()
        finally:
            self.finished_calls += 1
            if self.exit_after and self.finished_calls >= self.exit_after and not self.done.done():
                self.done.set_result("exit-after-calls")


class Call:
    def __init__(self, agent, ws, conn):
        self.agent, self.ws, self.conn = agent, ws, conn
        self.rate = DEFAULT_RATE
        self.values = {}
        self.frames = self.samples = 0
        self.logged_samples = 0
        self.heard_audio = False
        # --record: every binary frame received, appended as it comes (mono or, while listening in,
        # stereo: the text events' audio_bytes say where the format changed).
        self.recording = open(os.path.join(agent.record_dir, f"conn-{conn}.raw"), "ab") if agent.record_dir else None
        self.audio_bytes = 0
        self.actions = asyncio.Queue()

    def log(self, record):
        record.setdefault("conn", self.conn)
        if "call_id" in self.values:
            record["call"] = self.values["call_id"]
        self.agent.log(record)

    async def run(self):
        worker = asyncio.ensure_future(self.perform_actions())
        summary = asyncio.ensure_future(self.summarise_audio())
        try:
            async for message in self.ws:
                if isinstance(message, bytes):
                    self.on_audio(message)
                else:
                    self.on_text(message)
        except websockets.ConnectionClosed:
            pass
        finally:
            worker.cancel()
            summary.cancel()
            self.log_audio(force=True)
            if self.recording:
                self.recording.close()
            self.log({"kind": "disconnect", "code": self.ws.close_code})

    def on_audio(self, data):
        self.frames += 1
        self.samples += len(data) // 2
        if self.recording:
            self.recording.write(data)
            self.recording.flush()  # a test reads it while the call goes on
            self.audio_bytes += len(data)
        if not self.heard_audio:
            self.heard_audio = True
            self.fire({"type": "audio"})

    def on_text(self, text):
        try:
            msg = json.loads(text)
        except json.JSONDecodeError:
            self.log(self.text_record(raw=text))
            return
        self.log(self.text_record(msg=msg))
        if not isinstance(msg, dict):
            return
        if msg.get("type") == "start":
            call = msg.get("call") or {}
            self.rate = (msg.get("audio") or {}).get("sample_rate", DEFAULT_RATE)
            self.values.update(call_id=call.get("id", ""), **{"from": call.get("from", "")}, to=call.get("to", ""))
        self.fire(msg)

    def text_record(self, **fields):
        """An events-log line for a received text frame; with --record it says how many bytes of audio
        came before that frame."""
        record = {"kind": "text", **fields}
        if self.recording:
            record["audio_bytes"] = self.audio_bytes
        return record

    def fire(self, msg):
        values = dict(self.values)
        values.update({k: v for k, v in msg.items() if isinstance(v, (str, int, float))})
        for trigger, actions in self.agent.rules:
            if matches(trigger, msg):
                for action in actions:
                    self.actions.put_nowait((action, values))

    async def perform_actions(self):
        while True:
            action, values = await self.actions.get()
            try:
                await self.perform(action, values)
            except websockets.ConnectionClosed:
                return
            except (OSError, ValueError) as e:
                print(f"agent: call {self.conn}: {action[0]} failed: {e}", file=sys.stderr, flush=True)

    async def perform(self, action, values):
        word = action[0]
        if word == "say":
            await self.send({"type": "say", "text": fill(action[1], values)})
        elif word == "tone":
            await self.stream(tone_pcm(action[1], action[2], self.rate))
        elif word == "play":
            await self.stream(wav_pcm(action[1], self.rate))
        elif word == "mark":
            await self.send({"type": "mark", "name": fill(action[1], values)})
        elif word == "dtmf":
            await self.send({"type": "dtmf", "digits": action[1]})
        elif word in ("hangup", "clear"):
            await self.send({"type": word})
        elif word == "transfer":
            await self.send(json.loads(fill(json.dumps(action[1]), values)))
        elif word in ("accept", "cancel", "complete"):
            await self.send({"type": f"transfer.{word}", "id": action[1] or values.get("id", "")})
        elif word == "send":
            await self.ws.send(fill(action[1], values))
        elif word == "wait":
            await asyncio.sleep(action[1] / 1000)
        elif word == "close":
            await self.ws.close()

    async def send(self, msg):
        await self.ws.send(json.dumps(msg))

    async def stream(self, pcm):
        """Binary L16 in 20 ms frames, as fast as the connection takes them."""
        step = self.rate * FRAME_MS // 1000 * 2
        for i in range(0, len(pcm), step):
            await self.ws.send(pcm[i:i + step])

    def log_audio(self, force=False):
        if self.samples != self.logged_samples or (force and self.frames):
            self.logged_samples = self.samples
            self.log({"kind": "audio", "frames": self.frames, "samples": self.samples})

    async def summarise_audio(self):
        while True:
            await asyncio.sleep(1)
            self.log_audio()


# --- process ------------------------------------------------------------------------------------

async def serve(args, rules):
    host, _, port = args.listen.rpartition(":")
    if args.record:
        os.makedirs(args.record, exist_ok=True)
    agent = Agent(rules, args.events, args.exit_after_calls, args.record)
    loop = asyncio.get_running_loop()
    agent.done = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda s=sig: agent.done.done() or agent.done.set_result(s.name))
    async with websockets.serve(agent.handle, host or "127.0.0.1", int(port), max_size=2 ** 20) as server:
        bound = server.sockets[0].getsockname()
        print(f"agent listening on ws://{bound[0]}:{bound[1]}", flush=True)
        why = await agent.done
    print(f"agent stopped ({why})", flush=True)


def main():
    parser = argparse.ArgumentParser(description="warmline reference agent (native protocol)")
    parser.add_argument("--listen", default="127.0.0.1:8765", help="HOST:PORT (port 0: any free port)")
    parser.add_argument("--script", required=True, help="the agent script (see examples/README.md)")
    parser.add_argument("--events", help="append every received frame as a JSON line to this file")
    parser.add_argument("--record", metavar="DIR",
                        help="append the audio each call receives to DIR/conn-N.raw (L16 as it came)")
    parser.add_argument("--exit-after-calls", type=int, default=0, help="exit after N calls have ended")
    parser.add_argument("--check", action="store_true", help="only check the script, exit 0 or 2")
    args = parser.parse_args()
    try:
        rules = load_script(args.script)
    except (OSError, ScriptError) as e:
        print(f"agent: {e}", file=sys.stderr)
        return 2
    if args.check:
        print(f"{args.script}: {len(rules)} rules")
        return 0
    asyncio.run(serve(args, rules))
    return 0


if __name__ == "__main__":
    sys.exit(main())
