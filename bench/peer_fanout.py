#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/peer_fanout.py: node-oidc-provider's side of SPEC §8's "one logout
fanning out to 50 apps", driven as bench/fanout.py drives Gatehouse.

  peer_fanout.py check PEER_PORT SINK_PORT APPS
  peer_fanout.py time  PEER_PORT SINK_PORT APPS TRIALS

The peer runs with PEER_FANOUT_SINK=SINK_PORT (bench/peer/server.mjs): apps
app01.. post their back-channel logout to http://127.0.0.1:SINK_PORT/bc/NN.
Each trial has the peer make, through its own models, a session with an
account logged in and every app's grant and sid on it
(GET /bench/fanout-session), then drives its RP-initiated logout over HTTP
as a browser would: GET /session/end?id_token_hint=... with the _session
cookie (the confirmation page, with its xsrf form), then
POST /session/end/confirm with xsrf and logout=yes, the request that ends
the session and sends the back-channel logouts.

"time" times, over TRIALS trials, from that POST until the sink
(bench/empty_mhd in sink mode, already listening on SINK_PORT) has had
all APPS POSTs, both on CLOCK_MONOTONIC, with fanout.py's percentiles.

"check" listens on SINK_PORT itself (before empty_mhd takes the port), runs
one such logout and checks what arrives: one POST to each app's path,
form-encoded, a logout_token that is an ES256 logout+jwt for that app
(iss, aud, sub, that app's sid, the back-channel logout event, a unique
jti, no nonce), its signature verified against the peer's /jwks when the
cryptography module is there.

Prints one JSON object. Loopback only, bounded: 5 s wait per logout,
120 s in all."""
import base64
import http.server
import json
import re
import sys
import threading
import time
import urllib.parse

from fanout import FORM, Client, header, pct, sink_stats

EVENT = "http://schemas.openid.net/event/backchannel-logout"


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def logout(peer, napps, sink_count):
    """One session, one RP-initiated logout; sink_count() -> (count, last_ns)."""
    st, _, body = peer.do("GET", "/bench/fanout-session")
    if st != 200:
        raise RuntimeError(f"/bench/fanout-session: {st} {body[:120]}")
    sess = json.loads(body)
    cookie = {"Cookie": "_session=" + sess["session"]}
    t_get = time.monotonic_ns()
    st, _, page = peer.do("GET", "/session/end?" + urllib.parse.urlencode(
        {"id_token_hint": sess["id_token"]}), headers=cookie)
    m = re.search(r'name="xsrf" value="([^"]+)"', page)
    if st != 200 or not m:
        raise RuntimeError(f"GET /session/end: {st} {page[:120]}")
    base, _ = sink_count()
    t0 = time.monotonic_ns()
    st, hs, _ = peer.do("POST", "/session/end/confirm", urllib.parse.urlencode(
        {"xsrf": m.group(1), "logout": "yes"}), {**FORM, **cookie})
    t_resp = time.monotonic_ns()
    loc = header(hs, "Location") or ""
    if st != 303 or "/session/end/success" not in loc:
        raise RuntimeError(f"POST /session/end/confirm: {st} {loc[:80]}")
    deadline = t0 + 5_000_000_000
    n, last = sink_count()
    while n < base + napps and time.monotonic_ns() < deadline:
        time.sleep(0.001)
        n, last = sink_count()
    got = n - base
    return sess, {"status": st, "delivered": got,
                  "all_ms": (last - t0) / 1e6 if got >= napps else None,
                  "from_get_ms": (last - t_get) / 1e6 if got >= napps else None,
                  "response_ms": (t_resp - t0) / 1e6,
                  "get_ms": (t0 - t_get) / 1e6}


def run_time(peer_port, sink_port, napps, trials):
    peer, sink = Client(peer_port), Client(sink_port)

    def count():
        s = sink_stats(sink)
        return s["count"], s["last_ns"]

    results = []
    t_end = time.monotonic() + 120  # bounded whatever happens
    for _ in range(trials):
        if time.monotonic() > t_end:
            break
        results.append(logout(peer, napps, count)[1])
        time.sleep(0.05)  # let late duplicates, if any, land in this trial
    done = [r["all_ms"] for r in results if r["all_ms"] is not None]
    from_get = [r["from_get_ms"] for r in results if r["from_get_ms"] is not None]
    resp = [r["response_ms"] for r in results]
    gets = [r["get_ms"] for r in results]
    return {
        "trials": len(results), "apps": napps, "complete": len(done),
        "all_delivered_ms": {"p50": pct(done, 0.5), "p99": pct(done, 0.99),
                             "max": max(done) if done else None},
        "from_end_session_get_ms": {"p50": pct(from_get, 0.5),
                                    "p99": pct(from_get, 0.99)},
        "logout_response_ms": {"p50": pct(resp, 0.5), "p99": pct(resp, 0.99)},
        "end_session_get_ms": {"p50": pct(gets, 0.5), "p99": pct(gets, 0.99)},
        "statuses": sorted({r["status"] for r in results}),
        "delivered_total": sum(r["delivered"] for r in results),
    }


class Sink(http.server.BaseHTTPRequestHandler):
    """Records every POST (path, content type, body, arrival) and answers
    200, as empty_mhd's sink does."""
    posts = []
    lock = threading.Lock()

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        with Sink.lock:
            Sink.posts.append({"path": self.path, "ns": time.monotonic_ns(),
                               "type": self.headers.get("Content-Type", ""),
                               "body": body.decode("utf-8", "replace")})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def verifier(peer):
    """kid -> a function verifying an ES256 JWS signature, from /jwks; None
    without the cryptography module."""
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import (
            encode_dss_signature)
    except ImportError:
        return None
    st, _, body = peer.do("GET", "/jwks")
    keys = {}
    for k in json.loads(body)["keys"] if st == 200 else []:
        if k.get("kty") == "EC" and k.get("crv") == "P-256":
            keys[k["kid"]] = ec.EllipticCurvePublicNumbers(
                int.from_bytes(b64d(k["x"]), "big"),
                int.from_bytes(b64d(k["y"]), "big"),
                ec.SECP256R1()).public_key()

    def verify(kid, signing_input, sig):
        if kid not in keys or len(sig) != 64:
            return False
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                   int.from_bytes(sig[32:], "big"))
        try:
            keys[kid].verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
            return True
        except InvalidSignature:
            return False
    return verify


