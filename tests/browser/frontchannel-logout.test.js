// SPDX-License-Identifier: MIT
// OpenID Connect Front-Channel Logout 1.0 in Debian's headless Chromium:
// Gatehouse's signed-out page loads each front-channel app's
// frontchannel_logout_uri in a hidden iframe, with iss and sid when the app
// asked for them, and lists the app as notified once the frame has loaded
// (with JavaScript) or as "notified by your browser" (without). The
// receiving end is a small node http server on an origin of its own; CRM
// has both channels, Sales the front channel only.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { after } = require('node:test');
const {
  freePort, run, screenshotPath, signIn, statusText, useStack, waitFor,
} = require('./harness');

// Every request the front-channel server saw: { path, query, headers }.
const hits = [];
let server;
let fcl; // its base URL

async function startReceiver() {
  const port = await freePort();
  fcl = `http://127.0.0.1:${port}/`;
  server = http.createServer((req, res) => {
    const u = new URL(req.url, fcl);
    hits.push({
      path: u.pathname,
      query: Object.fromEntries(u.searchParams),
      dest: req.headers['sec-fetch-dest'],
    });
    // OIDC FCL §2: the answer may be cached by no one.
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-cache, no-store',
    });
    res.end('<!doctype html><title>logged out</title><p>logged out</p>');
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
}

after(() => new Promise((r) => (server ? server.close(r) : r())));

const { scenario } = useStack(async () => {
  await startReceiver();
  return {
    apps: [
      {
        id: 'crm', name: 'CRM',
        client: {
          // A query of its own: iss and sid are added with '&'.
          frontchannel_logout_uri: `${fcl}crm/logout?tenant=a b`.replace(' ', '%20'),
          frontchannel_logout_session_required: true,
        },
      },
      {
        id: 'sales', name: 'Sales',
        client: {
          backchannel_logout_uri: undefined,
          frontchannel_logout_uri: `${fcl}sales/logout`,
          frontchannel_logout_session_required: true,
        },
      },
      // Service has the back channel only: no frame.
      { id: 'service', name: 'Service' },
    ],
  };
});

// The sid of alice's one Gatehouse session, from Redis.
async function theSid(stack) {
  const r = await run('redis-cli', ['-s', path.join(stack.dir, 'redis.sock'),
    '--scan', '--pattern', 'gh:sess:*']);
  const keys = r.stdout.trim().split('\n').filter(Boolean);
  assert.equal(keys.length, 1, `one session: ${r.stdout}`);
  return keys[0].slice('gh:sess:'.length);
}

// Signs in at CRM, SSO into Sales and Service.
async function signInEverywhere(stack, page) {
  await signIn(page, stack, stack.app('crm'));
  await page.waitForURL(stack.app('crm').url);
  for (const id of ['sales', 'service']) {
    const app = stack.app(id);
    await page.goto(app.url);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(app.url);
    assert.match(await statusText(page), /^Signed in as alice/, app.name);
  }
}

// Gatehouse's own sign-out: confirmation, then the signed-out page.
async function signOutAtGatehouse(stack, page) {
  await page.goto(`${stack.issuer}/logout`);
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.waitForLoadState();
  assert.equal(await page.title(), 'You are signed out');
}

function appItem(page, name) {
  return page.locator('ul.apps li', { hasText: name });
}

