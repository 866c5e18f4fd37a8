#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/logout_all.py GH_PORT SINK_PORTS EXPECTED PIDS TIMEOUT_S: SPEC §8's
"logout-all of 100,000 sessions × 3 apps". The sessions are already seeded
(bench/seed_sessions.c), each with the apps whose backchannel_logout_uri
is one of the sinks (bench/empty_mhd in sink mode, comma-separated
SINK_PORTS). Gets an admin token (client "admin", scope gatehouse:admin),
POSTs /admin/logout-all, and polls the sinks every 100 ms until they have
EXPECTED more notifications than before, or TIMEOUT_S has passed. The time
is from the call to the last notification's arrival (both clocks
CLOCK_MONOTONIC). PIDS (comma-separated: Gatehouse, Redis, the sinks) are
the processes whose CPU time over the interval is recorded. Reads /metrics
before and after for the engine's own counts. Prints one JSON object.
Loopback only, bounded by TIMEOUT_S."""
import base64
import http.client
import json
import os
import re
import sys
import time
import urllib.parse

gh_port = int(sys.argv[1])
sink_ports = [int(p) for p in sys.argv[2].split(",")]
expected = int(sys.argv[3])
pids = [int(p) for p in sys.argv[4].split(",") if p]
timeout_s = float(sys.argv[5])
TCK = os.sysconf("SC_CLK_TCK")


def do(port, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        c.close()


def cpu_s(pid):
    """utime + stime of pid and its threads, in seconds (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def sinks():
    """(sum of counts, latest last_ns, per-sink counts)."""
    counts, last = [], 0
    for p in sink_ports:
        _, body = do(p, "GET", "/stats")
        s = json.loads(body)
        counts.append(s["count"])
        last = max(last, s["last_ns"])
    return sum(counts), last, counts


def deliveries_metrics():
    """gatehouse_backchannel_deliveries_total by outcome, and the gauges."""
    _, text = do(gh_port, "GET", "/metrics")
    out = {}
    for m in re.finditer(r'^gatehouse_backchannel_deliveries_total'
                         r'\{outcome="(\w+)"\} (\d+)', text, re.M):
        out[m.group(1)] = int(m.group(2))
    for g in ("gatehouse_sessions_active",
              "gatehouse_backchannel_queue_depth", "gatehouse_backchannel_failed"):
        m = re.search(rf"^{g} (\d+)", text, re.M)
        if m:
            out[g] = int(m.group(1))
    return out


def admin_token():
    basic = base64.b64encode(b"admin:admin-secret").decode()
    st, body = do(gh_port, "POST", "/token", urllib.parse.urlencode(
        {"grant_type": "client_credentials", "scope": "gatehouse:admin"}),
        {"Content-Type": "application/x-www-form-urlencoded",
         "Authorization": "Basic " + basic})
    if st != 200:
        raise RuntimeError(f"admin token: {st} {body[:200]}")
    return json.loads(body)["access_token"]


def logout_all_state(auth):
    st, body = do(gh_port, "GET", "/admin/logout-all", headers=auth)
    return json.loads(body) if st == 200 else {"status": st}


def main():
    auth = {"Authorization": "Bearer " + admin_token()}
    m0 = deliveries_metrics()
    base, _, base_counts = sinks()
    c0 = sum(cpu_s(p) for p in pids)
    t0 = time.monotonic_ns()
    st, body = do(gh_port, "POST", "/admin/logout-all",
                  json.dumps({"reason": "bench"}),
                  {**auth, "Content-Type": "application/json"})
    t_resp = time.monotonic_ns()
    if st != 202:
        raise RuntimeError(f"POST /admin/logout-all: {st} {body[:200]}")
    started = json.loads(body)
    deadline = t0 + int(timeout_s * 1e9)
    ended_ns = None  # when GET /admin/logout-all first said "done"
    next_state = t0
    got, last, counts = sinks()
    while got - base < expected and time.monotonic_ns() < deadline:
        time.sleep(0.1)
        got, last, counts = sinks()
        if ended_ns is None and time.monotonic_ns() >= next_state:
            next_state = time.monotonic_ns() + 1_000_000_000
            if logout_all_state(auth).get("state") == "done":
                ended_ns = time.monotonic_ns()
    c1 = sum(cpu_s(p) for p in pids)
    t1 = time.monotonic_ns()
    delivered = got - base
    complete = delivered >= expected
    secs = (last - t0) / 1e9 if complete else (t1 - t0) / 1e9
    time.sleep(0.5)  # let the engine record the last outcomes
    m1 = deliveries_metrics()
    print(json.dumps({
        "sessions": started.get("sessions"), "expected": expected,
        "delivered": delivered, "complete": complete,
        "per_sink": [c - b for c, b in zip(counts, base_counts)],
        "seconds": secs, "per_s": delivered / secs if secs > 0 else None,
        "response_ms": (t_resp - t0) / 1e6,
        "sessions_ended_s": (ended_ns - t0) / 1e9 if ended_ns else None,
        "sut_cpu_s": round(c1 - c0, 3), "cpu_window_s": (t1 - t0) / 1e9,
        "metrics": {k: m1.get(k, 0) - m0.get(k, 0) if k in
                    ("delivered", "retried", "failed") else m1.get(k)
                    for k in m1},
        "logout_all": logout_all_state(auth),
    }))


main()
