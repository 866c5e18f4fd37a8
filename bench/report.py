#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/report.py OUT_DIR RESULTS_MD PNG: turns what bench/run measured
(OUT_DIR/machine.json, OUT_DIR/results.jsonl) into bench/RESULTS.md and a
throughput-vs-connections plot (gnuplot). Only numbers measured in this run
appear; a row with nothing measured says so."""
import datetime
import json
import os
import subprocess
import sys

if len(sys.argv) == 3 and sys.argv[1] == "--redis-benchmark":
    # redis-benchmark -q output to JSON, for bench/run.
    import re
    d = {}
    text = open(sys.argv[2]).read().replace("\r", "\n")
    for line in text.split("\n"):
        m = re.match(r"\s*(\S+): ([\d.]+) requests per second"
                     r"(?:, p50=([\d.]+))?", line)
        if m:
            d[m.group(1).rstrip(":")] = {"per_s": float(m.group(2)),
                                         "p50_ms": float(m.group(3) or 0)}
    print(json.dumps(d))
    sys.exit(0)

out_dir, md_path, png_path = sys.argv[1:4]
machine = json.load(open(os.path.join(out_dir, "machine.json")))
R = {}
for line in open(os.path.join(out_dir, "results.jsonl")):
    line = line.strip()
    if line:
        rec = json.loads(line)
        R[rec["key"]] = rec["v"]

NOT_YET = "not measured yet"

NPROC = int(machine["nproc"])
PHASES = ("start", "end")


def get(key, field=None):
    v = R.get(key)
    if v is None or field is None:
        return v
    return v.get(field) if isinstance(v, dict) else None


def fmt(x, unit=""):
    if x is None:
        return "—"
    if isinstance(x, str):
        return x
    if abs(x) >= 100:
        s = f"{x:,.0f}"
    elif abs(x) >= 10:
        s = f"{x:.1f}"
    else:
        s = f"{x:.2f}"
    return s + unit


def pct(x):
    return "—" if x is None else f"{100 * x:.0f}%"


def ratio(a, b):
    return a / b if a and b else None


def norm(v):
    """Requests per second the run would do with all NPROC cores to itself:
    every request it answered (warm-up too) over the CPU time of what was
    under test (servers, Redis) and of loadgen, times NPROC."""
    if (not isinstance(v, dict) or not v.get("all_requests") or
            "sut_cpu_s" not in v):
        return None
    cpu = (v.get("sut_cpu_s") or 0) + (v.get("cpu_s") or 0)
    if cpu <= 0:
        return None
    ok = sum(n for s, n in v["status"].items() if 200 <= int(s) < 400)
    share = ok / v["requests"] if v.get("requests") else 1
    return v["all_requests"] * share / cpu * NPROC


def wall(v):
    return v.get("ok_rps") if isinstance(v, dict) else None


def best(prefix, by=norm):
    """The sweep point that does best (by CPU-normalized rate): (v, conns)."""
    pts = [v for k, v in R.items() if k.startswith(prefix + ".c") and
           isinstance(v, dict)]
    pts = [v for v in pts if by(v)]
    if not pts:
        return None, None
    v = max(pts, key=by)
    return v, v["conns"]


def combined(h, s, n=1):
    """1/(1/h + n/s): an HTTP round trip plus n signatures, both at full
    speed on the same cores."""
    if not h or not s:
        return None
    return 1 / (1 / h + n / s)


def phase_max(key, field):
    vals = [get(f"{key}.{ph}", field) for ph in PHASES]
    vals = [v for v in vals if v]
    return max(vals) if vals else None


def both(key, field, mult=1):
    return " / ".join(fmt(get(f"{key}.{ph}", field) * mult
                          if get(f"{key}.{ph}", field) else None)
                      for ph in PHASES)


# Ceilings, CPU-normalized (used for "of ceiling") and wall-clock (shown).
h_v, h_c = max((best(f"empty.{ph}") for ph in PHASES),
               key=lambda p: norm(p[0]) or 0)
h = norm(h_v)
h_wall = max((wall(best(f"empty.{ph}", wall)[0]) or 0 for ph in PHASES)) or None
es = (phase_max("ceiling.es256_cpu", "per_s") or 0) * NPROC or None
es_v = (phase_max("ceiling.es256_cpu", "verify_per_s") or 0) * NPROC or None
rs = (phase_max("ceiling.rs256_cpu", "per_s") or 0) * NPROC or None
rs_v = (phase_max("ceiling.rs256_cpu", "verify_per_s") or 0) * NPROC or None
scrypt = (phase_max("ceiling.scrypt", "per_cpu_s") or 0) * NPROC or None
scrypt_wall = phase_max("ceiling.scrypt", "hashes_per_s")
scrypt_cpu_ms = 1000 * NPROC / scrypt if scrypt else None


def bracket_mean(key, field):
    """The mean of a ceiling measured right before and right after the
    workload it bounds (bench/run's bracket), or None."""
    vals = [get(f"bracket.{key}.{w}", field) for w in ("before", "after")]
    vals = [v for v in vals if v]
    return sum(vals) / len(vals) if vals else None


# RSA signing bounds the RS256 grant and scrypt bounds sign-in; each is
# judged against its ceiling measured next to it when bench/run did so.
rs_cc = (bracket_mean("rs256_cpu", "per_s") or 0) * NPROC or rs
scrypt_si = (bracket_mean("scrypt", "per_cpu_s") or 0) * NPROC or scrypt
redis_get = max([(get(f"ceiling.redis.{ph}") or {}).get("GET", {}).get("per_s", 0)
                 for ph in PHASES]) or None

rows = []  # workload, ours, peer, ratio, ceiling, of ceiling, target, met


def met(ok):
    return "—" if ok is None else ("met" if ok else "**not met**")


def cell(v, c=None, unit="req/s"):
    """'N req/s (c=C); wall W' for a loadgen result."""
    if not isinstance(v, dict):
        return NOT_YET
    n = norm(v)
    s = f"{fmt(n)} {unit}" if n else "—"
    if c is not None:
        s += f" (c={c})"
    return s + f"; wall {fmt(wall(v))}"


def rel(a, b):
    r = ratio(norm(a) if isinstance(a, dict) else None,
              norm(b) if isinstance(b, dict) else None)
    return (f"{fmt(r)}×" if r else "—"), r


# /token client_credentials
for alg, s in (("ES256", es), ("RS256", rs)):
    g, gc = best(f"gh.cc_{alg}")
    p, pc = best(f"peer.cc_{alg}")
    rtxt, r = rel(g, p)
    ours = norm(g)
    if alg == "ES256":
        ceil = combined(h, s)
        frac = ratio(ours, ceil)
        ok = None if ours is None else (r is not None and r >= 5 and
                                        frac is not None and frac >= 0.5)
        target = "≥ 5× peer and ≥ 50% of 1/(1/h+1/s)"
        ceil_txt = f"{fmt(ceil)} /s (h {fmt(h)}, s {fmt(s)})"
    else:
        ceil = rs_cc
        frac = ratio(ours, ceil)
        ok = None if ours is None else frac is not None and frac >= 0.8
        target = "≥ 80% of RSA-2048 signs/s"
        ceil_txt = f"{fmt(ceil)} signs/s" + (
            " (measured right before and after)"
            if bracket_mean("rs256_cpu", "per_s") else "")
    rows.append((f"`/token` client_credentials, {alg}", cell(g, gc),
                 cell(p, pc), rtxt, ceil_txt, pct(frac), target, met(ok)))

# refresh rotation: SPEC's target (≥ 5× peer) is for ES256; RS256 is shown
# against the same kind of ceiling, without a target of its own.
for alg, s in (("ES256", es), ("RS256", rs)):
    g, p = get(f"gh.refresh_{alg}"), get(f"peer.refresh_{alg}")
    rtxt, r = rel(g, p)
    ceil = combined(h, s, 2)
    rows.append((f"`/token` refresh_token (rotation), {alg}", cell(g), cell(p),
                 rtxt, f"{fmt(ceil)} /s (h + 2 {alg} signatures: access and "
                 "ID token)",
                 pct(ratio(norm(g) if g else None, ceil)),
                 "≥ 5× peer" if alg == "ES256" else "(no SPEC row)",
                 met(None if r is None else r >= 5) if alg == "ES256" else "—"))

# introspection
for alg, v in (("ES256", es_v), ("RS256", rs_v)):
    g, p = get(f"gh.introspect_{alg}"), get(f"peer.introspect_{alg}")
    rtxt, _ = rel(g, p)
    ceil = combined(h, v)
    ours = norm(g) if g else None
    rows.append((f"`/introspect` of a JWT access token, {alg}", cell(g),
                 cell(p) + " (opaque token†)" if p else NOT_YET, rtxt,
                 f"{fmt(ceil)} /s (h, {alg} verifies/s {fmt(v)})",
                 pct(ratio(ours, ceil)), "≥ 25,000 req/s",
                 met(None if ours is None else ours >= 25000)))

# sign-in
g = get("gh.signin")
ours = norm(g) if g else None
rows.append(("sign-in (scrypt)", cell(g, unit="/s"), "n/a‡", "—",
             f"{fmt(scrypt_si)} hashes/s ({NPROC} cores; "
             f"{fmt(1000 * NPROC / scrypt_si if scrypt_si else None)} ms "
             "of CPU per hash" + ("; measured right before and after"
                                  if bracket_mean("scrypt", "per_cpu_s")
                                  else "") + ")",
             pct(ratio(ours, scrypt_si)), "≥ 90% of scrypt",
             met(None if ours is None or not scrypt_si
                 else ours / scrypt_si >= 0.9)))

# p99 under sign-ins
a = get("gh.cc_p99_alone", "p99_ms")
b = get("gh.cc_p99_signins", "p99_ms")
rows.append(("`/token` p99 while sign-ins saturate hashing",
             f"{fmt(b)} ms (alone {fmt(a)} ms)", "—",
             f"{fmt(ratio(b, a))}× alone" if a and b else "—", "—", "—",
             "≤ 2× p99 without", met(None if not a or not b else b / a <= 2)))

# a returning user's sign-in under a flood (bench/flood_login.c)
g = get("gh.flood_signin")
if g:
    rows.append(("a returning user's sign-in while 100 concurrent attackers "
                 "from fresh addresses flood `/login`",
                 f"{g['returning_ok']} of {g['trials']} signed in: p50 "
                 f"{fmt(g['returning_p50_ms'])} ms, max "
                 f"{fmt(g['returning_max_ms'])} ms (a browser new to "
                 f"Gatehouse meanwhile: {g['fresh_ok']} signed in, "
                 f"{g['fresh_busy']} turned away with 503; the flood: "
                 f"{g['flood_attempts']:,} attempts in {fmt(g['flood_s'])} s, "
                 f"{g['flood_hashed']:,} hashed, {g['flood_busy']:,} 503, "
                 f"{g['flood_locked']:,} 429 from an address's own guesses)",
                 "—", "—", "—", "—", "succeeds within 3 s",
                 met(g["returning_ok"] == g["trials"]
                     and g["returning_max_ms"] < 3000)))
else:
    rows.append(("a returning user's sign-in while 100 concurrent attackers "
                 "from fresh addresses flood `/login`", NOT_YET, "—", "—",
                 "—", "—", "succeeds within 3 s", "—"))


def peer_fanout_cell():
    """node-oidc-provider's fan-out (bench/peer_fanout.py), and whether
    its logout tokens checked out; (cell, p50, p99)."""
    pf, chk = get("peer.fanout50"), get("peer.fanout50_check")
    if not (isinstance(pf, dict) and pf.get("complete")):
        return NOT_YET, None, None
    ad, fg = pf["all_delivered_ms"], pf["from_end_session_get_ms"]
    lr = pf["logout_response_ms"]
    s = (f"all 50 delivered: p50 {fmt(ad['p50'])} ms, p99 {fmt(ad['p99'])} ms "
         f"from the logout confirmation ({pf['complete']}/{pf['trials']} "
         f"logouts complete; the confirmation answered 303 in p50 {fmt(lr['p50'])} ms; from "
         f"GET /session/end p50 {fmt(fg['p50'])} ms")
    if isinstance(chk, dict) and chk.get("ok"):
        s += (f"; {chk['tokens_ok']} logout tokens checked, "
              + (f"{chk['signatures_verified']} signatures verified"
                 if isinstance(chk["signatures_verified"], int)
                 else "signatures not checked") + ")††")
    elif isinstance(chk, dict):
        s += "; **logout tokens did not check out**: " + "; ".join(
            chk.get("problems") or ["?"]) + ")††"
    else:
        s += "; logout tokens not checked)††"
    return s, ad["p50"], ad["p99"]


fo = get("gh.fanout50")
pcell, pp50, pp99 = peer_fanout_cell()
if fo and fo.get("complete"):
    ad, lr = fo["all_delivered_ms"], fo["logout_response_ms"]
    rows.append(("one logout fanning out to 50 apps",
                 f"all 50 delivered: p50 {fmt(ad['p50'])} ms, p99 {fmt(ad['p99'])} ms "
                 f"({fo['complete']}/{fo['trials']} logouts complete; /logout "
                 f"answered in p50 {fmt(lr['p50'])} ms)",
                 pcell,
                 f"{fmt(ratio(pp50, ad['p50']))}× faster at p50, "
                 f"{fmt(ratio(pp99, ad['p99']))}× at p99" if pp50 else "—",
                 "—", "—", "all 50, p99 ≤ 100 ms",
                 met(fo["complete"] == fo["trials"] and ad["p99"] <= 100)))
else:
    rows.append(("one logout fanning out to 50 apps", NOT_YET, pcell, "—",
                 "—", "—", "all 50, p99 ≤ 100 ms", "—"))


def logout_all_row():
    """SPEC §8: all 300,000 delivered within 30 s (≥ 10,000/s). Judged on
    the wall clock: a CPU-normalized rate (× NPROC cores) assumes the work
    spreads over every core, which a few busy threads need not; that rate
    is shown too."""
    la, seed = get("gh.logout_all"), get("gh.logout_all_seed")
    n = seed.get("sessions") if isinstance(seed, dict) else None
    name = (f"`logout-all` {n:,} sessions × 3 apps" if n else
            "`logout-all` 100,000 sessions × 3 apps")
    target = "all 300,000 within 30 s (≥ 10,000 deliveries/s)"
    if not isinstance(la, dict):
        return (name, NOT_YET, "n/a (no such operation)§", "—", "—", "—",
                target, "—")
    cpu = la.get("sut_cpu_s") or 0
    cpu_rate = la["delivered"] / cpu * NPROC if cpu > 0 else None
    m = la.get("metrics") or {}
    ours = (f"{fmt(cpu_rate)} deliveries/s CPU-normalized; wall "
            f"{fmt(la['per_s'])}/s: {la['delivered']:,} of {la['expected']:,} "
            f"in {fmt(la['seconds'])} s ({la.get('sessions') or 0:,} sessions ended "
            f"in {fmt(la.get('sessions_ended_s'))} s; CPU {fmt(cpu)} s of "
            f"Gatehouse, Redis and sinks; /metrics: {m.get('delivered', 0):,} "
            f"delivered, {m.get('retried', 0):,} retried, {m.get('failed', 0):,} "
            f"failed; seeded at {fmt(seed.get('per_s'))} sessions/s)")
    ceil = combined(h, es)
    ok = (la["complete"] and la["per_s"] >= 10000 and
          la["seconds"] <= 30 * la["expected"] / 300000)
    return (name, ours, "n/a (no such operation)§", "—",
            f"{fmt(es)} ES256 signs/s ({fmt(es / NPROC if es else None)} on one "
            f"core); with a POST each {fmt(ceil)} /s",
            pct(ratio(cpu_rate, es)) + " of signs/s" if es else "—",
            target, met(ok))


rows.append(logout_all_row())

# Redis memory per session
def peer_memory():
    """node-oidc-provider's keys per session (its Session, the adapter's
    uid index of it, the Grant): (cell, bytes per session)."""
    pm = get("peer.redis_per_session")
    if not (isinstance(pm, dict) and pm.get("keys")):
        return NOT_YET, None
    k = pm["keys"]
    n = (k.get("Session") or {}).get("count")
    if not n:
        return NOT_YET, None
    b = {m: (k.get(m) or {}).get("bytes", 0) / n for m in ("Session", "uid", "Grant")}
    per = sum(b.values())
    other = sorted(set(k) - {"Session", "uid", "Grant"})
    delta = (pm["used_memory_delta"] - pm.get("clients_delta", 0)) / pm["sessions"] \
        if pm.get("sessions") else None
    return (f"{fmt(per)} B by `MEMORY USAGE` of its Session key "
            f"({fmt(b['Session'])} B), the adapter's uid index of it "
            f"({fmt(b['uid'])} B) and the Grant ({fmt(b['Grant'])} B), one app "
            f"each ({n} sessions"
            + (f"; other keys: {', '.join(other)}" if other else "; no other keys")
            + f"); `used_memory` grew {fmt(delta)} B per session over "
            f"{pm['sessions']}‡‡", per)


pm_cell, pm_per = peer_memory()
g1 = get("gh.redis_per_session_one_app")
g1_per = (g1["sess_key_bytes"] + g1["index_key_bytes_delta"]) / g1["sessions"] \
    if isinstance(g1, dict) and g1.get("sessions") else None
rp = get("gh.redis_per_session")
if rp and rp.get("sessions"):
    delta = (rp["used_memory_delta"] - rp.get("clients_delta", 0)) / rp["sessions"]
    sampled = rp["sess_key_bytes_sampled"] / rp["sampled"] if rp["sampled"] else None
    keys = (rp["index_key_bytes"] / rp["sessions_all"]
            if rp.get("sessions_all") else None)
    rows.append(("Redis memory per session",
                 f"{fmt(keys)} B by `MEMORY USAGE` of the session hash and its "
                 f"share of the per-user and expiry sets ({rp.get('sessions_all')} "
                 f"sessions; the hash alone {fmt(sampled)} B); `used_memory` grew "
                 f"{fmt(delta)} B per sign-in over {rp['sessions']} (an upper "
                 "bound: all a sign-in leaves, Lua and allocator noise included)"
                 + (f"; with one app recorded, one session per user: {fmt(g1_per)} B "
                    f"({g1['sessions']} seeded‡‡)" if g1_per else ""),
                 pm_cell,
                 (f"{fmt(ratio(g1_per, pm_per))}× (one app each; "
                  f"{fmt(ratio(keys, pm_per))}× with the sign-ins' sessions)"
                  if g1_per else f"{fmt(ratio(keys, pm_per))}×") if pm_per and keys
                 else "—", "—", "—", "≤ 1 KiB",
                 met(None if keys is None else keys <= 1024)))
else:
    rows.append(("Redis memory per session", NOT_YET, pm_cell, "—", "—", "—",
                 "≤ 1 KiB", "—"))

# What anonymous visitors leave in Redis (SPEC §8, issue 15)
def anon_row():
    a = get("gh.anon_memory")
    target = "`used_memory` grows < 1 MiB"
    if not isinstance(a, dict):
        return ("100,000 unauthenticated `GET /authorize` + `GET /login`",
                NOT_YET, "—", "—", "—", "—", target, "—")
    n = a["requests_each"]
    grew = a["used_memory_after"] - a["used_memory_before"]
    ok = {k: a[k]["status"].get("200", 0) for k in ("authorize", "login")}
    return (f"{n:,} unauthenticated `GET /authorize` + `GET /login`",
            f"`used_memory` grew {grew:,} B ({grew / 1024:,.1f} KiB), keys "
            f"{a['keys_before']} → {a['keys_after']}; {ok['authorize']:,} and "
            f"{ok['login']:,} answered 200 (the sign-in form), "
            f"{fmt(a['authorize']['ok_rps'])} and {fmt(a['login']['ok_rps'])} "
            "req/s wall, 16 connections, no cookies",
            "—", "—", "—", "—", target,
            met(grew < 1024 * 1024 and min(ok.values()) == n))


rows.append(anon_row())

# RSS idle. The pool per connection is read from the header that sets it.
def conn_pool_kib():
    import re
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "include", "gatehouse", "http", "http.h")
    m = re.search(r"#define HTTP_CONN_MEMORY \((\d+) \* 1024\)",
                  open(path).read())
    return int(m.group(1)) if m else None


