// SPDX-License-Identifier: MIT
// "Keep me signed in on this device" (issue 17 item 4, SPEC §5) in Debian's
// headless Chromium: unticked, Gatehouse's SSO cookie is a browser-session
// cookie, so a browser restart signs the person out of Gatehouse; ticked
// (with the keyboard, and kept through a failed attempt), it lasts until
// the session's absolute timeout and survives the restart. A restart is
// modelled as Chromium makes it: a new context with the cookies that have
// an expiry, the session cookies dropped.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const {
  PASSWORD, fitsPhone, screenshotPath, statusText, useStack,
} = require('./harness');

const ABSOLUTE_S = 7200;
const { scenario } = useStack({
  config: { session: { absolute_timeout_s: ABSOLUTE_S } },
});

// The browser closed and opened again: only persistent cookies remain.
async function restart(page) {
  const state = await page.context().storageState();
  state.cookies = state.cookies.filter((c) => c.expires !== -1);
  const next = await page.context().browser().newContext({
    viewport: { width: 390, height: 844 }, storageState: state,
  });
  next.setDefaultTimeout(10000);
  return next;
}

async function ssoCookie(context) {
  return (await context.cookies()).find((c) => c.name === 'gh_session');
}

// From CRM to Gatehouse's sign-in form.
async function toForm(page, stack) {
  const crm = stack.app('crm');
  await page.goto(crm.url);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${stack.issuer}/**`);
}

// After the restart: Sales, never visited, asks Gatehouse. Signed in
// there still, it comes straight back; signed out, the form is shown.
async function salesAfterRestart(context, stack) {
  const p = await context.newPage();
  const sales = stack.app('sales');
  await p.goto(sales.url);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.waitForURL((u) => u.href.startsWith(sales.url) ||
    u.href.startsWith(`${stack.issuer}/`));
  return p;
}

scenario('unticked: the SSO cookie ends with the browser, a restart signs out',
  async (stack, page) => {
    await toForm(page, stack);
    const keep = page.getByLabel('Keep me signed in on this device');
    assert.equal(await keep.isChecked(), false, 'unticked by default');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(stack.app('crm').url);
    assert.match(await statusText(page), /^Signed in as alice/);
    const c = await ssoCookie(page.context());
    assert.ok(c, 'the SSO cookie is set');
    assert.equal(c.expires, -1, 'a browser-session cookie');

    const next = await restart(page);
    try {
      assert.equal(await ssoCookie(next), undefined);
      const p = await salesAfterRestart(next, stack);
      assert.equal(await p.title(), 'Sign in to Sales');
      assert.ok(await p.getByLabel('Password').isVisible());
    } finally {
      await next.close();
    }
  });

scenario('ticked with the keyboard, kept through a failed attempt: still signed in after a restart',
  async (stack, page) => {
    await toForm(page, stack);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('not the password');
    // Tab from the password to the box, Space ticks it.
    await page.getByLabel('Password').press('Tab');
    const keep = page.getByLabel('Keep me signed in on this device');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'keep');
    await page.keyboard.press('Space');
    assert.equal(await keep.isChecked(), true);
    await page.keyboard.press('Enter');
    await page.waitForLoadState();

    // The failed attempt: the error, and the box still ticked.
    assert.match(await page.getByRole('alert').textContent(),
      /Incorrect username or password/);
    assert.equal(await keep.isChecked(), true, 'the choice is kept');
    assert.ok(await fitsPhone(page), 'the form fits a phone');
    const file = screenshotPath('keep-signed-in.png');
    await page.screenshot({ path: file, fullPage: true });
    assert.ok(fs.statSync(file).size > 1000, `a screenshot in ${file}`);

    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(stack.app('crm').url);
    assert.match(await statusText(page), /^Signed in as alice/);
    const c = await ssoCookie(page.context());
    const left = c.expires - Date.now() / 1000;
    assert.ok(left > ABSOLUTE_S - 60 && left <= ABSOLUTE_S + 1,
      `lasts until the absolute timeout: ${left} s`);

    const next = await restart(page);
    try {
      assert.ok(await ssoCookie(next), 'the SSO cookie survives');
      const p = await salesAfterRestart(next, stack);
      assert.ok(p.url().startsWith(stack.app('sales').url), p.url());
      assert.match(await statusText(p), /^Signed in as alice/);
    } finally {
      await next.close();
    }
  });
