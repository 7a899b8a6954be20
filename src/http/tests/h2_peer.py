#!/usr/bin/python3
"""A frame-level HTTP/2 client for the server's h2 tests (h2_test.cpp).

Usage: h2_peer.py SCENARIO PORT. Speaks h2c with prior knowledge to
127.0.0.1:PORT using Debian's python3-h2 (hyperframe for frames h2 would not
send), checks what the server answers, prints "ok ..." and exits 0, or prints
why and exits 1. Every wait is bounded (10 s).
"""
import os
import socket
import sys
import time

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings
from hyperframe.frame import (ContinuationFrame, DataFrame, Frame, GoAwayFrame, HeadersFrame,
                              PingFrame, PriorityFrame, SettingsFrame)

ENHANCE_YOUR_CALM = 0xB
REFUSED_STREAM = 0x7
DEADLINE = 10.0
VERBOSE = bool(os.environ.get("H2_PEER_VERBOSE"))


def fail(msg):
    print("FAIL", msg)
    sys.exit(1)


class Peer:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        cfg = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config=cfg)
        self.conn.initiate_connection()
        self.flush()
        self.bodies = {}
        self.status = {}
        self.ended = set()
        self.resets = {}
        self.goaway = None
        self.closed = False
        self.acked = False
        self.server_settings = {}

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def raw(self, frame_bytes):
        self.sock.sendall(frame_bytes)

    def pump(self, until, timeout=DEADLINE):
        """Reads and handles events until until() or the deadline."""
        end = time.monotonic() + timeout
        while not until():
            left = end - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return until()
            except ConnectionResetError:
                data = b""
            if not data:
                self.closed = True
                return until()
            if VERBOSE:
                print("raw", data[:200])
            try:
                events = self.conn.receive_data(data)
            except h2.exceptions.ProtocolError as e:
                # h2 takes a GOAWAY as the end: later frames are refused.
                if VERBOSE:
                    print("protocol error", e)
                self.closed = True
                return until()
            for ev in events:
                if VERBOSE:
                    print("event", ev)
                if isinstance(ev, h2.events.ResponseReceived):
                    self.status[ev.stream_id] = dict(ev.headers)[":status"]
                elif isinstance(ev, h2.events.DataReceived):
                    self.bodies.setdefault(ev.stream_id, bytearray()).extend(ev.data)
                    if ev.flow_controlled_length:
                        self.conn.acknowledge_received_data(ev.flow_controlled_length,
                                                            ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded):
                    self.ended.add(ev.stream_id)
                elif isinstance(ev, h2.events.StreamReset):
                    self.resets[ev.stream_id] = ev.error_code
                elif isinstance(ev, h2.events.RemoteSettingsChanged):
                    for code, change in ev.changed_settings.items():
                        self.server_settings[code] = change.new_value
                elif isinstance(ev, h2.events.SettingsAcknowledged):
                    self.acked = True
                elif isinstance(ev, h2.events.ConnectionTerminated):
                    self.goaway = ev
            try:
                self.flush()
            except OSError:
                pass
        return True

    def get(self, sid, path, method="GET", end_stream=True, extra=()):
        headers = [(":method", method), (":scheme", "http"), (":authority", "localhost"),
                   (":path", path)] + list(extra)
        self.conn.send_headers(sid, headers, end_stream=end_stream)


def read_raw_frames(sock):
    """Every frame the server sends until it closes the connection."""
    buf = b""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        sock.settimeout(max(0.1, end - time.monotonic()))
        try:
            data = sock.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not data:
            break
        buf += data
    frames = []
    while len(buf) >= 9:
        frame, length = Frame.parse_frame_header(memoryview(buf[:9]))
        if len(buf) < 9 + length:
            break
        frame.parse_body(memoryview(buf[9:9 + length]))
        frames.append(frame)
        buf = buf[9 + length:]
    return frames


def expect_goaway(p, code):
    p.pump(lambda: p.goaway is not None or p.closed)
    if p.goaway is None:
        fail("no GOAWAY (connection closed: %s)" % p.closed)
    if code is not None and p.goaway.error_code != code:
        fail("GOAWAY %s, want %s" % (p.goaway.error_code, code))
    print("ok goaway", int(p.goaway.error_code))


def header_block(p, sid, headers):
    return p.conn.encoder.encode(headers)


