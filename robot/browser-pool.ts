import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { tmpdir } from 'node:os';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import type { RunServices } from './engine/runner.js';

/** Flags for a headless Chromium with no network of its own besides the pages it is sent to. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome', 'msedge'];

/** CHROMIUM_PATH first, then the usual browser names on PATH (Debian's chromium among them). */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CHROMIUM_PATH) return env.CHROMIUM_PATH;
  const exts = process.platform === 'win32' ? ['.exe'] : [''];
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    for (const name of CANDIDATES) {
      for (const ext of exts) {
        const p = join(dir, name + ext);
        if (dir && existsSync(p)) return p;
      }
    }
  }
  return undefined;
}

export interface BrowserPoolOptions {
  executablePath?: string;
  artifactsDir?: string;
}

/**
 * One Chromium per robot process, launched on first use; one context per job, so jobs never
 * see each other's cookies and closing a job's context cancels whatever it was doing.
 */
export class BrowserPool implements RunServices {
  private browser?: Promise<Browser>;
  private readonly contexts = new Map<string, Promise<{ context: BrowserContext; page: Page }>>();
  private readonly artifactsDir: string;

  constructor(private readonly opts: BrowserPoolOptions = {}) {
    this.artifactsDir = opts.artifactsDir ?? join(tmpdir(), 'rpa-artifacts');
  }

  private launch(): Promise<Browser> {
    if (!this.browser) {
      const executablePath = this.opts.executablePath ?? findChromium();
      if (!executablePath) {
        return Promise.reject(new Error('no Chromium found: install it (Debian: apt-get install chromium) or set CHROMIUM_PATH'));
      }
      this.browser = chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
      this.browser.catch(() => {
        this.browser = undefined;
      });
    }
    return this.browser;
  }

  async page(jobId: string): Promise<Page> {
    let entry = this.contexts.get(jobId);
    if (!entry) {
      entry = (async () => {
        const context = await (await this.launch()).newContext();
        return { context, page: await context.newPage() };
      })();
      this.contexts.set(jobId, entry);
      entry.catch(() => this.contexts.delete(jobId));
    }
    return (await entry).page;
  }

  async closeBrowser(jobId: string): Promise<void> {
    const entry = this.contexts.get(jobId);
    if (!entry) return;
    this.contexts.delete(jobId);
    await (await entry).context.close().catch(() => undefined);
  }

  async artifactPath(jobId: string, name: string): Promise<string> {
    const dir = join(this.artifactsDir, jobId.replace(/[^A-Za-z0-9_.-]/g, '_'));
    await mkdir(dir, { recursive: true });
    return join(dir, name);
  }

  async close(): Promise<void> {
    await Promise.all([...this.contexts.keys()].map((id) => this.closeBrowser(id)));
    const b = this.browser;
    this.browser = undefined;
    if (b) await (await b).close().catch(() => undefined);
  }
}
