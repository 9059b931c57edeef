#!/usr/bin/env python3
"""bench/report.py WORKDIR JSON: turn bench/run's raw data into the table and the JSON.

WORKDIR holds the captures as tcpdump text (-tt -S, nanosecond stamps), the
launcher's lines (LABEL ROUND ELAPSED_NS MAXRSS_KIB STATUS START_REALTIME_NS) and
`machine` (key=value). Standard library only.
"""
import json
import os
import re
import sys
import time

SEG = re.compile(r'(\d+)\.(\d+) IP (\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+): '
                 r'Flags \[([^\]]*)\](?:, seq (\d+)(?::(\d+))?)?(?:, ack (\d+))?.*?, length (\d+)')


def segments(path):
    """Every TCP segment of a capture: dicts with t (ns), src, sport, dst, dport, flags, seq, end, ack, len."""
    out = []
    if not os.path.exists(path):
        return out
    for line in open(path):
        m = SEG.match(line)
        if not m:
            continue
        frac = (m.group(2) + '000000000')[:9]
        seq = int(m.group(8)) if m.group(8) else None
        out.append({'t': int(m.group(1)) * 10**9 + int(frac), 'src': m.group(3), 'sport': int(m.group(4)),
                    'dst': m.group(5), 'dport': int(m.group(6)), 'flags': m.group(7), 'seq': seq,
                    'end': int(m.group(9)) if m.group(9) else seq,
                    'ack': int(m.group(10)) if m.group(10) else None, 'len': int(m.group(11))})
    return out


def runs(path):
    """The launcher's lines: dicts with label, round, ns, rss_kib, status, start (realtime ns)."""
    out = []
    if not os.path.exists(path):
        return out
    for line in open(path):
        f = line.split()
        if len(f) == 6:
            out.append({'label': f[0], 'round': int(f[1]), 'ns': int(f[2]), 'rss_kib': int(f[3]),
                        'status': int(f[4]), 'start': int(f[5])})
    return out


def quantile(s, q):
    """Linear interpolation between the closest ranks of sorted s."""
    if len(s) == 1:
        return s[0]
    pos = q * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def stats(values, scale=1.0):
    """n, median, p10, p90, min, max of values divided by scale (None when empty)."""
    s = sorted(v / scale for v in values)
    if not s:
        return None
    return {'n': len(s), 'median': quantile(s, 0.5), 'p10': quantile(s, 0.1), 'p90': quantile(s, 0.9),
            'min': s[0], 'max': s[-1]}


def who(sport, hs_base, kernel_base, n):
    if hs_base <= sport < hs_base + n:
        return 'hs'
    if kernel_base <= sport < kernel_base + n:
        return 'ref'
    return None


def reaction(segs, server_port, n):
    """SYN,ACK from the server -> the client's ACK, per client source port (10000+i hs, 15000+i kernel)."""
    synack, delay = {}, {'hs': [], 'ref': []}
    for s in segs:
        if s['sport'] == server_port and s['flags'] == 'S.':
            synack[s['dport']] = s['t']
        elif s['dport'] == server_port and s['sport'] in synack and '.' in s['flags'] and 'S' not in s['flags']:
            side = who(s['sport'], 10000, 15000, n)
            if side:
                delay[side].append(s['t'] - synack.pop(s['sport']))
    return delay


def syn_synack(segs, n):
    """Client SYN -> server SYN,ACK: hs listen on 8083, kernel listen() on 8082."""
    syn, delay, retrans = {}, {'hs': [], 'ref': []}, {'hs': 0, 'ref': 0}
    for s in segs:
        if s['flags'] == 'S' and s['dport'] in (8082, 8083):
            key = (s['sport'], s['dport'])
            side = 'hs' if s['dport'] == 8083 else 'ref'
            if key in syn:
                retrans[side] += 1
            syn[key] = s['t']
        elif s['flags'] == 'S.' and (s['dport'], s['sport']) in syn:
            side = 'hs' if s['sport'] == 8083 else 'ref'
            delay[side].append(s['t'] - syn.pop((s['dport'], s['sport'])))
    return delay, retrans


