#!/usr/bin/env python3
"""Shares of a generator profile by what the CPU was doing, from `perf script` output.

Record the generator (the sink in its own process, as scripts/generator-cost.sh does):
    perf record -F 300 --call-graph dwarf,16384 -o gen.data -- \
        scaletest run --endpoint http://127.0.0.1:PORT --verify off --clock synthetic ...
then:
    perf script -i gen.data | scripts/profile-breakdown.py [TOP]

Each sample goes to the first class whose pattern appears anywhere on its stack, in the order
below (so zstd called from the encoder counts as compression, and a copy inside content
generation as content generation); "(alloc/free)" marks samples whose innermost frame is the
allocator or a page fault. TOP > 0 also lists the TOP most frequent innermost frames.
"""
import collections
import re
import sys

CLASSES = [
    ("compression", r"ZSTD_|HUF_|FSE_|HIST_|libdeflate|deflate|GzEncoder|compress::|isal_|crc32_gzip|\.\.@"),
    ("content generation", r"content::|emit::Emitter|conversation::"),
    ("span emit and queue", r"CountingSink|ExportHandle.*emit|estimated_len"),
    ("encoding", r"export::encode|BatchEncoder|to_proto|prost::"),
    ("kernel send (writev)", r"sys_writev|do_writev|tcp_sendmsg|sock_write_iter|sock_sendmsg"),
    ("kernel receive", r"tcp_recvmsg|sock_read|sys_read|sys_recvfrom"),
    ("scheduling, futex, epoll", r"epoll|futex|sched_yield|__schedule"),
    ("http client", r"hyper::|reqwest::"),
    ("export pipeline", r"export::pipeline|run_batcher"),
    ("tokio runtime", r"tokio::"),
]
ALLOC = re.compile(r"_rjem_|je_|malloc|free|realloc|sdallocx|rallocx|page_fault|"
                   r"do_anonymous|clear_page")


def classify(frames):
    stack = "\n".join(frames)
    alloc = bool(frames) and ALLOC.search(frames[0]) is not None
    for name, pattern in CLASSES:
        if re.search(pattern, stack):
            return name + (" (alloc/free)" if alloc else "")
    return "allocation and freeing, other" if alloc else "other"


def main():
    top = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    classes, leaves, total = collections.Counter(), collections.Counter(), 0
    frames, header = [], None
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line.strip():
            if header is not None:
                total += 1
                name = classify(frames)
                classes[name] += 1
                if frames:
                    leaves[(name, re.sub(r"\+0x\S*", "", frames[0])[:90])] += 1
            frames, header = [], None
            continue
        if header is None:
            header = line
            continue
        frame = re.match(r"\s*[0-9a-f]+\s+(.*)$", line)
        if frame:
            frames.append(frame.group(1))
    if total == 0:
        sys.exit("no samples in the input: expected `perf script` output")
    for name, count in classes.most_common():
        print(f"{100 * count / total:5.1f}%  {name}")
    print(f"{total} samples")
    for (name, leaf), count in leaves.most_common(top):
        print(f"{100 * count / total:5.1f}%  {name:32} {leaf}")


if __name__ == "__main__":
    main()
