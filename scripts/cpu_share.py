#!/usr/bin/env python3
"""CPU used over a window, grouped: the engine, the sipp callers, the sipp operators, the
callers' RTP (rtp_talkers.py), dumpcap and everything else on the machine (other users of the shared cores), as % of one core; also
the whole machine's busy and steal time as % of all cores. For scripts/bench_queue.sh.
Usage: cpu_share.py SECONDS
"""
import os
import sys
import time

GROUPS = [
    ('engine', lambda comm, cmd: comm.startswith('madoguchi') and ('bench_queue.toml' in cmd or 'bench_early.toml' in cmd)),
    ('sipp_callers', lambda comm, cmd: comm == 'sipp' and ('bench_call' in cmd or 'bench_caller' in cmd or 'bench_early' in cmd)),
    ('sipp_operators', lambda comm, cmd: comm == 'sipp' and 'operator_answer' in cmd),
    ('caller_rtp', lambda comm, cmd: comm.startswith('python') and 'rtp_talkers.py' in cmd),
    ('dumpcap', lambda comm, cmd: comm == 'dumpcap'),
]


def processes():
    """pid -> (group, utime + stime in ticks)."""
    out = {}
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            stat = open(f'/proc/{pid}/stat').read()
            cmd = open(f'/proc/{pid}/cmdline', 'rb').read().replace(b'\0', b' ').decode(errors='replace')
        except OSError:
            continue
        comm = stat[stat.index('(') + 1:stat.rindex(')')]
        fields = stat[stat.rindex(')') + 2:].split()
        ticks = int(fields[11]) + int(fields[12])
        group = next((name for name, match in GROUPS if match(comm, cmd)), 'other')
        out[pid] = (group, ticks)
    return out


def machine():
    fields = [int(x) for x in open('/proc/stat').readline().split()[1:]]
    idle = fields[3] + fields[4]
    steal = fields[7] if len(fields) > 7 else 0
    return sum(fields[:8]), idle, steal


def main():
    seconds = float(sys.argv[1])
    hz = os.sysconf('SC_CLK_TCK')
    before, m0 = processes(), machine()
    time.sleep(seconds)
    after, m1 = processes(), machine()
    used = {name: 0 for name, _ in GROUPS}
    used['other'] = 0
    for pid, (group, ticks) in after.items():
        used[group] += ticks - before.get(pid, (group, 0))[1]
    total = m1[0] - m0[0] or 1
    parts = ' '.join(f'{name}={100 * t / hz / seconds:.0f}%' for name, t in used.items())
    busy = 100 * (total - (m1[1] - m0[1])) / total
    steal = 100 * (m1[2] - m0[2]) / total
    print(f'cpu_one_core_pct: {parts} machine_busy={busy:.0f}% steal={steal:.0f}%')


if __name__ == '__main__':
    main()