def data_ack(segs, n):
    """The peer's data (from 8081) -> the first client segment acknowledging it.
    Counts how often that segment was a pure ACK (not an RST or FIN that came first)."""
    data, delay, pure = {}, {'hs': [], 'ref': []}, {'hs': 0, 'ref': 0}
    for s in segs:
        if s['sport'] == 8081 and s['len'] > 0 and s['dport'] not in data:
            data[s['dport']] = (s['t'], s['end'])
        elif s['dport'] == 8081 and s['sport'] in data and s['ack'] is not None and s['ack'] >= data[s['sport']][1]:
            side = who(s['sport'], 20000, 25000, n)
            t, _ = data.pop(s['sport'])
            if side:
                delay[side].append(s['t'] - t)
                pure[side] += s['flags'] == '.' and s['len'] == 0
    return delay, pure


def exec_to_syn(rs, segs):
    """Per run: the first SYN seen between its start and its end, minus its start."""
    syns = sorted(s['t'] for s in segs if s['flags'] == 'S')
    out = {}
    for r in rs:
        end = r['start'] + r['ns']
        first = next((t for t in syns if r['start'] <= t <= end), None)
        if first is not None:
            out.setdefault(r['label'], []).append(first - r['start'])
    return out


def main():
    work, json_path = sys.argv[1], sys.argv[2]
    machine = {}
    for line in open(os.path.join(work, 'machine')):
        k, _, v = line.rstrip('\n').partition('=')
        machine[k] = v
    n, m = int(machine['n']), int(machine['m'])
    notes = []
    figs = []

    def fig(key, title, unit, hs, ref, ref_name, goal=None, goal_text='-', higher_better=False, extra=None):
        ratio = hs['median'] / ref['median'] if hs and ref and ref['median'] else None
        met = None
        if goal is not None and hs:
            kind, bound = goal
            if kind.startswith('ratio') and ratio is None:
                met = None  # no reference: nothing to judge
            elif kind == 'ratio_le':
                met = ratio is not None and ratio <= bound
            elif kind == 'ratio_lt':
                met = ratio is not None and ratio < bound
            elif kind == 'ratio_ge':
                met = ratio is not None and ratio >= bound
            elif kind == 'abs_lt':
                met = hs['median'] < bound
        f = {'key': key, 'title': title, 'unit': unit, 'hs': hs, 'ref': ref, 'ref_name': ref_name,
             'ratio': ratio, 'goal': goal_text, 'met': met, 'higher_is_better': higher_better}
        if extra:
            f.update(extra)
        figs.append(f)

    def ran(name):
        return os.path.exists(os.path.join(work, name))

    def failed_runs(what, name):
        """A note for the launched runs that exited non-zero."""
        bad = {}
        for r in runs(os.path.join(work, name)):
            if r['status'] != 0:
                bad.setdefault(r['label'], []).append(r)
        for label, lst in bad.items():
            notes.append(f'{what}: {len(lst)} {label} runs exited non-zero (first: round {lst[0]["round"]}, '
                         f'exit {lst[0]["status"]})')

    # 1. reaction
    if ran('react.spawn'):
        d = reaction(segments(os.path.join(work, 'react.txt')), 8080, n)
        failed_runs('reaction', 'react.spawn')
        fig('reaction', 'SYN,ACK -> ACK (peer veth)', 'us', stats(d['hs'], 1e3), stats(d['ref'], 1e3),
            'kernel connect()', ('ratio_le', 1.5), '<= 1.5x')
        for side, name in (('hs', 'hs'), ('ref', 'kernel')):
            if len(d[side]) < n:
                notes.append(f'reaction: {len(d[side])} of {n} {name} handshakes paired')

    # 2. SYN -> SYN,ACK
    if ran('listen.txt'):
        d, retrans = syn_synack(segments(os.path.join(work, 'listen.txt')), n)
        fig('listen', 'SYN -> SYN,ACK (client veth)', 'us', stats(d['hs'], 1e3), stats(d['ref'], 1e3),
            'kernel listen()', extra={'syn_retransmissions': retrans})
        for side, name in (('hs', 'hs listen'), ('ref', 'kernel listen()')):
            if len(d[side]) < n:
                notes.append(f'SYN -> SYN,ACK: {len(d[side])} of {n} SYNs to {name} answered')
            if retrans[side]:
                notes.append(f'SYN -> SYN,ACK: {retrans[side]} SYNs to {name} retransmitted (the last one was paired)')
        fails = [x for x in open(os.path.join(work, 'listen.fail')).read().splitlines() if x.strip()] \
            if os.path.exists(os.path.join(work, 'listen.fail')) else []
        for x in fails[:4]:
            notes.append(x)
        if len(fails) > 4:
            notes.append(f'hs listen: {len(fails) - 4} more failures')

    # 3. data -> ACK
    if ran('data.txt'):
        d, pure = data_ack(segments(os.path.join(work, 'data.txt')), n)
        failed_runs('data -> ACK', 'data.spawn')
        for side, name in (('hs', 'hs'), ('ref', 'kernel')):
            if len(d[side]) < n:
                notes.append(f'data -> ACK: {len(d[side])} of {n} {name} connections paired')
        fig('data_ack', "peer's data -> ACK (peer veth)", 'us', stats(d['hs'], 1e3), stats(d['ref'], 1e3),
            'kernel client', ('ratio_le', 2.0), '<= 2x', extra={'pure_acks': pure})
        for side, name in (('hs', 'hs'), ('ref', 'the kernel client')):
            if d[side] and pure[side] < len(d[side]):
                notes.append(f'data -> ACK: {name} answered {len(d[side]) - pure[side]} of {len(d[side])} data '
                             'segments with something else than a pure ACK first (delayed ACK?)')
        k = stats(d['ref'], 1e3)
        if k and k['median'] > 20000:
            notes.append('data -> ACK: the kernel client delays its ACK (no quickack?)')

    # 4-6. whole processes
    if ran('proc.spawn'):
        rs = runs(os.path.join(work, 'proc.spawn'))
        by = {}
        for r in rs:
            by.setdefault(r['label'], []).append(r)
        for label, lst in by.items():
            bad = [r for r in lst if r['status'] != 0]
            if bad:
                notes.append(f'{label}: {len(bad)} of {len(lst)} runs exited non-zero (first: {bad[0]["status"]})')

        def ok(label):
            return [r for r in by.get(label, []) if r['status'] == 0]

        def proc_stats(label, field, scale):
            return stats([r[field] for r in ok(label)], scale)

        hp = machine.get('hping3_skipped') or ''
        fig('process_kernel', 'whole hs connect --close rst -q', 'ms', proc_stats('hs', 'ns', 1e6),
            proc_stats('kernel', 'ns', 1e6), 'kernel-socket client', ('ratio_le', 3.0), '<= 3x')
        fig('process_hping3', 'whole hs connect --close rst -q', 'ms', proc_stats('hs', 'ns', 1e6),
            proc_stats('hping3', 'ns', 1e6), 'hping3 -S -c 1' if not hp else f'hping3 (skipped: {hp})',
            ('ratio_lt', 1.0), '< 1x')
        fig('rss', 'peak RSS', 'MiB', proc_stats('hs', 'rss_kib', 1024), proc_stats('hping3', 'rss_kib', 1024),
            'hping3' if not hp else f'hping3 (skipped: {hp})', ('abs_lt', 8.0), '< 8 MiB',
            extra={'kernel_client': proc_stats('kernel', 'rss_kib', 1024)})
        e2s = exec_to_syn([r for r in rs if r['status'] == 0], segments(os.path.join(work, 'proc.txt')))
        fig('exec_syn_kernel', 'exec -> first SYN on the wire', 'ms', stats(e2s.get('hs', []), 1e6),
            stats(e2s.get('kernel', []), 1e6), 'kernel-socket client')
        fig('exec_syn_hping3', 'exec -> first SYN on the wire', 'ms', stats(e2s.get('hs', []), 1e6),
            stats(e2s.get('hping3', []), 1e6), 'hping3 -S -c 1' if not hp else f'hping3 (skipped: {hp})')

    # 7. handshake rate: the peer's count after each run, in order (a baseline first)
    if ran('rate.spawn'):
        counts = [int(x) for x in open(os.path.join(work, 'peer8080')).read().split() if x.isdigit()]
        rr = runs(os.path.join(work, 'rate.spawn'))
        rc = int(machine['rate_count'])
        rates = {'hs': [], 'kernel': []}
        accepted = {'hs': [], 'kernel': []}
        for i, r in enumerate(rr):
            seen = counts[i + 1] - counts[i] if i + 1 < len(counts) else None
            accepted[r['label']].append(seen)
            if r['status'] == 0 and seen == rc:
                rates[r['label']].append(rc / (r['ns'] / 1e9))
            else:
                notes.append(f'rate: a {r["label"]} run exited {r["status"]}, the peer accepted {seen} of {rc}: not counted')
        hs_rate = stats(rates['hs']) if machine.get('hs_count') == '1' else None
        fig('rate', f'handshakes/s (--count {rc}, whole process)', '/s', hs_rate, stats(rates['kernel']),
            'kernel connect()+abort loop', ('ratio_ge', 0.5), '>= 0.5x', higher_better=True,
            extra={'peer_accepted': accepted, 'hs_count_supported': machine.get('hs_count') == '1'})
        if machine.get('hs_count') != '1':
            notes.append('rate: this hs has no connect --count: n/a')

    drops = open(os.path.join(work, 'drops')).read().split('\n') if os.path.exists(os.path.join(work, 'drops')) else []
    for line in drops:
        if line and not re.search(r': 0 packets dropped', line):
            notes.append('tcpdump ' + line)

    result = {
        'format': 'hs-bench/1',
        'date': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
        'machine': {k: machine.get(k) for k in ('nproc', 'model', 'kernel', 'pinning')},
        'hs': {k: machine.get(k) for k in ('hs_path', 'hs_version', 'hs_commit')},
        'params': {'n': n, 'm': m, 'rate_count': int(machine['rate_count']), 'rate_rounds': int(machine['rate_rounds']),
                   'only': machine.get('only') or 'all',
                   'quick': machine.get('quick') == '1', 'seconds': int(machine.get('seconds', 0))},
        'figures': figs,
        'notes': notes,
    }
    with open(json_path, 'w') as f:
        json.dump(result, f, indent=1)
        f.write('\n')
    print(table(result))


