// Account and audit through the screens: a new operator enrols 2FA on the
// Account screen (the secret shown next to the QR code gives the TOTP code),
// gets ten backup codes once, signs out and signs in again with a code; the
// admin then finds those events in the audit log filtered by that user, and
// the audit chain verifies.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, Api, freshTotp, heading, launch, newPage, settled, strongPassword, uiLogin, unique } from './lib.mjs';

let browser;
const user = { username: unique('enrol'), password: strongPassword() };
const used = new Set();
let secret;

before(async () => {
  const admin = await Api.admin();
  await admin.data('POST', '/users', { ...user, role: 'operator' }, 201);
  browser = await launch();
});
after(async () => {
  await browser?.close();
});
// every test starts signed out
beforeEach(async () => {
  await browser.context.clearCookies();
});

test('2FA enrolment on the Account screen: QR code, secret, code, backup codes once', async () => {
  const page = await newPage(browser.context);
  await uiLogin(page, user.username, user.password);
  await page.goto('/account');
  await heading(page, 'Account');
  await page.getByRole('tab', { name: 'Two-factor authentication' }).click();
  await page.waitForURL((u) => u.pathname === '/account/2fa');
  await page.getByRole('button', { name: 'Set up two-factor authentication' }).click();
  await page.getByRole('img', { name: 'QR code of the authenticator secret' }).waitFor();
  secret = (await page.getByTestId('totp-secret').innerText()).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);

  await page.getByLabel('Code from the app').fill(await freshTotp(secret, used));
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByRole('status').filter({ hasText: 'Two-factor authentication is on' }).waitFor();
  const codes = page.getByLabel('Backup codes', { exact: true });
  await codes.waitFor();
  const shown = (await codes.innerText()).split(/\s+/).filter(Boolean);
  assert.equal(shown.length, 10, `backup codes: ${shown.join(' ')}`);

  // the server agrees, and the codes are not shown again after a reload
  const status = await page.evaluate(async () => (await (await fetch('/api/v2/account/2fa')).json()).data);
  assert.equal(status.enabled, true);
  await page.reload();
  await page.getByText('Two-factor authentication is on.', { exact: true }).waitFor();
  await page.getByLabel('Password to turn it off').waitFor();
  assert.equal(await page.getByLabel('Backup codes', { exact: true }).count(), 0);
  await page.close();
  await browser.context.clearCookies();
});

test('sign in again with the password and a TOTP code', async () => {
  const page = await newPage(browser.context);
  await page.goto('/login');
  await uiLogin(page, user.username, user.password, await freshTotp(secret, used));
  await page.getByRole('button', { name: `User menu for ${user.username}` }).waitFor();
  await page.close();
  await browser.context.clearCookies();
});

test('the audit log shows the events of that user and the chain verifies', async () => {
  const page = await newPage(browser.context);
  await uiLogin(page, ADMIN.username, ADMIN.password);
  await page.goto('/audit');
  await heading(page, 'Audit log');
  const filter = page.getByLabel('User', { exact: true });
  await filter.fill(user.username);
  await filter.press('Enter');
  await page.waitForURL((u) => u.searchParams.get('user') === user.username);
  await settled(page);
  const table = page.getByRole('table', { name: 'Audit events' });
  for (const action of ['user.2fa_enroll_start', 'user.2fa_enable', 'auth.login']) {
    await table.getByRole('row').filter({ hasText: action }).first().waitFor();
  }
  const rows = await table.getByRole('row').all();
  // header + at least: two logins, enrol start, enable
  assert.ok(rows.length >= 5, `rows: ${rows.length}`);
  for (const r of rows.slice(1)) assert.match(await r.innerText(), new RegExp(user.username));
  // the filter is in the URL: a reload keeps it
  await page.reload();
  await page.getByRole('table', { name: 'Audit events' }).getByRole('row').filter({ hasText: 'user.2fa_enable' }).waitFor();

  await page.getByRole('button', { name: 'Verify chain' }).click();
  await page.getByRole('status').filter({ hasText: 'The audit chain is intact' }).waitFor();
  await page.close();
});
