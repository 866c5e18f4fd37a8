// SPDX-License-Identifier: MIT
// Signing out at Gatehouse leaves the cookies of unrelated apps on the same
// host alone (issue 14 item 3): Clear-Site-Data "cookies" would clear every
// cookie of the registrable domain, so by default it is not sent, and a
// /logout that ends no session touches nothing at all.
'use strict';

const assert = require('node:assert/strict');
const { signIn, statusText, useStack } = require('./harness');

const { scenario } = useStack();

// Another app on the same host (cookies ignore the port), not part of the
// single sign-on at all: its preference must survive a sign-out.
async function setNeighbourCookie(page) {
  await page.context().addCookies([{
    name: 'neighbour_theme', value: 'dark', domain: '127.0.0.1', path: '/',
  }]);
}

async function cookieNames(page) {
  return (await page.context().cookies()).map((c) => c.name);
}

scenario('signing out at CRM keeps an unrelated app\'s cookie on the same host',
  async (stack, page) => {
    const crm = stack.app('crm');
    await setNeighbourCookie(page);
    await signIn(page, stack, crm);
    await page.waitForURL(crm.url);
    assert.ok((await cookieNames(page)).includes('gh_session'));

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.href.startsWith(`${crm.url}?state=`));
    assert.equal(await statusText(page), 'You are signed out.');
    const names = await cookieNames(page);
    assert.ok(!names.includes('gh_session'), 'Gatehouse\'s own cookie is expired');
    assert.ok(names.includes('neighbour_theme'),
      `the neighbour's cookie is still there: ${names.join(' ')}`);
  });

scenario('a cross-site logout form that ends nothing leaves the SSO cookie in place',
  async (stack, page) => {
    const crm = stack.app('crm');
    await signIn(page, stack, crm);
    await page.waitForURL(crm.url);
    const before = (await page.context().cookies())
      .find((c) => c.name === 'gh_session');
    assert.ok(before);

    // A page of no site of ours (a fresh tab's opaque origin) auto-submits
    // a logout; the SameSite=Lax cookie does not go along.
    const evil = await page.context().newPage();
    await evil.setContent(`<form method="post" action="${stack.issuer}/logout">
      <input name="client_id" value="crm">
      <input name="post_logout_redirect_uri" value="${crm.url}">
      </form>`);
    await Promise.all([
      evil.waitForURL((u) => u.href.startsWith(crm.url)),
      evil.evaluate(() => document.forms[0].submit()),
    ]);
    const after = (await page.context().cookies())
      .find((c) => c.name === 'gh_session');
    assert.ok(after, 'the SSO cookie is still there');
    assert.equal(after.value, before.value);
    assert.equal(await stack.sessions('crm'), 1, 'CRM was told nothing');
  });
