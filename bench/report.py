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

out_dir, md_path, png_path = sys.argv[1:4]
machine = json.load(open(os.path.join(out_dir, "machine.json")))
R = {}
for line in open(os.path.join(out_dir, "results.jsonl")):
    line = line.strip()
    if line:
        rec = json.loads(line)
        R[rec["key"]] = rec["v"]

NOT_YET = "not measured yet"


def get(key, field=None):
    v = R.get(key)
    if v is None or field is None:
        return v
    return v.get(field)


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


def best(prefix):
    """The sweep point with the most successful req/s: (ok_rps, conns, v)."""
    pts = [(v["ok_rps"], v["conns"], v) for k, v in R.items()
           if k.startswith(prefix + ".c")]
    return max(pts, key=lambda p: p[0]) if pts else (None, None, None)


def combined(h, s, n=1):
    """1/(1/h + n/s): an HTTP round trip plus n signatures, both at full
    speed on the same cores."""
    if not h or not s:
        return None
    return 1 / (1 / h + n / s)


h, h_c, _ = best("empty")
es = get("ceiling.es256_sign", "per_s")
es_v = get("ceiling.es256_sign", "verify_per_s")
rs = get("ceiling.rs256_sign", "per_s")
rs_v = get("ceiling.rs256_sign", "verify_per_s")
scrypt = get("ceiling.scrypt", "hashes_per_s")
scrypt_ms = get("ceiling.scrypt1", "ms_per_hash")
redis_get = (get("ceiling.redis") or {}).get("GET", {}).get("per_s")

rows = []  # workload, ours, peer, ratio, ceiling, of ceiling, target, met


def met(ok):
    return "—" if ok is None else ("met" if ok else "**not met**")


def ratio(a, b):
    return a / b if a and b else None


# /token client_credentials
for alg, s in (("ES256", es), ("RS256", rs)):
    ours, oc, _ = best(f"gh.cc_{alg}")
    peer, pc, _ = best(f"peer.cc_{alg}")
    r = ratio(ours, peer)
    if alg == "ES256":
        ceil = combined(h, s)
        frac = ratio(ours, ceil)
        ok = None if ours is None else (r is not None and r >= 5 and frac is not None and frac >= 0.5)
        target = "≥ 5× peer and ≥ 50% of 1/(1/h+1/s)"
        ceil_txt = f"{fmt(ceil)} /s (h {fmt(h)}, s {fmt(s)})"
    else:
        ceil = s
        frac = ratio(ours, ceil)
        ok = None if ours is None else frac is not None and frac >= 0.8
        target = "≥ 80% of RSA-2048 signs/s"
        ceil_txt = f"{fmt(ceil)} signs/s"
    rows.append((f"`/token` client_credentials, {alg}",
                 f"{fmt(ours)} req/s (c={oc})", f"{fmt(peer)} req/s (c={pc})",
                 f"{fmt(r)}×" if r else "—", ceil_txt, pct(frac), target, met(ok)))

# refresh rotation
ours = get("gh.refresh_ES256", "ok_rps")
peer = get("peer.refresh_ES256", "ok_rps")
r = ratio(ours, peer)
ceil = combined(h, es, 2)
rows.append(("`/token` refresh_token (rotation), ES256",
             f"{fmt(ours)} req/s", f"{fmt(peer)} req/s",
             f"{fmt(r)}×" if r else "—",
             f"{fmt(ceil)} /s (h + 2 signatures: access and ID token)",
             pct(ratio(ours, ceil)), "≥ 5× peer",
             met(None if r is None else r >= 5)))

# introspection
for alg, v in (("ES256", es_v), ("RS256", rs_v)):
    ours = get(f"gh.introspect_{alg}", "ok_rps")
    peer = get(f"peer.introspect_{alg}", "ok_rps")
    ceil = combined(h, v)
    rows.append((f"`/introspect` of a JWT access token, {alg}",
                 f"{fmt(ours)} req/s",
                 f"{fmt(peer)} req/s (opaque token†)",
                 f"{fmt(ratio(ours, peer))}×" if ours and peer else "—",
                 f"{fmt(ceil)} /s (h, {alg} verifies/s {fmt(v)})",
                 pct(ratio(ours, ceil)), "≥ 25,000 req/s",
                 met(None if ours is None else ours >= 25000)))

