// SPDX-License-Identifier: MIT
// The device cookie in Debian's headless Chromium (SPEC §7 Lockout): a
// sign-in leaves it, signing out keeps it, and with it the browser signs
// in while someone else's failed guesses lock the user out everywhere else.
'use strict';

const assert = require('node:assert/strict');
const { PASSWORD, signIn, statusText, useStack } = require('./harness');

const MAX_FAILURES = 3;
const { scenario } = useStack({
  config: { login: { max_failures: MAX_FAILURES, lockout_s: 60 } },
});

async function cookie(page, name) {
  return (await page.context().cookies()).find((c) => c.name === name);
}

// Gatehouse's sign-in form, straight (no app), with a password.
async function tryPassword(page, stack, password) {
  await page.goto(`${stack.issuer}/login`);
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState();
  return page.title();
}

scenario('a browser that signed in before signs in while the user is locked out elsewhere',
  async (stack, page) => {
    const crm = stack.app('crm');
    await signIn(page, stack, crm);
    await page.waitForURL(crm.url);
    assert.match(await statusText(page), /^Signed in as alice/);

    const device = await cookie(page, 'gh_device');
    assert.ok(device, 'a device cookie after signing in');
    assert.equal(device.httpOnly, true);
    assert.equal(device.sameSite, 'Lax');
    assert.equal(device.path, '/');
    const days = (device.expires - Date.now() / 1000) / 86400;
    assert.ok(days > 179 && days <= 180, `it lasts 180 days (${days})`);

    // Signing out ends the session and keeps the device cookie.
    await page.goto(`${stack.issuer}/logout`);
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForLoadState();
    assert.equal(await page.title(), 'You are signed out');
    assert.equal(await cookie(page, 'gh_session'), undefined);
    assert.equal((await cookie(page, 'gh_device')).value, device.value);

    // Someone else, in a browser of their own, guesses until alice is
    // locked out; a new browser of hers is locked out too.
    const other = await page.context().browser().newContext();
    try {
      const guesser = await other.newPage();
      for (let i = 0; i < MAX_FAILURES; i++) {
        assert.equal(await tryPassword(guesser, stack, `guess ${i}`),
          'Sign in', `guess ${i} is checked`);
      }
      assert.equal(await tryPassword(guesser, stack, PASSWORD),
        'Too many attempts');
    } finally {
      await other.close();
    }

    // Her own browser is not.
    await signIn(page, stack, crm);
    await page.waitForURL(crm.url);
    assert.match(await statusText(page), /^Signed in as alice/);
  });
