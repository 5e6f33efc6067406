import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowSpec } from '../../core/workflow.js';
import { HttpFixture } from '../../test/helpers/http-fixture.js';
import { chain } from '../../test/helpers/workflows.js';
import { BrowserPool } from '../browser-pool.js';
import { RunAborted } from '../engine/errors.js';
import { runWorkflow } from '../engine/runner.js';

const site = new HttpFixture();
const browsers = new BrowserPool();

const FORM = `<!doctype html><html><body>
<form id="f" method="post" action="/submitted">
  <label>Name <input name="name" id="name"></label>
  <label>Email <input name="email" id="email"></label>
  <button type="submit">Send</button>
</form>
<ul><li class="item">alpha</li><li class="item">beta</li><li class="item">gamma</li></ul>
<button id="late" onclick="setTimeout(() => document.body.insertAdjacentHTML('beforeend', '<p id=done>ready</p>'), 200)">Later</button>
</body></html>`;

beforeAll(async () => {
  await site.start();
  site.page('/form', FORM);
});
afterAll(async () => {
  await browsers.close();
  await site.stop();
});

const run = (wf: WorkflowSpec, variables: Record<string, unknown> = {}, signal = new AbortController().signal) =>
  runWorkflow(wf, { jobId: `b-${Math.random()}`, variables, signal, services: browsers });

describe('browser nodes on Chromium', () => {
  it('fills and submits a form, then extracts the result text', async () => {
    // The server echoes the posted form; the page it returns is what the workflow reads.
    site.page('/submitted', '<h1 id="result">Order received</h1>');
    const r = await run(
      chain([
        { id: 'open', type: 'browser.open', params: { url: `${site.url}/form` } },
        { id: 'name', type: 'browser.fill', params: { selector: '#name', value: '{{ who }}' } },
        { id: 'email', type: 'browser.fill', params: { selector: 'input[name=email]', value: 'ada@example.test' } },
        { id: 'send', type: 'browser.click', params: { selector: 'button[type=submit]' } },
        { id: 'wait', type: 'browser.waitFor', params: { selector: '#result' } },
        { id: 'read', type: 'browser.extractText', params: { selector: '#result', saveAs: 'result' } },
        { id: 'close', type: 'browser.close' },
      ]),
      { who: 'Ada Lovelace' },
    );
    expect(r.error).toBeUndefined();
    expect(r.status).toBe('succeeded');
    expect(r.variables.result).toBe('Order received');
    expect(site.bodies.get('/submitted')).toEqual(['name=Ada+Lovelace&email=ada%40example.test']);
  });

  it('extracts all matches, waits for late content and takes a screenshot', async () => {
    const r = await run(
      chain([
        { id: 'open', type: 'browser.open', params: { url: `${site.url}/form` } },
        { id: 'items', type: 'browser.extractText', params: { selector: '.item', all: true, saveAs: 'items' } },
        { id: 'later', type: 'browser.click', params: { selector: 'text=Later' } },
        { id: 'wait', type: 'browser.waitFor', params: { selector: '#done' } },
        { id: 'shot', type: 'browser.screenshot', params: { saveAs: 'png' } },
      ]),
    );
    expect(r.status).toBe('succeeded');
    expect(r.variables.items).toEqual(['alpha', 'beta', 'gamma']);
    const png = await readFile(String(r.variables.png));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });

  it('fails a waitFor that never matches within the node timeout', async () => {
    const r = await run(
      chain([
        { id: 'open', type: 'browser.open', params: { url: `${site.url}/form` } },
        { id: 'wait', type: 'browser.waitFor', params: { selector: '#never' }, timeoutMs: 300 },
      ]),
    );
    expect(r.status).toBe('failed');
    expect(r.error?.nodeId).toBe('wait');
  });

  it('stops a pending browser action within a second of cancellation', async () => {
    const controller = new AbortController();
    const wf = chain([
      { id: 'open', type: 'browser.open', params: { url: `${site.url}/form` } },
      { id: 'wait', type: 'browser.waitFor', params: { selector: '#never' }, timeoutMs: 60_000 },
    ]);
    let cancelledAt = 0;
    const done = run(wf, {}, controller.signal);
    // Give Chromium time to open the page and start waiting.
    await new Promise((r) => setTimeout(r, 1_500));
    cancelledAt = performance.now();
    controller.abort(new RunAborted('cancelled', 'stop now'));
    const r = await done;
    expect(r.status).toBe('cancelled');
    expect(performance.now() - cancelledAt).toBeLessThan(1_000);
  });
});
