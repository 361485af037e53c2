#!/usr/bin/env python3
"""The lecture's server, in CPython: the reference that primetime's Python
mode is checked against.

It answers "the nth prime" with the same deliberately slow algorithm as
primetime.NthPrime, in one of the lecture's shapes:

  serial                one connection at a time, on the main thread
  threads               a thread per connection
  threadpool N          connections served by a ThreadPoolExecutor(N)
  procpool N            a thread per connection; each prime computed by a
                        ProcessPoolExecutor(N), the lecture's process pool
  asyncio               one event loop; the prime computed on the loop
  asyncio-threads N     the loop hands the prime to a ThreadPoolExecutor(N)
  asyncio-procs N       the loop hands the prime to a ProcessPoolExecutor(N)

With --task sha256 a request for n is answered with the SHA-256 of a 64 KiB
buffer chained n times, as primetime.ChainedSHA256 computes it, with hashlib,
which releases the GIL while it hashes.

It speaks the line protocol (a decimal n and "\\n"; the answer is a line,
"ERR ..." for a bad request) or, with --protocol recv, the lecture's own:
each recv is one request. It listens on a loopback port, prints
"primetime-cpython/1 HOST:PORT" once it is ready, and exits when its stdin
closes. Standard library only; Python 3.10 or later.

With --trace FILE it logs each request's steps (received, computing,
computed, sent) with the thread or worker process they ran on, and writes
them to FILE as it exits, a line each: "NS STEP PID TID N NAME", NS from
time.perf_counter_ns. CPython's lock itself is not visible from Python.

    python3 lecture_server.py threads --switch-interval 0.002
"""

import argparse
import asyncio
import concurrent.futures
import hashlib
import os
import socket
import sys
import threading
import time

MAX_N = 1_000_000
MAX_LINE = 4096


def nth_prime(n):
    """The nth prime, by trial division by every smaller number, as
    primetime.NthPrime computes it."""
    found = 0
    candidate = 1
    while True:
        candidate += 1
        for d in range(2, candidate):
            if candidate % d == 0:
                break
        else:
            found += 1
            if found == n:
                return candidate


SHA256_BUFFER = bytes(i % 251 for i in range(64 * 1024))


def chained_sha256(n):
    """The SHA-256 of a 64 KiB buffer, chained n times, as
    primetime.ChainedSHA256 computes it: hashlib releases the GIL while it
    hashes a buffer over 2 KiB."""
    buf = bytearray(SHA256_BUFFER)
    s = bytes(32)
    for _ in range(n):
        buf[0:32] = s
        s = hashlib.sha256(buf).digest()
    return s


def work(task, n):
    """The answer line to a request for n, of the task."""
    if task == "sha256":
        return chained_sha256(n).hex().encode() + b"\n"
    return b"%d\n" % nth_prime(n)


TASK = "prime"  # --task
TRACE = None  # with --trace: the steps logged, as (ns, step, pid, tid, n, name)


def step(kind, n, lane=None, ns=None):
    """Logs a request's step on lane (pid, tid, name), by default the
    calling thread."""
    if TRACE is None:
        return
    if lane is None:
        t = threading.current_thread()
        lane = (0, t.native_id, t.name)
    TRACE.append((ns or time.perf_counter_ns(), kind, lane[0], lane[1], n, lane[2]))


def compute(n):
    """The answer line to a request for n, on the calling thread."""
    return work(TASK, n)


def traced(n):
    """compute, with its steps logged on the calling thread."""
    step("computing", n)
    r = compute(n)
    step("computed", n)
    return r


def timed_work(task, n):
    """work in a worker process, with when it ran there and where."""
    start = time.perf_counter_ns()
    r = work(task, n)
    return r, start, time.perf_counter_ns(), os.getpid()


def log_worker(n, timed):
    """Logs the steps of a task that ran in a worker process, on its lane,
    and returns its answer."""
    r, start, end, pid = timed
    lane = (pid, pid, "worker %d" % pid)
    step("computing", n, lane, start)
    step("computed", n, lane, end)
    return r


