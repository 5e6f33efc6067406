import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { DockerfileParser, type Instruction, JSONInstruction, PropertyInstruction, Copy, Add, From } from 'dockerfile-ast';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DOCKERFILES = { operator: 'Dockerfile.operator', robot: 'Dockerfile.robot' } as const;

/** What the rules need to know about the repository; injected so the checker stays pure. */
interface RepoFacts {
  /** Whether a path, relative to the build context (the repo root), exists. */
  exists(path: string): boolean;
  /** The package.json `bin` entry: its command name and its file. */
  bin: { name: string; path: string };
  /** Top-level `rpa` subcommands registered in cli/main.ts. */
  subcommands: ReadonlySet<string>;
  /** Build-context paths that must never be copied into an image (tests, benchmarks, …). */
  notShipped: readonly string[];
  /** Build-context files the final stage must copy (the bin entry, package.json for "type": "module"). */
  runtimeFiles: readonly string[];
}

interface Expectations {
  /** The default subcommand (CMD) the image runs. */
  subcommand: string;
}

const SECRET_NAME = /(TOKEN|PASSWORD|SECRET|KEY)/i;
const INITS = new Set(['tini', 'dumb-init']);

/** Splits a Dockerfile into its stages: each FROM with the instructions up to the next FROM. */
function stagesOf(instructions: Instruction[]): { from: From; body: Instruction[] }[] {
  const stages: { from: From; body: Instruction[] }[] = [];
  for (const ins of instructions) {
    if (ins instanceof From) stages.push({ from: ins, body: [] });
    else stages.at(-1)?.body.push(ins);
  }
  return stages;
}

/** Exec-form arguments of CMD/ENTRYPOINT, or undefined for the shell form. */
function execForm(ins: JSONInstruction): string[] | undefined {
  const json = ins.getJSONStrings();
  return json.length > 0 ? json.map((s) => s.getJSONValue()) : undefined;
}

/** The sources of a COPY/ADD from the build context (all arguments but the destination). */
function contextSources(ins: Copy | Add): string[] | undefined {
  if (ins instanceof Copy && ins.getFromFlag()) return undefined;
  const json = ins.getJSONStrings().map((s) => s.getJSONValue());
  const args = json.length > 0 ? json : ins.getArguments().map((a) => a.getValue());
  return args.slice(0, -1);
}

