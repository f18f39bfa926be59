#!/usr/bin/env python3
"""Relayed audio of bridged calls in a loopback capture (scripts/bench_queue.sh).

The callers (sipp for SIP; their audio from rtp_talkers.py on CALLER_PORT) send numbered PCMU
frames; the engine relays them to the operators (one sipp, media port OPERATOR_PORT, -rtp_echo), which
send them back, and the engine relays those to the callers. Timestamps are the kernel's, taken
as each packet crosses lo, so t_out - t_in is the time the packet spent inside the engine
(receive, rewrite, send), not the peers' scheduling.

Streams are keyed by the engine's port: a caller leg's port receives from CALLER_PORT and sends
to it, an operator leg's port likewise with OPERATOR_PORT. Which caller leg is bridged to which
operator leg comes from the two sipps' message logs (-trace_msg) when given: the engine's 200 OK
to a caller carries its caller-leg port, its INVITE to an operator carries the operator-leg port
and the caller's number (unique per call) in From. Without them it is guessed from the packets:
each frame sent to an operator is traced to the latest frame with the same number that reached
a caller leg before it, and each operator leg goes with the caller leg most of its frames came
from; that only holds while the relay is quicker than the spacing of the callers' starts.

Prints key=value lines: inter-packet gaps (ms) of what the engine sends towards callers and
towards operators, and of what it receives from each (the relays' input, whose own pacing the
relay cannot better: towards callers it relays the operators' echo); per stream p99 outside
20 +/- 5 ms; relay latency (ms) caller->operator and operator->caller.
Usage: bridge_rtp.py CAPTURE.pcap CALLER_PORT OPERATOR_PORT [CALLERS_SIP.log OPERATORS_SIP.log]
"""
import bisect
import collections
import re
import struct
import sys


def packets(path):
    """(time s, source port, destination port, frame number or None) of each UDP packet."""
    with open(path, 'rb') as f:
        head = f.read(24)
        magic, = struct.unpack('<I', head[:4])
        scale = 1e9 if magic == 0xA1B23C4D else 1e6
        linktype, = struct.unpack('<I', head[20:24])
        offset = {1: 14, 113: 16, 0: 4, 276: 20}.get(linktype, 14)
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            sec, frac, incl, _ = struct.unpack('<IIII', h)
            data = f.read(incl)
            ip = data[offset:]
            if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
                continue
            ihl = (ip[0] & 15) * 4
            sport, dport = struct.unpack('>HH', ip[ihl:ihl + 4])
            rtp = ip[ihl + 8:]
            # A 12-byte RTP header (no padding, extension or CSRC) then the frame number.
            plain = len(rtp) >= 16 and rtp[0] & 0x3F == 0
            number = struct.unpack('>I', rtp[12:16])[0] if plain else None
            yield sec + frac / scale, sport, dport, number


def sip_messages(path):
    """The messages a sipp received, from its -trace_msg log."""
    chunk, received = [], False
    with open(path, errors='replace') as f:
        for line in f:
            if line.startswith('-' * 40):
                if received:
                    yield ''.join(chunk)
                chunk, received = [], False
            elif 'message received' in line:
                received = True
            else:
                chunk.append(line)
    if received:
        yield ''.join(chunk)


def number_and_port(message):
    caller = re.search(r'^From:[^\n]*<sip:([^@>]+)@', message, re.M)
    port = re.search(r'^m=audio (\d+) ', message, re.M)
    return (caller.group(1), int(port.group(1))) if caller and port else None


def pairs_from_sip(callers_log, operators_log):
    """operator leg port -> caller leg port."""
    caller_legs = {}
    for message in sip_messages(callers_log):
        if message.lstrip().startswith('SIP/2.0 200') and re.search(r'^CSeq: *\d+ INVITE', message, re.M):
            found = number_and_port(message)
            if found:
                caller_legs[found[0]] = found[1]
    pair = {}
    for message in sip_messages(operators_log):
        if message.lstrip().startswith('INVITE '):
            found = number_and_port(message)
            if found and found[0] in caller_legs:
                pair[found[1]] = caller_legs[found[0]]
    return pair


