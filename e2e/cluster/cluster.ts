/**
 * Picks the Kubernetes cluster the e2e suite runs against, in this order:
 *
 * 1. `E2E_KUBECONFIG`: an existing cluster (kind, a real one...). Nothing is
 *    started, and `stop()` leaves it alone.
 * 2. A k3s container through `@testcontainers/k3s`, when a Docker engine answers
 *    (`docker info` exits 0) and that package is installed. It is NOT a
 *    dependency of this project (there is no Docker engine where CI runs); a
 *    user with Docker who wants real kubelets, so that robot pods really run,
 *    installs it with `npm install --no-save @testcontainers/k3s`. Without the
 *    package this branch says so on stderr and falls through.
 * 3. The local control plane of `cluster.sh up` (etcd, kube-apiserver,
 *    kube-controller-manager, kube-scheduler on 127.0.0.1, built from source the
 *    first time: see README.md). Pods are created but never run: no kubelet.
 *
 * `E2E_CLUSTER=local` skips the Docker probe and goes straight to 3.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ClusterKind = 'existing' | 'k3s' | 'local';

export interface Cluster {
  /** Absolute path of a kubeconfig whose current context is the cluster's admin. */
  kubeconfig: string;
  /** The cluster's state dir (for `existing`, the kubeconfig's folder). */
  dir: string;
  /** Which of the three branches gave this cluster. */
  kind: ClusterKind;
  /** Stops the cluster and removes its data; a no-op for `existing`. Safe to call twice. */
  stop(): Promise<void>;
  /** Restarts kube-apiserver on the same port and cert (local control plane only). */
  restartApiserver?(): Promise<void>;
}

export interface StartClusterOptions {
  /** Also start kwok (fake nodes that make pods Running); local control plane only. */
  kwok?: boolean;
  /** Extra environment for `cluster.sh up` (CLUSTER_DIR, CLUSTER_START_TIMEOUT, RPA_CACHE_DIR...). */
  env?: Record<string, string>;
}

const here = dirname(fileURLToPath(import.meta.url));
/** Path of the control plane script beside this file. */
export const clusterScript = join(here, 'cluster.sh');

export async function startCluster(options: StartClusterOptions = {}): Promise<Cluster> {
  const existing = process.env.E2E_KUBECONFIG;
  if (existing !== undefined && existing !== '') {
    const kubeconfig = resolve(existing);
    if (!existsSync(kubeconfig)) {
      throw new Error(`E2E_KUBECONFIG=${existing}: no such file`);
    }
    return { kubeconfig, dir: dirname(kubeconfig), kind: 'existing', stop: async () => {} };
  }

  if (process.env.E2E_CLUSTER !== 'local' && dockerAnswers()) {
    const k3s = await startK3sCluster();
    if (k3s !== undefined) return k3s;
  }

  return startLocalCluster(options);
}

// ---------------------------------------------------------------------------
// 2. k3s in Docker (placeholder: works only where @testcontainers/k3s is installed)

/** True when a Docker engine answers `docker info` within 15 s. */
export function dockerAnswers(): boolean {
  const r = spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 15_000 });
  return r.error === undefined && r.status === 0;
}

/** The part of `@testcontainers/k3s` used here (typed locally: the package is not a dependency). */
interface K3sModule {
  K3sContainer: new (image: string) => { start(): Promise<StartedK3s> };
}
interface StartedK3s {
  getKubeConfig(): string;
  stop(): Promise<unknown>;
}

function isK3sModule(m: unknown): m is K3sModule {
  return typeof m === 'object' && m !== null && typeof (m as { K3sContainer?: unknown }).K3sContainer === 'function';
}

/** k3s image for the Docker branch; keep its minor version near the local control plane's. */
export const k3sImage = process.env.E2E_K3S_IMAGE ?? 'rancher/k3s:v1.36.4-k3s1';

async function startK3sCluster(): Promise<Cluster | undefined> {
  // A variable specifier keeps TypeScript and bundlers from resolving the optional package.
  const specifier = '@testcontainers/k3s';
  let mod: unknown;
  try {
    mod = await import(specifier);
  } catch {
    process.stderr.write(
      `[cluster] a Docker engine answers, but ${specifier} is not installed ` +
        `(npm install --no-save ${specifier}); using the local control plane\n`,
    );
    return undefined;
  }
  if (!isK3sModule(mod)) {
    process.stderr.write(`[cluster] ${specifier} has no K3sContainer export; using the local control plane\n`);
    return undefined;
  }
  const container = await new mod.K3sContainer(k3sImage).start();
  const dir = mkdtempSync(join(tmpdir(), 'rpa-k3s-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, container.getKubeConfig(), { mode: 0o600 });
  let stopped = false;
  return {
    kubeconfig,
    dir,
    kind: 'k3s',
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await container.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------
// 3. the local control plane (cluster.sh)

async function startLocalCluster(options: StartClusterOptions): Promise<Cluster> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    // cluster.sh's watchdog tears the cluster down if this process dies without stop().
    CLUSTER_OWNER_PID: String(process.pid),
  };
  if (options.kwok === true) env.CLUSTER_KWOK = '1';

  const { code, stdout } = await run('bash', [clusterScript, 'up'], env);
  const lines = stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const kubeconfig = lines[lines.length - 1];
  if (code !== 0 || kubeconfig === undefined || !kubeconfig.startsWith('/') || !existsSync(kubeconfig)) {
    throw new Error(`${clusterScript} up failed (exit ${code}); its progress and errors are on stderr above`);
  }
  const dir = dirname(kubeconfig);

  // Last resort if stop() is never called: tear down synchronously on exit.
  const onExit = (): void => {
    spawnSync('bash', [clusterScript, 'down', dir], { stdio: 'ignore', timeout: 30_000 });
  };
  process.once('exit', onExit);

  let stopped = false;
  return {
    kubeconfig,
    dir,
    kind: 'local',
    restartApiserver: async () => {
      const r = await run('bash', [clusterScript, 'restart-apiserver', dir], process.env);
      if (r.code !== 0) throw new Error(`${clusterScript} restart-apiserver ${dir} failed (exit ${r.code})`);
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      process.off('exit', onExit);
      const r = await run('bash', [clusterScript, 'down', dir], process.env);
      if (r.code !== 0) throw new Error(`${clusterScript} down ${dir} failed (exit ${r.code})`);
    },
  };
}

/** Runs a command; its stderr goes to ours (build and start progress), its stdout is returned. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolvePromise({ code: code ?? (signal !== null ? 128 : 1), stdout: Buffer.concat(chunks).toString('utf8') });
    });
  });
}
