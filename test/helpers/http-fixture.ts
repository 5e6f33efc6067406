import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP server on 127.0.0.1 for workflow side effects: it counts hits per path so a
 * test can prove a node ran once, fails a path N times on request, and serves pages.
 */
export class HttpFixture {
  readonly hits = new Map<string, number>();
  readonly order: string[] = [];
  readonly bodies = new Map<string, unknown[]>();
  private readonly failures = new Map<string, number>();
  private readonly pages = new Map<string, string>();
  private server?: Server;
  url = '';

  failNext(path: string, times: number): void {
    this.failures.set(path, times);
  }

  page(path: string, html: string): void {
    this.pages.set(path, html);
  }

  count(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const path = url.pathname;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    this.hits.set(path, this.count(path) + 1);
    this.order.push(path);
    if (text) this.bodies.set(path, [...(this.bodies.get(path) ?? []), text.startsWith('{') ? JSON.parse(text) : text]);
    const html = this.pages.get(path);
    if (html !== undefined) {
      res.writeHead(200, { 'content-type': 'text/html' }).end(html);
      return;
    }
    const left = this.failures.get(path) ?? 0;
    if (left > 0) {
      this.failures.set(path, left - 1);
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'try again' }));
      return;
    }
    // delayFirstMs slows only the first hit of a path: a crashed run hangs there, its resumption does not.
    const delayFirst = this.count(path) === 1 ? Number(url.searchParams.get('delayFirstMs') ?? 0) : 0;
    const delay = Number(url.searchParams.get('delayMs') ?? 0) || delayFirst;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path, hit: this.count(path), query: Object.fromEntries(url.searchParams) }));
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
