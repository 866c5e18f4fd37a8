// SPDX-License-Identifier: MIT
// The account page (issue 17 item 3) in Debian's headless Chromium: two
// browsers signed in as alice; the account page of one lists both, and
// "Sign out" of the other one, pressed from the keyboard alone, ends it
// (CRM is told over the back channel) and leaves this one; "Sign out of
// all sessions" ends the rest. The logout confirmation links to the page.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const {
  fitsPhone, screenshotPath, signIn, statusText, useStack, waitFor,
} = require('./harness');

const { scenario } = useStack();

async function screenshot(page, name) {
  const file = screenshotPath(name);
  await page.screenshot({ path: file, fullPage: true });
  assert.ok(fs.statSync(file).size > 1000, `a screenshot in ${file}`);
}

// Presses Tab until the focused element is what `is` (run in the page)
// says it should be; at most 30 presses. Keyboard only: no click.
async function tabTo(page, what, is) {
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(is)) return;
  }
  throw new Error(`Tab never reached ${what}`);
}

scenario('the account page lists both browsers and signs the other one out',
  async (stack, page) => {
    const crm = stack.app('crm');
    await signIn(page, stack, crm);
    await page.waitForURL(crm.url);

    // The same account on another browser (a context of its own).
    const other = await page.context().browser().newContext();
    try {
      const elsewhere = await other.newPage();
      await signIn(elsewhere, stack, crm);
      await elsewhere.waitForURL(crm.url);
      assert.match(await statusText(elsewhere), /^Signed in as alice/);
      await waitFor('CRM holds both sessions',
        async () => (await stack.sessions('crm')) === 2, 5000);

      // From the logout confirmation, by keyboard, to the account page.
      await page.goto(`${stack.issuer}/logout`);
      await tabTo(page, 'the "Manage your sessions" link',
        () => document.activeElement.id === 'account');
      await page.keyboard.press('Enter');
      await page.waitForURL(`${stack.issuer}/account`);

      const sessions = page.locator('section.session');
      assert.equal(await sessions.count(), 2);
      assert.equal(await page.locator('h1').textContent(), 'Your sessions');
      const mine = sessions.nth(0);
      assert.match(await mine.locator('h2').textContent(), /This device/);
      assert.match(await mine.textContent(), /127\.0\.0\.1/);
      assert.match(await mine.textContent(), /CRM/);
      assert.match(await mine.textContent(), /UTC/);
      assert.doesNotMatch(await sessions.nth(1).locator('h2').textContent(),
        /This device/);
      // Every button is named; the per-session ones say whose they are.
      const buttons = page.getByRole('button', { name: 'Sign out', exact: true });
      assert.equal(await buttons.count(), 2);
      assert.ok(await page.getByRole('button',
        { name: 'Sign out of all sessions' }).isVisible());
      assert.ok(await fitsPhone(page), 'the page fits a phone');
      await screenshot(page, 'account.png');

      // The same page in Chinese (lang overrides Accept-Language).
      await page.goto(`${stack.issuer}/account?lang=zh-CN`);
      assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
      assert.equal(await page.locator('h1').textContent(), '您的会话');
      assert.match(await page.locator('section.session').nth(0).textContent(),
        /此设备/);
      assert.ok(await page.getByRole('button', { name: '退出所有会话' })
        .isVisible());
      assert.ok(await fitsPhone(page), 'the Chinese page fits a phone');
      await screenshot(page, 'account-zh.png');
      await page.goto(`${stack.issuer}/account`);

      // The other session's "Sign out", from the keyboard.
      await tabTo(page, "the other session's Sign out",
        () => document.activeElement.getAttribute('aria-describedby') === 's1');
      await page.keyboard.press('Enter');
      await page.waitForURL(`${stack.issuer}/account`);
      assert.match(await statusText(page), /^Signed out of the session on /);
      assert.equal(await page.locator('section.session').count(), 1);
      await screenshot(page, 'account-after-sign-out.png');

      // CRM was told: the other browser is signed out there, this one not.
      await waitFor('CRM ends the other session',
        async () => (await stack.sessions('crm')) === 1, 5000);
      await elsewhere.goto(crm.url);
      assert.equal(await statusText(elsewhere), 'Not signed in.');
      await page.goto(crm.url);
      assert.match(await statusText(page), /^Signed in as alice/);
    } finally {
      await other.close();
    }

    // "Sign out of all sessions", from the keyboard: the signed-out page.
    await page.goto(`${stack.issuer}/account`);
    await tabTo(page, '"Sign out of all sessions"',
      () => document.activeElement.id === 'all');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
    await waitFor('CRM ends the last session',
      async () => (await stack.sessions('crm')) === 0, 5000);

    // Without a session the page sends the browser to sign in, and back.
    await page.goto(`${stack.issuer}/account`);
    await page.waitForURL(`${stack.issuer}/login?return=%2Faccount`);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(require('./harness').PASSWORD);
    await page.getByLabel('Password').press('Enter');
    await page.waitForURL(`${stack.issuer}/account`);
    assert.equal(await page.locator('section.session').count(), 1);
  });
