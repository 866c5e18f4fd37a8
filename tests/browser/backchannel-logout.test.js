// SPDX-License-Identifier: MIT
// The demo app's /backchannel-logout checks a logout token as OIDC
// Back-Channel Logout 1.0 §2.6 says, step by step. The tokens here are
// forged with Gatehouse's own signing key (the test made it), so each one
// is wrong in exactly one way. No browser: the sign-in is plain HTTP.
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { after, before, test } = require('node:test');
const { request } = require('playwright-core');
const { Stack, httpSignIn } = require('./harness');

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
let stack;
let crm;
let key; // { kid, privateKey, publicPem }

// One session of alice at CRM, signed in over plain HTTP.
async function signInOverHttp() {
  const api = await request.newContext();
  try {
    assert.match(await httpSignIn(api, crm.url), /Signed in as <b>alice<\/b>/);
  } finally {
    await api.dispose();
  }
}

before(async () => {
  stack = new Stack(); // set first, so that after() stops what started
  await stack.start();
  crm = stack.app('crm');
  const dir = path.join(stack.dir, 'keys');
  const pem = fs.readdirSync(dir).find((f) => f.endsWith('.pem'));
  const privateKey = crypto.createPrivateKey(fs.readFileSync(path.join(dir, pem)));
  key = {
    kid: pem.slice(0, -4),
    privateKey,
    publicPem: crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }),
  };
  await signInOverHttp();
  assert.equal(await stack.sessions('crm'), 1);
}, { timeout: 60000 });

after(async () => {
  if (stack) await stack.stop();
});

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');

// A logout token as Gatehouse makes them (BCL §2.4), for alice, to CRM;
// edit(header, claims) changes it before it is signed.
function logoutToken(edit = () => {}) {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'ES256', kid: key.kid, typ: 'logout+jwt' };
  const claims = {
    iss: stack.issuer, aud: 'crm', iat: now, exp: now + 120,
    jti: crypto.randomUUID(), sub: stack.aliceSub,
    sid: 'a-session-crm-never-saw', events: { [EVENT]: {} },
  };
  edit(header, claims);
  const input = `${b64(header)}.${b64(claims)}`;
  const sig = crypto.sign('sha256', Buffer.from(input),
    { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

async function post(body) {
  const r = await fetch(`${crm.url}backchannel-logout`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body,
    signal: AbortSignal.timeout(5000),
  });
  return { status: r.status, headers: r.headers, body: await r.text() };
}

const send = (token) => post(new URLSearchParams({ logout_token: token }).toString());

// Each is refused with 400, for the reason the app logs, and ends nothing:
// alice's CRM session stays.
const NO_KEY = 'no key of the provider has this kid and alg';
const token = (edit) => `logout_token=${logoutToken(edit)}`;
const unsigned = (edit) => {
  const t = logoutToken(edit);
  return t.slice(0, t.lastIndexOf('.') + 1);
};
const refused = [
  ['without a logout_token', 'no logout_token', () => ''],
  ['that is not a JWT', 'malformed token', () => 'logout_token=abc.def'],
  ['signed with alg "none"', NO_KEY,
    () => `logout_token=${unsigned((h) => { h.alg = 'none'; })}`],
  ['signed HS256 with the public key as the secret', NO_KEY, () => {
    const input = unsigned((h) => { h.alg = 'HS256'; });
    const mac = crypto.createHmac('sha256', key.publicPem)
      .update(input.slice(0, -1)).digest('base64url');
    return `logout_token=${input}${mac}`;
  }],
  ['whose alg is not its key\'s', NO_KEY, () => token((h) => { h.alg = 'RS256'; })],
  ['with a kid the JWKS does not have', NO_KEY, () => token((h) => { h.kid = 'nope'; })],
  ['with a bad signature', 'bad signature', () => {
    const t = logoutToken();
    const sig = Buffer.from(t.split('.')[2], 'base64url');
    sig[10] ^= 1;
    return `logout_token=${t.slice(0, t.lastIndexOf('.') + 1)}${sig.toString('base64url')}`;
  }],
  ['typed as an ID token', 'wrong typ', () => token((h) => { h.typ = 'JWT'; })],
  ['from another issuer', 'wrong iss', () => token((h, c) => { c.iss = 'http://127.0.0.1:1'; })],
  ['for another app', 'aud is not this app', () => token((h, c) => { c.aud = 'sales'; })],
  ['that has expired', 'expired', () => token((h, c) => { c.iat -= 600; c.exp -= 600; })],
  ['without exp', 'expired', () => token((h, c) => { delete c.exp; })],
  ['without iat', 'iat missing or in the future', () => token((h, c) => { delete c.iat; })],
  ['issued in the future', 'iat missing or in the future',
    () => token((h, c) => { c.iat += 600; c.exp += 600; })],
  ['with neither sid nor sub', 'neither sid nor sub',
    () => token((h, c) => { delete c.sid; delete c.sub; })],
  ['without the back-channel logout event', 'no back-channel logout event',
    () => token((h, c) => { c.events = {}; })],
  ['whose event is not a JSON object', 'no back-channel logout event',
    () => token((h, c) => { c.events = { [EVENT]: true }; })],
  ['with a nonce', 'has a nonce', () => token((h, c) => { c.nonce = 'n0nce'; })],
  ['without jti', 'no jti', () => token((h, c) => { delete c.jti; })],
];

// The reason in the app's last "refused" log line.
function lastRefusal() {
  const log = fs.readFileSync(path.join(stack.dir, 'crm.log'), 'utf8');
  const lines = log.split('\n').filter((l) => l.includes('backchannel_logout_refused'));
  return (lines.pop() || '').replace(/.*reason="(.*)"$/, '$1');
}

for (const [name, reason, body] of refused) {
  test(`refuses a logout token ${name}`, async () => {
    const r = await post(body());
    assert.equal(r.status, 400);
    assert.equal(r.body, '{"error":"invalid_request"}');
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.equal(lastRefusal(), reason);
    assert.equal(await stack.sessions('crm'), 1, 'nothing was ended');
  });
}

test('accepts a valid token once (aud may be a list) and refuses its jti again', async () => {
  const t = logoutToken((h, c) => { c.aud = ['other', 'crm']; });
  const r = await send(t);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  // Its sid is not one CRM has: nothing ends (BCL §2.7).
  assert.equal(await stack.sessions('crm'), 1);
  assert.equal((await send(t)).status, 400);
  assert.equal(lastRefusal(), 'jti seen before');
});

test('a valid token with only a sub ends every session of that user', async () => {
  const r = await send(logoutToken((h, c) => { delete c.sid; }));
  assert.equal(r.status, 200);
  assert.equal(await stack.sessions('crm'), 0);
});
