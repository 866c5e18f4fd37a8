// SPDX-License-Identifier: MIT
// The maintenance shutdown (issue 17 item 1) in Debian's headless
// Chromium: announced, the sign-in page shows the banner with the time and
// the message; active, sign-in is the maintenance page (503); lifted,
// sign-in works again. Driven with `gatehouse maintenance`, as an
// operator would.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const {
  GATEHOUSE_BIN, PASSWORD, fitsPhone, run, screenshotPath, signIn, status,
  statusText, useStack, waitFor,
} = require('./harness');

const { scenario } = useStack();
const MESSAGE = 'Upgrade to v2 tonight: save your work in the CRM';

async function screenshot(page, name) {
  const file = screenshotPath(name);
  await page.screenshot({ path: file, fullPage: true });
  assert.ok(fs.statSync(file).size > 1000, `a screenshot in ${file}`);
}

async function maintenance(stack, ...args) {
  const r = await run(GATEHOUSE_BIN, ['maintenance', '--config', stack.config,
    ...args]);
  assert.equal(r.code, 0, `gatehouse maintenance ${args[0]}: ${r.stderr}`);
  return r.stdout;
}

scenario('the banner while announced, the maintenance page while active',
  async (stack, page) => {
    const crm = stack.app('crm');
    await maintenance(stack, 'start', '--message', MESSAGE, '--at', '+60m');

    // The sign-in page says when and why, above the form. The server
    // reads the state at most a second old.
    await page.goto(crm.url);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${stack.issuer}/**`);
    const banner = page.locator('#banner');
    await waitFor('the banner shows', async () => {
      if (await banner.count() > 0) return true;
      await page.reload();
      return false;
    }, 5000);
    const text = (await banner.textContent()).trim();
    assert.match(text, /^Maintenance starts at \d\d:\d\d UTC: /);
    assert.ok(text.endsWith(MESSAGE), text);
    assert.equal(await banner.getAttribute('role'), 'status');
    assert.ok(await page.getByLabel('Username').isVisible());
    assert.ok(await fitsPhone(page), 'the page fits a phone');
    await screenshot(page, 'maintenance-announced.png');

    // Signing in still works until it starts.
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(crm.url);
    assert.match(await statusText(page), /^Signed in as alice/);

    // Active at once: the session ends, CRM is told, and sign-in is the
    // maintenance page.
    await maintenance(stack, 'start', '--message', MESSAGE);
    await waitFor('CRM ends the session',
      async () => (await stack.sessions('crm')) === 0, 10000);
    await page.goto(crm.url);
    assert.equal(await statusText(page), 'Not signed in.');
    await waitFor('sign-in is closed',
      async () => (await status(`${stack.issuer}/login`)) === 503, 5000);
    await page.goto(crm.url);
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().startsWith(`${stack.issuer}/authorize`)),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    assert.equal(answer.status(), 503);
    assert.ok(Number(answer.headers()['retry-after']) > 0);
    assert.equal((await page.getByRole('heading', { level: 1 }).textContent()).trim(),
      'Down for maintenance');
    assert.equal((await page.locator('#maintenance-message').textContent()).trim(),
      MESSAGE);
    assert.equal(await page.locator('#banner').count(), 0);
    assert.equal(await page.getByLabel('Password').count(), 0);
    assert.ok(await fitsPhone(page), 'the page fits a phone');
    await screenshot(page, 'maintenance-active.png');

    // Lifted: the browser is told why it was signed out, and may sign in.
    await maintenance(stack, 'end');
    await waitFor('sign-in is open',
      async () => (await status(`${stack.issuer}/login`)) === 200, 5000);
    await page.goto(crm.url);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${stack.issuer}/**`);
    assert.equal((await page.locator('#notice').textContent()).trim(),
      'You were signed out for scheduled maintenance.');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(crm.url);
    assert.match(await statusText(page), /^Signed in as alice/);
  });

scenario('the apps show the announcement to users who work inside them',
  async (stack, page) => {
    const crm = stack.app('crm');
    // The scenario before lifted its shutdown; the app keeps Gatehouse's
    // answer for 5 s, so its banner may still show for that long.
    await page.goto(crm.url);
    await waitFor('no banner before an announcement', async () => {
      await page.reload();
      return (await page.locator('#maintenance').count()) === 0;
    }, 15000);
    await signIn(page, stack, crm);
    await page.waitForURL(crm.url);

    // The app polls Gatehouse's public GET /maintenance (cached 5 s by
    // the app and by the endpoint), so the banner appears within seconds
    // on the page the user is working in, without a sign-in.
    await maintenance(stack, 'start', '--message', MESSAGE, '--at', '+60m');
    const banner = page.locator('#maintenance');
    await waitFor('the app shows the banner', async () => {
      await page.reload();
      return (await banner.count()) > 0;
    }, 15000);
    const text = (await banner.textContent()).replace(/\s+/g, ' ').trim();
    assert.ok(text.includes(MESSAGE), text);
    assert.match(text, /\d\d:\d\d/, 'it says when');
    assert.equal(await banner.getAttribute('role'), 'status');
    assert.match(await statusText(page), /^Signed in as alice/);
    await screenshot(page, 'maintenance-app-banner.png');

    // Lifted: the banner goes away again.
    await maintenance(stack, 'end');
    await waitFor('the app drops the banner', async () => {
      await page.reload();
      return (await banner.count()) === 0;
    }, 15000);
  });