g = get("gh.rss_idle10k")
p = get("peer.rss_idle10k")
if g:
    gm = g["rss_kib"] / 1024
    pm = p["rss_kib"] / 1024 if p else None
    pool = conn_pool_kib()
    rows.append(("RSS with 10,000 idle keep-alive connections",
                 f"{fmt(gm)} MiB ({g['idle']['requests']} of 10,000 answered; "
                 f"{fmt(g['rss_before_kib'] / 1024)} MiB before; a {pool} KiB "
                 "libmicrohttpd pool per connection, sized for the 16 KiB "
                 "header budget, all of it resident once the connection has "
                 "made a request: libmicrohttpd 0.9.75 zeroes the whole pool "
                 "after each)",
                 f"{fmt(pm)} MiB, all processes ({p['idle']['requests']} of "
                 "10,000 answered)" if pm else "—",
                 f"{fmt(ratio(gm, pm))}×" if pm else "—", "—", "—",
                 "≤ 128 MiB with the 16 KiB header budget",
                 met(gm <= 128 and g['idle']['requests'] == 10000)))

# rows of the issue that have no SPEC target
g, p = get("gh.authorize"), get("peer.authorize")
rows.append(("`/authorize` with an SSO cookie (302 with a code)", cell(g),
             cell(p) + " (its session minted¶)" if p else NOT_YET, rel(g, p)[0],
             f"h {fmt(h)} /s; Redis GET {fmt(redis_get)} /s (wall)" if h else "—",
             pct(ratio(norm(g) if g else None, h)) + " of h" if h and g else "—",
             "(no SPEC row)", "—"))
