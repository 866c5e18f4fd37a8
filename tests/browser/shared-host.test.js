// SPDX-License-Identifier: MIT
// Gatehouse and its apps on one host name, as in the quick start (all on
// 127.0.0.1, each on its own port): the browser sends every app's cookies
// to Gatehouse too. Each app here has ~3 KB of cookies of its own (a
// preferences and a cart cookie, as apps keep), so Gatehouse receives a
// Cookie header of ~9 KB on every request, and single sign-on and single
// logout must work all the same.
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const {
  PASSWORD, statusText, useStack, waitFor,
} = require('./harness');

const { scenario } = useStack();

const PER_APP = 3000; // bytes of cookies per app
// Two cookies per app on the shared host name, ~PER_APP bytes in all.
function appCookies(stack) {
  return stack.apps.flatMap((a) => ['prefs', 'cart'].map((what) => ({
    name: `${a.id}_${what}`,
    value: crypto.randomBytes(PER_APP / 2 - 20).toString('base64url').slice(0, PER_APP / 2 - 20),
    domain: '127.0.0.1',
    path: '/',
    sameSite: 'Lax',
  })));
}

scenario('with ~3 KB of cookies per app on the shared host: sign in at CRM, SSO to Sales and Service, sign out of all',
  async (stack, page) => {
    const context = page.context();
    const cookies = appCookies(stack);
    await context.addCookies(cookies);
    // The largest Cookie header Gatehouse was sent, seen from the browser.
    let largest = 0;
    page.on('request', async (r) => {
      if (!r.url().startsWith(`${stack.issuer}/`)) return;
      const c = await r.headerValue('cookie').catch(() => null);
      if (c && c.length > largest) largest = c.length;
    });

    const crm = stack.app('crm');
    await page.goto(crm.url);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${stack.issuer}/**`);
    assert.equal(await page.title(), 'Sign in to CRM');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(crm.url);
    const signedIn = await statusText(page);
    assert.match(signedIn, /^Signed in as alice \(sid .{8}…\)$/);

    for (const app of [stack.app('sales'), stack.app('service')]) {
      const seen = [];
      const onNav = (f) => { if (f === page.mainFrame()) seen.push(f.url()); };
      page.on('framenavigated', onNav);
      await page.goto(app.url);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(app.url);
      page.off('framenavigated', onNav);
      assert.equal(await statusText(page), signedIn, app.name);
      assert.ok(!seen.some((u) => u.startsWith(`${stack.issuer}/login`)),
        `no sign-in form on the way to ${app.name}: ${seen.join(' ')}`);
    }
    assert.ok(largest > stack.apps.length * PER_APP,
      `Gatehouse was sent the apps' cookies (largest Cookie header ${largest} bytes)`);

    const service = stack.app('service');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.href.startsWith(`${service.url}?state=`));
    assert.equal(await statusText(page), 'You are signed out.');
    for (const app of stack.apps) {
      await page.goto(app.url);
      assert.equal(await statusText(page), 'Not signed in.', app.name);
      await waitFor(`${app.name} ends its session`,
        async () => (await stack.sessions(app.id)) === 0, 3000);
    }
    // Signing out at Gatehouse cleared none of the neighbours' cookies
    // (no Clear-Site-Data "cookies" by default).
    const left = new Set((await context.cookies(`${crm.url}`)).map((c) => c.name));
    assert.deepEqual(cookies.filter((c) => !left.has(c.name)).map((c) => c.name), [],
      'every app cookie is still there');
  });
