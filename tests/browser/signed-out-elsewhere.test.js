// SPDX-License-Identifier: MIT
// Forced sign-out on anomaly (issue 17 item 2) in Debian's headless
// Chromium: with session.max_per_user 1, signing in on a second browser
// ends the first one's session; the first browser's next visit to
// Gatehouse says why, above the sign-in form, and it can sign in again.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const {
  PASSWORD, fitsPhone, screenshotPath, signIn, statusText, useStack, waitFor,
} = require('./harness');

const { scenario } = useStack({ config: { session: { max_per_user: 1 } } });

async function screenshot(page, name) {
  const file = screenshotPath(name);
  await page.screenshot({ path: file, fullPage: true });
  assert.ok(fs.statSync(file).size > 1000, `a screenshot in ${file}`);
}

scenario('a sign-in elsewhere ends the oldest session and its browser is told why',
  async (stack, page) => {
    const crm = stack.app('crm');
    await signIn(page, stack, crm);
    await page.waitForURL(crm.url);
    assert.match(await statusText(page), /^Signed in as alice/);

    // The same account on another browser (a context of its own).
    const other = await page.context().browser().newContext();
    try {
      const elsewhere = await other.newPage();
      await signIn(elsewhere, stack, crm);
      await elsewhere.waitForURL(crm.url);
      assert.match(await statusText(elsewhere), /^Signed in as alice/);
    } finally {
      await other.close();
    }

    // CRM was told over the back channel: the first browser's session
    // there is gone, the other one's remains.
    await waitFor('CRM ends the evicted session',
      async () => (await stack.sessions('crm')) === 1, 5000);
    await page.goto(crm.url);
    assert.equal(await statusText(page), 'Not signed in.');

    // Back at Gatehouse with the stale cookie: why, then the form.
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${stack.issuer}/**`);
    const notice = page.getByRole('status');
    assert.equal((await notice.textContent()).trim(),
      'You were signed out because your account signed in elsewhere.');
    assert.ok(await page.getByLabel('Username').isVisible());
    assert.ok(await fitsPhone(page), 'the page fits a phone');
    await screenshot(page, 'signed-out-elsewhere.png');

    // Signing in again works (and ends the other browser's session).
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(crm.url);
    assert.match(await statusText(page), /^Signed in as alice/);
  });
