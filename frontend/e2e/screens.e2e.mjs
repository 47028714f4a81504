// Every main screen, signed in as an admin: its h1, a screenshot in light and
// in dark (prefers-color-scheme emulated; the app follows the system by
// default) under tests/out/screenshots/, no serious or critical axe-core
// violation in either scheme, and no uncaught page error. Then a phone
// width: the navbar collapses behind the burger and nothing overflows
// horizontally.
import { after, before, test as nodeTest } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { ADMIN, assertAccessible, heading, launch, newPage, shotOnFailure, screenshot, settled, uiLogin } from './lib.mjs';

/** A test that leaves a screenshot of the page when it fails. */
const test = (name, fn) => nodeTest(name, () => shotOnFailure(() => page, name, fn));

export const SCREENS = [
  { name: 'dashboard', path: '/', title: 'Dashboard' },
  { name: 'certificates', path: '/certificates', title: 'Certificates' },
  { name: 'cas', path: '/cas', title: 'Certificate authorities' },
  { name: 'csrs', path: '/csrs', title: 'Certificate signing requests' },
  { name: 'templates', path: '/templates', title: 'Templates' },
  { name: 'users', path: '/users', title: 'Users' },
  { name: 'roles', path: '/roles', title: 'Roles' },
  { name: 'audit', path: '/audit', title: 'Audit log' },
  { name: 'settings', path: '/settings', title: 'Settings' },
  { name: 'account', path: '/account', title: 'Account' },
  { name: 'tools', path: '/tools', title: 'Tools' },
];

let browser;
let page;
before(async () => {
  browser = await launch();
  page = await newPage(browser.context);
  await uiLogin(page, ADMIN.username, ADMIN.password);
});
after(async () => {
  await browser?.close();
});

test('the login screen in light and dark: screenshots and no serious axe violation', async () => {
  const b = await launch();
  try {
    const p = await newPage(b.context);
    for (const scheme of ['light', 'dark']) {
      await p.emulateMedia({ colorScheme: scheme });
      await p.goto('/login');
      await heading(p, 'Sign in to certward');
      assert.equal(await p.evaluate(() => document.documentElement.getAttribute('data-mantine-color-scheme')), scheme);
      const file = await screenshot(p, 'login', scheme);
      assert.ok(statSync(file).size > 1000);
      await assertAccessible(p, `login (${scheme})`);
    }
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

for (const s of SCREENS) {
  test(`${s.name}: light and dark screenshots, no serious axe violation`, async () => {
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.goto(s.path);
      await heading(page, s.title);
      await settled(page);
      assert.equal(await page.evaluate(() => document.documentElement.getAttribute('data-mantine-color-scheme')), scheme,
        `${s.name}: the app follows the system color scheme`);
      assert.equal(await page.title().then((t) => t.startsWith(s.title)), true, `${s.name}: document title "${await page.title()}"`);
      const file = await screenshot(page, s.name, scheme);
      assert.ok(existsSync(file) && statSync(file).size > 1000, file);
      await assertAccessible(page, `${s.name} (${scheme})`);
    }
    assert.deepEqual(browser.errors, [], 'uncaught errors in the page');
  });
}

test('the theme toggle switches the scheme and is remembered across a reload', async () => {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto('/tools');
  await heading(page, 'Tools');
  const scheme = () => page.evaluate(() => document.documentElement.getAttribute('data-mantine-color-scheme'));
  assert.equal(await scheme(), 'light');
  await page.getByRole('banner').getByRole('button', { name: 'Switch to dark theme' }).click();
  await page.waitForFunction(() => document.documentElement.getAttribute('data-mantine-color-scheme') === 'dark');
  await page.reload();
  await heading(page, 'Tools');
  assert.equal(await scheme(), 'dark');
  // back to following the system for the other tests
  await page.evaluate(() => {
    for (const k of Object.keys(localStorage)) if (/color-scheme/i.test(k)) localStorage.removeItem(k);
  });
});

test('phone width: the navbar collapses behind the burger, no horizontal overflow', async () => {
  const b = await launch();
  try {
    const p = await b.context.newPage();
    await p.setViewportSize({ width: 375, height: 740 });
    await uiLogin(p, ADMIN.username, ADMIN.password);
    for (const s of [SCREENS[0], SCREENS[1], SCREENS[7]]) {
      await p.goto(s.path);
      await heading(p, s.title);
      await settled(p);
      const nav = p.getByRole('navigation', { name: 'Main navigation' });
      const burger = p.getByRole('button', { name: 'Open navigation' });
      await burger.waitFor();
      // the collapsed navbar is moved out of the viewport
      const onScreen = () => nav.evaluate((el) => {
        const r = el.getBoundingClientRect();
        return r.right > 0 && r.left < window.innerWidth && r.width > 0;
      });
      assert.equal(await onScreen(), false, `${s.name}: the navbar is collapsed at phone width`);
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${s.name}: the page is ${overflow}px wider than the phone`);
      await screenshot(p, `phone-${s.name}`, 'light');
      await burger.click();
      await p.getByRole('button', { name: 'Close navigation' }).waitFor();
      await p.waitForFunction((el) => el.getBoundingClientRect().left >= 0, await nav.elementHandle());
      assert.equal(await onScreen(), true, `${s.name}: the burger opens the navbar`);
      await screenshot(p, `phone-${s.name}-menu`, 'light');
      // following a link closes it again
      await nav.getByRole('link', { name: 'Tools', exact: true }).click();
      await heading(p, 'Tools');
      await p.waitForFunction((el) => el.getBoundingClientRect().right <= 0, await nav.elementHandle());
      await p.getByRole('button', { name: 'Open navigation' }).waitFor();
    }
    await assertAccessible(p, 'phone width (Tools)');
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});
