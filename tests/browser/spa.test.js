// SPDX-License-Identifier: MIT
// A single-page app in Chromium, built on oidc-client-ts as browser apps
// are: a public client (PKCE S256, no secret) on its own origin, calling
// Gatehouse's /token, /userinfo, discovery and /jwks straight from the page
// (CORS, SPEC §3 allowed_origins). It signs in with the code flow, reads
// userinfo, refreshes silently with its refresh token, signs out with
// RP-initiated logout, and sees an admin logout of its session on its next
// call. A page of another origin cannot read Gatehouse's token answers.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { after, before } = require('node:test');
const {
  GATEHOUSE_BIN, PASSWORD, useStack, waitFor,
} = require('./harness');
const { spawn } = require('node:child_process');

const BUNDLE = path.join(__dirname, 'node_modules', 'oidc-client-ts', 'dist',
  'browser', 'oidc-client-ts.min.js');

// A static web server on its own loopback port: a different origin from
// Gatehouse's. pages(origin) maps a path to [content type, body].
function serve(pages) {
  return new Promise((resolve, reject) => {
    const srv = http.createServer((req, res) => {
      const p = new URL(req.url, 'http://x').pathname;
      const page = srv.pages[p] || srv.pages['*'];
      res.writeHead(200, { 'Content-Type': page[0], 'Cache-Control': 'no-store' });
      res.end(page[1]);
    });
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      srv.origin = `http://127.0.0.1:${srv.address().port}`;
      srv.pages = pages(srv.origin);
      resolve(srv);
    });
  });
}

const HTML = (title) => `<!doctype html><meta charset="utf-8">
<title>${title}</title><p id="status">loading</p>
<script src="/oidc-client-ts.min.js"></script>
<script src="/app.js"></script>`;

// The app: one UserManager, and what its buttons would do, on window.app
// for the test to call. The callback page finishes the sign-in by itself.
const APP_JS = (issuer, origin) => `'use strict';
const mgr = new oidc.UserManager({
  authority: ${JSON.stringify(issuer)},
  client_id: 'spa',
  client_authentication: 'client_secret_post', // a public client: client_id only
  redirect_uri: ${JSON.stringify(`${origin}/callback`)},
  post_logout_redirect_uri: ${JSON.stringify(`${origin}/signed-out`)},
  response_type: 'code',
  scope: 'openid profile email',
  loadUserInfo: true,
  automaticSilentRenew: false,
});
const say = (s) => { document.getElementById('status').textContent = s; };
window.app = {
  login: () => mgr.signinRedirect(),
  async user() {
    const u = await mgr.getUser();
    return u && { access: u.access_token, refresh: u.refresh_token,
      id: u.id_token, name: u.profile.preferred_username, email: u.profile.email };
  },
  async refresh() {
    const u = await mgr.signinSilent();
    return { access: u.access_token, refresh: u.refresh_token, id: u.id_token };
  },
  async userinfo() {
    const u = await mgr.getUser();
    const r = await fetch(${JSON.stringify(`${issuer}/userinfo`)},
      { headers: { Authorization: 'Bearer ' + u.access_token } });
    return { status: r.status, body: await r.json() };
  },
  async jwks() {
    const r = await fetch(${JSON.stringify(`${issuer}/jwks`)});
    return (await r.json()).keys.length;
  },
  logout: () => mgr.signoutRedirect({ state: 'bye' }),
};
if (location.pathname === '/callback') {
  mgr.signinCallback().then((u) => say('Signed in as ' + u.profile.preferred_username),
    (e) => say('Sign-in failed: ' + e.message));
} else if (location.pathname === '/signed-out') {
  mgr.getUser().then((u) => say(u ? 'still signed in' : 'Signed out.'));
} else {
  say('ready');
}
`;

// Another site: its script tries Gatehouse from its own origin.
const EVIL_JS = (issuer) => `'use strict';
window.probe = async (path, init) => {
  try {
    const r = await fetch(${JSON.stringify(issuer)} + path, init);
    return 'read ' + r.status;
  } catch (e) {
    return 'blocked: ' + e.name;
  }
};
document.getElementById('status').textContent = 'ready';
`;

