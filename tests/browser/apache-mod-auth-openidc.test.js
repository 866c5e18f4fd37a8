// SPDX-License-Identifier: MIT
// Two apps an operator already has, put behind Gatehouse with Debian's
// Apache httpd and mod_auth_openidc 2.4.12, in headless Chromium. Each app
// is its own Apache (run in the foreground, from a config written here
// into the stack's temp dir) on a loopback port of 127.0.0.1, the host
// Gatehouse is on too, so the browser sends every cookie of one to the
// others. The OIDC part of each config is deploy/apache-mod-auth-openidc.conf
// itself, included with the app's variables defined.
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { after } = require('node:test');
const tls = require('node:tls');
const {
  GATEHOUSE_BIN, PASSWORD, exited, freePort, run, sleep, status, statusText,
  top, useStack, waitFor,
} = require('./harness');

const APACHE = process.env.APACHE_BIN || '/usr/sbin/apache2';
const MODULES = process.env.APACHE_MODULES || '/usr/lib/apache2/modules';
const TEMPLATE = path.join(top, 'deploy', 'apache-mod-auth-openidc.conf');
// The template refreshes 60 s before expiry: with 65 s access tokens a
// refresh is due 5 s after each grant, so a scenario can wait for one.
const ACCESS_TTL_S = 65;
const REFRESH_BEFORE_S = 60;
const ADMIN = { id: 'security-console', secret: crypto.randomBytes(16).toString('hex') };
// How long the relay in front of Gatehouse's /token holds App A's requests:
// far longer than six requests take to reach mod_auth_openidc, so each of
// a burst finds the token due before any refresh has come back.
const TOKEN_HOLD_MS = 500;

const secret = () => crypto.randomBytes(16).toString('hex');
const apps = [
  { id: 'app-a', name: 'App A', cookie: 'app_a_session', secret: secret() },
  { id: 'app-b', name: 'App B', cookie: 'app_b_session', secret: secret() },
];

const env = useStack(async () => {
  for (const a of apps) {
    a.port = await freePort();
    a.url = `http://127.0.0.1:${a.port}`;
    a.signedOut = `${a.url}/signed-out.html`;
    a.info = `${a.url}/redirect_uri?info=json`;
  }
  return {
    apps: [], // no demo apps
    // What the template's header says to register, per app.
    clients: apps.map((a) => ({
      client_id: a.id, client_secret: a.secret, name: a.name,
      redirect_uris: [`${a.url}/redirect_uri`],
      post_logout_redirect_uris: [a.signedOut],
      backchannel_logout_uri: `${a.url}/redirect_uri?logout=backchannel`,
      grant_types: ['authorization_code', 'refresh_token'],
    })).concat([{
      client_id: ADMIN.id, client_secret: ADMIN.secret,
      grant_types: ['client_credentials'], scopes: ['gatehouse:admin'],
    }]),
    config: { tokens: { access_token_ttl_s: ACCESS_TTL_S } },
  };
}, startApaches);
const { scenario } = env;

// App A's calls to Gatehouse's token endpoint, through a relay on a
// loopback port: each request's bytes are held TOKEN_HOLD_MS and then
// passed on unchanged, the answer comes back at once. Every exchange is
// kept (request and response bytes, as latin1) for the scenarios to read.
// mod_auth_openidc takes only an https URL for OIDCProviderTokenEndpoint,
// so the relay ends TLS, with a certificate for 127.0.0.1 made here
// (OIDCCABundlePath trusts it), and speaks plain HTTP on to Gatehouse.
const relay = { exchanges: [], sockets: new Set() };
async function startRelay(stack) {
  const target = Number(new URL(stack.issuer).port);
  relay.cert = path.join(stack.dir, 'relay-cert.pem');
  const key = path.join(stack.dir, 'relay-key.pem');
  const o = await run('openssl', ['req', '-x509', '-newkey', 'ec',
    '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', key, '-out', relay.cert]);
  assert.equal(o.code, 0, `openssl req: ${o.stderr}`);
  relay.server = tls.createServer({
    key: fs.readFileSync(key), cert: fs.readFileSync(relay.cert),
  }, (client) => {
    const up = net.connect(target, '127.0.0.1');
    const ex = { request: '', response: '' };
    relay.exchanges.push(ex);
    for (const s of [client, up]) {
      relay.sockets.add(s);
      s.on('close', () => relay.sockets.delete(s));
    }
    const later = (fn) => setTimeout(() => { if (!up.destroyed) fn(); }, TOKEN_HOLD_MS);
    client.on('data', (d) => { ex.request += d.toString('latin1'); later(() => up.write(d)); });
    client.on('end', () => later(() => up.end()));
    up.on('data', (d) => { ex.response += d.toString('latin1'); client.write(d); });
    up.on('end', () => client.end());
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
    client.on('close', () => later(() => up.destroy()));
  });
  return new Promise((resolve, reject) => {
    relay.server.on('error', reject);
    relay.server.listen(0, '127.0.0.1', () => {
      relay.url = `https://127.0.0.1:${relay.server.address().port}/token`;
      resolve();
    });
  });
}
after(() => {
  for (const s of relay.sockets) s.destroy();
  if (relay.server) relay.server.close();
});