ge = get("gh.ready_ES256", "ready_ms")
pe = get("peer.ready", "ready_ms")
rows.append(("time from `serve` to ready",
             f"{fmt(ge)} ms (to `/readyz` 200)",
             f"{fmt(pe)} ms ({NPROC} workers, to discovery 200)",
             f"{fmt(ratio(pe, ge))}× faster" if ge and pe else "—", "—", "—",
             "(no SPEC row)", "—"))

# ---------------------------------------------------------------- the file
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
run = R.get("run", {}) or {}
L = []
L.append("# Gatehouse benchmarks (SPEC §8)")
L.append("")
L.append(f"Written by `bench/run` on {now}: commit `{machine['commit']}`"
         + (f" with {machine['dirty_files']} uncommitted changes in src/include"
            if machine["dirty_files"] not in ("0", 0) else "")
         + f", in {run.get('seconds', '?')} s.")
L.append("")
L.append(f"Machine: {NPROC} cores, {machine['cpu']}, {machine['mem']}, "
         f"{machine['kernel']}. Redis {machine['redis']}, OpenSSL "
         f"{machine['openssl']}, libmicrohttpd {machine['libmicrohttpd']}, "
         f"Node {machine['node']}, oidc-provider {machine['oidc_provider']}.")
L.append("")
L.append(f"**The machine was shared**: load average {machine['load_start']} at "
         f"the start and {run.get('load_end', '?')} at the end, on {NPROC} cores. "
         "Wall-clock rates then say more about the neighbours than about "
         "Gatehouse, and a ceiling measured a minute before a workload is "
         "not comparable with it. So every load also records the CPU time of "
         "everything under test (server processes, Redis, and loadgen itself), "
         f"and the first figure in each cell is **CPU-normalized**: requests ÷ "
         f"that CPU time × {NPROC}, what the run does with the {NPROC} cores to "
         "itself. Ceilings are normalized the same way (openssl speed's "
         f"CPU-time rate × {NPROC}; the empty handler's requests over its and "
         "loadgen's CPU). Ratios and fractions of ceiling use these; the "
         "wall-clock rate follows each figure.")
