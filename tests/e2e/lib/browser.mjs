// Headless Chromium for the dashboard tests: Debian's `chromium` package driven by
// playwright-core (no browser download), on a fresh profile directory per launch.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { repoRoot } from './stack.mjs';

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