# sign-in
ours = get("gh.signin", "ok_rps")
rows.append(("sign-in (scrypt)", f"{fmt(ours)} /s", "n/a‡", "—",
             f"{fmt(scrypt)} hashes/s ({machine['nproc']} threads; "
             f"{fmt(scrypt_ms)} ms per hash)",
             pct(ratio(ours, scrypt)), "≥ 90% of scrypt",
             met(None if ours is None or not scrypt else ours / scrypt >= 0.9)))

# p99 under sign-ins
a = get("gh.cc_p99_alone", "p99_ms")
b = get("gh.cc_p99_signins", "p99_ms")
rows.append(("`/token` p99 while sign-ins saturate hashing",
             f"{fmt(b)} ms (alone {fmt(a)} ms)", "—",
             f"{fmt(ratio(b, a))}× alone" if a and b else "—", "—", "—",
             "≤ 2× p99 without", met(None if not a or not b else b / a <= 2)))

rows.append(("one logout fanning out to 50 apps", NOT_YET, NOT_YET, "—",
             "—", "—", "all 50, p99 ≤ 100 ms", "—"))
rows.append(("`logout-all` 100,000 sessions × 3 apps", NOT_YET, NOT_YET, "—",
             "—", "—", "≥ 10,000 deliveries/s", "—"))

# Redis memory per session
rp = get("gh.redis_per_session")
if rp and rp.get("sessions"):
    per = rp["used_memory_delta"] / rp["sessions"]
    sampled = rp["sess_key_bytes_sampled"] / rp["sampled"] if rp["sampled"] else None
    rows.append(("Redis memory per session",
                 f"{fmt(per)} B (`used_memory` Δ over {rp['sessions']} sign-ins); "
                 f"session hash alone {fmt(sampled)} B",
                 NOT_YET, "—", "—", "—", "≤ 1 KiB",
                 met(per <= 1024)))
else:
    rows.append(("Redis memory per session", NOT_YET, NOT_YET, "—", "—", "—",
                 "≤ 1 KiB", "—"))

# RSS idle
g = get("gh.rss_idle10k")
p = get("peer.rss_idle10k")
if g:
    gm = g["rss_kib"] / 1024
    pm = p["rss_kib"] / 1024 if p else None
    rows.append(("RSS with 10,000 idle keep-alive connections",
                 f"{fmt(gm)} MiB ({g['idle']['requests']} answered; idle "
                 f"{fmt(g['rss_before_kib'] / 1024)} MiB)",
                 f"{fmt(pm)} MiB, all processes" if pm else "—",
                 f"{fmt(ratio(gm, pm))}×" if pm else "—", "—", "—",
                 "≤ 128 MiB", met(gm <= 128)))

# extra rows that are in the issue
ra = get("gh.authorize", "ok_rps")
rows.append(("`/authorize` with an SSO cookie (302 with a code)",
             f"{fmt(ra)} req/s", NOT_YET, "—",
             f"{fmt(combined(h, redis_get, 3))} /s (h + 3 Redis round trips)" if h and redis_get else "—",
             pct(ratio(ra, combined(h, redis_get, 3))) if h and redis_get else "—",
             "(no SPEC row)", "—"))
ge = get("gh.ready_ES256", "ready_ms")
pe = get("peer.ready", "ready_ms")
rows.append(("time from `serve` to ready (`/readyz` 200)",
             f"{fmt(ge)} ms", f"{fmt(pe)} ms ({machine['nproc']} workers, to discovery 200)",
             f"{fmt(ratio(pe, ge))}× faster" if ge and pe else "—", "—", "—",
             "(no SPEC row)", "—"))

# ---------------------------------------------------------------- the file
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
run = R.get("run", {})
L = []
L.append("# Gatehouse benchmarks (SPEC §8)")
L.append("")
L.append(f"Written by `bench/run` on {now}: commit `{machine['commit']}`"
         + (f" with {machine['dirty_files']} uncommitted changes in src/include"
            if machine["dirty_files"] not in ("0", 0) else "")
         + f", in {run.get('seconds', '?')} s.")
L.append("")
L.append(f"Machine: {machine['nproc']} cores, {machine['cpu']}, {machine['mem']}, "
         f"{machine['kernel']}. Load average at start {machine['load_start']}, "
         f"at end {run.get('load_end', '?')} (other work on the machine shows "
         "up in every number). Redis {0}, OpenSSL {1}, libmicrohttpd {2}, "
         "Node {3}, oidc-provider {4}.".format(
             machine["redis"], machine["openssl"], machine["libmicrohttpd"],
             machine["node"], machine["oidc_provider"]))
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
         "rotation on, and its **Redis adapter** (bench/peer/server.mjs, "
         "ioredis, the same Redis), one process per core (node cluster). "
         "Its refresh tokens are minted in-process through its own models "
         "(what a code exchange leaves), not through a sign-in.")