def quote(b):
    """Go's %.40q of a request, near enough for error answers."""
    s = b[:40].decode("latin-1")
    return '"' + "".join(c if " " <= c <= "~" and c not in '"\\' else "\\x%02x" % ord(c) if ord(c) < 256 else c for c in s) + '"'


def parse(request):
    """The n a request asks for, or the error answer that refuses it."""
    digits = request.strip(b" \t")
    if not digits:
        return None, b"ERR bad request: want a positive integer n, got an empty request\n"
    if not digits.isdigit() or not digits.isascii():
        return None, ("ERR bad request: want a positive integer n, got %s\n" % quote(digits)).encode()
    n = int(digits)
    if n > MAX_N:
        return None, ("ERR bad request: n=%s is over the limit of %d\n" % (digits[:40].decode(), MAX_N)).encode()
    if n < 1:
        return None, ("ERR bad request: want a positive integer n, got %s\n" % quote(digits)).encode()
    return n, None


def requests(sock, protocol):
    """Yields the requests a connection sends, as the protocol frames them;
    a line over the limit is answered and ends the connection."""
    if protocol == "recv":
        while True:
            data = sock.recv(MAX_LINE + 1)
            if not data:
                return
            if len(data) > MAX_LINE:
                sock.sendall(b"ERR request too long: the limit is %d bytes\n" % MAX_LINE)
                return
            yield data.rstrip(b"\r\n")
    buf = b""
    while True:
        i = buf.find(b"\n")
        if i < 0:
            if len(buf) > MAX_LINE + 1:
                sock.sendall(b"ERR request line too long: the limit is %d bytes\n" % MAX_LINE)
                return
            data = sock.recv(65536)
            if not data:
                if buf:
                    yield buf
                return
            buf += data
            continue
        line, buf = buf[:i], buf[i + 1:]
        if line.endswith(b"\r"):
            line = line[:-1]
        if len(line) > MAX_LINE:
            sock.sendall(b"ERR request line too long: the limit is %d bytes\n" % MAX_LINE)
            return
        yield line


def handle(sock, protocol, answer=None):
    """Serves one connection on the calling thread, as the lecture's
    handler does: recv, compute, send."""
    if answer is None:
        answer = traced if TRACE is not None else compute
    with sock:
        try:
            for request in requests(sock, protocol):
                n, refusal = parse(request)
                step("received", n or 0)
                sock.sendall(refusal or answer(n))
                step("sent", n or 0)
        except OSError:
            pass


def serve_serial(listener, protocol, size):
    while True:
        sock, _ = listener.accept()
        handle(sock, protocol)


def serve_threads(listener, protocol, size):
    while True:
        sock, _ = listener.accept()
        threading.Thread(target=handle, args=(sock, protocol), daemon=True).start()


def serve_threadpool(listener, protocol, size):
    pool = concurrent.futures.ThreadPoolExecutor(size)
    while True:
        sock, _ = listener.accept()
        pool.submit(handle, sock, protocol)


def serve_procpool(listener, protocol, size, pool):
    def in_pool(n):
        if TRACE is not None:
            return log_worker(n, pool.submit(timed_work, TASK, n).result())
        return pool.submit(work, TASK, n).result()

    while True:
        sock, _ = listener.accept()
        threading.Thread(target=handle, args=(sock, protocol, in_pool), daemon=True).start()


CONNS = iter(range(1, 1 << 62))


async def handle_async(loop, sock, protocol, executor):
    k = next(CONNS)
    lane = (0, 1_000_000 + k, "conn %d" % k)
    with sock:
        buf = b""
        try:
            while True:
                data = await loop.sock_recv(sock, MAX_LINE + 1 if protocol == "recv" else 65536)
                if not data:
                    if buf and protocol == "line":
                        await answer_async(loop, sock, buf, executor, lane)
                    return
                if protocol == "recv":
                    if len(data) > MAX_LINE:
                        await loop.sock_sendall(sock, b"ERR request too long: the limit is %d bytes\n" % MAX_LINE)
                        return
                    await answer_async(loop, sock, data.rstrip(b"\r\n"), executor, lane)
                    continue
                buf += data
                while (i := buf.find(b"\n")) >= 0:
                    line, buf = buf[:i], buf[i + 1:]
                    if line.endswith(b"\r"):
                        line = line[:-1]
                    if len(line) > MAX_LINE:
                        await loop.sock_sendall(sock, b"ERR request line too long: the limit is %d bytes\n" % MAX_LINE)
                        return
                    await answer_async(loop, sock, line, executor, lane)
                if len(buf) > MAX_LINE + 1:
                    await loop.sock_sendall(sock, b"ERR request line too long: the limit is %d bytes\n" % MAX_LINE)
                    return
        except OSError:
            pass


