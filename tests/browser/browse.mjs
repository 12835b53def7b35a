// One browser session, step by step: Debian's chromium driven by playwright-core. The steps come
// as JSON on stdin; what the browser saw after each step goes as JSON to stdout, for the pytest
// tests (tests/browser_session.py) to assert on.
//
//   {"screenshots": DIR, "hostMap": {"name": "address"}, "trustedKeys": [SPKI SHA-256, base64], "steps": [
//     {"goto": URL}, {"fill": SELECTOR, "value": TEXT}, {"click": SELECTOR},
//     {"screenshot": NAME}, {"reload": true}, {"headers": {NAME: VALUE}} (sent from then on)]}
// A step with "cookies": true also returns the browser's cookies (name, domain, httpOnly,
// secure, sameSite...).
//
// After each step: {"url", "status" (of the last document answer, or null), "title", "text"
// (the page's visible text, at most 20000 characters)}. A fresh profile each run: no cookie
// outlives it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const request = JSON.parse(readFileSync(0, 'utf8'));
const profile = mkdtempSync(path.join(tmpdir(), 'authproxy-chromium-'));
const args = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  // Without these chromium hangs on a network that reaches nothing outside.
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const rules = Object.entries(request.hostMap ?? {}).map(([name, address]) => `MAP ${name} ${address}`);
if (rules.length) args.push(`--host-resolver-rules=${rules.join(', ')}`);
// The certificates of these keys only (a test provider's, whose CA the browser does not know).
const keys = request.trustedKeys ?? [];
if (keys.length) args.push(`--ignore-certificate-errors-spki-list=${keys.join(',')}`);

// launchPersistentContext: the fresh --user-data-dir is ours, not one playwright makes.
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args,
  timeout: 60_000,
});
const results = [];
let status = null;
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20_000);
  page.on('response', (response) => {
    if (response.request().isNavigationRequest() && response.request().frame() === page.mainFrame()) {
      status = response.status();
    }
  });
  for (const step of request.steps) {
    if (step.goto) await page.goto(step.goto, { waitUntil: 'load' });
    else if (step.reload) await page.reload({ waitUntil: 'load' });
    else if (step.fill) await page.fill(step.fill, step.value);
    else if (step.headers) await page.setExtraHTTPHeaders(step.headers);
    else if (step.click) {
      // A click that submits a form or follows a link: wait for the page it leads to.
      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(step.click)]);
    } else if (step.screenshot) {
      await page.screenshot({ path: path.join(request.screenshots, `${step.screenshot}.png`), fullPage: true });
    } else throw new Error(`unknown step ${JSON.stringify(step)}`);
    const text = (await page.locator('body').innerText().catch(() => '')).slice(0, 20000);
    const result = { url: page.url(), status, title: await page.title(), text };
    if (step.cookies) result.cookies = await context.cookies();
    results.push(result);
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(results));