L.append("")
L.append(f"Each load runs {machine['duration_s']} s after a warm-up, from "
         "`bench/loadgen` (one epoll thread, keep-alive) on the same cores; "
         "Redis is private, on a unix socket, shared by both servers.")
L.append("")
L.append("| workload | Gatehouse | node-oidc-provider | ratio | ceiling | of ceiling | SPEC target | |")
L.append("|---|---|---|---|---|---|---|---|")
for r in rows:
    L.append("| " + " | ".join(r) + " |")
L.append("")
L.append("The peer is node-oidc-provider with the same clients and secrets "
         "(client_secret_basic), JWT access tokens (`resourceIndicators`, "
         "`accessTokenFormat: 'jwt'`) signed with the same algorithm, refresh "
         "rotation on, a client introspects its own tokens, and its state in "
         "**Redis through an adapter** (bench/peer/server.mjs, ioredis, the "
         f"same Redis), one process per core ({NPROC}, node cluster). Its "
         "refresh tokens are minted in-process through its own models (what "
         "a code exchange leaves), not through a sign-in. oidc-provider "
         f"{machine['oidc_provider']} asks for Node 22; it ran on "
         f"{machine['node']} (Debian 12's), with a warning.")
L.append("")
L.append("† node-oidc-provider introspects only tokens it stored: its JWT access "
         "tokens answer `{\"active\":false}`, so its figure is for an opaque "
         "token (one Redis read). Gatehouse verifies the JWT signature, then "
         "checks revocation (and the session, for a user's token) in Redis.")