def fmt(v, unit):
    if v is None:
        return 'n/a'
    if unit == '/s':
        return f'{v:,.0f}'
    if v >= 100:
        return f'{v:.0f}'
    return f'{v:.1f}' if v >= 10 else f'{v:.2f}'


def cell(st, unit):
    if not st:
        return 'n/a'
    return f"{fmt(st['median'], unit)} ({fmt(st['p10'], unit)}-{fmt(st['p90'], unit)})"


def table(r):
    """A Markdown table: medians, p10-p90 in brackets."""
    rows = [('figure', 'unit', 'hs', 'reference', 'ratio', 'goal', 'met')]
    for f in r['figures']:
        hs = cell(f['hs'], f['unit'])
        if f['key'] == 'rate' and not f.get('hs_count_supported'):
            hs = 'n/a (no --count)'
        rows.append((f['title'], f['unit'], hs, f"{cell(f['ref'], f['unit'])} {f['ref_name']}",
                     f"{f['ratio']:.2f}x" if f['ratio'] is not None else 'n/a', f['goal'],
                     {True: 'yes', False: 'no', None: '-'}[f['met']]))
    w = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ['| ' + ' | '.join(c.ljust(w[i]) for i, c in enumerate(row)) + ' |' for row in rows]
    lines.insert(1, '|' + '|'.join('-' * (x + 2) for x in w) + '|')
    m, h, p = r['machine'], r['hs'], r['params']
    lines.append('')
    lines.append(f"medians (p10-p90); N={p['n']} latency samples, M={p['m']} processes, rate "
                 f"{p['rate_rounds']}x{p['rate_count']}; {m['nproc']} x {m['model']}, Linux {m['kernel']}; "
                 f"{h['hs_version']} ({h['hs_commit']}); {m['pinning']}")
    for n in r['notes']:
        lines.append('note: ' + n)
    return '\n'.join(lines)


if __name__ == '__main__':
    main()
