// SPDX-License-Identifier: MIT
// Passkeys (issue 18 item 2) in Debian's headless Chromium with its
// virtual authenticator (DevTools WebAuthn domain: CTAP2, internal,
// resident keys, user verification), on http://localhost (an RP ID cannot
// be an IP address): alice adds a passkey on /account/passkeys, then a new
// browser session signs in with it alone, first to Gatehouse and then for
// an app, whose ID token says amr ["hwk"] and acr 2fa.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const {
  PASSWORD, freePort, screenshotPath, signIn, sleep, statusText, useStack,
} = require('./harness');

// An app of the test's own whose redirect goes nowhere: the browser's
// request to it is read for the code, which the test redeems itself.
const probe = { secret: `probe-${Math.random().toString(36).slice(2)}` };
const opts = async () => {
  probe.redirect = `http://127.0.0.1:${await freePort()}/cb`;
  return {
    host: 'localhost',
    // A step-up before adding a passkey once 4 s have passed (time
    // enough for each step after a sign-in or a step-up).
    config: { login: { reauth_window_s: 4 } },
    clients: [{
      client_id: 'probe', client_secret: probe.secret, name: 'Probe',
      redirect_uris: [probe.redirect],
      grant_types: ['authorization_code'],
    }],
  };
};
const { scenario } = useStack(opts);

async function screenshot(page, name) {
  const file = screenshotPath(name);
  await page.screenshot({ path: file, fullPage: true });
  assert.ok(fs.statSync(file).size > 1000, `a screenshot in ${file}`);
}

// A platform authenticator with user verification, as a laptop's.
async function virtualAuthenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send(
    'WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
        hasUserVerification: true, isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
  return { cdp, authenticatorId };
}

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

// The probe's code redeemed at /token: the ID token's claims.
async function redeem(stack, cb) {
  const code = cb.searchParams.get('code');
  assert.ok(code, 'a code for the app');
  const r = await fetch(`${stack.issuer}/token`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: 'Basic ' +
        Buffer.from(`probe:${probe.secret}`).toString('base64'),
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code, redirect_uri: probe.redirect,
    }).toString(),
  });
  assert.equal(r.status, 200, await r.clone().text());
  return claims((await r.json()).id_token);
}

function authorizeUrl(stack) {
  const auth = new URL(`${stack.issuer}/authorize`);
  auth.search = new URLSearchParams({
    response_type: 'code', client_id: 'probe', scope: 'openid',
    redirect_uri: probe.redirect, state: 'st1', nonce: 'n1',
  }).toString();
  return auth.href;
}

