import type { NodeParams } from '../../core/node-types.js';
import type { NodeHandler } from '../engine/types.js';

export interface HttpResponseValue {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export const http: NodeHandler<NodeParams<'http'>> = {
  type: 'http',
  render: 'all',
  run: async ({ params, signal }) => {
    const headers: Record<string, string> = { ...params.headers };
    let body: string | undefined;
    if (params.body !== undefined && params.method !== 'GET' && params.method !== 'HEAD') {
      if (typeof params.body === 'string') body = params.body;
      else {
        body = JSON.stringify(params.body);
        if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
      }
    }
    const res = await fetch(params.url, { method: params.method, headers, body, signal, redirect: 'follow' });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    let parsed: unknown = text;
    if (type.includes('json') && text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        // A server that mislabels its body still gets its text saved.
      }
    }
    const expected = params.expectStatus;
    const ok = expected === undefined ? res.status < 400 : Array.isArray(expected) ? expected.includes(res.status) : expected === res.status;
    if (!ok) {
      const want = expected === undefined ? 'a status below 400' : JSON.stringify(expected);
      throw new Error(`${params.method} ${params.url} answered ${res.status}, expected ${want}`);
    }
    if (!params.saveAs) return;
    const value: HttpResponseValue = { status: res.status, headers: Object.fromEntries(res.headers), body: parsed };
    return { set: { [params.saveAs]: value } };
  },
};
