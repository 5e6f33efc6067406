// Child process of bench/remote-memory.ts: opens N WebSocket connections to URL, says hello on
// each (unless --bare) and keeps them idle with heartbeats, so the server's memory per idle
// connection can be measured without the clients' own memory in the same heap.
// Usage: tsx bench/remote-clients.ts URL N TOKEN [--bare]
import { WebSocket } from 'ws';
import { PROTOCOL_VERSION } from '../core/protocol.js';

const [url = '', nArg = '0', token = '', mode] = process.argv.slice(2);
const n = Number(nArg);
const bare = mode === '--bare';
const sockets: WebSocket[] = [];
let ready = 0;

function open(i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, bare ? {} : { headers: { authorization: `Bearer ${token}` } });
    sockets.push(ws);
    ws.once('error', reject);
    ws.once('open', () => {
      if (bare) {
        ready++;
        resolve();
        return;
      }
      const machine = { id: `bench-${i}`, hostname: 'bench', pid: process.pid };
      ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type: 'hello', robot: { namespace: 'default', name: 'fleet' }, machine, os: { platform: 'linux', release: 'bench', arch: 'x64' }, concurrency: 1 }));
    });
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { type?: string; heartbeatMs?: number };
      if (m.type !== 'welcome') return;
      ready++;
      const beat = setInterval(() => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type: 'heartbeat', running: [], draining: false, cpu: { percent: 1, cores: 1 }, memory: { rssBytes: 1, heapUsedBytes: 1, totalBytes: 1, freeBytes: 1 } }));
      }, m.heartbeatMs ?? 5_000);
      ws.once('close', () => clearInterval(beat));
      resolve();
    });
  });
}

// In batches, as a fleet coming online would, not as one SYN flood.
for (let i = 0; i < n; i += 100) await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, k) => open(i + k)));
process.stdout.write(`ready ${ready}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  for (const s of sockets) s.terminate();
  process.exit(0);
});
