// Drives Debian's headless Chromium through playwright-core (no browser download) for
// tests/e2e/test_browser.sh. Serves page.html and page.js from two loopback origins of its own:
// the one the service lists in CORS_ALLOW_ORIGINS runs the whole flow (page.js runFlow), another
// one tries a read that the browser must refuse. Prints one JSON object with what each page saw
// ({origin, allowed, blocked, console}) and exits 0; anything that goes wrong exits 1 with one line.
//
//   BROWSER_TOKEN=<jwt> node browser_flow.mjs --api http://127.0.0.1:PORT --host 127.0.0.2 --port PAGE_PORT
// CHROMIUM overrides /usr/bin/chromium; the whole run is bounded by 60 s.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) =>
  (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const api = args.api, host = args.host || '127.0.0.2', port = Number(args.port || 0);
const token = process.env.BROWSER_TOKEN || '';
if (!api) {
  console.error('usage: BROWSER_TOKEN=... node browser_flow.mjs --api URL [--host H] [--port P]');
  process.exit(2);
}
const deadline = setTimeout(() => { console.error('browser_flow: no result within 60 s'); process.exit(1); }, 60000);

const files = {
  '/page.html': ['text/html; charset=utf-8', await readFile(join(here, 'page.html'))],
  '/page.js': ['text/javascript; charset=utf-8', await readFile(join(here, 'page.js'))],
};
// A static server for the page on host:port (0: any free port); resolves to its origin.
function serve(listenPort) {
  const server = createServer((req, res) => {
    const file = files[new URL(req.url, 'http://x').pathname];
    if (req.method !== 'GET' || !file) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'Content-Type': file[0], 'Cache-Control': 'no-store' }).end(file[1]);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, host, () => resolve({ server, origin: `http://${host}:${server.address().port}` }));
  });
}

let browser;
const servers = [];
try {
  const allowed = await serve(port), other = await serve(0);
  servers.push(allowed.server, other.server);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--disable-dev-shm-usage'],
  });
  const context = await browser.newContext();
  const consoleLines = [];
  const open = async (origin) => {
    const page = await context.newPage();
    page.on('console', (m) => consoleLines.push(`${origin} ${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => consoleLines.push(`${origin} pageerror: ${e}`));
    await page.goto(`${origin}/page.html`, { waitUntil: 'load' });
    return page;
  };
  const runId = `${process.pid}-${Date.now()}`;
  const page = await open(allowed.origin);
  const steps = await page.evaluate(([a, t, id]) => window.runFlow(a, t, id), [api, token, runId]);
  const blockedPage = await open(other.origin);
  const blocked = await blockedPage.evaluate(([a, t]) => window.tryRead(a, t), [api, token]);
  process.stdout.write(JSON.stringify({ origin: allowed.origin, otherOrigin: other.origin, allowed: steps,
                                        blocked, console: consoleLines }) + '\n');
} catch (e) {
  console.error(`browser_flow: ${String(e).split('\n')[0]}`);
  process.exitCode = 1;
} finally {
  if (browser) await browser.close().catch(() => {});
  for (const s of servers) s.close();
  clearTimeout(deadline);
}