def main():
    scenario, port = sys.argv[1], int(sys.argv[2])
    if scenario == "concurrent":
        # Ten streams whose handlers wait for each other: each has its own goroutine.
        p = Peer(port)
        ids = [1 + 2 * i for i in range(10)]
        for sid in ids:
            p.get(sid, "/barrier")
        p.flush()
        p.pump(lambda: all(s in p.ended for s in ids))
        for sid in ids:
            if p.status.get(sid) != "200" or bytes(p.bodies.get(sid, b"")) != b"HTTP/2.0 met":
                fail("stream %d: %s %r" % (sid, p.status.get(sid), p.bodies.get(sid)))
        print("ok concurrent", len(ids))
    elif scenario == "echo":
        # A 1 MiB body sent as the server's WINDOW_UPDATEs allow, echoed back.
        p = Peer(port)
        body = bytes((i * 7) % 251 for i in range(1 << 20))
        p.get(1, "/echo", method="POST", end_stream=False,
              extra=[("content-length", str(len(body)))])
        p.flush()
        sent = 0
        while sent < len(body):
            window = min(p.conn.local_flow_control_window(1), p.conn.max_outbound_frame_size)
            if window == 0:
                if not p.pump(lambda: p.conn.local_flow_control_window(1) > 0, 5):
                    fail("window stayed closed after %d bytes" % sent)
                continue
            n = min(window, len(body) - sent)
            p.conn.send_data(1, body[sent:sent + n], end_stream=sent + n == len(body))
            sent += n
            p.flush()
        p.pump(lambda: 1 in p.ended)
        if p.status.get(1) != "200" or bytes(p.bodies.get(1, b"")) != body:
            fail("echo: %s, %d bytes back" % (p.status.get(1), len(p.bodies.get(1, b""))))
        print("ok echo", len(body))
    elif scenario == "max_streams":
        # 110 streams sent before the server's SETTINGS are read (h2 would
        # hold back past the limit): the server refuses those past 100.
        p = Peer(port)
        ids = [1 + 2 * i for i in range(110)]
        for sid in ids:
            p.get(sid, "/block")
        p.flush()
        p.pump(lambda: len(p.resets) >= 10, 5)
        refused = [s for s, c in p.resets.items() if c == REFUSED_STREAM]
        if len(refused) < 10:
            fail("resets %r" % p.resets)
        advertised = p.server_settings.get(h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS)
        if advertised != 100:
            fail("SETTINGS_MAX_CONCURRENT_STREAMS %r" % advertised)
        print("ok refused", len(refused), "advertised", advertised)
    elif scenario == "header_list":
        # RFC 9113 §6.5.2: past SETTINGS_MAX_HEADER_LIST_SIZE, 431 (as Go).
        p = Peer(port)
        p.get(1, "/", extra=[("x-big-%d" % i, "v" * 1000) for i in range(40)])
        p.flush()
        p.pump(lambda: 1 in p.ended or 1 in p.resets)
        if p.status.get(1) != "431":
            fail("status %s resets %r" % (p.status.get(1), p.resets))
        print("ok 431")
    elif scenario == "hpack_bomb":
        # RFC 7541 §7.3: 4 KB in the dynamic table, then 1000 one-byte
        # references to it (4 MB decoded from ~1 KB sent): 431, connection lives.
        p = Peer(port)
        p.get(1, "/", extra=[("x-bomb", "a" * 4000)])
        p.flush()
        p.pump(lambda: 1 in p.ended)
        p.get(3, "/", extra=[("x-bomb", "a" * 4000)] * 1000)
        p.flush()
        p.pump(lambda: 3 in p.ended or 3 in p.resets)
        if p.status.get(1) != "200" or p.status.get(3) != "431":
            fail("statuses %r resets %r" % (p.status, p.resets))
        p.get(5, "/")
        p.flush()
        p.pump(lambda: 5 in p.ended)
        if p.status.get(5) != "200":
            fail("after the bomb: %r" % p.status)
        print("ok bomb 431, then 200")
    elif scenario == "continuation":
        # CVE-2024-27316: HEADERS then CONTINUATION frames without end.
        p = Peer(port)
        block = header_block(p, 1, [(":method", "GET"), (":scheme", "http"),
                                    (":authority", "localhost"), (":path", "/")])
        h = HeadersFrame(1, data=block[:5])
        p.raw(h.serialize())
        rest = block[5:]
        for i in range(100):
            c = ContinuationFrame(1, data=b"\x40\x01a\x01b" if i else rest)
            try:
                p.raw(c.serialize())
            except OSError:
                break
        expect_goaway(p, None)
        if p.goaway.error_code == 0:
            fail("GOAWAY NO_ERROR for a CONTINUATION flood")
    elif scenario == "rapid_reset":
        # CVE-2023-44487: streams opened and cancelled at once.
        p = Peer(port)
        sent = 0
        try:
            for i in range(3000):
                sid = 1 + 2 * i
                p.get(sid, "/slow")
                p.conn.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
                p.flush()
                sent += 1
        except OSError:
            pass
        expect_goaway(p, ENHANCE_YOUR_CALM)
        print("sent", sent)
    elif scenario in ("ping_flood", "settings_flood", "priority_flood", "empty_data_flood"):
        p = Peer(port)
        frames = []
        if scenario == "empty_data_flood":
            p.get(1, "/block", method="POST", end_stream=False)
            p.flush()
        for i in range(5000):
            if scenario == "ping_flood":
                frames.append(PingFrame(0, opaque_data=i.to_bytes(8, "big")).serialize())
            elif scenario == "settings_flood":
                frames.append(SettingsFrame(0).serialize())
            elif scenario == "priority_flood":
                frames.append(PriorityFrame(1 + 2 * (i % 100), depends_on=0,
                                            stream_weight=16).serialize())
            else:
                frames.append(DataFrame(1, data=b"").serialize())
        try:
            p.raw(b"".join(frames))
        except OSError:
            pass
        expect_goaway(p, ENHANCE_YOUR_CALM)
    elif scenario == "zero_window":
        # The client never opens its window: the handler parks, the server
        # holds a bounded amount; after 1.5 s we hang up.
        p = Peer(port)
        p.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
        p.flush()
        p.pump(lambda: p.conn.local_settings.initial_window_size == 0)
        p.get(1, "/big")
        p.flush()
        p.pump(lambda: False, 1.5)
        if p.bodies.get(1):
            fail("DATA past a zero window: %d bytes" % len(p.bodies[1]))
        if p.closed:
            fail("connection closed")
        print("ok status", p.status.get(1))
    elif scenario == "idle":
        # No stream for the idle timeout: GOAWAY(NO_ERROR), then close.
        p = Peer(port)
        start = time.monotonic()
        expect_goaway(p, 0)
        p.pump(lambda: p.closed, 5)
        if not p.closed:
            fail("not closed after GOAWAY")
        print("after %.1f s" % (time.monotonic() - start))
    elif scenario == "shutdown":
        # Server::shutdown while a stream runs: GOAWAY(NO_ERROR), and the
        # stream still completes (RFC 9113 §6.8).
        # h2 refuses frames after a GOAWAY, so they are read raw here.
        p = Peer(port)
        p.get(1, "/slow")
        p.flush()
        frames = read_raw_frames(p.sock)
        kinds = [(type(f).__name__, f.stream_id) for f in frames]
        goaway = [i for i, f in enumerate(frames) if isinstance(f, GoAwayFrame)]
        if not goaway or frames[goaway[0]].error_code != 0:
            fail("no GOAWAY(NO_ERROR): %r" % kinds)
        g = frames[goaway[0]]
        headers = [f for f in frames if isinstance(f, HeadersFrame) and f.stream_id == 1]
        data = b"".join(f.data for f in frames if isinstance(f, DataFrame) and f.stream_id == 1)
        ended = any("END_STREAM" in f.flags for f in frames
                    if f.stream_id == 1 and isinstance(f, (DataFrame, HeadersFrame)))
        if not headers or data != b"finished" or not ended or g.last_stream_id != 1:
            fail("stream 1 after GOAWAY: %r data %r" % (kinds, data))
        status = dict(p.conn.decoder.decode(headers[0].data))
        if status.get(b":status", status.get(":status")) not in (b"200", "200"):
            fail("status %r" % status)
        print("ok goaway then stream 1 finished")
    else:
        fail("unknown scenario " + scenario)


if __name__ == "__main__":
    main()
