// SPDX-License-Identifier: MIT
// TOTP for users (issue 18) in Debian's headless Chromium: alice sets up
// an authenticator app on the account page (a QR code drawn as inline
// SVG, the key as text), a code from oathtool turns it on, the ten
// recovery codes are shown once; signed out, she signs in again with the
// password and then a code. The code page in Chinese too (lang=zh-CN).
'use strict';

const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const {
  fitsPhone, screenshotPath, signIn, statusText, useStack,
} = require('./harness');

const { scenario } = useStack();

async function screenshot(page, name) {
  const file = screenshotPath(name);
  await page.screenshot({ path: file, fullPage: true });
  assert.ok(fs.statSync(file).size > 1000, `a screenshot in ${file}`);
}

// What oathtool (an independent TOTP implementation) says the code of the
// base32 key is, offset seconds from now.
function oathtool(key, offset = 0) {
  const now = Math.floor(Date.now() / 1000) + offset;
  return execFileSync('oathtool', ['--totp', '-b', `--now=@${now}`, key])
    .toString().trim();
}

scenario('set up an authenticator app, then sign in with a code',
  async (stack, page) => {
    const crm = stack.app('crm');
    await signIn(page, stack, crm);
    await page.waitForURL(crm.url);

    await page.goto(`${stack.issuer}/account`);
    assert.ok(await page.getByRole('heading',
      { name: 'Two-step verification' }).isVisible());
    await page.getByRole('button', { name: 'Set up an authenticator app' })
      .click();
    // The QR code is markup in the page: an <svg>, no script, no image.
    const qr = page.locator('svg#qr');
    assert.ok(await qr.isVisible(), 'the QR code is shown');
    assert.ok((await qr.locator('path').getAttribute('d')).length > 1000);
    assert.equal(await page.locator('script').count(), 0);
    const shown = (await page.locator('#key').textContent()).trim();
    assert.match(shown, /^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
    const key = shown.replaceAll(' ', '');
    assert.ok(await fitsPhone(page), 'the set-up page fits a phone');
    await screenshot(page, 'totp-setup.png');

    await page.getByLabel('Code from the app').fill(oathtool(key));
    await page.getByRole('button', { name: 'Turn on' }).click();
    assert.equal(await statusText(page), 'Two-step verification is on.');
    assert.equal(await page.locator('#codes li').count(), 10);
    await screenshot(page, 'totp-recovery-codes.png');
    await page.getByRole('link', { name: 'I have saved them' }).click();
    await page.waitForURL(`${stack.issuer}/account`);
    assert.match(await page.locator('#recovery-left').textContent(),
      /Recovery codes left: 10/);

    // Signed out everywhere; signing in now asks for a code.
    await page.locator('#all').click();
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
    await signIn(page, stack, crm);
    await page.getByRole('heading', { name: 'Two-step verification' })
      .waitFor();
    assert.ok(await page.getByLabel('Code').isVisible());
    assert.ok(await fitsPhone(page), 'the code page fits a phone');
    await screenshot(page, 'totp-code.png');

    // The same page in Chinese: the form posted with lang=zh-CN (text
    // that is no code is asked again, not counted).
    await page.evaluate(() => {
      document.querySelector('form').action = '/login?lang=zh-CN';
    });
    await page.getByLabel('Code').fill('12ab');
    await page.getByLabel('Code').press('Enter');
    await page.locator('html[lang="zh-CN"]').waitFor();
    assert.equal(await page.locator('h1').textContent(), '两步验证');
    assert.match(await page.locator('#error').textContent(), /验证码/);
    await screenshot(page, 'totp-code-zh.png');

    // The next step's code (this step's was spent turning it on).
    await page.locator('#code').fill(oathtool(key, 30));
    await page.locator('#code').press('Enter');
    await page.waitForURL(crm.url);
    assert.match(await statusText(page), /^Signed in as alice/);
  });
