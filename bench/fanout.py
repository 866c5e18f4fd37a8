#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/fanout.py GH_PORT SINK_PORT APPS TRIALS PASSWORD: SPEC §8's "one
logout fanning out to 50 apps". Each trial signs user "bench" in, has APPS
clients (app01...) take part in the session through a real code exchange,
then sends RP-initiated /logout with the last app's id_token_hint and times
until the sink (bench/empty_mhd in sink mode, every app's
backchannel_logout_uri) has had all APPS notifications. Both clocks are
CLOCK_MONOTONIC. Prints one JSON object. Loopback only, bounded: TRIALS
trials, 5 s wait each. bench/peer_fanout.py imports its helpers."""
import base64
import http.client
import json
import re
import sys
import time
import urllib.parse

REDIRECT = "http://127.0.0.1:3001/callback"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def do(self, method, path, body=None, headers=None):
        self.conn.request(method, path, body=body, headers=headers or {})
        r = self.conn.getresponse()
        return r.status, r.getheaders(), r.read().decode("utf-8", "replace")


def header(headers, name):
    for k, v in headers:
        if k.lower() == name.lower():
            return v
    return None


def sink_stats(sink):
    _, _, body = sink.do("GET", "/stats")
    return json.loads(body)


def pct(vals, q):
    vals = sorted(vals)
    if not vals:
        return None
    return vals[min(len(vals) - 1, int(q * len(vals)))]


def trial(gh, sink, napps, password):
    st, hs, page = gh.do("GET", "/login")
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    if st != 200 or not m:
        raise RuntimeError(f"GET /login: {st}")
    body = urllib.parse.urlencode({"username": "bench", "password": password,
                                   "csrf": m.group(1)})
    # The form's token is bound to the pre-sign-in cookie its page set.
    presign = [v.split(";")[0] for k, v in hs
               if k.lower() == "set-cookie" and v.startswith("gh_presign=")]
    st, hs, _ = gh.do("POST", "/login", body,
                      dict(FORM, Cookie=presign[0]) if presign else FORM)
    cookie = None
    for k, v in hs:
        if k.lower() == "set-cookie" and v.startswith("gh_session="):
            cookie = v.split(";")[0]
    if st != 200 or cookie is None:
        raise RuntimeError(f"POST /login: {st}")
    id_token = None
    for i in range(1, napps + 1):
        cid = f"app{i:02d}"
        q = urllib.parse.urlencode({"response_type": "code", "client_id": cid,
                                    "redirect_uri": REDIRECT, "scope": "openid",
                                    "state": "s", "nonce": "n"})
        st, hs, _ = gh.do("GET", "/authorize?" + q, headers={"Cookie": cookie})
        loc = header(hs, "Location") or ""
        code = urllib.parse.parse_qs(urllib.parse.urlparse(loc).query).get("code")
        if st != 302 or not code:
            raise RuntimeError(f"/authorize {cid}: {st} {loc[:80]}")
        basic = base64.b64encode(f"{cid}:{cid}-secret".encode()).decode()
        body = urllib.parse.urlencode({"grant_type": "authorization_code",
                                       "code": code[0], "redirect_uri": REDIRECT})
        st, _, tok = gh.do("POST", "/token", body,
                           {**FORM, "Authorization": "Basic " + basic})
        if st != 200:
            raise RuntimeError(f"/token {cid}: {st} {tok[:120]}")
        id_token = json.loads(tok)["id_token"]
    base = sink_stats(sink)["count"]
    t0 = time.monotonic_ns()
    st, _, _ = gh.do("GET", "/logout?" + urllib.parse.urlencode(
        {"id_token_hint": id_token}), headers={"Cookie": cookie})
    t_resp = time.monotonic_ns()
    deadline = t0 + 5_000_000_000
    s = sink_stats(sink)
    while s["count"] < base + napps and time.monotonic_ns() < deadline:
        time.sleep(0.001)
        s = sink_stats(sink)
    got = s["count"] - base
    return {"status": st, "delivered": got,
            "all_ms": (s["last_ns"] - t0) / 1e6 if got >= napps else None,
            "response_ms": (t_resp - t0) / 1e6}


def main():
    gh_port, sink_port, napps, trials = map(int, sys.argv[1:5])
    password = sys.argv[5]
    gh, sink = Client(gh_port), Client(sink_port)
    results = []
    t_end = time.monotonic() + 120  # bounded whatever happens
    for _ in range(trials):
        if time.monotonic() > t_end:
            break
        results.append(trial(gh, sink, napps, password))
        time.sleep(0.05)  # let late duplicates, if any, land in this trial
    done = [r["all_ms"] for r in results if r["all_ms"] is not None]
    resp = [r["response_ms"] for r in results]
    print(json.dumps({
        "trials": len(results), "apps": napps, "complete": len(done),
        "all_delivered_ms": {"p50": pct(done, 0.5), "p99": pct(done, 0.99),
                             "max": max(done) if done else None},
        "logout_response_ms": {"p50": pct(resp, 0.5), "p99": pct(resp, 0.99)},
        "statuses": sorted({r["status"] for r in results}),
    }))


if __name__ == "__main__":
    main()
