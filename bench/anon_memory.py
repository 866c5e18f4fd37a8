#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""SPEC §8: what N unauthenticated GET /authorize and N GET /login leave
in Redis. Before issue 15 each stored ~1.6 KiB for 600 s (a pending
request and CSRF keys); now the browser carries them, sealed.

    anon_memory.py LOADGEN PORT REDIS_SOCKET AUTHORIZE_PATH N

Runs bench/loadgen (16 keep-alive connections, no cookies: every request
is a new visitor) for N requests of each, then prints one JSON object:
Redis used_memory and DBSIZE before and after, and loadgen's answers.
A warm-up of 200 requests of each comes first, so the MAC key (made once)
and the server's per-thread Redis connections are not counted.
Bounded: each load stops after 300 s whatever it reached."""
import json
import subprocess
import sys


def redis(sock, *args):
    return subprocess.run(["redis-cli", "-s", sock, *args], check=True,
                          capture_output=True, text=True,
                          timeout=10).stdout


def used_memory(sock):
    for line in redis(sock, "INFO", "memory").splitlines():
        if line.startswith("used_memory:"):
            return int(line.split(":", 1)[1])
    raise SystemExit("anon_memory.py: no used_memory in INFO memory")


def load(loadgen, port, path, n):
    out = subprocess.run([loadgen, "-p", str(port), "-c", "16", "-w", "0",
                          "-d", "300", "-n", str(n), "-u", path],
                         check=True, capture_output=True, text=True,
                         timeout=330).stdout
    return json.loads(out)


def main():
    if len(sys.argv) != 6:
        raise SystemExit(__doc__)
    loadgen, port, sock, authz, n = sys.argv[1:6]
    n = int(n)
    for path in (authz, "/login"):
        load(loadgen, port, path, 200)
    mem0, keys0 = used_memory(sock), int(redis(sock, "DBSIZE"))
    runs = {"authorize": load(loadgen, port, authz, n),
            "login": load(loadgen, port, "/login", n)}
    mem1, keys1 = used_memory(sock), int(redis(sock, "DBSIZE"))
    print(json.dumps({
        "requests_each": n,
        "used_memory_before": mem0, "used_memory_after": mem1,
        "keys_before": keys0, "keys_after": keys1,
        "authorize": runs["authorize"], "login": runs["login"],
    }))


main()
