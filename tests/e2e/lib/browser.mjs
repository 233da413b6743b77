// Headless Chromium for the dashboard tests: Debian's `chromium` package driven by
// playwright-core (no browser download), on a fresh profile directory per launch.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { poll, repoRoot } from './stack.mjs';

const kChromium = process.env.GENX_CHROMIUM || '/usr/bin/chromium';
const kArtifacts = process.env.GENX_TEST_ARTIFACTS || path.join(repoRoot, 'build', 'test-artifacts');
const profiles = new WeakMap();

// A persistent context (playwright-core sets --user-data-dir from the profile directory).
export async function launchChromium({ viewport = { width: 1440, height: 1000 } } = {}) {
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'genx-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: kChromium,
    headless: true,
    viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  profiles.set(context, profileDir);
  return context;
}

// Closes the browser and removes its profile directory; a no-op for undefined.
export async function closeChromium(context) {
  if (!context) return;
  await context.close();
  fs.rmSync(profiles.get(context), { recursive: true, force: true });
}

// Keeps a full-page screenshot in build/test-artifacts/NAME for a person to look at.
export async function saveScreenshot(page, name) {
  fs.mkdirSync(kArtifacts, { recursive: true });
  await page.screenshot({ path: path.join(kArtifacts, name), fullPage: true });
}

// Collects every 'securitypolicyviolation' event of the page (from the next navigation
// on) in page.violations, as "directive refused what on <element#id> at file:line
// sample" (what: the blocked URL, or "inline").
export async function watchCsp(page) {
  page.violations = [];
  await page.exposeBinding('genxCspViolation', (_source, v) => { page.violations.push(v); });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const on = e.target instanceof Element ? ` on <${e.target.localName}${e.target.id ? `#${e.target.id}` : ''}>` : '';
      window.genxCspViolation(`${e.effectiveDirective} refused ${e.blockedURI || 'inline'}${on} at ${e.sourceFile}:${e.lineNumber} ${e.sample}`);
    });
  });
}

// No CSP violation so far on a page watched by watchCsp(). The proof that one would have
// been seen: an inline style attribute added as a probe must be reported (after every
// earlier violation) and not applied. Chromium also logs the probe's refusal on the
// console: withoutProbe(consoleErrors) takes that one message out.
export async function expectNoCspViolation(page) {
  await page.evaluate(() => {
    const probe = document.createElement('span');
    probe.id = 'csp-probe';
    document.body.append(probe); // connected first: the violation's target is the probe
    probe.setAttribute('style', 'color: rgb(255, 0, 0)');
  });
  // Chromium reports an inline style attribute as style-src-attr, blockedURI "inline".
  const isProbe = (v) => /^style-src(-attr)? refused inline on <span#csp-probe> /.test(v);
  await poll(() => page.violations.some(isProbe), { what: `the CSP violation of the probe (seen: ${JSON.stringify(page.violations)})` });
  assert.deepEqual(page.violations.slice(0, page.violations.findIndex(isProbe)), [], 'no CSP violation');
  assert.notEqual(await page.locator('#csp-probe').evaluate((el) => getComputedStyle(el).color), 'rgb(255, 0, 0)',
    'the refused inline style is not applied');
  await page.evaluate(() => document.getElementById('csp-probe').remove());
}

// The console errors of a page without the one message of expectNoCspViolation's probe
// ("Applying inline style violates the following Content Security Policy directive ...").
export function withoutProbe(consoleErrors) {
  const i = consoleErrors.findIndex((e) => /inline style violates the following Content Security Policy/.test(e));
  return i < 0 ? consoleErrors : [...consoleErrors.slice(0, i), ...consoleErrors.slice(i + 1)];
}
