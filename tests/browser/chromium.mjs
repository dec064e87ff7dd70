// Headless Chromium for the browser tests: Debian's /usr/bin/chromium (or
// $CHROMIUM) driven by playwright-core, with what a test machine needs off
// (sandbox, GPU, QUIC, background networking, updates, sync) and the
// strict CORS rule (a wildcard Access-Control-Allow-Headers does not cover
// Authorization, as the Fetch standard says and browsers are rolling out).

import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--enable-features=CorsNonWildcardRequestHeadersSupport',
    ],
  });
}
