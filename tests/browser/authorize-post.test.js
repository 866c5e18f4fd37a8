// SPDX-License-Identifier: MIT
// POST /authorize in Chromium (OIDC Core §3.1.2.1: the endpoint MUST take
// POST): a page on an app's origin submits the authorization request as a
// form, as apps using form-posted requests do. What comes back to the
// app's callback is read off the browser's requests.
'use strict';

const assert = require('node:assert/strict');
const { PASSWORD, signIn, useStack } = require('./harness');

const { scenario } = useStack();

// Serves, on the app's origin, a page that posts the authorization request
// and records where the browser is sent back to.
async function postFromApp(page, stack, app, state) {
  const back = [];
  const callback = `${app.url}callback`;
  // Seen, not intercepted: Playwright does not route a redirect's target.
  // The demo app then refuses a sign-in it did not start, which is fine.
  page.on('request', (r) => {
    if (r.url().startsWith(`${callback}?`)) back.push(new URL(r.url()));
  });
  await page.route(`${app.url}post-test`, (route) => route.fulfill({
    contentType: 'text/html',
    body: `<!doctype html><form id="f" method="post"
      action="${stack.issuer}/authorize">
      <input type="hidden" name="response_type" value="code">
      <input type="hidden" name="client_id" value="${app.id}">
      <input type="hidden" name="redirect_uri" value="${callback}">
      <input type="hidden" name="scope" value="openid profile">
      <input type="hidden" name="state" value="${state}">
      <input type="hidden" name="nonce" value="n-${state}">
      </form><script>document.getElementById('f').submit()</script>`,
  }));
  await page.goto(`${app.url}post-test`);
  return back;
}

scenario('POST /authorize: the sign-in form, then a code and the state back at the app',
  async (stack, page) => {
    const crm = stack.app('crm');
    const back = await postFromApp(page, stack, crm, 'post-1');
    await page.waitForURL(`${stack.issuer}/authorize`);
    assert.equal(await page.title(), 'Sign in to CRM');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.href.startsWith(`${crm.url}callback?`));
    assert.equal(back.length, 1);
    assert.ok(back[0].searchParams.get('code'), 'a code');
    assert.equal(back[0].searchParams.get('state'), 'post-1');
    assert.equal(back[0].searchParams.get('iss'), stack.issuer);
  });

scenario('POST /authorize with a live session: straight back with a code (single sign-on)',
  async (stack, page) => {
    const crm = stack.app('crm');
    const sales = stack.app('sales');
    await signIn(page, stack, crm);
    await page.waitForURL(crm.url);
    const back = await postFromApp(page, stack, sales, 'post-2');
    await page.waitForURL((u) => u.href.startsWith(`${sales.url}callback?`));
    assert.equal(back.length, 1);
    assert.ok(back[0].searchParams.get('code'), 'a code');
    assert.equal(back[0].searchParams.get('state'), 'post-2');
  });