L.append("")
L.append("† node-oidc-provider introspects only tokens it stored: its JWT access "
         "tokens answer `{\"active\":false}`, so its figure is for an opaque "
         "token (one Redis read). Gatehouse verifies the JWT signature, then "
         "checks revocation and the session in Redis.")
L.append("")
L.append("‡ node-oidc-provider leaves passwords to the application "
         "(`findAccount`, interactions); there is nothing of its own to compare.")
L.append("")
L.append("Ceilings, measured in this run: h = the empty libmicrohttpd handler "
         "(bench/empty_mhd.c, Gatehouse's daemon options) at its best connection "
         f"count (c={h_c}); s = `openssl speed -multi {machine['nproc']}` signatures/s; "
         "Redis = `redis-benchmark` on the socket; scrypt = bench/scrypt_speed.c "
         "with SPEC §7's parameters on as many threads as cores.")
L.append("")
L.append("| ceiling | value |")
L.append("|---|---|")
L.append(f"| h, empty libmicrohttpd handler | {fmt(h)} req/s (c={h_c}) |")
L.append(f"| ES256 (P-256) sign / verify | {fmt(es)} / {fmt(es_v)} per s |")
L.append(f"| RS256 (RSA-2048) sign / verify | {fmt(rs)} / {fmt(rs_v)} per s |")
rb = get("ceiling.redis") or {}
for k in ("PING_INLINE", "PING_MBULK", "SET", "GET"):
    if k in rb:
        L.append(f"| redis-benchmark {k} | {fmt(rb[k]['per_s'])} req/s, p50 {rb[k]['p50_ms']} ms |")
L.append(f"| scrypt N=2^15 r=8 p=1 | {fmt(scrypt_ms)} ms per hash on one thread; "
         f"{fmt(scrypt)} hashes/s on {machine['nproc']} |")
L.append("")
L.append("## Every run")
L.append("")
L.append("| run | conns | req/s (2xx/3xx) | p50 ms | p99 ms | statuses | errors |")
L.append("|---|---|---|---|---|---|---|")
for k, v in R.items():
    if not isinstance(v, dict) or "ok_rps" not in v:
        continue
    errs = v["connect_errors"] + v["read_errors"] + v["timeouts"]
    st = ", ".join(f"{s}: {n}" for s, n in v["status"].items())
    L.append(f"| {k} | {v['conns']} | {fmt(v['ok_rps'])} | {v['p50_ms']:.2f} | "
             f"{v['p99_ms']:.2f} | {st} | {errs} |")
L.append("")
L.append("Raw numbers: `bench/out/results.jsonl` (not committed). Plot: "
         "`throughput.png`, client_credentials req/s against connections.")
L.append("")
L.append("## Not measured yet")
L.append("")
L.append("- one logout fanning out to 50 apps (needs 50 back-channel receivers "
         "and delivery timestamps), and the peer's side of it;")
L.append("- logout-all of 100,000 sessions × 3 apps;")
L.append("- the peer's Redis memory per session and its `/authorize` with a "
         "session cookie (both need its interaction flow driven);")
L.append("")
open(md_path, "w").write("\n".join(L))

# ---------------------------------------------------------------- the plot
series = [("empty libmicrohttpd (h)", "empty"),
          ("Gatehouse ES256", "gh.cc_ES256"), ("Gatehouse RS256", "gh.cc_RS256"),
          ("node-oidc-provider ES256", "peer.cc_ES256"),
          ("node-oidc-provider RS256", "peer.cc_RS256")]
dat = os.path.join(out_dir, "throughput.dat")
with open(dat, "w") as f:
    for title, prefix in series:
        f.write(f'"{title}"\n')
        pts = sorted((v["conns"], v["ok_rps"]) for k, v in R.items()
                     if k.startswith(prefix + ".c"))
        for c, r in pts:
            f.write(f"{c} {r}\n")
        f.write("\n\n")
gp = f"""
set terminal pngcairo size 900,560 font ",11"
set output "{png_path}"
set title "/token client_credentials: req/s against connections ({machine['nproc']} cores, commit {machine['commit']})"
set xlabel "connections"
set ylabel "successful req/s"
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