scenario('add a passkey, then sign in with it alone (amr hwk)',
  async (stack, page) => {
    const { cdp, authenticatorId } = await virtualAuthenticator(page);
    const crm = stack.app('crm');
    await signIn(page, stack, crm);
    await page.waitForURL(crm.url);

    // Signed in more than login.reauth_window_s ago: the password first.
    await sleep(4500);
    await page.goto(`${stack.issuer}/account/passkeys`);
    assert.equal(await page.locator('h1').textContent(), 'Confirm it is you');
    assert.match(await page.locator('main').innerText(),
      /change your passkeys/);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForSelector('h1:text("Passkeys")');
    assert.equal(await page.locator('h1').textContent(), 'Passkeys');
    assert.equal(await page.locator('#none').count(), 1);
    await page.getByLabel('Name of the new passkey').fill('Laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForSelector('#status');
    assert.equal(await statusText(page), 'The passkey was added.');
    assert.equal(await page.locator('#passkeys li .name').textContent(),
      'Laptop');
    const { credentials } = await cdp.send('WebAuthn.getCredentials',
      { authenticatorId });
    assert.equal(credentials.length, 1);
    assert.ok(credentials[0].isResidentCredential);
    await screenshot(page, 'passkey-added.png');

    // A new browser session: the cookies gone, the authenticator kept.
    await page.context().clearCookies();
    await page.goto(`${stack.issuer}/login`);
    await page.locator('#use-passkey').click();
    await page.waitForURL(`${stack.issuer}/login/passkey**`);
    await screenshot(page, 'passkey-sign-in.png');
    const cookies = await page.context().cookies();
    const posted = page.waitForRequest((r) => r.method() === 'POST' &&
      r.url() === `${stack.issuer}/login/passkey`);
    await page.locator('#passkey').click();
    await page.waitForSelector('text=You are signed in as alice');

    // Past login.reauth_window_s, "Sign out of all sessions" asks first,
    // and the passkey passes the step-up (no password).
    await sleep(4500);
    await page.goto(`${stack.issuer}/account`);
    await page.getByRole('button', { name: 'Sign out of all sessions' })
      .click();
    await page.waitForSelector('h1:text("Confirm it is you")');
    await screenshot(page, 'passkey-step-up.png');
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
    assert.ok(!(await page.context().cookies()).some((c) =>
      c.name === 'gh_session' && c.value !== ''), 'signed out everywhere');

    // The same answer posted again, with the browser's cookies as they
    // were before it: refused, and no session.
    const body = (await posted).postData();
    await page.context().clearCookies();
    await page.context().addCookies(cookies);
    const again = await page.context().request.post(
      `${stack.issuer}/login/passkey`, {
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Origin: stack.issuer,
        },
        data: body, maxRedirects: 0,
      });
    assert.equal(again.status(), 401);
    assert.match(await again.text(), /That passkey was not accepted/);
    assert.ok(!(await page.context().cookies())
      .some((c) => c.name === 'gh_session'), 'no session from a replay');

    // For an app: the code's ID token says how.
    await page.context().clearCookies();
    const auth = new URL(`${stack.issuer}/authorize`);
    auth.search = new URLSearchParams({
      response_type: 'code', client_id: 'probe', scope: 'openid',
      redirect_uri: probe.redirect, state: 'st1', nonce: 'n1',
    }).toString();
    await page.goto(auth.href);
    await page.locator('#use-passkey').click();
    await page.waitForURL(`${stack.issuer}/login/passkey**`);
    const back = page.waitForRequest((r) => r.url().startsWith(probe.redirect));
    await page.locator('#passkey').click();
    const idt = await redeem(stack, new URL((await back).url()));
    assert.equal(idt.sub, stack.aliceSub);
    assert.deepEqual(idt.amr, ['hwk']);
    assert.equal(idt.acr, 'urn:gatehouse:acr:2fa');

    // Removed, it signs no one in. (The redirect to the probe ends on
    // Chromium's error page; let that finish first.)
    await page.waitForURL(/^chrome-error:/).catch(() => {});
    await page.goto('about:blank');
    await page.context().clearCookies();
    // The password now asks for the passkey as a second step.
    await signIn(page, stack, crm);
    await page.locator('#passkey').click();
    await page.waitForURL(crm.url);
    await page.goto(`${stack.issuer}/account/passkeys`);
    await page.getByRole('button', { name: 'Remove' }).click();
    await page.waitForSelector('#status');
    assert.equal(await statusText(page), 'The passkey was removed.');
    assert.equal(await page.locator('#none').count(), 1);
    await page.context().clearCookies();
    await page.goto(`${stack.issuer}/login/passkey`);
    await page.locator('#passkey').click();
    await page.waitForSelector('#error');
    assert.match(await page.locator('#error').textContent(),
      /That passkey was not accepted/);
  });

scenario('without JavaScript the password still signs in; no passkey form',
  async (stack, page) => {
    const ctx = await page.context().browser().newContext({
      javaScriptEnabled: false,
    });
    try {
      const p = await ctx.newPage();
      await p.goto(`${stack.issuer}/login/passkey`);
      assert.equal(await p.locator('form[data-passkey]').isVisible(), false);
      await p.getByRole('link', { name: 'Sign in with a password instead' })
        .click();
      await p.getByLabel('Username').fill('alice');
      await p.getByLabel('Password').fill('correct horse battery');
      await p.getByRole('button', { name: 'Sign in', exact: true }).click();
      await p.waitForSelector('text=You are signed in as alice');
    } finally {
      await ctx.close();
    }
  });

scenario('a passkey as the second step after the password (amr pwd hwk)',
  async (stack, page) => {
    await virtualAuthenticator(page);
    const crm = stack.app('crm');
    await signIn(page, stack, crm);
    await page.waitForURL(crm.url);
    await page.goto(`${stack.issuer}/account/passkeys`);
    await page.getByLabel('Name of the new passkey').fill('Phone');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForSelector('#status');
    assert.equal(await statusText(page), 'The passkey was added.');

    await page.context().clearCookies();
    await page.goto(authorizeUrl(stack));
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    // No session yet: the passkey page, with no way around it.
    await page.waitForSelector('#passkey');
    assert.equal(await page.locator('h1').textContent(),
      'Sign in with a passkey');
    assert.ok(!(await page.context().cookies())
      .some((c) => c.name === 'gh_session'), 'no session before the passkey');
    await screenshot(page, 'passkey-second-step.png');
    const back = page.waitForRequest((r) => r.url().startsWith(probe.redirect));
    await page.locator('#passkey').click();
    const idt = await redeem(stack, new URL((await back).url()));
    assert.equal(idt.sub, stack.aliceSub);
    assert.deepEqual(idt.amr, ['pwd', 'hwk']);
    assert.equal(idt.acr, 'urn:gatehouse:acr:2fa');
  });
