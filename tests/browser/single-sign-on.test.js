// SPDX-License-Identifier: MIT
// Gatehouse and its three demo apps as a person meets them, in Debian's
// headless Chromium: the quick-start scenario, the logout confirmation
// page, a failed sign-in, and signing in with the keyboard alone.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const {
  PASSWORD, fitsPhone, screenshotPath, signIn, statusText, useStack, waitFor,
} = require('./harness');

const { scenario } = useStack();

// Every app's page says "Not signed in." and the app holds no session of
// its own any more (so it was the back-channel, not just cookies).
async function allSignedOut(stack, page) {
  for (const app of stack.apps) {
    await page.goto(app.url);
    assert.equal(await statusText(page), 'Not signed in.', app.name);
    await waitFor(`${app.name} ends its session`,
      async () => (await stack.sessions(app.id)) === 0, 3000);
  }
}

async function screenshot(page, name) {
  const file = screenshotPath(name);
  await page.screenshot({ path: file, fullPage: true });
  assert.ok(fs.statSync(file).size > 1000, `a screenshot in ${file}`);
}

scenario('sign in at CRM, SSO into Sales and Service, sign out at Sales: all three signed out',
  async (stack, page) => {
    const crm = stack.app('crm');
    await page.goto(crm.url);
    assert.equal(await statusText(page), 'Not signed in.');
    assert.ok(await fitsPhone(page), 'the CRM page fits a phone');

    // The sign-in page names the app the person is signing in to.
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${stack.issuer}/**`);
    assert.equal(await page.title(), 'Sign in to CRM');
    assert.ok(await page.getByRole('heading', { name: 'Sign in to CRM' }).isVisible());
    assert.ok(await fitsPhone(page), 'the sign-in page fits a phone');
    await screenshot(page, 'sign-in.png');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(crm.url);
    const signedIn = await statusText(page);
    assert.match(signedIn, /^Signed in as alice \(sid .{8}…\)$/);
    assert.equal(await page.title(), 'CRM');
    await screenshot(page, 'crm-signed-in.png');

    // Single sign-on: no form on the way, and the same Gatehouse session.
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
      assert.equal(await stack.sessions(app.id), 1, app.name);
    }

    // Sign out at Sales; Gatehouse sends the browser back once every app
    // has been told.
    const sales = stack.app('sales');
    await page.goto(sales.url);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.href.startsWith(`${sales.url}?state=`));
    assert.equal(await statusText(page), 'You are signed out.');
    await allSignedOut(stack, page);

    // The single sign-on session is gone too: CRM asks for a password.
    await page.goto(crm.url);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${stack.issuer}/**`);
    assert.ok(await page.getByLabel('Password').isVisible());
  });

scenario('the logout confirmation page names the apps and signs out of them',
  async (stack, page) => {
    const crm = stack.app('crm');
    const sales = stack.app('sales');
    await signIn(page, stack, crm);
    await page.waitForURL(crm.url);
    await page.goto(sales.url);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(sales.url);

    // No id_token_hint: Gatehouse asks first.
    await page.goto(`${stack.issuer}/logout`);
    assert.equal(await page.title(), 'Sign out?');
    const apps = await page.locator('ul.apps li').allTextContents();
    assert.deepEqual(apps.map((s) => s.trim()).sort(), ['CRM', 'Sales']);
    assert.ok(await page.getByRole('button', { name: 'Sign out', exact: true }).isVisible());
    assert.ok(await page.getByRole('button', { name: 'Sign out everywhere' }).isVisible());
    assert.ok(await fitsPhone(page), 'the confirmation page fits a phone');
    await screenshot(page, 'logout-confirm.png');

    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForLoadState();
    assert.equal(await page.title(), 'You are signed out');
    const after = await page.locator('ul.apps li').allTextContents();
    assert.deepEqual(after.map((s) => s.trim()).sort(),
      ['CRM — signed out', 'Sales — signed out']);
    await allSignedOut(stack, page);
  });

scenario('a wrong password shows "Incorrect username or password" and signs nobody in',
  async (stack, page) => {
    const crm = stack.app('crm');
    await signIn(page, stack, crm, 'not the password');
    const alert = page.getByRole('alert');
    assert.match(await alert.textContent(), /Incorrect username or password/);
    assert.equal(await page.title(), 'Sign in to CRM');
    // The field the message is about says so to a screen reader.
    assert.equal(await page.getByLabel('Password').getAttribute('aria-describedby'),
      await alert.getAttribute('id'));
    await page.goto(crm.url);
    assert.equal(await statusText(page), 'Not signed in.');
    assert.equal(await stack.sessions('crm'), 0);
  });

scenario('signing in and out with the keyboard alone', async (stack, page) => {
  const crm = stack.app('crm');
  const focused = () => page.evaluate(() => {
    const e = document.activeElement;
    return e.id || e.textContent.trim();
  });
  await page.goto(crm.url);
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'Sign in');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${stack.issuer}/**`);

  // Focus starts in the username field; each field has its label; Tab
  // goes username, password, "Keep me signed in", button.
  await page.getByLabel('Username').waitFor();
  assert.equal(await focused(), 'username');
  assert.equal(await page.getByLabel('Username').getAttribute('id'), 'username');
  assert.equal(await page.getByLabel('Password').getAttribute('id'), 'password');
  await page.keyboard.type('alice');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'password');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'keep');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'Sign in');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await focused(), 'password');
  await page.keyboard.press('Enter');
  await page.waitForURL(crm.url);
  assert.match(await statusText(page), /^Signed in as alice/);

  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'Sign out');
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => u.href.startsWith(`${crm.url}?state=`));
  assert.equal(await statusText(page), 'You are signed out.');
  await allSignedOut(stack, page);
});