def run_check(peer_port, sink_port, napps):
    # 50 connections at once: a listen backlog of socketserver's 5 would
    # drop SYNs and add seconds.
    http.server.ThreadingHTTPServer.request_queue_size = 256
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", sink_port), Sink)
    srv.daemon_threads = True
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    peer = Client(peer_port)
    problems = []
    verified = 0
    try:
        def count():
            with Sink.lock:
                return len(Sink.posts), (Sink.posts[-1]["ns"] if Sink.posts else 0)
        sess, r = logout(peer, napps, count)
        time.sleep(0.3)  # duplicates, if any, arrive meanwhile
        verify = verifier(peer)
        with Sink.lock:
            posts = list(Sink.posts)
    finally:
        srv.shutdown()
        srv.server_close()
    want = {f"/bc/{i:02d}": f"app{i:02d}" for i in range(1, napps + 1)}
    paths = [p["path"] for p in posts]
    if sorted(paths) != sorted(want):
        problems.append(f"paths: {len(paths)} POSTs, {len(set(paths))} distinct, "
                        f"{len(set(paths) & set(want))} of the {napps} expected")
    issuer = f"http://127.0.0.1:{peer_port}"
    jtis = set()
    for p in posts:
        try:
            if not p["type"].startswith("application/x-www-form-urlencoded"):
                raise ValueError(f"content type {p['type']!r}")
            form = urllib.parse.parse_qs(p["body"], strict_parsing=True)
            if list(form) != ["logout_token"] or len(form["logout_token"]) != 1:
                raise ValueError(f"form fields {sorted(form)}")
            tok = form["logout_token"][0]
            h64, p64, s64 = tok.split(".")
            hd, pl = json.loads(b64d(h64)), json.loads(b64d(p64))
            app = want.get(p["path"])
            if hd.get("alg") != "ES256" or hd.get("typ") != "logout+jwt":
                raise ValueError(f"header {hd}")
            if pl.get("iss") != issuer or pl.get("aud") != app:
                raise ValueError(f"iss/aud {pl.get('iss')} {pl.get('aud')} on {p['path']}")
            if pl.get("sub") != sess["account"] or pl.get("sid") != sess["sids"].get(app):
                raise ValueError(f"sub/sid of {app}")
            if pl.get("events") != {EVENT: {}} or "nonce" in pl:
                raise ValueError(f"events/nonce {pl.get('events')}")
            if not (isinstance(pl.get("iat"), int) and pl.get("exp", 0) > pl["iat"]):
                raise ValueError("iat/exp")
            if not pl.get("jti") or pl["jti"] in jtis:
                raise ValueError("jti missing or repeated")
            jtis.add(pl["jti"])
            if verify is not None:
                if not verify(hd.get("kid"), f"{h64}.{p64}".encode(), b64d(s64)):
                    raise ValueError("signature does not verify")
                verified += 1
        except (ValueError, KeyError, json.JSONDecodeError) as e:
            problems.append(f"{p['path']}: {e}")
    if r["all_ms"] is None:
        problems.append(f"{r['delivered']} of {napps} delivered within 5 s")
    return {"posts": len(posts), "apps": napps, "distinct_paths": len(set(paths)),
            "tokens_ok": len(posts) - len([x for x in problems if x.startswith("/")]),
            "signatures_verified": verified if verify else "not checked (no cryptography module)",
            "all_ms": r["all_ms"], "ok": not problems, "problems": problems[:5]}


def main():
    mode = sys.argv[1]
    peer_port, sink_port, napps = map(int, sys.argv[2:5])
    if mode == "check":
        out = run_check(peer_port, sink_port, napps)
        print(json.dumps(out))
        sys.exit(0 if out["ok"] else 1)
    print(json.dumps(run_time(peer_port, sink_port, napps, int(sys.argv[5]))))


if __name__ == "__main__":
    main()
