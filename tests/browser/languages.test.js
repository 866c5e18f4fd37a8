// SPDX-License-Identifier: MIT
// Every Gatehouse page in both of its languages (issue 17, SPEC §4), in
// Debian's headless Chromium: sign-in, a failed sign-in, the logout
// confirmation, signed out, and an error page, in English by default, in
// Simplified Chinese when the browser asks for it (Accept-Language) and
// when the `lang` parameter does. Each page has <html lang> to match, its
// text translated, and no English button label left on a Chinese page; the
// language chosen by the parameter survives the sign-in and logout forms.
// A screenshot of each page in each language.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const {
  GATEHOUSE_BIN, PASSWORD, fitsPhone, run, screenshotPath, useStack,
} = require('./harness');

const { scenario } = useStack();

const EN = {
  tag: 'en',
  signInTitle: 'Sign in to CRM',
  signIn: 'Sign in',
  username: 'Username',
  password: 'Password',
  wrong: 'Incorrect username or password.',
  confirmTitle: 'Sign out?',
  saveWork: 'Save your work in these apps before you sign out.',
  signOut: 'Sign out',
  everywhere: 'Sign out everywhere',
  signedOutTitle: 'You are signed out',
  ended: 'You are signed out on this device.',
  crmSignedOut: 'CRM — signed out',
  shared: 'On a shared computer?',
  errorTitle: 'Unknown application',
  accountTitle: 'Your sessions',
  thisDevice: 'This device',
  maintenanceTitle: 'Down for maintenance',
  bannerLead: 'Maintenance starts at ',
};
const ZH = {
  tag: 'zh-CN',
  signInTitle: '登录 CRM',
  signIn: '登录',
  username: '用户名',
  password: '密码',
  wrong: '用户名或密码错误。',
  confirmTitle: '要退出登录吗？',
  saveWork: '退出登录前，请先保存您在以下应用中的工作。',
  signOut: '退出登录',
  everywhere: '在所有设备上退出登录',
  signedOutTitle: '您已退出登录',
  ended: '您已在此设备上退出登录。',
  crmSignedOut: 'CRM — 已退出登录',
  shared: '在使用公用电脑？',
  errorTitle: '未知应用',
  accountTitle: '您的会话',
  thisDevice: '此设备',
  maintenanceTitle: '系统维护中',
  bannerLead: '维护将于 ',
};

// The English a page must not show in Chinese: every button label and
// heading of the English pages.
const ENGLISH = [
  'Sign in', 'Sign out', 'Sign out everywhere', 'Username', 'Password',
  'Continue', 'Save your work', 'You are signed out', 'signed out',
  'Incorrect', 'Unknown application', 'Your apps', 'shared computer',
  'Your sessions', 'This device', 'Last seen', 'Manage your sessions',
  'Maintenance', 'maintenance',
];

async function screenshot(page, name) {
  const file = screenshotPath(name);
  await page.screenshot({ path: file, fullPage: true });
  assert.ok(fs.statSync(file).size > 1000, `a screenshot in ${file}`);
}

// The page is in l: <html lang>, and for Chinese no English label or
// sentence of ours (the product name and the app names stay as they are);
// for English no Chinese at all.
async function speaks(page, l, what) {
  assert.equal(await page.locator('html').getAttribute('lang'), l.tag, what);
  const text = await page.locator('main').innerText();
  if (l === ZH) {
    for (const b of await page.getByRole('button').allTextContents())
      assert.doesNotMatch(b, /[A-Za-z]/, `${what}: button "${b}" in Chinese`);
    for (const e of ENGLISH)
      assert.ok(!text.includes(e), `${what}: no "${e}" in:\n${text}`);
  } else {
    assert.doesNotMatch(text, /[\u4e00-\u9fff]/, `${what}: no Chinese`);
  }
  assert.ok(await fitsPhone(page), `${what} fits a phone`);
}

