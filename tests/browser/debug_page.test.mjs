// The live page /debug/gofer in a real browser: Debian's chromium, driven
// headless by playwright-core, loads the page, sees it update, and — after a
// request made from here — finds that request's journey drawn; then, while
// load made from here runs and after it stops, sees every chart gain points
// (read from the charts' own data) and the moments the load started and
// stopped marked, and saves a screenshot of the charts.
//
//   GOFER_BIN=build/release/apps/gofer/gofer node --test tests/browser/debug_page.test.mjs
//
// Environment: GOFER_BIN the gofer binary (default: the release build's),
// CHROMIUM the browser (default /usr/bin/chromium), GOFER_ARTIFACT_DIR where
// the screenshot goes (default: the working directory; CTest runs this in
// build/<preset>/src/debug). Bounded: everything is given up after 90 s.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const GOFER = process.env.GOFER_BIN || path.resolve(here, '../../build/release/apps/gofer/gofer');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = process.env.GOFER_ARTIFACT_DIR || process.cwd();
const OVERALL_MS = 90_000;

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
// The promise's value, or null after ms (the timer does not outlive the race).
function within(promise, ms) {
  let timer;
  const expired = new Promise(resolve => { timer = setTimeout(() => resolve(null), ms); });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

// A port that was free a moment ago: bind 0, read it, close.
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// One GET on a connection of its own (no keep-alive, so that nothing stays open).
function get(url, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { Connection: 'close' }, timeout: timeoutMs }, res => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', chunk => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

// The server, with its output kept (the last 64 KiB) for the failure message.
// --explain turns tracing on from the start: journeys are assembled from the
// runtime's trace, and /debug/gofer/journeys only has some while tracing is
// on (otherwise the page offers a 5 s recording instead). --explain also
// prints each journey on stdout, which is drained here so the pipe never fills.
function startServer(port) {
  const child = spawn(GOFER, ['serve', '--addr', `127.0.0.1:${port}`, '--explain', '--procs', '2', '--grace', '2'],
                      { stdio: ['ignore', 'pipe', 'pipe'] });
  const server = { child, output: '', exited: null };
  const keep = chunk => { server.output = (server.output + chunk).slice(-65536); };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  server.exitedPromise = new Promise(resolve => child.on('exit', (code, signal) => {
    server.exited = { code, signal };
    resolve(server.exited);
  }));
  child.on('error', err => { server.exited = { error: err.message }; });
  return server;
}

// Starts gofer on a free port and waits until it answers (up to 10 s); a
// port taken between freePort() and the server's listen is tried again.
async function startAnsweringServer() {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const server = startServer(port);
    server.base = `http://127.0.0.1:${port}`;
    const until = Date.now() + 10_000;
    while (Date.now() < until && !server.exited) {
      try {
        // The page's own polling endpoint: the page hides those journeys, so
        // waiting here cannot be mistaken for the request under test.
        const r = await get(`${server.base}/debug/gofer/journeys`, 1000);
        if (r.status === 200) {
          assert.equal(JSON.parse(r.body).tracing, true, 'tracing should be on (gofer serve --explain)');
          return server;
        }
      } catch (e) {
        if (e instanceof assert.AssertionError) {
          await stopServer(server);
          e.message += `\n--- gofer's output ---\n${server.output.slice(-4000)}`;
          throw e;
        }
      }
      await sleep(100);
    }
    await stopServer(server);
    if (attempt < 3 && /listen/.test(server.output)) continue;  // the port was taken meanwhile
    throw new Error(`gofer did not answer on ${server.base} in 10 s (${JSON.stringify(server.exited)}):\n${server.output}`);
  }
}

// SIGTERM (graceful shutdown), SIGKILL after 5 s; always by the child's PID.
async function stopServer(server) {
  if (!server || server.exited || server.child.pid === undefined) return;
  try { process.kill(server.child.pid, 'SIGTERM'); } catch { return; }
  const done = await within(server.exitedPromise, 5000);
  if (!done) {
    try { process.kill(server.child.pid, 'SIGKILL'); } catch { /* gone */ }
    await within(server.exitedPromise, 2000);
  }
}

