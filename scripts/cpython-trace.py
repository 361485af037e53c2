"""Runs the lecture's server (internal/cpython/lecture_server.py) with a
trace of when each request's steps got the interpreter lock, and, given a
trace file instead of server arguments, says where the small requests
waited while the long one ran.

    python3 scripts/cpython-trace.py OUT threads|asyncio-threads [SIZE]
    python3 scripts/cpython-trace.py --analyze OUT

Each step is logged by Python code, so under the lock: "read" (a request
parsed), "w0"/"w1" (a pool worker starts and ends the task), "back" (the
loop has the answer), "sent" (sendall returned). A gap of over 1 ms between
two steps is the long task holding the lock: the pair says where.
"""
import collections
import os
import sys
import threading
import time

LOG = []
now = time.perf_counter_ns


def serve(out, args):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "internal", "cpython"))
    import lecture_server as ls

    nth_prime = ls.nth_prime

    def traced_nth(n):
        LOG.append((now(), "w0", n))
        r = nth_prime(n)
        LOG.append((now(), "w1", n))
        return r

    def handle(sock, protocol, compute=nth_prime):
        with sock:
            try:
                for request in ls.requests(sock, protocol):
                    n, refusal = ls.parse(request)
                    LOG.append((now(), "read", n or 0))
                    r = traced_nth(n) if n else 0
                    LOG.append((now(), "back", n or 0))
                    sock.sendall(refusal or b"%d\n" % r)
                    LOG.append((now(), "sent", n or 0))
            except OSError:
                pass

    async def answer_async(loop, sock, request, executor):
        n, refusal = ls.parse(request)
        LOG.append((now(), "read", n or 0))
        r = await loop.run_in_executor(executor, traced_nth, n) if n else 0
        LOG.append((now(), "back", n or 0))
        await loop.sock_sendall(sock, refusal or b"%d\n" % r)
        LOG.append((now(), "sent", n or 0))

    ls.handle, ls.answer_async = handle, answer_async
    exit = ls.os._exit

    def dump_and_exit(code):
        with open(out, "w") as f:
            f.writelines("%d %s %d\n" % e for e in LOG)
        exit(code)

    ls.os._exit = dump_and_exit
    sys.argv = [sys.argv[0]] + args
    ls.main()


def analyze(path):
    ev = [(int(t), k, int(n)) for t, k, n in (line.split() for line in open(path))]
    big = max(n for _, k, n in ev if k == "w0")
    start = next(t for t, k, n in ev if k == "w0" and n == big)
    end = next(t for t, k, n in ev if k == "w1" and n == big)
    win = [e for e in ev if start < e[0] < end and e[2] != big]
    sent = sum(1 for e in win if e[1] == "sent")
    gaps = collections.Counter()
    for a, b in zip(win, win[1:]):
        if b[0] - a[0] > 1_000_000:
            gaps[a[1] + " -> " + b[1]] += 1
    print("long request %.0f ms: %d answers, %d waits over 1 ms (%.2f an answer)" % ((end - start) / 1e6, sent, sum(gaps.values()), sum(gaps.values()) / max(sent, 1)))
    for pair, count in gaps.most_common():
        print("  %-16s %d" % (pair, count))


if __name__ == "__main__":
    if sys.argv[1] == "--analyze":
        analyze(sys.argv[2])
    else:
        serve(sys.argv[1], sys.argv[2:])