// Walks every page: sign-in, a wrong password, sign-in, the logout
// confirmation, signed out, an error page. param: ?lang= added to the
// first Gatehouse URL of each step (the forms carry it on from there).
async function everyPage(stack, page, l, param, shot) {
  const crm = stack.app('crm');
  const q = param ? `lang=${param}` : '';

  // Sign-in, reached from the app as always.
  await page.goto(crm.url);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${stack.issuer}/**`);
  if (param) await page.goto(`${page.url()}&${q}`);
  assert.equal(await page.title(), l.signInTitle);
  assert.ok(await page.getByRole('heading', { name: l.signInTitle }).isVisible());
  assert.ok(await page.getByRole('button', { name: l.signIn, exact: true }).isVisible());
  await speaks(page, l, 'sign-in');
  await screenshot(page, `languages-${shot}-sign-in.png`);

  // A wrong password: the answer to the form speaks the same language.
  await page.getByLabel(l.username).fill('alice');
  await page.getByLabel(l.password).fill('not the password');
  await page.getByRole('button', { name: l.signIn, exact: true }).click();
  const alert = page.getByRole('alert');
  assert.equal((await alert.textContent()).trim(), l.wrong);
  assert.equal(await page.title(), l.signInTitle);
  await speaks(page, l, 'sign-in error');
  await screenshot(page, `languages-${shot}-sign-in-error.png`);

  await page.getByLabel(l.password).fill(PASSWORD);
  await page.getByRole('button', { name: l.signIn, exact: true }).click();
  await page.waitForURL(crm.url);

  // The account page: this browser's session, marked as this device.
  await page.goto(`${stack.issuer}/account${param ? `?${q}` : ''}`);
  assert.equal(await page.title(), l.accountTitle);
  assert.ok((await page.locator('main').innerText()).includes(l.thisDevice));
  await speaks(page, l, 'account');
  await screenshot(page, `languages-${shot}-account.png`);

  // The logout confirmation names the app after the reminder to save.
  await page.goto(`${stack.issuer}/logout${param ? `?${q}` : ''}`);
  assert.equal(await page.title(), l.confirmTitle);
  assert.equal((await page.locator('#save-work').textContent()).slice(
    0, l.saveWork.length), l.saveWork);
  assert.deepEqual((await page.locator('ul.apps li').allTextContents())
    .map((s) => s.trim()), ['CRM']);
  assert.ok(await page.getByRole('button', { name: l.everywhere }).isVisible());
  await speaks(page, l, 'logout confirmation');
  await screenshot(page, `languages-${shot}-logout-confirm.png`);

  // Signed out, on this device, with each app's status.
  await page.getByRole('button', { name: l.signOut, exact: true }).click();
  await page.waitForLoadState();
  assert.equal(await page.title(), l.signedOutTitle);
  assert.equal((await page.locator('#ended').textContent()).trim(), l.ended);
  assert.deepEqual((await page.locator('ul.apps li').allTextContents())
    .map((s) => s.trim()), [l.crmSignedOut]);
  assert.ok((await page.locator('#shared').textContent()).startsWith(l.shared));
  await speaks(page, l, 'signed out');
  await screenshot(page, `languages-${shot}-signed-out.png`);

  // An error page: a sign-in link that names no application.
  const r = await page.goto(`${stack.issuer}/authorize${param ? `?${q}` : ''}`);
  assert.equal(r.status(), 400);
  assert.equal(await page.title(), l.errorTitle);
  await speaks(page, l, 'error page');
  await screenshot(page, `languages-${shot}-error.png`);

  // A maintenance shutdown: announced, the sign-in page carries the
  // banner; active, sign-in is the maintenance page. The operator's
  // message is shown as typed, in no language of ours.
  const maintenance = async (...args) => {
    const r = await run(GATEHOUSE_BIN, ['maintenance', '--config',
      stack.config, ...args]);
    assert.equal(r.code, 0, r.stderr);
  };
  await maintenance('start', '--message', '2.0', '--at', '+60m');
  const signInPage = async () => {
    await page.goto(crm.url);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${stack.issuer}/**`);
    if (param) await page.goto(`${page.url()}&${q}`);
  };
  let banner = '';
  for (let i = 0; i < 20 && !banner.startsWith(l.bannerLead); i++) {
    await signInPage();
    const b = page.locator('#banner');
    banner = (await b.count()) > 0 ? (await b.textContent()).trim() : '';
    if (!banner.startsWith(l.bannerLead)) await page.waitForTimeout(250);
  }
  assert.ok(banner.startsWith(l.bannerLead), banner);
  await speaks(page, l, 'sign-in with the maintenance banner');
  await screenshot(page, `languages-${shot}-maintenance-banner.png`);
  await maintenance('start', '--message', '2.0');
  let title = '';
  for (let i = 0; i < 20 && title !== l.maintenanceTitle; i++) {
    await signInPage().catch(() => {});
    title = await page.title();
    if (title !== l.maintenanceTitle) await page.waitForTimeout(250);
  }
  assert.equal(title, l.maintenanceTitle);
  await speaks(page, l, 'maintenance page');
  await screenshot(page, `languages-${shot}-maintenance.png`);
  await maintenance('end');
}

scenario('every page in English by default', async (stack, page) => {
  await page.setExtraHTTPHeaders({ 'Accept-Language': 'en-US,en;q=0.9' });
  await everyPage(stack, page, EN, null, 'en');
});

scenario('every page in Chinese for a browser that asks for zh-CN',
  async (stack, page) => {
    await page.setExtraHTTPHeaders({
      'Accept-Language': 'fr;q=0.9, zh-CN;q=0.8, en;q=0.5',
    });
    await everyPage(stack, page, ZH, null, 'zh-accept-language');
  });

scenario('every page in Chinese with ?lang=zh-CN, whatever the browser asks',
  async (stack, page) => {
    await page.setExtraHTTPHeaders({ 'Accept-Language': 'en-US,en;q=0.9' });
    await everyPage(stack, page, ZH, 'zh-CN', 'zh-param');
  });

scenario('?lang=en overrides a browser that asks for Chinese',
  async (stack, page) => {
    await page.setExtraHTTPHeaders({ 'Accept-Language': 'zh-CN' });
    await everyPage(stack, page, EN, 'en', 'en-param');
  });