// The refresh grants among exchanges: the refresh token each presented,
// and the status Gatehouse answered (0: none yet).
function refreshes(exchanges) {
  return exchanges.map((ex) => {
    const [head, body = ''] = ex.request.split('\r\n\r\n');
    assert.match(head, /^POST \/token HTTP\/1\.1\r\n/, 'one request per connection');
    const q = new URLSearchParams(body);
    const st = ex.response.match(/^HTTP\/1\.[01] (\d{3}) /);
    return { grant: q.get('grant_type'), token: q.get('refresh_token'),
      status: st ? Number(st[1]) : 0 };
  }).filter((x) => x.grant === 'refresh_token');
}

// One Apache for app a, in DIR/<id>: the template included with a's
// Defines, a page that shows who is signed in (server-side include), a
// public signed-out page, and the info hook the tests read sessions from.
function apacheConfig(stack, a) {
  const root = path.join(stack.dir, a.id);
  const docs = path.join(root, 'htdocs');
  fs.mkdirSync(docs, { recursive: true });
  fs.writeFileSync(path.join(docs, 'index.shtml'), `<!doctype html>
<title>${a.name}</title>
<p id="status">Signed in as <!--#echo var="REMOTE_USER" --> (sid <!--#echo var="OIDC_CLAIM_sid" -->)</p>
`);
  fs.writeFileSync(path.join(docs, 'signed-out.html'), `<!doctype html>
<title>${a.name}</title>
<p id="status">You are signed out.</p>
`);
  const mods = ['mpm_event', 'authn_core', 'authz_core', 'authz_user', 'mime',
    'include', 'dir', 'auth_openidc'];
  const conf = path.join(root, 'httpd.conf');
  fs.writeFileSync(conf, `ServerRoot "${root}"
ServerName 127.0.0.1
Listen 127.0.0.1:${a.port}
PidFile "${root}/httpd.pid"
DefaultRuntimeDir "${root}"
ErrorLog "${stack.dir}/${a.id}.log"
LogLevel warn auth_openidc:info
${mods.map((m) => `LoadModule ${m}_module "${MODULES}/mod_${m}.so"`).join('\n')}
TypesConfig /dev/null
DocumentRoot "${docs}"
DirectoryIndex index.shtml
AddOutputFilter INCLUDES .shtml
<Directory "${docs}">
    Options +Includes
    Require all granted
</Directory>

Define GATEHOUSE_ISSUER ${stack.issuer}
Define APP_URL ${a.url}
Define OIDC_CLIENT_ID ${a.id}
Define OIDC_CLIENT_SECRET ${a.secret}
Define OIDC_CRYPTO_PASSPHRASE ${secret()}
Define OIDC_COOKIE ${a.cookie}
Include "${TEMPLATE}"

# Test only: the session as JSON at /redirect_uri?info=json (401 without
# one; it never refreshes), no sign-in for the favicon Chromium asks for,
# and connections kept open while a scenario waits for a refresh to be due.
OIDCInfoHook access_token_expires remote_user
KeepAliveTimeout 30
${a === apps[0] ? `# App A reaches the token endpoint through the test's relay (an
# explicit endpoint wins over the discovered one), trusting its certificate.
OIDCProviderTokenEndpoint ${relay.url}
OIDCCABundlePath "${relay.cert}"
` : ''}<Location /favicon.ico>
    AuthType None
    Require all granted
</Location>
`);
  return conf;
}