const norm = (p: string) => posix.normalize(p).replace(/^\.\//, '').replace(/\/$/, '');
/** Whether copying `source` brings `file` along (the file itself or a folder above it). */
const covers = (source: string, file: string) => norm(source) === '.' || norm(file) === norm(source) || norm(file).startsWith(`${norm(source)}/`);

/**
 * The rules every shipped Dockerfile keeps; returns one message per broken rule (empty: all kept).
 * Pure: everything about the repository comes in through `repo`.
 */
export function checkDockerfile(text: string, repo: RepoFacts, want: Expectations): string[] {
  const problems: string[] = [];
  const df = DockerfileParser.parse(text);
  const stages = stagesOf(df.getInstructions());
  const final = stages.at(-1);
  if (!final) return ['no FROM: not a Dockerfile'];
  const stageNames = new Set<string>();

  // Every base image is pinned: a tag other than latest, or a digest; earlier stages by name.
  for (const { from } of stages) {
    const image = from.getImage() ?? '';
    const name = from.getImageName() ?? '';
    if (image.includes('$')) problems.push(`FROM ${image}: a variable cannot be checked for a pinned tag`);
    else if (!stageNames.has(name) && name !== 'scratch') {
      const tag = from.getImageTag();
      if (!from.getImageDigest() && (!tag || tag === 'latest')) problems.push(`FROM ${image}: base image is not pinned (no tag, or latest)`);
    }
    const stage = from.getBuildStage();
    if (stage) stageNames.add(stage);
  }

  // No secret in ENV or ARG values.
  for (const ins of df.getInstructions()) {
    if (!(ins instanceof PropertyInstruction) || !['ENV', 'ARG'].includes(ins.getKeyword())) continue;
    for (const p of ins.getProperties()) {
      if (SECRET_NAME.test(p.getName()) && (p.getValue() ?? '') !== '') problems.push(`${ins.getKeyword()} ${p.getName()}: looks like a secret baked into the image`);
    }
  }

  // COPY/ADD sources from the build context exist, and are runtime code, not tests or benchmarks.
  for (const ins of df.getInstructions()) {
    if (!(ins instanceof Copy || ins instanceof Add)) continue;
    const sources = contextSources(ins);
    if (!sources) continue;
    for (const src of sources) {
      if (/^[a-z]+:\/\//i.test(src)) problems.push(`${ins.getKeyword()} ${src}: fetches from the network at build time; vendor it or COPY from a stage`);
      else if (/[*?[]/.test(src)) problems.push(`${ins.getKeyword()} ${src}: wildcards cannot be checked; name the paths`);
      else if (!repo.exists(norm(src))) problems.push(`${ins.getKeyword()} ${src}: not in the build context`);
      const shipped = repo.notShipped.find((n) => covers(src, n) || covers(n, src));
      if (shipped) problems.push(`${ins.getKeyword()} ${src}: brings ${shipped} into the image`);
    }
  }

  // The final stage runs as a numeric, non-root user.
  const user = final.body.filter((i) => i.getKeyword() === 'USER').at(-1)?.getArgumentsContent()?.trim();
  if (!user) problems.push('final stage has no USER: the container runs as root');
  else {
    const [uid = '', gid] = user.split(':');
    if (!/^\d+$/.test(uid)) problems.push(`USER ${user}: not numeric (Kubernetes runAsNonRoot cannot verify a name)`);
    else if (Number(uid) === 0) problems.push(`USER ${user}: root`);
    if (gid !== undefined && /^\d+$/.test(gid) && Number(gid) === 0) problems.push(`USER ${user}: root group`);
  }

  // The final stage carries the entry point's files.
  const finalSources = final.body.flatMap((i) => (i instanceof Copy || i instanceof Add ? (contextSources(i) ?? []) : []));
  for (const file of repo.runtimeFiles) {
    if (!finalSources.some((src) => covers(src, file))) problems.push(`final stage does not copy ${file}`);
  }

  // ENTRYPOINT + CMD run `rpa <subcommand>` (the bin name, or node and the bin file), exec form.
  const entrypoint = final.body.filter((i): i is JSONInstruction => i.getKeyword() === 'ENTRYPOINT' && i instanceof JSONInstruction).at(-1);
  const cmd = final.body.filter((i): i is JSONInstruction => i.getKeyword() === 'CMD' && i instanceof JSONInstruction).at(-1);
  const epArgs = entrypoint ? execForm(entrypoint) : [];
  const cmdArgs = cmd ? execForm(cmd) : [];
  if (!epArgs || !cmdArgs) {
    problems.push('ENTRYPOINT/CMD in shell form: signals would go to /bin/sh, not to node');
    return problems;
  }
  let argv = [...epArgs, ...cmdArgs];
  if (argv[0] && INITS.has(basename(argv[0]))) {
    const dashes = argv.indexOf('--');
    argv = argv.slice(dashes >= 0 ? dashes + 1 : 1);
  }
  const workdir = final.body.filter((i) => i.getKeyword() === 'WORKDIR').at(-1)?.getArgumentsContent()?.trim() ?? '/';
  const [prog = '', ...rest] = argv;
  let subArgs: string[];
  if (basename(prog) === repo.bin.name) subArgs = rest;
  else if (basename(prog) === 'node' && rest[0] && posix.resolve(workdir, rest[0]) === posix.resolve(workdir, repo.bin.path)) subArgs = rest.slice(1);
  else {
    problems.push(`command ${JSON.stringify(argv)}: neither \`${repo.bin.name}\` nor \`node ${repo.bin.path}\``);
    return problems;
  }
  const sub = subArgs[0];
  if (sub === undefined) problems.push(`command ${JSON.stringify(argv)}: no subcommand`);
  else {
    if (!repo.subcommands.has(sub)) problems.push(`subcommand ${sub}: not registered in cli/main.ts`);
    if (sub !== want.subcommand) problems.push(`runs \`${repo.bin.name} ${sub}\` by default, expected \`${repo.bin.name} ${want.subcommand}\``);
  }
  return problems;
}

/** The top-level subcommands cli/main.ts registers: each `xCommand(program)` it calls, run against a fresh program. */
async function registeredSubcommands(): Promise<Set<string>> {
  const main = readFileSync(join(ROOT, 'cli', 'main.ts'), 'utf8');
  const imports = new Map([...main.matchAll(/import \{ (\w+) \} from '(\.\/commands\/[\w-]+)\.js'/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
  const program = new Command('rpa');
  for (const [, fn] of main.matchAll(/^(\w+Command)\(program\);$/gm)) {
    const file = fn && imports.get(fn);
    if (!fn || !file) throw new Error(`cli/main.ts calls ${fn} but does not import it from ./commands/`);
    const mod: Record<string, unknown> = await import(pathToFileURL(join(ROOT, 'cli', `${file}.ts`)).href);
    const register = mod[fn];
    if (typeof register !== 'function') throw new Error(`${file}.ts does not export ${fn}`);
    register(program);
  }
  return new Set(program.commands.map((c) => c.name()));
}

function packageBin(): { name: string; path: string } {
  const pkg: unknown = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const bin = typeof pkg === 'object' && pkg !== null && 'bin' in pkg ? pkg.bin : undefined;
  const entries = typeof bin === 'object' && bin !== null ? Object.entries(bin) : [];
  const [name, path] = entries[0] ?? [];
  if (typeof name !== 'string' || typeof path !== 'string') throw new Error('package.json has no bin entry');
  return { name, path: norm(path) };
}

function dockerignoreEntries(): string[] {
  return readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

let repo: RepoFacts;
beforeAll(async () => {
  const bin = packageBin();
  repo = {
    exists: (p) => existsSync(join(ROOT, p)),
    bin,
    subcommands: await registeredSubcommands(),
    notShipped: ['test', 'e2e', 'bench', 'node_modules', '.git', '.cache', 'dist'],
    runtimeFiles: ['package.json', bin.path],
  };
});

describe('the shipped Dockerfiles', () => {
  it('cli/main.ts registers operator, api and robot', () => {
    for (const sub of ['operator', 'api', 'robot']) expect(repo.subcommands).toContain(sub);
  });

  for (const [name, file] of Object.entries(DOCKERFILES)) {
    describe(file, () => {
      const text = () => readFileSync(join(ROOT, file), 'utf8');

      it(`keeps every rule and runs \`rpa ${name}\` by default`, () => {
        expect(checkDockerfile(text(), repo, { subcommand: name })).toEqual([]);
      });

      it('is multi-stage, installs production dependencies with npm ci and ships the compiled build', () => {
        const df = DockerfileParser.parse(text());
        expect(df.getFROMs().length).toBeGreaterThan(1);
        const runs = df.getInstructions().filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent() ?? '');
        expect(runs.some((r) => r.includes('npm ci --omit=dev'))).toBe(true);
        expect(runs.some((r) => r.includes('npm run build'))).toBe(true);
      });

      it('copies nothing that .dockerignore leaves out of the build context', () => {
        const ignored = dockerignoreEntries().filter((e) => !/[*?[!]/.test(e));
        const sources = DockerfileParser.parse(text())
          .getInstructions()
          .flatMap((i) => (i instanceof Copy || i instanceof Add ? (contextSources(i) ?? []) : []));
        for (const src of sources) expect(ignored.filter((e) => covers(e, src)), src).toEqual([]);
      });
    });
  }

  it('the operator image serves `rpa api` too, from the same entry point', () => {
    // Same image, other arguments: the chart's API Deployment passes `api --port …` as CMD.
    const operator = readFileSync(join(ROOT, DOCKERFILES.operator), 'utf8').replace(/^CMD .*$/m, 'CMD ["api", "--port", "8080"]');
    expect(checkDockerfile(operator, repo, { subcommand: 'api' })).toEqual([]);
  });

  it('the robot image carries Debian chromium and fonts, and tells robots where chromium is', () => {
    const df = DockerfileParser.parse(readFileSync(join(ROOT, DOCKERFILES.robot), 'utf8'));
    const final = stagesOf(df.getInstructions()).at(-1)?.body ?? [];
    const install = final.filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent() ?? '').join('\n');
    expect(install).toMatch(/apt-get install[^\n]*\bchromium\b/);
    expect(install).toMatch(/\bfonts-liberation\b/);
    const env = new Map(final.flatMap((i) => (i instanceof PropertyInstruction && i.getKeyword() === 'ENV' ? i.getProperties().map((p) => [p.getName(), p.getValue()] as const) : [])));
    expect(env.get('CHROMIUM_PATH')).toBe('/usr/bin/chromium');
  });

  it('.dockerignore keeps node_modules, .git, .cache and the tests out of the build context', () => {
    const entries = dockerignoreEntries();
    for (const e of ['node_modules', '.git', '.cache', 'dist', 'test', 'e2e', 'bench', '**/*.test.ts']) expect(entries).toContain(e);
  });
});

describe('checkDockerfile rejects a Dockerfile that breaks the rules', () => {
  const good = `FROM node:22.23.2-bookworm-slim AS build
WORKDIR /app
COPY package.json ./
FROM node:22.23.2-bookworm-slim
WORKDIR /app
COPY package.json ./
COPY bin ./bin
COPY --from=build /app/node_modules ./node_modules
USER 1000:1000
ENTRYPOINT ["node", "/app/bin/rpa.js"]
CMD ["robot"]
`;
  const check = (text: string, subcommand = 'robot') => checkDockerfile(text, repo, { subcommand });
  const withLine = (from: string, to: string) => {
    if (!good.includes(from)) throw new Error(`fixture has no ${from}`);
    return good.replace(from, to);
  };

  it('accepts the good fixture', () => {
    expect(check(good)).toEqual([]);
  });

  it.each([
    ['no USER', withLine('USER 1000:1000\n', ''), /no USER/],
    ['USER root', withLine('USER 1000:1000', 'USER root'), /not numeric/],
    ['USER 0', withLine('USER 1000:1000', 'USER 0'), /USER 0: root/],
    ['USER 0:0', withLine('USER 1000:1000', 'USER 0:0'), /root group/],
    ['a named user', withLine('USER 1000:1000', 'USER node'), /not numeric/],
    ['root in the final stage after a non-root build stage', `FROM node:22.23.2-bookworm-slim AS b\nUSER 1000\n${withLine('USER 1000:1000\n', '')}`, /no USER/],
  ])('%s', (_name, text, message) => {
    expect(check(text).join('\n')).toMatch(message);
  });

  it.each([
    ['an untagged base image', withLine('FROM node:22.23.2-bookworm-slim\n', 'FROM node\n')],
    ['latest', withLine('FROM node:22.23.2-bookworm-slim AS build', 'FROM node:latest AS build')],
    ['a variable', withLine('FROM node:22.23.2-bookworm-slim AS build', 'ARG BASE=node\nFROM ${BASE} AS build')],
  ])('a base image that is not pinned: %s', (_name, text) => {
    expect(check(text).join('\n')).toMatch(/pinned/);
  });

  it('accepts a digest, and earlier stages by name', () => {
    const digest = withLine('FROM node:22.23.2-bookworm-slim AS build', `FROM node@sha256:${'a'.repeat(64)} AS build`);
    expect(check(digest)).toEqual([]);
    expect(check(`${good}\nFROM build AS again\n${good.split('\n').slice(4).join('\n')}`)).toEqual([]);
  });

  it.each([
    ['ENV API_TOKEN=abc', /ENV API_TOKEN/],
    ['ENV REDIS_PASSWORD hunter2', /ENV REDIS_PASSWORD/],
    ['ARG NPM_SECRET=xyz', /ARG NPM_SECRET/],
    ['ENV AWS_ACCESS_KEY=AKIA0000', /ENV AWS_ACCESS_KEY/],
  ])('a secret in %s', (line, message) => {
    expect(check(withLine('USER 1000:1000', `${line}\nUSER 1000:1000`)).join('\n')).toMatch(message);
  });

  it('allows a secret-looking ARG without a value (a build argument, passed at build time)', () => {
    expect(check(withLine('USER 1000:1000', 'ARG NPM_TOKEN\nUSER 1000:1000'))).toEqual([]);
  });

  it.each([
    ['a missing file', 'COPY no-such-dir ./x', /not in the build context/],
    ['the tests', 'COPY test ./test', /brings test into the image/],
    ['the whole context', 'COPY . .', /brings/],
    ['a URL', 'ADD https://example.com/x.tgz /x', /network/],
    ['a wildcard', 'COPY *.json ./', /wildcards/],
    ['a missing JSON-form source', 'COPY ["nope.txt", "./"]', /nope.txt: not in the build context/],
  ])('COPY/ADD of %s', (_name, line, message) => {
    expect(check(withLine('USER 1000:1000', `${line}\nUSER 1000:1000`)).join('\n')).toMatch(message);
  });

  it('does not look for --from sources in the build context', () => {
    expect(check(withLine('COPY --from=build /app/node_modules', 'COPY --from=build /no/such/path'))).toEqual([]);
  });

  it('requires the entry point and package.json in the final stage', () => {
    expect(check(withLine('COPY bin ./bin\n', '')).join('\n')).toMatch(/does not copy bin\/rpa.js/);
    expect(check(withLine('WORKDIR /app\nCOPY package.json ./\nCOPY bin', 'WORKDIR /app\nCOPY bin')).join('\n')).toMatch(/does not copy package.json/);
  });

  it.each([
    ['another program', 'ENTRYPOINT ["node", "/app/server.js"]', /neither/],
    ['the bin file from another folder', 'ENTRYPOINT ["node", "/srv/bin/rpa.js"]', /neither/],
    ['shell form', 'ENTRYPOINT node /app/bin/rpa.js', /shell form/],
  ])('an entry point that is %s', (_name, line, message) => {
    expect(check(withLine('ENTRYPOINT ["node", "/app/bin/rpa.js"]', line)).join('\n')).toMatch(message);
  });

  it('checks the subcommand is registered and is the one expected', () => {
    expect(check(withLine('CMD ["robot"]', 'CMD ["robots"]')).join('\n')).toMatch(/robots: not registered/);
    expect(check(good, 'operator').join('\n')).toMatch(/expected `rpa operator`/);
    expect(check(withLine('CMD ["robot"]\n', '')).join('\n')).toMatch(/no subcommand/);
  });

  it('accepts `rpa` on PATH, a relative bin path, and an init in front', () => {
    expect(check(withLine('ENTRYPOINT ["node", "/app/bin/rpa.js"]', 'ENTRYPOINT ["rpa"]'))).toEqual([]);
    expect(check(withLine('ENTRYPOINT ["node", "/app/bin/rpa.js"]', 'ENTRYPOINT ["node", "bin/rpa.js"]'))).toEqual([]);
    expect(check(withLine('ENTRYPOINT ["node", "/app/bin/rpa.js"]', 'ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/rpa.js"]'))).toEqual([]);
  });
});