def guess_pairs(from_callers, to_operators):
    """operator leg port -> caller leg port, from the frames' timing (see above)."""
    arrivals = collections.defaultdict(list)  # frame -> sorted [(t, caller leg)]
    for leg, frames in from_callers.items():
        for number, t in frames.items():
            arrivals[number].append((t, leg))
    for entries in arrivals.values():
        entries.sort()
    pair = {}
    for op_leg, frames in to_operators.items():
        votes = collections.Counter()
        for number, t in frames.items():
            entries = arrivals.get(number, [])
            i = bisect.bisect_right(entries, (t, float('inf'))) - 1
            if i >= 0:
                votes[entries[i][1]] += 1
        if votes:
            pair[op_leg] = votes.most_common(1)[0][0]
    return pair


def pct(values, p):
    return values[min(len(values) - 1, int(len(values) * p))] if values else float('nan')


def gap_line(name, streams):
    """Gap percentiles over all streams and the streams whose own p99 is outside 15-25 ms."""
    every, outside, counted = [], 0, 0
    for times in streams.values():
        times.sort()
        gaps = sorted((b - a) * 1000 for a, b in zip(times, times[1:]))
        every.extend(gaps)
        if len(gaps) > 10:
            counted += 1
            if not 15 <= pct(gaps, .99) <= 25:
                outside += 1
    every.sort()
    return (f"{name}: streams={counted} gaps={len(every)} p50={pct(every, .5):.3f} "
            f"p99={pct(every, .99):.3f} p999={pct(every, .999):.3f} "
            f"max={every[-1] if every else float('nan'):.3f} streams_p99_outside_15_25ms={outside}")


def latency_line(name, delays, unmatched):
    delays.sort()
    return (f"{name}: packets={len(delays)} p50={pct(delays, .5):.3f} p90={pct(delays, .9):.3f} "
            f"p99={pct(delays, .99):.3f} max={delays[-1] if delays else float('nan'):.3f} "
            f"unmatched={unmatched}")


def main():
    path, caller_port, operator_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    from_callers = collections.defaultdict(dict)    # caller leg port -> {frame: t}
    to_operators = collections.defaultdict(dict)    # operator leg port -> {frame: t}
    from_operators = collections.defaultdict(dict)  # operator leg port -> {frame: t}
    to_callers = collections.defaultdict(dict)      # caller leg port -> {frame: t}
    names = ('to_callers', 'to_operators', 'from_callers', 'from_operators')
    gaps = {name: collections.defaultdict(list) for name in names}
    for t, sport, dport, number in packets(path):
        if sport == caller_port:
            gaps['from_callers'][dport].append(t)
            table, leg = from_callers, dport
        elif dport == operator_port:
            gaps['to_operators'][sport].append(t)
            table, leg = to_operators, sport
        elif sport == operator_port:
            gaps['from_operators'][dport].append(t)
            table, leg = from_operators, dport
        elif dport == caller_port:
            gaps['to_callers'][sport].append(t)
            table, leg = to_callers, sport
        else:
            continue
        if number is not None:
            table[leg].setdefault(number, t)

    if len(sys.argv) > 5:
        how = 'sip'
        pair = {op: caller for op, caller in pairs_from_sip(sys.argv[4], sys.argv[5]).items()
                if op in to_operators}
    else:
        how = 'timing'
        pair = guess_pairs(from_callers, to_operators)

    forward, backward, lost_fwd, lost_back = [], [], 0, 0
    for op_leg, caller_leg in pair.items():
        sent, received = from_callers[caller_leg], to_operators[op_leg]
        for number, t in received.items():
            if number in sent:
                forward.append((t - sent[number]) * 1000)
            else:
                lost_fwd += 1
        echoed, relayed = from_operators[op_leg], to_callers[caller_leg]
        for number, t in relayed.items():
            if number in echoed:
                backward.append((t - echoed[number]) * 1000)
            else:
                lost_back += 1

    for name in names:
        print(gap_line('gaps_' + name, gaps[name]))
    print(f"pairs: bridged_legs_paired={len(pair)} of={len(to_operators)} from={how}"
          f" one_caller_leg_twice={len(pair) - len(set(pair.values()))}")
    print(latency_line('latency_caller_to_operator', forward, lost_fwd))
    print(latency_line('latency_operator_to_caller', backward, lost_back))


if __name__ == '__main__':
    main()
