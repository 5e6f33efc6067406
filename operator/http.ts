import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** A tiny HTTP server for probes and metrics: the operator needs no framework for three paths. */
export class SmallServer {
  private server: Server | undefined;

  constructor(private readonly routes: Record<string, Route>) {}

  /** Port 0 picks a free port; resolves to the bound one. */
  async listen(port: number, host: string): Promise<number> {
    const server = createServer((req, res) => {
      const route = this.routes[req.url?.split('?')[0] ?? ''];
      if (!route) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      Promise.resolve(route(req, res)).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`${String(err)}\n`);
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, resolve);
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }
}

export function metricsRoute(registry: Registry): Route {
  return async (_req, res) => {
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType }).end(body);
  };
}

/** A probe: 200 "ok" when every check passes, else 503 listing the failed ones, as the kubelet and humans both read it. */
export function probeRoute(checks: Record<string, () => boolean | Promise<boolean>>): Route {
  return async (_req, res) => {
    const failed: string[] = [];
    for (const [name, check] of Object.entries(checks)) {
      const ok = await Promise.resolve()
        .then(check)
        .catch(() => false);
      if (!ok) failed.push(name);
    }
    if (failed.length === 0) res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    else res.writeHead(503, { 'content-type': 'text/plain' }).end(`failed: ${failed.join(', ')}\n`);
  };
}
