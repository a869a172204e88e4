#!/usr/bin/env python3
"""Per-queue pilot counts from `condor_q -xml` output, the way APF <= 2.4.10 read it.

APF's Condor batch status plugin split the output on every `<?xml`, parsed each part with
xml.dom.minidom, took every <c> as a job and every <a n="..."> as an attribute (name lower-cased,
value = text of the first child element), then counted jobs per MATCH_APF_QUEUE and JobStatus and
mapped the statuses through CONDORBATCHSTATUS-JOBSTATUS2INFO. This script does the same so that
`npm run bench:parse` can time it. Usage: minidom_counts.py <file>; prints JSON on stdout.
"""
import json
import sys
import time
from xml.dom import minidom

MAPPING = {'0': 'pending', '1': 'pending', '2': 'running', '3': 'done', '4': 'done', '5': 'pending', '6': 'running'}


def node_text(node):
    return ''.join(n.data for n in node.childNodes if n.nodeType == n.TEXT_NODE)


def jobs_of(output):
    jobs = []
    for part in output.split('<?xml')[1:]:
        doc = minidom.parseString('<?xml' + part)
        for c in doc.getElementsByTagName('c'):
            job = {}
            for a in c.getElementsByTagName('a'):
                value_nodes = [n for n in a.childNodes if n.nodeType == n.ELEMENT_NODE]
                job[a.getAttribute('n').lower()] = node_text(value_nodes[0]) if value_nodes else None
            jobs.append(job)
    return jobs


def count(jobs):
    raw = {}
    for job in jobs:
        queue = job.get('match_apf_queue')
        if queue is None:
            continue
        per_queue = raw.setdefault(queue, {})
        per_queue[job.get('jobstatus')] = per_queue.get(job.get('jobstatus'), 0) + 1
    counts = {}
    for queue, statuses in raw.items():
        c = counts.setdefault(queue, {'pending': 0, 'running': 0, 'done': 0})
        for status, n in statuses.items():
            state = MAPPING.get(status)
            if state is not None:
                c[state] += n
    return counts


def main():
    with open(sys.argv[1], encoding='utf-8') as f:
        output = f.read()
    start = time.perf_counter()
    counts = count(jobs_of(output))
    seconds = time.perf_counter() - start
    print(json.dumps({'seconds': seconds, 'jobs': sum(sum(c.values()) for c in counts.values()), 'counts': counts}))


if __name__ == '__main__':
    main()