async def answer_async(loop, sock, request, executor, lane):
    n, refusal = parse(request)
    step("received", n or 0, lane)
    if refusal:
        await loop.sock_sendall(sock, refusal)
    elif executor is None:
        await loop.sock_sendall(sock, (traced if TRACE is not None else compute)(n))
    elif TRACE is None:
        await loop.sock_sendall(sock, await loop.run_in_executor(executor, work, TASK, n))
    elif isinstance(executor, concurrent.futures.ProcessPoolExecutor):
        timed = await loop.run_in_executor(executor, timed_work, TASK, n)
        await loop.sock_sendall(sock, log_worker(n, timed))
    else:
        await loop.sock_sendall(sock, await loop.run_in_executor(executor, traced, n))
    step("sent", n or 0, lane)


def serve_asyncio(listener, protocol, executor):
    async def main():
        loop = asyncio.get_running_loop()
        listener.setblocking(False)
        while True:
            sock, _ = await loop.sock_accept(listener)
            loop.create_task(handle_async(loop, sock, protocol, executor))

    asyncio.run(main())


def main():
    shapes = ["serial", "threads", "threadpool", "procpool", "asyncio", "asyncio-threads", "asyncio-procs"]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("shape", choices=shapes)
    ap.add_argument("size", nargs="?", type=int, default=os.cpu_count(), help="the pool's size")
    ap.add_argument("--protocol", choices=["line", "recv"], default="line")
    ap.add_argument("--switch-interval", type=float, default=0.005, help="sys.setswitchinterval, in seconds")
    ap.add_argument("--nth", type=int, help="print the nth prime and the seconds it took, and exit")
    ap.add_argument("--trace", metavar="FILE", help="log each request's steps, and write them to FILE on exit")
    ap.add_argument("--task", choices=["prime", "sha256"], default="prime", help="what a request for n computes")
    args = ap.parse_args()
    global TRACE, TASK
    TASK = args.task
    if args.trace:
        TRACE = []
    sys.setswitchinterval(args.switch_interval)
    if args.nth:
        import time
        start = time.perf_counter()
        p = nth_prime(args.nth)
        print(p, "%.6f" % (time.perf_counter() - start))
        return

    procs = None
    if args.shape in ("procpool", "asyncio-procs"):
        procs = concurrent.futures.ProcessPoolExecutor(args.size)
        # Start the workers before the first request, as Go's pool does.
        list(procs.map(work, [TASK] * args.size, [1] * args.size))

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)
    host, port = listener.getsockname()
    print("primetime-cpython/1 %s:%d" % (host, port), flush=True)

    def watch_stdin():
        sys.stdin.buffer.read()
        if procs is not None:
            procs.shutdown(wait=True, cancel_futures=True)
        if TRACE is not None:
            with open(args.trace, "w") as f:
                f.writelines("%d %s %d %d %d %s\n" % e for e in list(TRACE))
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    if args.shape == "asyncio":
        serve_asyncio(listener, args.protocol, None)
    elif args.shape == "asyncio-threads":
        serve_asyncio(listener, args.protocol, concurrent.futures.ThreadPoolExecutor(args.size))
    elif args.shape == "asyncio-procs":
        serve_asyncio(listener, args.protocol, procs)
    elif args.shape == "procpool":
        serve_procpool(listener, args.protocol, args.size, procs)
    else:
        globals()["serve_" + args.shape](listener, args.protocol, args.size)


if __name__ == "__main__":
    main()