const opts = { clients: [] };
let spa;
let evil;

before(async () => {
  const bundle = fs.readFileSync(BUNDLE);
  spa = await serve(() => ({
    '/oidc-client-ts.min.js': ['text/javascript', bundle],
    '*': ['text/html; charset=utf-8', HTML('SPA')],
  }));
  evil = await serve(() => ({
    '/oidc-client-ts.min.js': ['text/javascript', ''],
    '*': ['text/html; charset=utf-8', HTML('Elsewhere')],
  }));
  // Registered in the config as a browser app registers: public, its
  // callback and sign-out pages, and its origin.
  opts.clients.push({
    client_id: 'spa', name: 'Single-page app',
    token_endpoint_auth_method: 'none',
    redirect_uris: [`${spa.origin}/callback`],
    post_logout_redirect_uris: [`${spa.origin}/signed-out`],
    grant_types: ['authorization_code', 'refresh_token'],
    allowed_origins: [spa.origin],
  });
});

const { scenario } = useStack(opts);

// The scripts need the issuer, known once the stack is up.
function script(stack) {
  spa.pages['/app.js'] = ['text/javascript', APP_JS(stack.issuer, spa.origin)];
  evil.pages['/app.js'] = ['text/javascript', EVIL_JS(stack.issuer)];
}

after(async () => {
  for (const s of [spa, evil]) {
    if (s) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  }
});

const status = async (page) =>
  (await page.locator('#status').textContent()).trim();