L.append("")
L.append("‡ node-oidc-provider leaves passwords to the application "
         "(`findAccount`, interactions); there is nothing of its own to compare.")
L.append("")
if get("gh.flood_signin"):
    L.append("Flood sign-in: bench/flood_login.c against the ES256 instance. "
             "100 attacker threads, each from a source address of its own "
             "(127.0.0.2 .. 127.0.0.101), fetch the sign-in form and post a "
             "wrong password for a fresh username back to back; user `bench`, "
             "whose browser signed in once before and keeps the device "
             "cookie, then signs in 10 times (form and POST timed), each "
             "after a browser new to Gatehouse tried. Requests time out after "
             "15 s.")
    L.append("")
L.append("¶ node-oidc-provider's session for `/auth` is made by its own "
         "models (bench/peer/server.mjs, `/bench/session`): a Session with an "
         "account logged in and crm's Grant (openid profile email) recorded "
         "on it, what its sign-in and consent interactions would leave; the "
         "cookie `_session` names it. bench/run checks that `/auth` answers a "
         "redirect with a code (not to an interaction) before and after the "
         "load. Each answer is a 303 with a code, as Gatehouse's 302.")
L.append("")
L.append("§ node-oidc-provider has no operation that ends every session: its "
         "sessions end one at a time (end_session, or the application calling "
         "`Session#destroy`), and its back-channel logout is sent from the "
         "request that ends the session. Nothing of its own compares with "
         "Gatehouse's logout-all.")
