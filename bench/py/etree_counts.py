#!/usr/bin/env python3
"""Per-queue pilot counts from `condor_q -xml` output with xml.etree.ElementTree (C accelerated).

The fastest standard-library way a Python factory could read the same output: one
ElementTree.fromstring per document, attribute names lower-cased, the first child element's text
as the value, counts mapped through CONDORBATCHSTATUS-JOBSTATUS2INFO.
Usage: etree_counts.py <file>; prints JSON on stdout.
"""
import json
import sys
import time
import xml.etree.ElementTree as ET

MAPPING = {'0': 'pending', '1': 'pending', '2': 'running', '3': 'done', '4': 'done', '5': 'pending', '6': 'running'}


def count(output):
    counts = {}
    for part in output.split('<?xml')[1:]:
        root = ET.fromstring('<?xml' + part)
        for c in root.iter('c'):
            queue = None
            status = None
            for a in c.iter('a'):
                name = a.get('n', '').lower()
                if name == 'match_apf_queue':
                    queue = a[0].text if len(a) else None
                elif name == 'jobstatus':
                    status = a[0].text if len(a) else None
            if queue is None:
                continue
            state = MAPPING.get(status)
            c_counts = counts.setdefault(queue, {'pending': 0, 'running': 0, 'done': 0})
            if state is not None:
                c_counts[state] += 1
    return counts


def main():
    with open(sys.argv[1], encoding='utf-8') as f:
        output = f.read()
    start = time.perf_counter()
    counts = count(output)
    seconds = time.perf_counter() - start
    print(json.dumps({'seconds': seconds, 'jobs': sum(sum(c.values()) for c in counts.values()), 'counts': counts}))


if __name__ == '__main__':
    main()
