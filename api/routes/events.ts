import type { WebSocket } from '@fastify/websocket';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ServerResponse } from 'node:http';
import { errorBody, type Principal } from '../../core/api.js';
import {
  type EventFilter,
  eventFilter,
  type EventsQuery,
  eventsQuery,
  type LiveMessage,
  matches,
  sseFrame,
} from '../../core/api-events.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { type CloseReason, EVENTS_DEFAULTS, EventHub, type EventsOptions, eventsMetrics, type Subscriber, type Transport } from '../event-hub.js';
import { authorize, bearerToken } from '../auth/plugin.js';

interface Sink {
  encode(m: LiveMessage): string;
  write(frame: string): void;
  /** Bytes handed over but not yet sent to the peer. */
  buffered(): number;
  keepAlive(): void;
  end(reason: CloseReason): void;
}

/**
 * One listening client. Frames go straight to its socket; what the socket has not sent yet is
 * bounded, and a client over the bound is dropped rather than slowing the hub or anyone else.
 */
class LiveClient implements Subscriber {
  /** Live frames held while a resume reads history, so the order stays history-then-live. */
  private backlog: string[] | undefined = [];
  private backlogBytes = 0;
  private closed = false;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    readonly filter: EventFilter,
    readonly transport: Transport,
    private readonly sink: Sink,
    private readonly hub: EventHub,
    private readonly opts: EventsOptions,
    private readonly onClose: (c: LiveClient, reason: CloseReason | 'gone') => void,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  deliver(m: LiveMessage): void {
    if (this.closed) return;
    const frame = this.sink.encode(m);
    if (this.backlog) {
      this.backlog.push(frame);
      this.backlogBytes += Buffer.byteLength(frame);
      if (this.backlogBytes > this.opts.maxBufferedBytes) this.close('slow');
      return;
    }
    this.write(frame);
  }

  /** Replays from `lastEventId` if given, then switches to live delivery. */
  async start(lastEventId: string | undefined, recheck: () => Promise<CloseReason | undefined>): Promise<void> {
    const from = await this.hub.subscribe(this);
    if (this.closed) return this.hub.unsubscribe(this);
    if (lastEventId !== undefined) {
      await this.hub.replay(lastEventId, from, (m) => {
        if (!this.closed && matches(this.filter, m)) this.write(this.sink.encode(m));
      });
    }
    if (this.closed) return;
    this.write(this.sink.encode({ type: 'ready', namespaces: this.filter.namespaces ? [...this.filter.namespaces] : ['*'] }));
    const held = this.backlog ?? [];
    this.backlog = undefined;
    for (const frame of held) this.write(frame);
    this.timers.push(setInterval(() => this.sink.keepAlive(), this.opts.keepAliveMs));
    this.timers.push(
      setInterval(() => {
        void recheck().then((reason) => reason && this.close(reason), () => undefined);
      }, this.opts.keyRecheckMs),
    );
    for (const t of this.timers) t.unref();
  }

  close(reason: CloseReason | 'gone'): void {
    if (this.closed) return;
    this.closed = true;
    this.backlog = undefined;
    for (const t of this.timers) clearInterval(t);
    this.hub.unsubscribe(this);
    if (reason !== 'gone') this.sink.end(reason);
    this.onClose(this, reason);
  }

  private write(frame: string): void {
    if (this.closed) return;
    if (this.sink.buffered() + Buffer.byteLength(frame) > this.opts.maxBufferedBytes) return this.close('slow');
    this.sink.write(frame);
  }
}

const WS_CLOSE: Record<CloseReason, [number, string]> = {
  slow: [1013, 'client too slow: events were piling up'],
  shutdown: [1001, 'server shutting down'],
  unauthorized: [4401, 'the API key is no longer valid'],
  forbidden: [4403, 'the API key may no longer read these events'],
  error: [1011, 'internal error'],
};

function wsSink(socket: WebSocket): Sink {
  return {
    encode: (m) => JSON.stringify(m),
    write: (frame) => socket.send(frame),
    buffered: () => socket.bufferedAmount,
    keepAlive: () => socket.ping(),
    end: (reason) => socket.close(...WS_CLOSE[reason]),
  };
}

function sseSink(res: ServerResponse): Sink {
  return {
    encode: sseFrame,
    write: (frame) => void res.write(frame),
    buffered: () => res.writableLength,
    keepAlive: () => void res.write(': keep-alive\n\n'),
    // A slow client's unsent frames are thrown away with its socket, not flushed to it.
    end: (reason) => (reason === 'slow' ? res.destroy() : res.end()),
  };
}


/** SSE unless the client plainly wants something else: curl's `*\/*` and no Accept at all are fine. */
function acceptsEventStream(accept: string | undefined): boolean {
  return !accept || /text\/event-stream|\*\/\*|text\/\*/.test(accept);
}