L.append("")
if pcell != NOT_YET:
    L.append("†† node-oidc-provider's fan-out (bench/peer_fanout.py): its own "
             f"instance ({NPROC} processes, the same Redis) with apps "
             "app01..app50, each with `backchannel_logout_uri` "
             "http://127.0.0.1:SINK/bc/NN, `backchannel_logout_session_required` "
             "and ES256 ID and logout tokens, and the `backchannelLogout` and "
             "`rpInitiatedLogout` features on. Its SSRF guard refuses loopback "
             "addresses, so it posts through fetch's default dispatcher (its "
             "`fetch` option). Each trial makes, through its own models "
             "(`/bench/fanout-session`), a Session with an account logged in "
             "and each app's Grant and sid recorded on it, what a sign-in and "
             "50 code flows leave; then drives its RP-initiated logout over "
             "HTTP as a browser does: `GET /session/end` with the `_session` "
             "cookie and the last app's ID token as `id_token_hint` (the "
             "confirmation page), then `POST /session/end/confirm` with its "
             "xsrf and `logout=yes`, which sends the 50 logout tokens (and "
             "awaits them) before it answers 303. The time runs from that POST "
             "to the 50th POST's arrival at the sink (empty_mhd in sink mode, "
             "as for Gatehouse), with fanout.py's trials and percentiles; "
             "Gatehouse's /logout needs no confirmation page. Before the timed "
             "trials bench/peer_fanout.py listened on the sink's port itself "
             "for one logout: one POST to each app's path, each a "
             "form-encoded `logout_token`, an ES256 `logout+jwt` with that "
             "app's `aud` and `sid`, the account's `sub`, the back-channel "
             "logout event, a fresh `jti` and no `nonce`, its signature "
             "verified against the peer's `/jwks`.")
    L.append("")