// Each app's Apache, checked (apache2 -t) and started in the foreground.
async function startApaches(stack) {
  await startRelay(stack);
  for (const a of apps) {
    const conf = apacheConfig(stack, a);
    const t = await run(APACHE, ['-t', '-f', conf]);
    assert.equal(t.code, 0, `apache2 -t: ${t.stderr}`);
    // -X: one process, in the foreground, no user switch (so no root
    // needed); its worker threads still serve requests in parallel.
    stack.spawn(a.id, APACHE, ['-X', '-f', conf]);
  }
  for (const a of apps) {
    await waitFor(`Apache for ${a.name}`, async () =>
      (await status(`${a.signedOut}`)) === 200);
  }
}

// The app's page, through a sign-in at Gatehouse's form.
async function signIn(stack, page, a) {
  await page.goto(a.url);
  await page.waitForURL(`${stack.issuer}/**`, { waitUntil: 'load' });
  assert.equal(await page.title(), `Sign in to ${a.name}`);
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${a.url}/`);
  const s = await statusText(page);
  assert.match(s, /^Signed in as alice \(sid .+\)$/);
  return s;
}

// The app's page without a password prompt: single sign-on (or the app's
// own session). Returns its status line.
async function ssoTo(stack, page, a) {
  const seen = [];
  const onNav = (f) => { if (f === page.mainFrame()) seen.push(f.url()); };
  page.on('framenavigated', onNav);
  try {
    await page.goto(a.url);
    await page.waitForURL(`${a.url}/`);
  } finally {
    page.off('framenavigated', onNav);
  }
  assert.ok(!seen.some((u) => u.startsWith(`${stack.issuer}/login`)),
    `no sign-in form on the way to ${a.name}: ${seen.join(' ')}`);
  return statusText(page);
}

// The app's session as its info hook shows it (null: none).
async function session(page, a) {
  const r = await page.context().request.get(a.info, { maxRedirects: 0 });
  if (r.status() === 401) return null;
  assert.equal(r.status(), 200, `${a.name} info hook: ${await r.text()}`);
  return r.json();
}

// The app was told over the back channel: it holds no session for this
// browser any more (the info hook never refreshes, so no refresh failing
// could have ended it), and its next page goes to Gatehouse's form. The
// state cookie that sign-in left is dropped again.
async function signedOut(stack, page, a) {
  await waitFor(`${a.name} ends its session`,
    async () => (await session(page, a)) === null, 5000);
  await page.goto(a.url);
  await page.waitForURL(`${stack.issuer}/**`);
  assert.equal(await page.title(), `Sign in to ${a.name}`);
  assert.ok(await page.getByLabel('Password').isVisible());
  await page.context().clearCookies({ name: /_session_state_/ });
}

// Gatehouse's session sid, as "gatehouse sessions" lists it: the apps it
// recorded, or null once it has ended.
async function gatehouseSession(stack, sid) {
  const r = await run(GATEHOUSE_BIN,
    ['sessions', '--config', stack.config, '--user', 'alice', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout).find((x) => x.sid === sid);
  return s ? s.apps.sort() : null;
}

// An access token for the admin API (client_credentials).
async function adminToken(stack) {
  const basic = Buffer.from(`${ADMIN.id}:${ADMIN.secret}`).toString('base64');
  const res = await fetch(`${stack.issuer}/token`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${basic}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials&scope=gatehouse%3Aadmin',
    signal: AbortSignal.timeout(5000),
  });
  assert.equal(res.status, 200);
  return (await res.json()).access_token;
}

// Gatehouse's ledger of the session's logout: each app got its logout
// token and answered 200 (the app that started the sign-out too, though it
// had already ended its own session), so nothing is left to retry.
async function allDelivered(stack, sid) {
  const token = await adminToken(stack);
  let last;
  await waitFor(`the back-channel deliveries of ${sid}`, async () => {
    const r = await fetch(`${stack.issuer}/admin/sessions/${sid}/deliveries`, {
      headers: { Authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(5000),
    });
    last = await r.json();
    return r.status === 200 && last.deliveries.length === apps.length &&
      last.deliveries.every((d) => d.state === 'delivered');
  }, 5000).catch((e) => {
    e.message += `: ${JSON.stringify(last)}`;
    throw e;
  });
  assert.deepEqual(last.deliveries.map((d) => d.client_id).sort(),
    apps.map((x) => x.id));
  for (const d of last.deliveries) {
    assert.equal(d.uri, `${apps.find((x) => x.id === d.client_id).url}/redirect_uri?logout=backchannel`);
    assert.deepEqual(d.attempts.map((x) => x.outcome), ['http 200'], d.client_id);
  }
}

// Sign in at A, SSO to B; both on one Gatehouse session. Its sid.
async function signInBoth(stack, page) {
  const [a, b] = apps;
  const signedIn = await signIn(stack, page, a);
  assert.equal(await ssoTo(stack, page, b), signedIn, 'the same Gatehouse session');
  const sid = signedIn.match(/\(sid (.+)\)$/)[1];
  assert.deepEqual(await gatehouseSession(stack, sid), apps.map((x) => x.id));
  for (const x of apps) {
    const info = await session(page, x);
    assert.equal(info && info.remote_user, 'alice', `${x.name}: ${JSON.stringify(info)}`);
  }
  return { signedIn, sid };
}

scenario('sign-in with PKCE at app A, single sign-on to app B', async (stack, page) => {
  const [a] = apps;
  // The authorization request mod_auth_openidc sends has an S256 challenge.
  const authorize = page.waitForRequest((r) => r.url().startsWith(`${stack.issuer}/authorize`));
  const { signedIn } = await signInBoth(stack, page);
  const q = new URL((await authorize).url()).searchParams;
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.match(q.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
  assert.equal(q.get('client_id'), a.id);
  // Back at A: still its own session, no new sign-in.
  assert.equal(await ssoTo(stack, page, a), signedIn);
});

scenario('sign-out at app A signs app B out over the back channel', async (stack, page) => {
  const [a, b] = apps;
  const { sid } = await signInBoth(stack, page);
  await page.goto(`${a.url}/redirect_uri?logout=${encodeURIComponent(a.signedOut)}`);
  await page.waitForURL(a.signedOut);
  assert.equal(await statusText(page), 'You are signed out.');
  assert.equal(await gatehouseSession(stack, sid), null, 'the Gatehouse session ended');
  await allDelivered(stack, sid);
  assert.equal(await session(page, a), null, `${a.name} ended its own session`);
  await signedOut(stack, page, b);
  await signedOut(stack, page, a);
});

scenario('forced sign-out by the CLI and by the admin API signs both apps out',
  async (stack, page) => {
    let { sid } = await signInBoth(stack, page);
    const r = await run(GATEHOUSE_BIN,
      ['logout', '--config', stack.config, '--user', 'alice']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await gatehouseSession(stack, sid), null);
    for (const a of apps) await signedOut(stack, page, a);
    await allDelivered(stack, sid);

    // Every session of alice has ended: the admin API ends exactly one.
    ({ sid } = await signInBoth(stack, page));
    const token = await adminToken(stack);
    const res = await fetch(`${stack.issuer}/admin/users/alice/logout`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { sessions: 1, notifications: 2 });
    assert.equal(await gatehouseSession(stack, sid), null);
    for (const a of apps) await signedOut(stack, page, a);
    await allDelivered(stack, sid);
  });

// Gatehouse's counters: /token answers by status, sessions ended by reason.
async function counters(stack) {
  const r = await fetch(`${stack.issuer}/metrics`, { signal: AbortSignal.timeout(5000) });
  const text = await r.text();
  const token = {};
  const ended = {};
  for (const m of text.matchAll(
    /^gatehouse_http_requests_total\{endpoint="\/token",status="(\d+)"\} (\d+)$/gm)) {
    token[m[1]] = Number(m[2]);
  }
  for (const m of text.matchAll(/^gatehouse_sessions_ended_total\{reason="(\w+)"\} (\d+)$/gm)) {
    ended[m[1]] = Number(m[2]);
  }
  return { token, ended };
}

// What grew from before to now, by key.
function growth(now, before) {
  return Object.fromEntries(Object.keys(now).map((k) => [k, now[k] - (before[k] || 0)])
    .filter(([, n]) => n !== 0));
}

// Six requests at once from App A's page, as a page with six resources
// makes them; what each got.
function burst(page, url) {
  return page.evaluate(async (u) => Promise.all(
    Array.from({ length: 6 }, () => fetch(u, { cache: 'no-store' })
      .then(async (r) => ({ url: r.url, status: r.status, text: await r.text() }))
      .catch((e) => ({ error: String(e) })))), url);
}

// Six requests from a's page at once, as soon as a's access token is due
// for a refresh (5 s after each grant). mod_auth_openidc refreshes from
// each request that finds it due; with the relay holding each refresh
// TOKEN_HOLD_MS, every request of the burst finds it still due. Returns
// what each request got, the refresh grants the relay passed on, and
// what Gatehouse counted meanwhile.
async function dueBurst(stack, page, a) {
  const info = await session(page, a);
  const expires = Number(info && info.access_token_expires);
  assert.ok(expires > 0, JSON.stringify(info));
  const due = (expires - REFRESH_BEFORE_S) * 1000 - Date.now() + 1000;
  assert.ok(due < 10000, `refresh due in ${due} ms`);
  // Six connections open first, so the six requests arrive together
  // rather than one TCP handshake apart.
  for (const r of await burst(page, '/signed-out.html')) assert.equal(r.status, 200);
  if (due > 0) await sleep(due);

  const before = await counters(stack);
  const seen = relay.exchanges.length;
  const started = Date.now();
  const results = await burst(page, '/');
  const ms = Date.now() - started;
  const exchanges = relay.exchanges.slice(seen);
  const refreshed = refreshes(exchanges);
  // Gatehouse counts an answer once it has sent it: wait for the count.
  let now;
  await waitFor('Gatehouse counts the burst\'s /token answers', async () => {
    now = await counters(stack);
    return Object.values(growth(now.token, before.token))
      .reduce((n, x) => n + x, 0) >= exchanges.length;
  }, 5000).catch(() => {});
  const r = {
    ms, expires, results, refreshed,
    token: growth(now.token, before.token), ended: growth(now.ended, before.ended),
  };
  r.what = `burst of ${ms} ms, refresh grants: ${JSON.stringify(refreshed.map((x) =>
    ({ status: x.status, token: `${String(x.token).slice(0, 8)}...` })))}, ` +
    `Gatehouse /token answers: ${JSON.stringify(r.token)}, ` +
    `sessions ended: ${JSON.stringify(r.ended)}`;
  // Several requests of the burst refreshed, all with the token A held.
  assert.ok(refreshed.length >= 2, `several refreshes at once: ${r.what}`);
  assert.equal(new Set(refreshed.map((x) => x.token)).size, 1,
    `one refresh token: ${r.what}`);
  assert.ok(refreshed[0].token, r.what);
  assert.equal(refreshed.length, exchanges.length, `nothing else at /token: ${r.what}`);
  return r;
}

// Gatehouse restarted on its port with tokens.refresh_reuse_grace_s at
// grace (undefined: the default); its sessions stay in Redis.
async function restartGatehouse(stack, grace) {
  const cfg = JSON.parse(fs.readFileSync(stack.config, 'utf8'));
  cfg.tokens = { ...cfg.tokens, refresh_reuse_grace_s: grace };
  fs.writeFileSync(stack.config, JSON.stringify(cfg, null, 2));
  const old = stack.procs.find((p) => p.name === 'gatehouse');
  old.kill('SIGTERM');
  assert.equal(await exited(old, 5000), 0, 'gatehouse stops cleanly');
  stack.procs.splice(stack.procs.indexOf(old), 1);
  stack.spawn('gatehouse', GATEHOUSE_BIN, ['serve', '--config', stack.config]);
  await waitFor('gatehouse', async () =>
    (await status(`${stack.issuer}/readyz`)) === 200);
}

scenario('six parallel requests when the access token is due keep everyone signed in',
  async (stack, page) => {
    const [a, b] = apps;
    const { signedIn, sid } = await signInBoth(stack, page);
    // Back to A's page (its token is not due yet), where the requests start.
    assert.equal(await ssoTo(stack, page, a), signedIn);
    const r = await dueBurst(stack, page, a);
    // Within the grace each refresh got a fresh access token, and nobody
    // was signed out.
    assert.deepEqual(r.refreshed.map((x) => x.status), r.refreshed.map(() => 200), r.what);
    assert.deepEqual(r.token, { 200: r.refreshed.length }, r.what);
    assert.deepEqual(r.ended, {}, r.what);
    for (const [i, x] of r.results.entries()) {
      assert.equal(x.status, 200, `${r.what}, request ${i}: ${JSON.stringify(x).slice(0, 300)}`);
      assert.equal(x.url, `${a.url}/`, `${r.what}: request ${i} stayed at ${a.name}`);
      assert.ok(x.text.includes(signedIn.replace(/^Signed in as /, '')),
        `${r.what}, request ${i}: ${x.text}`);
    }
    const now = await session(page, a);
    assert.ok(now && Number(now.access_token_expires) > r.expires,
      `${r.what}: ${a.name} holds a fresh access token: ${JSON.stringify(now)}`);
    assert.deepEqual(await gatehouseSession(stack, sid), apps.map((x) => x.id),
      `${r.what}: the Gatehouse session lives`);
    // Both apps go on without a sign-in.
    assert.equal(await ssoTo(stack, page, a), signedIn);
    assert.equal(await ssoTo(stack, page, b), signedIn);
    assert.ok(await session(page, b), `${b.name} keeps its session`);
  });

scenario('without the refresh grace (refresh_reuse_grace_s 0) the same burst signs everyone out',
  async (stack, page) => {
    const [a] = apps;
    await restartGatehouse(stack, 0);
    try {
      const { signedIn, sid } = await signInBoth(stack, page);
      assert.equal(await ssoTo(stack, page, a), signedIn);
      const r = await dueBurst(stack, page, a);
      // The first refresh rotated the token; each other one presented the
      // spent token, which Gatehouse takes for a stolen one: it refuses it
      // and ends the session, once.
      const ok = r.refreshed.filter((x) => x.status === 200).length;
      assert.equal(ok, 1, r.what);
      assert.deepEqual(r.token, { 200: 1, 400: r.refreshed.length - 1 }, r.what);
      assert.deepEqual(r.ended, { reuse: 1 }, r.what);
      assert.equal(await gatehouseSession(stack, sid), null, `${r.what}: the session ended`);
      // A ended its session on the refusals (the template's
      // logout_on_error), B when told over the back channel.
      for (const x of apps) await signedOut(stack, page, x);
    } finally {
      await restartGatehouse(stack, undefined);
    }
  });

// The Cookie header the browser sends to 127.0.0.1 (every port).
async function cookieBytes(context) {
  const c = await context.cookies('http://127.0.0.1/');
  return c.reduce((n, x) => n + x.name.length + x.value.length + 3, 0);
}

scenario('abandoned sign-ins pile up state cookies and still reach the sign-in form',
  async (stack, page) => {
    const [a, b] = apps;
    const context = page.context();
    const sizes = [];
    // Sign-ins started and left at the form (as tabs left open do), from
    // deep links (each state cookie carries its URL): nine at A, then one
    // at B. Each leaves a state cookie on 127.0.0.1, which Gatehouse
    // receives; from the eighth on, A drops its oldest (the template's
    // OIDCStateMaxNumberOfCookies 7 true), and B leaves A's alone (the
    // template's per-app OIDCStateCookiePrefix).
    const starts = [...Array(9).fill(a), b];
    for (const [i, x] of starts.entries()) {
      await page.goto(`${x.url}/?report=${i}&columns=${'name,owner,stage,'.repeat(12)}`);
      await page.waitForURL(`${stack.issuer}/**`, { waitUntil: 'load' });
      sizes.push(await cookieBytes(context));
      assert.equal(await page.title(), `Sign in to ${x.name}`,
        `abandoned sign-in ${i + 1}, Cookie header ~${sizes[i]} bytes`);
      assert.ok(await page.getByLabel('Password').isVisible());
    }
    const state = async (x) => (await context.cookies('http://127.0.0.1/'))
      .filter((c) => c.name.startsWith(`${x.cookie}_state_`)).length;
    assert.equal(await state(a), 7, `${a.name}'s state cookies`);
    assert.equal(await state(b), 1, `${b.name}'s state cookies`);
    // One more at A, with all eight sent along, signs in; B's SSO too.
    const signedIn = await signIn(stack, page, a);
    assert.equal(await ssoTo(stack, page, b), signedIn);
    // Across the sizes where a budget of 8 KiB for everything broke
    // (from ~2.6 KB).
    assert.ok(Math.max(...sizes) > 5000,
      `the Cookie header grew past 5 KB: ${sizes.join(', ')}`);
  });