// The gatehouse CLI on the stack's config, at most 30 s.
function cli(stack, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(GATEHOUSE_BIN, [args[0], '--config', stack.config,
      ...args.slice(1)], { timeout: 30000 });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

// Runs fn in the page, which then navigates away (oidc-client-ts's
// redirects): not waited for, since the page it ran in goes.
async function navigating(page, fn) {
  try {
    await page.evaluate(fn);
  } catch (e) {
    if (!/context was destroyed|navigat/i.test(e.message)) throw e;
  }
}

// From the app's page through Gatehouse's sign-in form and back to the
// app's callback, which oidc-client-ts finishes (code + PKCE, userinfo).
async function signIn(stack, page) {
  await page.goto(`${spa.origin}/`);
  await waitFor('the app', async () => (await status(page)) === 'ready', 5000);
  await navigating(page, () => { window.app.login(); });
  await page.waitForURL(`${stack.issuer}/**`);
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${spa.origin}/callback**`);
  await waitFor('the callback', async () =>
    (await status(page)) !== 'loading', 10000);
  assert.equal(await status(page), 'Signed in as alice');
}

scenario('a single-page app signs in with PKCE, reads userinfo, refreshes and signs out',
  async (stack, page) => {
    script(stack);
    const seen = [];
    page.on('request', (r) => seen.push(`${r.method()} ${new URL(r.url()).pathname}`));
    await signIn(stack, page);
    // Everything went from the page to Gatehouse itself: discovery, the
    // code exchange, and userinfo with its bearer token (preflighted).
    for (const call of ['GET /.well-known/openid-configuration', 'POST /token',
      'GET /userinfo']) {
      assert.ok(seen.includes(call), `${call} from the page: ${seen.join(', ')}`);
    }
    // Chromium sends the preflight itself, unseen by the page's events:
    // Gatehouse's log shows it.
    const log = fs.readFileSync(path.join(stack.dir, 'gatehouse.log'), 'utf8');
    assert.match(log, /method=OPTIONS path=\/userinfo status=204/);
    const user = await page.evaluate(() => window.app.user());
    assert.equal(user.name, 'alice');
    assert.ok(user.refresh, 'a refresh token for a client allowed the grant');

    const info = await page.evaluate(() => window.app.userinfo());
    assert.equal(info.status, 200);
    assert.equal(info.body.preferred_username, 'alice');
    assert.equal(await page.evaluate(() => window.app.jwks()) > 0, true);

    // Silent refresh with the refresh token: new tokens (rotation), and
    // they work.
    const fresh = await page.evaluate(() => window.app.refresh());
    assert.notEqual(fresh.access, user.access);
    assert.notEqual(fresh.refresh, user.refresh);
    assert.equal((await page.evaluate(() => window.app.userinfo())).status, 200);

    // RP-initiated logout: id_token_hint and post_logout_redirect_uri,
    // straight back to the app, and Gatehouse's session is gone.
    const before = await cli(stack, ['sessions', '--user', 'alice', '--json']);
    assert.equal(before.code, 0, before.err);
    assert.equal(JSON.parse(before.out).length, 1);
    const logoutUrl = new Promise((resolve) => page.on('request', (r) => {
      if (r.url().startsWith(`${stack.issuer}/logout`)) resolve(new URL(r.url()));
    }));
    await navigating(page, () => { window.app.logout(); });
    await page.waitForURL(`${spa.origin}/signed-out**`);
    const u = await logoutUrl;
    assert.equal(u.searchParams.get('id_token_hint'), fresh.id);
    assert.ok(new URL(page.url()).searchParams.get('state'), 'state comes back');
    await waitFor('the signed-out page', async () =>
      (await status(page)) === 'Signed out.', 5000);
    const left = await cli(stack, ['sessions', '--user', 'alice', '--json']);
    assert.equal(JSON.parse(left.out).length, 0);
  });

scenario('an admin logout of the session is seen by the app on its next token call',
  async (stack, page) => {
    script(stack);
    await signIn(stack, page);
    const out = await cli(stack, ['logout', '--user', 'alice', '--reason', 'test']);
    assert.equal(out.code, 0, out.err);
    // The app has no back-channel URI: the refresh and the access token
    // die with the session, and the app can read why (invalid_grant, 401).
    const err = await page.evaluate(() => window.app.refresh().then(
      () => 'refreshed', (e) => `${e.error}: ${e.message}`));
    assert.match(err, /^invalid_grant: /);
    const info = await page.evaluate(() => window.app.userinfo());
    assert.equal(info.status, 401);
    assert.equal(info.body.error, 'invalid_token');
  });

scenario('a page of another origin cannot read Gatehouse token answers',
  async (stack, page) => {
    script(stack);
    // The app's own origin reads an error from /token...
    await page.goto(`${spa.origin}/`);
    await waitFor('the app', async () => (await status(page)) === 'ready', 5000);
    const form = 'grant_type=refresh_token&client_id=spa&refresh_token=not-a-token';
    const mine = await page.evaluate(async ([url, body]) => {
      const r = await fetch(url, { method: 'POST', body,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
      return `read ${r.status} ${(await r.json()).error}`;
    }, [`${stack.issuer}/token`, form]);
    assert.equal(mine, 'read 400 invalid_grant');

    // ...another origin gets the same answer sent, but the browser keeps
    // it from the page, for /token, /revoke and a preflighted /userinfo.
    await page.goto(`${evil.origin}/`);
    await waitFor('the page', async () => (await status(page)) === 'ready', 5000);
    const post = { method: 'POST', body: form,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' } };
    assert.equal(await page.evaluate(([p, i]) => window.probe(p, i),
      ['/token', post]), 'blocked: TypeError');
    assert.equal(await page.evaluate(([p, i]) => window.probe(p, i),
      ['/revoke', { ...post, body: 'client_id=spa&token=x' }]), 'blocked: TypeError');
    assert.equal(await page.evaluate(([p, i]) => window.probe(p, i),
      ['/userinfo', { headers: { Authorization: 'Bearer x' } }]), 'blocked: TypeError');
    // Discovery and keys are public: any origin reads them.
    assert.equal(await page.evaluate(() =>
      window.probe('/.well-known/openid-configuration', {})), 'read 200');
    assert.equal(await page.evaluate(() => window.probe('/jwks', {})), 'read 200');
  });