if pm_per:
    L.append("‡‡ node-oidc-provider's memory: one process on the sign-in "
             "Redis (bench/run's second private one, once Gatehouse's run there "
             "has ended), under a key prefix of its own, `peermem:`. "
             f"{get('peer.redis_per_session')['sessions']} "
             "sessions made through its own models (`/bench/session?n=`), each "
             "an account logged in with crm's Grant (openid profile email) and "
             "sid recorded on it, what its sign-in and consent interactions "
             "leave (the Interaction is destroyed when the flow resumes and a code "
             "expires within a minute; tokens are not counted, as for "
             "Gatehouse). Its adapter "
             "(bench/peer/server.mjs, the Redis adapter its docs sketch) "
             "writes for each a `Session:<id>` string, a `uid:<uid>` index "
             "key to find the session by uid, and a `Grant:<id>` string; every "
             "key under the prefix was counted, by kind. Gatehouse's sign-in "
             "sessions carry no app and all belong to one user; so Gatehouse "
             "is also shown with one app recorded on each session and one "
             "session per user: sessions seeded through its session API "
             "(bench/seed_sessions, `session_create` then "
             "`session_record_app` for bc1), their hashes and what the "
             "per-user and expiry indexes grew by. The ratio is Gatehouse's "
             "bytes over the peer's.")
    L.append("")
L.append("logout-all: the sessions are seeded by bench/seed_sessions.c through "
         "Gatehouse's own session API (`session_create`, then "
         "`session_record_app` for apps bc1..bc3, each with a "
         "backchannel_logout_uri on its own sink, bench/empty_mhd in sink "
         "mode), for 1,000 users. bench/logout_all.py gets an admin token "
         "(client_credentials, scope gatehouse:admin), POSTs "
         "/admin/logout-all, and polls the sinks every 100 ms; the time runs "
         "from the call to the last notification's arrival. Gatehouse runs "
         "with `backchannel.concurrency` 256 (the default is 64) and "
         "`backchannel.per_app_concurrency` 128 (the default, 8, would hold "
         "three apps to 24 in flight), as an "
         "operator who needs a bulk logout done fast would set them. Its target is "
         "judged on the wall clock (SPEC: within 30 s): the CPU-normalized "
         f"rate (× {NPROC} cores) assumes the work spreads over every core, "
         "and the ending of sessions and the back-channel engine need not.")
L.append("")
L.append("## Ceilings, measured in this run")
L.append("")
L.append(f"h is the empty libmicrohttpd handler (bench/empty_mhd.c, Gatehouse's "
         f"daemon options) at its best connection count (c={h_c}); s comes from "
         "`openssl speed`; scrypt from bench/scrypt_speed.c with SPEC §7's "
         "parameters. Each was measured at the start and at the end of the run; "
         "the higher is used, except for the two workloads a single primitive "
         "bounds: the RS256 grant is judged against RSA signing and sign-in "
         "against scrypt measured right before and right after that workload "
         "(the mean of the two; both are in the last rows), since a CPU-time "
         "rate moves with what the neighbours run on the sibling hyperthreads.")
L.append("")
L.append("| ceiling | used (CPU-normalized) | wall clock, start / end |")
L.append("|---|---|---|")
hs = " / ".join(fmt(wall(best(f"empty.{ph}", wall)[0])) for ph in PHASES)
L.append(f"| h, empty libmicrohttpd handler, req/s | {fmt(h)} (c={h_c}) | {hs} |")
for name, key, field, val in (
        ("ES256 (P-256) signs/s", "es256", "per_s", es),
        ("ES256 (P-256) verifies/s", "es256", "verify_per_s", es_v),
        ("RS256 (RSA-2048) signs/s", "rs256", "per_s", rs),
        ("RS256 (RSA-2048) verifies/s", "rs256", "verify_per_s", rs_v)):
    L.append(f"| {name} | {fmt(val)} ({NPROC} × one process's CPU-time rate "
             f"{both(f'ceiling.{key}_cpu', field)}) | "
             f"`-multi {NPROC}`: {both(f'ceiling.{key}_sign', field)} |")