/**
 * GET /api/v1/events: job progress and robot presence, live, as a WebSocket (on upgrade) or as
 * Server-Sent Events. Public as far as the global auth hook goes, because a browser's WebSocket
 * cannot send headers: the key is checked here, from the header or `?access_token=`.
 */
export function eventsRoutesWith(overrides: Partial<EventsOptions> = {}): FastifyPluginAsync<{ deps: ApiDeps }> {
  const opts: EventsOptions = { ...EVENTS_DEFAULTS, ...overrides };
  return async (app, { deps }) => {
    const log = deps.logger ?? app.log;
    const hub = new EventHub(deps.redis, deps.settings, opts, log);
    const metrics = eventsMetrics(deps.registry);
    const clients = new Set<LiveClient>();
    const tokens = new WeakMap<FastifyRequest, string>();

    app.addHook('preClose', async () => {
      for (const c of [...clients]) c.close('shutdown');
      hub.close();
    });

    const authenticate = async (req: FastifyRequest<{ Querystring: EventsQuery }>, reply: FastifyReply) => {
      const token = bearerToken(req.headers.authorization) ?? req.query.access_token;
      req.principal = await authorize(deps.keys, token, 'viewer', reply, 'Authorization: Bearer <key>, or ?access_token=<key> for WebSockets');
      // authorize() refused a missing token; the check only narrows the type.
      if (token) tokens.set(req, token);
    };

    const filterFor = (p: Principal, q: EventsQuery): EventFilter => {
      const r = eventFilter(p, q);
      if ('forbidden' in r) throw new ApiError(403, 'forbidden', `key "${p.name}" may not read namespace "${r.forbidden}"`);
      return r.filter;
    };

    /** The key looked up again: a long-lived stream must not outlive its key's revocation. */
    const recheckFor = (token: string, q: EventsQuery) => async (): Promise<CloseReason | undefined> => {
      const p = await deps.keys.lookup(token);
      if (!p) return 'unauthorized';
      return 'forbidden' in eventFilter(p, q) ? 'forbidden' : undefined;
    };

    const attach = (req: FastifyRequest<{ Querystring: EventsQuery }>, transport: Transport, sink: Sink, lastEventId: string | undefined) => {
      const principal = req.principal;
      const token = tokens.get(req);
      if (!principal || !token) throw new Error('events stream without a checked key');
      const client = new LiveClient(filterFor(principal, req.query), transport, sink, hub, opts, (c, reason) => {
        clients.delete(c);
        metrics.subscribers.dec({ transport });
        if (reason === 'slow') metrics.dropped.inc({ transport, reason });
      });
      clients.add(client);
      metrics.subscribers.inc({ transport });
      client.start(lastEventId, recheckFor(token, req.query)).catch((err: unknown) => {
        log.warn({ err }, 'could not start an events subscription');
        client.close('error');
      });
      return client;
    };

    app.withTypeProvider<ZodTypeProvider>().route({
      method: 'GET',
      url: '/events',
      config: { role: 'public' },
      schema: {
        tags: ['events'],
        summary: 'Live job progress and robot presence (WebSocket or Server-Sent Events)',
        description:
          'Upgrade to a WebSocket, or ask for `Accept: text/event-stream`. Every message is a LiveEvent: `ready` once, then `progress` ' +
          '(a robot\'s progress event with its stream id, and the job state on job.started/job.finished) and `presence` (joined, left, changed). ' +
          'SSE frames carry `id:` (the stream id) and honour Last-Event-ID; WebSockets may pass `last_event_id`. A client that does not keep up ' +
          'is dropped: WebSocket close 1013, SSE connection ended. WebSockets closed 4401/4403 when the key is revoked or narrowed.',
        querystring: eventsQuery,
        response: { 400: errorBody, 401: errorBody, 403: errorBody, 406: errorBody },
      },
      onRequest: authenticate,
      // After validation: the namespace filter is a checked value here.
      preHandler: async (req) => {
        if (req.principal) filterFor(req.principal, req.query);
      },
      handler: async (req, reply) => {
        if (!acceptsEventStream(req.headers.accept)) throw new ApiError(406, 'not_acceptable', 'this stream is served as text/event-stream, or as a WebSocket on upgrade');
        const header = req.headers['last-event-id'];
        const lastEventId = typeof header === 'string' && /^\d+-\d+$/.test(header) ? header : req.query.last_event_id;
        void reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          // nginx would otherwise buffer the stream.
          'x-accel-buffering': 'no',
        });
        res.write(`retry: ${opts.sseRetryMs}\n\n`);
        const client = attach(req, 'sse', sseSink(res), lastEventId);
        res.on('close', () => client.close('gone'));
      },
      wsHandler: (socket, req) => {
        const client = attach(req, 'websocket', wsSink(socket), req.query.last_event_id);
        socket.on('close', () => client.close('gone'));
        socket.on('error', (err) => {
          log.warn({ err }, 'events WebSocket failed');
          client.close('gone');
        });
      },
    });
  };
}

export const eventsRoutes = eventsRoutesWith();
