// SPDX-License-Identifier: MIT
// Login CSRF (issue 15 item 2): a page of another origin on loopback gets a
// sign-in form of its own from Gatehouse (its server fetches /authorize)
// and auto-submits it, with the attacker's username and password, from the
// victim's Chromium. Before, the victim was then signed in as the attacker
// in every app. Now the token is bound to the attacker's pre-sign-in
// cookie and the POST says where it came from: the victim stays signed out.
'use strict';

const assert = require('node:assert/strict');
const http = require('node:http');
const { after } = require('node:test');
const { GATEHOUSE_BIN, run, signIn, statusText, useStack } = require('./harness');

const env = useStack({}, async (stack) => {
  const u = await run(GATEHOUSE_BIN, ['user', 'add', '--config', stack.config,
    '--username', 'mallory', '--password-stdin'], 'mallory pass\n');
  assert.equal(u.code, 0, u.stderr);
  env.evil = await evilSite(stack);
});
const { scenario } = env;
after(() => env.evil?.server.close());

const esc = (s) => s.replaceAll('&', '&amp;').replaceAll('"', '&quot;');

// The attacker's site: for each visit its server fetches a fresh sign-in
// form at Gatehouse (with its own cookie jar, as any client can), and the
// page posts it back to Gatehouse from the visitor's browser.
async function evilSite(stack) {
  const crm = stack.app('crm');
  const server = http.createServer(async (req, res) => {
    try {
      const q = new URLSearchParams({
        response_type: 'code', client_id: 'crm', scope: 'openid',
        redirect_uri: `${crm.url}callback`, state: 'evil', nonce: 'evil',
      });
      const r = await fetch(`${stack.issuer}/authorize?${q}`,
        { signal: AbortSignal.timeout(5000) });
      const html = await r.text();
      const field = (n) => {
        const m = html.match(new RegExp(`name="${n}" value="([^"]*)"`));
        return m ? m[1].replaceAll('&amp;', '&') : '';
      };
      server.fetched += 1;
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><title>Free prizes</title>
        <form method="post" action="${stack.issuer}/login">
        <input name="username" value="mallory">
        <input name="password" value="mallory pass">
        <input name="csrf" value="${esc(field('csrf'))}">
        <input name="request" value="${esc(field('request'))}">
        </form><script>document.forms[0].submit()</script>`);
    } catch (e) {
      res.writeHead(500);
      res.end(String(e));
    }
  });
  server.fetched = 0;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  server.unref();
  return { server, url: `http://127.0.0.1:${server.address().port}/` };
}

// The victim visits the attacker's page and lands on Gatehouse's answer to
// the forged sign-in.
async function visitEvil(page, stack) {
  const before = env.evil.server.fetched;
  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${stack.issuer}/login`),
    page.goto(env.evil.url),
  ]);
  assert.equal(env.evil.server.fetched, before + 1, 'the attacker got a form');
  return answer;
}

// What Gatehouse says to prompt=none from this browser: a code (signed in)
// or login_required.
async function silentAnswer(page, stack) {
  const crm = stack.app('crm');
  const q = new URLSearchParams({
    response_type: 'code', client_id: 'crm', scope: 'openid', prompt: 'none',
    redirect_uri: `${crm.url}callback`, state: 'probe',
  });
  const r = await page.context().request.get(`${stack.issuer}/authorize?${q}`,
    { maxRedirects: 0 });
  assert.equal(r.status(), 302);
  return new URL(r.headers().location).searchParams;
}

async function hasSession(page) {
  return (await page.context().cookies()).some((c) => c.name === 'gh_session');
}

scenario('a cross-site auto-submitted sign-in does not sign the browser in',
  async (stack, page) => {
    const answer = await visitEvil(page, stack);
    assert.equal(answer.status(), 403);
    assert.ok(!(await hasSession(page)), 'no gh_session cookie');
    assert.equal((await silentAnswer(page, stack)).get('error'),
      'login_required');
    // Nor is any app signed in as the attacker.
    const crm = stack.app('crm');
    await page.goto(crm.url);
    assert.equal(await statusText(page), 'Not signed in.');
  });

scenario('a browser mid-sign-in (its own pre-sign-in cookie) is not signed in by the attacker either',
  async (stack, page) => {
    // The victim has started a sign-in at CRM: Gatehouse gave this browser
    // its pre-sign-in cookie, which a same-site POST carries along.
    const crm = stack.app('crm');
    await page.goto(crm.url);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${stack.issuer}/**`);
    assert.ok((await page.context().cookies())
      .some((c) => c.name === 'gh_presign' && c.httpOnly && c.sameSite === 'Lax'));
    const answer = await visitEvil(page, stack);
    assert.equal(answer.status(), 403);
    assert.ok(!(await hasSession(page)), 'no gh_session cookie');
    assert.equal((await silentAnswer(page, stack)).get('error'),
      'login_required');
    // The victim's own sign-in still works, and is the victim's.
    await signIn(page, stack, crm);
    await page.waitForURL(crm.url);
    assert.match(await statusText(page), /^Signed in as alice /);
    assert.ok((await silentAnswer(page, stack)).get('code'));
  });
