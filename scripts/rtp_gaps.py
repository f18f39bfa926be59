#!/usr/bin/env python3
"""Inter-packet gaps of every RTP stream in a capture (classic pcap), keyed by UDP source port.

The timestamps are the kernel's, taken as each packet crosses the loopback interface, so the
figures show the engine's pacing, not the receiver's scheduling. Prints one line:
streams, packets, gap percentiles over all streams (ms) and the number of streams whose own
99th percentile gap lies outside 20 +/- 5 ms.
Usage: rtp_gaps.py CAPTURE.pcap
"""
import struct, sys, collections
f = open(sys.argv[1], 'rb')
gh = f.read(24)
magic, = struct.unpack('<I', gh[:4])
nano = magic == 0xa1b23c4d
linktype, = struct.unpack('<I', gh[20:24])
last = {}
gaps = collections.defaultdict(list)
while True:
    h = f.read(16)
    if len(h) < 16: break
    sec, frac, incl, orig = struct.unpack('<IIII', h)
    data = f.read(incl)
    t = sec + frac / (1e9 if nano else 1e6)
    off = {1: 14, 113: 16, 0: 4, 276: 20}.get(linktype, 14)
    ip = data[off:]
    if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17: continue
    ihl = (ip[0] & 15) * 4
    sport, dport = struct.unpack('>HH', ip[ihl:ihl+4])
    if sport in last: gaps[sport].append((t - last[sport]) * 1000)
    last[sport] = t
allg = sorted(g for v in gaps.values() for g in v)
def pct(a, p): return a[min(len(a)-1, int(len(a)*p))] if a else 0
out = 0
for v in gaps.values():
    v.sort()
    if len(v) > 10 and not (15 <= pct(v, .99) <= 25): out += 1
print(f"streams={len(gaps)} packets={len(allg)+len(gaps)} p50={pct(allg,.5):.3f} p99={pct(allg,.99):.3f} p999={pct(allg,.999):.3f} max={allg[-1] if allg else 0:.3f} streams_p99_outside_15_25ms={out}")
