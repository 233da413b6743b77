// The dashboard's load time (bench/fleet.sh): Chromium headless opens the page at URL
// and waits until the counts (the Faulted filter's number) and the first page of rows are
// on screen. Prints "MS | ROWS". playwright-core comes from tests/e2e (npm ci there).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const e2e = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'e2e', 'package.json');
const { chromium } = createRequire(e2e)('playwright-core');

const url = process.argv[2];
const browser = await chromium.launch({
  executablePath: process.env.GENX_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
try {
  const times = [];
  let rows = 0;
  for (let i = 0; i < 3; i += 1) {
    const page = await browser.newPage();
    const started = Date.now();
    await page.goto(url);
    await page.locator('[data-testid="filter-Faulted"] .count').waitFor({ timeout: 60000 });
    await page.locator('[data-testid="charger-row"]').first().waitFor({ timeout: 60000 });
    times.push(Date.now() - started);
    rows = await page.locator('[data-testid="charger-row"]').count();
    await page.close();
  }
  times.sort((a, b) => a - b);
  console.log(`${times[1]} (median of 3) | ${rows}`);
} finally {
  await browser.close();
}