scenario('the signed-out page loads each front-channel app with iss and sid and shows it notified',
  async (stack, page) => {
    hits.length = 0;
    const violations = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await signInEverywhere(stack, page);
    const sid = await theSid(stack);
    assert.equal(hits.length, 0, 'nothing is told before the sign-out');

    await signOutAtGatehouse(stack, page);
    await waitFor('both frames are requested', () => hits.length === 2, 5000);
    const byPath = Object.fromEntries(hits.map((h) => [h.path, h]));
    assert.deepEqual(byPath['/crm/logout'].query,
      { tenant: 'a b', iss: stack.issuer, sid });
    assert.deepEqual(byPath['/sales/logout'].query, { iss: stack.issuer, sid });
    assert.equal(byPath['/sales/logout'].dest, 'iframe');

    // Sales (front channel only) turns "notified" once its frame has
    // loaded; CRM shows its back channel's outcome; Service has no frame.
    await waitFor('Sales shows notified', async () =>
      /Sales — notified$/.test((await appItem(page, 'Sales').textContent()).trim()));
    await waitFor('CRM is signed out by its back channel', async () =>
      /CRM — (signed out|still trying)$/.test(
        (await appItem(page, 'CRM').textContent()).trim()));
    const frames = page.locator('iframe');
    assert.equal(await frames.count(), 2);
    for (let i = 0; i < 2; i++) {
      assert.equal(await frames.nth(i).isVisible(), false, 'the frames are hidden');
      assert.equal(await frames.nth(i).getAttribute('tabindex'), '-1');
    }
    // The frames and the one script pass the page's CSP, which allows
    // just the front-channel origin.
    assert.deepEqual(violations, []);
    const js = await page.request.get(`${stack.issuer}/logout/frontchannel.js`);
    assert.equal(js.status(), 200);
    assert.equal(js.headers()['content-type'], 'text/javascript; charset=utf-8');

    const file = screenshotPath('frontchannel-signed-out.png');
    await page.screenshot({ path: file, fullPage: true });
    assert.ok(fs.statSync(file).size > 1000, `a screenshot in ${file}`);

    // The back channel is unchanged: CRM and Service end their sessions.
    for (const id of ['crm', 'service']) {
      await waitFor(`${id} ends its session`,
        async () => (await stack.sessions(id)) === 0, 5000);
    }
  });

scenario('the signed-out page CSP allows only the front-channel origins',
  async (stack, page) => {
    hits.length = 0;
    await signInEverywhere(stack, page);
    await page.goto(`${stack.issuer}/logout`);
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${stack.issuer}/logout` &&
        r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Sign out', exact: true }).click(),
    ]);
    const csp = resp.headers()['content-security-policy'];
    const origin = fcl.slice(0, -1);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, new RegExp(`frame-src ${origin}(;|$)`));
    assert.match(csp, new RegExp(`child-src ${origin}(;|$)`));
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    await waitFor('both frames are requested', () => hits.length === 2, 5000);

    // A page that ended nothing has neither frames nor the wider policy.
    const again = await page.request.get(`${stack.issuer}/logout`);
    assert.doesNotMatch(again.headers()['content-security-policy'], /frame-src/);
  });

scenario('without JavaScript the frames still load and the list says so',
  async (stack, page) => {
    hits.length = 0;
    const context = await page.context().browser().newContext({
      javaScriptEnabled: false, viewport: { width: 390, height: 844 },
    });
    try {
      const p = await context.newPage();
      await signIn(p, stack, stack.app('crm'));
      await p.waitForURL(stack.app('crm').url);
      const sales = stack.app('sales');
      await p.goto(sales.url);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.waitForURL(sales.url);
      const sid = await theSid(stack);
      await signOutAtGatehouse(stack, p);
      await waitFor('both frames are requested', () => hits.length === 2, 5000);
      for (const h of hits) assert.equal(h.query.sid, sid);
      assert.equal((await appItem(p, 'Sales').textContent()).trim(),
        'Sales — notified by your browser');
      const file = screenshotPath('frontchannel-signed-out-nojs.png');
      await p.screenshot({ path: file, fullPage: true });
      assert.ok(fs.statSync(file).size > 1000, `a screenshot in ${file}`);
    } finally {
      await context.close();
    }
  });

scenario('signing out at an app goes back to it only after the front-channel frames loaded',
  async (stack, page) => {
    hits.length = 0;
    await signInEverywhere(stack, page);
    const sid = await theSid(stack);
    const sales = stack.app('sales');
    const seen = [];
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) seen.push(f.url());
    });
    await page.goto(sales.url);
    await page.getByRole('button', { name: 'Sign out' }).click();
    // Through Gatehouse's signed-out page (its script follows Continue
    // once both frames have loaded), back to Sales with its state.
    await page.waitForURL((u) => u.href.startsWith(`${sales.url}?state=`));
    assert.equal(await statusText(page), 'You are signed out.');
    assert.equal(hits.length, 2, 'both apps were told before the way back');
    for (const h of hits) assert.deepEqual([h.query.iss, h.query.sid], [stack.issuer, sid]);
    assert.ok(seen.some((u) => u.startsWith(`${stack.issuer}/logout`)),
      `through Gatehouse's page: ${seen.join(' ')}`);
  });
