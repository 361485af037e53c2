#!/usr/bin/env python3
"""Hostile and unlucky clients against `primetime serve`, on 127.0.0.1 only, each bounded.

Usage: python3 scripts/edges.py BINARY CHECK STRATEGY [ARG]
  departed STRATEGY LAST  two clients send LAST (escapes allowed, "200000" or "200000\\n10\\n")
                          and close: the server's CPU (with its children) in the next 3 s,
                          and a new client's wait for its answer
  crowd STRATEGY LAST     2,000 clients send LAST and close: how long until the server has
                          closed every one of their connections
  shutdown STRATEGY       SIGTERM as 2,000 clients have each sent n=300: how many answered
  natskill STRATEGY       kill -9 of the NATS server that serve started: how long until
                          requests are answered again, and what they got meanwhile
Build the binary first: go build -o /tmp/primetime ./cmd/primetime
"""
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time

resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
PORT = 25900
BOUND = 60  # seconds: no wait below is longer


def serve(binary, strategy):
    srv = subprocess.Popen([binary, 'serve', '-addr', f'127.0.0.1:{PORT}', '-strategy', strategy],
                           stderr=subprocess.PIPE, text=True)
    log = []
    for line in srv.stderr:
        log.append(line)
        if 'serving' in line:
            break
    threading.Thread(target=lambda: log.extend(srv.stderr), daemon=True).start()
    return srv, log


def stop(srv):
    srv.kill()
    srv.wait()


def tree_cpu(pid):
    """CPU seconds of pid and its descendants."""
    total, todo, tick = 0.0, [pid], os.sysconf('SC_CLK_TCK')
    while todo:
        p = todo.pop()
        try:
            with open(f'/proc/{p}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            with open(f'/proc/{p}/task/{p}/children') as f:
                todo += [int(x) for x in f.read().split()]
        except FileNotFoundError:
            pass
    return total


def dial():
    c = socket.create_connection(('127.0.0.1', PORT))
    c.settimeout(BOUND)
    return c


def departed(binary, strategy, last):
    srv, _ = serve(binary, strategy)
    cs = [dial() for _ in range(2)]
    for c in cs:
        c.sendall(last)
    time.sleep(0.3)
    for c in cs:
        c.close()
    time.sleep(0.1)
    before = tree_cpu(srv.pid)
    time.sleep(3)
    spent = tree_cpu(srv.pid) - before
    c = dial()
    t0 = time.time()
    c.sendall(b'10\n')
    answer = c.recv(100)
    print(f'{strategy} last={last!r}: the departed clients cost {spent:.3f} s of CPU in 3 s; '
          f'a new client got {answer!r} in {(time.time() - t0) * 1000:.1f} ms')
    stop(srv)


def closing(port_state):
    out = subprocess.run(['ss', '-Htn', 'state', port_state, f'sport = :{PORT}'],
                         capture_output=True, text=True).stdout
    return len(out.splitlines())


def crowd(binary, strategy, last):
    srv, _ = serve(binary, strategy)
    cs = [dial() for _ in range(2000)]
    for c in cs:
        c.sendall(last)
    time.sleep(0.5)
    t0 = time.time()
    for c in cs:
        c.close()
    while closing('close-wait') > 0 and time.time() - t0 < BOUND:
        time.sleep(0.01)
    print(f'{strategy}: 2,000 clients send {last!r} and close: the server closed them all within '
          f'{time.time() - t0:.2f} s ({closing("close-wait")} left)')
    stop(srv)


def shutdown(binary, strategy):
    srv, _ = serve(binary, strategy)
    cs = [dial() for _ in range(2000)]
    for c in cs:
        c.sendall(b'300\n')
    srv.send_signal(signal.SIGTERM)
    answered = reset = eof = 0
    for c in cs:
        try:
            d = c.recv(100)
            answered += d == b'1987\n'
            eof += d == b''
        except ConnectionResetError:
            reset += 1
    srv.wait()
    print(f'{strategy}: SIGTERM as 2,000 clients had each sent n=300: {answered} answered, '
          f'{reset} reset, {eof} closed without an answer')


def natskill(binary, strategy):
    srv, log = serve(binary, strategy)
    nats = None
    for p in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open(f'/proc/{p}/environ', 'rb') as f:
                if b'PRIMETIME_ROLE=nats-server' in f.read():
                    nats = int(p)
        except OSError:
            pass
    c = dial()
    lines = c.makefile('rb')

    def ask():
        c.sendall(b'10\n')
        return lines.readline()

    assert ask() == b'29\n'
    os.kill(nats, signal.SIGKILL)
    t0, got = time.time(), {}
    while time.time() - t0 < BOUND:
        answer = ask()
        if answer == b'29\n':
            break
        kind = answer.decode().split(':')[0]
        got[kind] = got.get(kind, 0) + 1
        time.sleep(0.01)
    print(f'{strategy}: the NATS server (pid {nats}) killed: answered again after '
          f'{time.time() - t0:.2f} s; meanwhile {got}')
    srv.send_signal(signal.SIGTERM)
    srv.wait()
    for line in log:
        if 'NATS server' in line and 'task failed' not in line:
            print('  ' + line.strip())


if __name__ == '__main__':
    binary, check, strategy = sys.argv[1:4]
    arg = sys.argv[4].encode().decode('unicode_escape').encode() if len(sys.argv) > 4 else None
    {'departed': lambda: departed(binary, strategy, arg), 'crowd': lambda: crowd(binary, strategy, arg),
     'shutdown': lambda: shutdown(binary, strategy), 'natskill': lambda: natskill(binary, strategy)}[check]()
