#!/usr/bin/env python3
"""The voices of the benchmark callers (scripts/bench_queue.sh): one UDP socket that every
caller's SDP names as its media address, sending each caller leg a steady PCMU stream.

sipp places the calls; this sends their audio, because sipp's own senders do not scale to
hundreds of calls on two cores: play_pcap_audio opens a raw socket per call (every UDP
packet the host receives is then copied to each of them) and rtp_stream paces on a
millisecond clock (p99 gaps of 30-40 ms before the engine sees a packet).

The engine sends each caller leg's audio (hold music, then the relayed operator) to this
socket; the first packet from a new engine port starts a stream back to that port (symmetric
RTP). Streams are spread over the 20 ms frame (stream i sends at i mod 20 ms), as independent
phones would be, so the engine gets a steady flow rather than one burst per frame. Each
payload starts with the stream's frame number (4 bytes, big-endian; the rest µ-law
near-silence), so a relayed packet can be matched with the packet it came from.
Once STREAMS engine ports are known the socket is no longer read.
Usage: rtp_talkers.py PORT STREAMS SECONDS
"""
import os
import socket
import struct
import sys
import time

FRAME_S = 0.020
SLOTS = 20  # 1 ms apart
FILLER = b'\xfe' * 156


class Stream:
    def __init__(self, address, index):
        self.address = address
        self.slot = index % SLOTS
        self.ssrc = struct.unpack('>I', os.urandom(4))[0]
        self.seq = struct.unpack('>H', os.urandom(2))[0]
        self.frame = 0

    def packet(self):
        marker = 0x80 if self.frame == 0 else 0
        header = struct.pack('>BBHII', 0x80, marker, self.seq, (self.frame * 160) & 0xFFFFFFFF, self.ssrc)
        self.seq = (self.seq + 1) & 0xFFFF
        self.frame += 1
        return header + struct.pack('>I', self.frame - 1) + FILLER


def main():
    port, wanted, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(('127.0.0.1', port))
    sock.setblocking(False)
    streams, by_slot = {}, [[] for _ in range(SLOTS)]
    start = time.monotonic()
    tick = 0
    while time.monotonic() - start < seconds:
        if len(streams) < wanted:
            for _ in range(1000):
                try:
                    _, address = sock.recvfrom(2048)
                except BlockingIOError:
                    break
                if address not in streams:
                    stream = Stream(address, len(streams))
                    streams[address] = stream
                    by_slot[stream.slot].append(stream)
        for stream in by_slot[tick % SLOTS]:
            try:
                sock.sendto(stream.packet(), stream.address)
            except OSError:
                pass  # the call ended and its port closed
        tick += 1
        delay = start + tick * FRAME_S / SLOTS - time.monotonic()
        if delay > 0:
            time.sleep(delay)


if __name__ == '__main__':
    main()