for k in ("PING_INLINE", "SET", "GET"):
    vals = [(get(f"ceiling.redis.{ph}") or {}).get(k) for ph in PHASES]
    if any(vals):
        L.append(f"| redis-benchmark {k} on the socket, req/s (p50 ms) | — | "
                 + " / ".join(f"{fmt(v['per_s'])} ({v['p50_ms']})" if v else "—"
                              for v in vals) + " |")
L.append(f"| scrypt N=2^15 r=8 p=1, hashes/s | {fmt(scrypt)} ({fmt(scrypt_cpu_ms)} "
         f"ms of CPU per hash) | {both('ceiling.scrypt', 'hashes_per_s')} on "
         f"{NPROC} threads; one thread {both('ceiling.scrypt1', 'ms_per_hash')} "
         "ms per hash |")
for name, key, field, mult in (
        ("RSA-2048 signs/s next to the RS256 grant", "rs256_cpu", "per_s", NPROC),
        ("scrypt hashes/s next to sign-in", "scrypt", "per_cpu_s", NPROC)):
    vals = [get(f"bracket.{key}.{w}", field) for w in ("before", "after")]
    if any(vals):
        L.append(f"| {name}, before / after | {fmt(bracket_mean(key, field) * mult)} "
                 f"(mean; {NPROC} × the CPU-time rate) | "
                 + " / ".join(fmt(v * mult) if v else "—" for v in vals)
                 + f" ({NPROC} × the CPU-time rate) |")
L.append("")
L.append("## Every run")
L.append("")
L.append("| run | conns | req/s CPU-normalized | req/s wall (2xx/3xx) | p50 ms | p99 ms | statuses | errors |")
L.append("|---|---|---|---|---|---|---|---|")
for k, v in R.items():
    if not isinstance(v, dict) or "ok_rps" not in v:
        continue
    errs = v["connect_errors"] + v["read_errors"] + v["timeouts"]
    st = ", ".join(f"{s}: {n}" for s, n in v["status"].items())
    L.append(f"| {k} | {v['conns']} | {fmt(norm(v))} | {fmt(v['ok_rps'])} | "
             f"{v['p50_ms']:.2f} | {v['p99_ms']:.2f} | {st} | {errs} |")
L.append("")
L.append("Raw numbers: `bench/out/results.jsonl` (not committed). Plot: "
         "`throughput.png`, client_credentials req/s against connections.")
L.append("")
missing = []
if not (fo and fo.get("complete")):
    missing.append("- one logout fanning out to 50 apps;")
if not isinstance(get("gh.logout_all"), dict):
    missing.append("- logout-all of 100,000 sessions × 3 apps;")
peer_missing = [w for w, ok in (
    ("the one-logout fan-out", pcell != NOT_YET),
    ("Redis memory per session", pm_per is not None),
    ("`/authorize` with a session cookie", bool(get("peer.authorize")))) if not ok]
if peer_missing:
    missing.append("- node-oidc-provider's side of " + ", of ".join(peer_missing) + ";")
if missing:
    L.append("## Not measured yet")
    L.append("")
    L.extend(missing)
    L.append("")
open(md_path, "w").write("\n".join(L))

# ---------------------------------------------------------------- the plot
series = [("empty libmicrohttpd (h)",
           f"empty.{max(PHASES, key=lambda ph: norm(best(f'empty.{ph}')[0]) or 0)}"),
          ("Gatehouse ES256", "gh.cc_ES256"), ("Gatehouse RS256", "gh.cc_RS256"),
          ("node-oidc-provider ES256", "peer.cc_ES256"),
          ("node-oidc-provider RS256", "peer.cc_RS256")]
dat = os.path.join(out_dir, "throughput.dat")
with open(dat, "w") as f:
    for title, prefix in series:
        f.write(f'"{title}"\n')
        pts = sorted((v["conns"], norm(v)) for k, v in R.items()
                     if k.startswith(prefix + ".c") and norm(v))
        for c, r in pts:
            f.write(f"{c} {r}\n")
        f.write("\n\n")
gp = f"""
set terminal pngcairo size 900,560 font ",11" noenhanced
set output "{png_path}"
set title "/token client_credentials, CPU-normalized req/s against connections ({NPROC} cores, {machine['commit']})"
set xlabel "connections"
set ylabel "req/s per {NPROC} CPU-seconds"
set logscale x 2
set logscale y 10
set grid
set key outside right
plot for [i=0:{len(series) - 1}] "{dat}" index i using 1:2 with linespoints lw 2 title columnheader(1)
"""
try:
    subprocess.run(["gnuplot"], input=gp, text=True, check=True)
except (OSError, subprocess.CalledProcessError) as e:
    print(f"report.py: no plot: {e}", file=sys.stderr)