// Load on the server: GET /hello on 8 keep-alive connections, one request
// after the other on each, until stop() (or 15 s, or 200,000 requests).
function startLoad(base) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const load = { ok: 0, failed: 0, running: true };
  const until = Date.now() + 15_000;
  const worker = async () => {
    while (load.running && Date.now() < until && load.ok + load.failed < 200_000) {
      await new Promise(resolve => {
        const req = http.get(`${base}/hello`, { agent, timeout: 5000 }, res => {
          res.resume();
          res.on('end', () => { if (res.statusCode === 200) load.ok++; else load.failed++; resolve(); });
          res.on('error', () => { load.failed++; resolve(); });
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', () => { load.failed++; resolve(); });
      });
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  load.stop = async () => {
    load.running = false;
    await Promise.all(workers);
    agent.destroy();
  };
  return load;
}

// Rejects when ms have passed, so that a stuck step cannot hang the run.
function deadline(ms, what) {
  let timer;
  const promise = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done in ${ms / 1000} s`)), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

test('/debug/gofer in chromium: updates live and draws a request\'s journey', { timeout: OVERALL_MS + 15_000 }, async () => {
  let server = null;
  let context = null;
  let page = null;
  const profile = mkdtempSync(path.join(os.tmpdir(), 'gofer-chromium-'));
  // If the process is torn down anyway, the server goes with it.
  const killOnExit = () => { if (server && !server.exited) try { process.kill(server.child.pid, 'SIGKILL'); } catch { /* gone */ } };
  process.on('exit', killOnExit);
  const overall = deadline(OVERALL_MS, 'the browser test');
  try {
    await Promise.race([overall.promise, (async () => {
      server = await startAnsweringServer();
      console.log(`gofer: ${GOFER} serving ${server.base} (pid ${server.child.pid})`);

      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        timeout: 30_000,
        viewport: { width: 1100, height: 900 },
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync',
               '--disable-dev-shm-usage'],
      });
      page = context.pages()[0] ?? await context.newPage();
      const pageErrors = [];
      page.on('pageerror', err => pageErrors.push(err.message));
      page.setDefaultTimeout(10_000);

      const resp = await page.goto(`${server.base}/debug/gofer`, { waitUntil: 'load' });
      assert.equal(resp.status(), 200);
      await page.locator('h1', { hasText: 'Inside this gofer server' }).waitFor();

      // Live: the "updated" time is written after each poll of /debug/gofer/state
      // (once a second); wait for a first one, then for it to change.
      const updated = page.locator('#updated');
      await page.waitForFunction(() => /updated/.test(document.getElementById('updated').textContent));
      const first = await updated.textContent();
      await page.waitForFunction(t => document.getElementById('updated').textContent !== t, first,
                                 { timeout: 5000 });
      console.log(`page updated: "${first.trim()}" -> "${(await updated.textContent()).trim()}"`);
      await page.locator('#totals .card').first().waitFor();
      // The journeys' status is written by its own poll: wait for it too.
      await page.locator('#jstatus', { hasText: 'Tracing is on' }).waitFor();

      // A request of our own, marked so that its journey is told apart
      // (the request line in the trace keeps 24 bytes: "GET /hello?n=123456").
      const marker = `/hello?n=${Math.floor(100000 + Math.random() * 900000)}`;
      const r = await get(server.base + marker);
      assert.equal(r.status, 200, `GET ${marker}`);

      // Its journey drawn in "Last requests" (the page polls the journeys once
      // a second): a summary with the request line, status and an SVG timeline.
      const journey = page.locator('#journeys details.journey').filter({ hasText: `GET ${marker} → 200` });
      await journey.first().waitFor({ timeout: 10_000 });
      const summary = await journey.first().locator('summary span').textContent();
      console.log(`journey drawn: ${summary}`);
      assert.ok(await journey.first().locator('summary svg rect').count() > 0, 'the timeline has no marks');

      // Open it: the steps in words (the page keeps it open across redraws).
      await journey.first().locator('summary').click();
      await page.locator('#journeys details.journey[open] li').first().waitFor({ timeout: 5000 });
      const opened = page.locator('#journeys details.journey[open]');
      assert.match(await opened.first().locator('summary span').textContent(), new RegExp(`GET ${marker.replace('?', '\\?')} `));
      const steps = await opened.first().locator('li').count();
      assert.ok(steps >= 2, `only ${steps} steps in the journey`);
      // The page redraws the journeys once a second and may replace the
      // element between Playwright finding it and scrolling to it: try again.
      for (let attempt = 1; ; attempt++) {
        try {
          await opened.first().scrollIntoViewIfNeeded({ timeout: 2000 });
          break;
        } catch (e) {
          if (attempt >= 5 || !/not attached/.test(e.message)) throw e;
        }
      }

      // ---- the charts: load from here, then quiet -------------------------
      const points = () => page.evaluate(() => window.gofer.history ? window.gofer.history.t.length : 0);
      await page.waitForFunction(() => window.gofer && window.gofer.history && window.gofer.history.t.length >= 1);
      const load = startLoad(server.base);
      try {
        await page.waitForFunction(() => window.gofer.history.events.some(e => e.what === 'load started'),
                                   null, { timeout: 20_000 });
      } finally {
        await load.stop();
      }
      console.log(`load: ${load.ok} requests answered 200, ${load.failed} failed`);
      assert.ok(load.ok > 0 && load.failed === 0, `load: ${load.ok} ok, ${load.failed} failed`);
      await page.waitForFunction(() => window.gofer.history.events.some(e => e.what === 'load stopped'),
                                 null, { timeout: 20_000 });
      // Several more updates after that, one a second.
      const before = await points();
      await page.waitForFunction(n => window.gofer.history.t.length >= n, before + 3, { timeout: 15_000 });

      // Every chart has points, and its series have values (read from the
      // chart's own data: uPlot's [x, ...series] arrays).
      const charts = await page.evaluate(() => Object.entries(window.gofer.charts).map(([id, c]) => ({
        id, x: c.plot.data[0].length, series: c.plot.data.length - 1,
        withValues: c.plot.data.slice(1).filter(s => s.some(v => typeof v === 'number')).length,
        positive: c.plot.data.slice(1).some(s => s.some(v => v > 0)),
        domPoints: Number(c.el.dataset.points),
      })));
      console.log('charts:', JSON.stringify(charts));
      const ids = charts.map(c => c.id).sort();
      assert.deepEqual(ids, ['connections', 'cpu', 'goroutines', 'latency', 'memory', 'pbusy', 'poller', 'requests', 'threads']);
      for (const c of charts) {
        assert.ok(c.x >= 5, `chart ${c.id}: only ${c.x} points`);
        assert.equal(c.domPoints, c.x, `chart ${c.id}: the DOM says ${c.domPoints} points`);
        assert.ok(c.series >= 1 && c.withValues >= 1, `chart ${c.id}: no series with values`);
        assert.ok(c.positive, `chart ${c.id}: nothing above zero`);
      }
      // The P chart has one series per P (--procs 2); the M strip a row per M.
      assert.equal(charts.find(c => c.id === 'pbusy').series, 2);
      assert.ok(Number(await page.locator('#mstrip').getAttribute('data-threads')) >= 2);
      // In words, too: the story line names both moments.
      const story = await page.locator('#story').textContent();
      assert.match(story, /load started at .*load stopped at /, story);
      // The load's requests are in the requests chart: its 2xx series adds
      // up (rate × interval) to at least what was answered here.
      const counted = await page.evaluate(() => {
        const h = window.gofer.history;
        return h.requests['2xx'].reduce((sum, r, i) => sum + Math.round(r * h.dt_s[i]), 0);
      });
      assert.ok(counted >= load.ok, `the series counts ${counted} 2xx requests, the load got ${load.ok}`);

      const charted = path.resolve(ARTIFACTS, 'debug-gofer-charts.png');
      await page.locator('#history').screenshot({ path: charted });
      console.log(`screenshot of the charts: ${charted}`);

      const shot = path.resolve(ARTIFACTS, 'debug-gofer.png');
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`screenshot: ${shot}`);
      assert.deepEqual(pageErrors, [], 'JavaScript errors on the page');
    })()]);
  } catch (e) {
    if (page) {
      const shot = path.resolve(ARTIFACTS, 'debug-gofer-failed.png');
      await within(page.screenshot({ path: shot, fullPage: true }).then(() => console.log(`screenshot of the failure: ${shot}`)),
                   5000).catch(() => {});
    }
    if (server) e.message += `\n--- gofer's output (last part) ---\n${server.output.slice(-4000)}`;
    throw e;
  } finally {
    overall.cancel();
    if (context) await within(context.close().catch(() => {}), 10_000);
    await stopServer(server);
    process.off('exit', killOnExit);
    rmSync(profile, { recursive: true, force: true });
  }
});
