/**
 * Launches Debian's Chromium through playwright-core with the flags of infra.md §7 (headless, no
 * sandbox in containers, nothing phoning home; never `--user-data-dir`: launch() makes a fresh
 * temp profile). Browser tests skip with a clear message only when the binary is missing.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

/** Where Debian installs Chromium (CI installs it too). */
export const CHROMIUM = '/usr/bin/chromium';

/** True when the browser tests can run. */
export const HAVE_CHROMIUM = existsSync(CHROMIUM);

/** Why the browser tests are skipped (shown in the test title and printed once). */
export const SKIP_REASON = `${CHROMIUM} is missing: install it with \`apt-get install -y --no-install-recommends chromium\``;

/** Screenshots go here (test-output/ is gitignored). */
export const SCREENSHOTS = fileURLToPath(new URL('../../../test-output/screenshots/', import.meta.url));

/** Starts a headless Chromium. */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    timeout: 30_000,
  });
}

if (!HAVE_CHROMIUM) console.warn(`browser tests skipped: ${SKIP_REASON}`);
