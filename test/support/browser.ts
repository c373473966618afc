/**
 * Debian's chromium driven by playwright-core (a real browser, not a DOM emulation), for tests that check pages in a real browser.
 * Missing chromium is a failure with the command that installs it, never a silent skip: CI installs it.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Launches headless chromium. The background-networking flags matter here: without them chromium keeps
 * trying to reach Google services (component updates, sync, field trials, QUIC probes), which on a machine
 * without Internet access floods the network and slows the test down.
 */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `${CHROMIUM_PATH} is missing: the Swagger UI test needs Debian's chromium; install it with ` +
        `"sudo apt-get install -y chromium" (.ci/run installs it in CI) and run the tests again.`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // /dev/shm is small in containers; chromium then crashes on larger pages.
      '--disable-dev-shm-usage',
      ...extraArgs,
    ],
  });
}
