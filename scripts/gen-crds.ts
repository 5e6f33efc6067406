/**
 * Writes crds/*.yaml from the zod schemas of core/ (see core/crd.ts and core/crd-meta.ts).
 *
 *   npx tsx scripts/gen-crds.ts           # (re)write the files; `npm run gen:crds` does this
 *   npx tsx scripts/gen-crds.ts --check   # exit 1 if a file is missing, stale or left over
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CRD_HEADER, generateCrdFiles } from '../core/crd/index.js';
import { celRules, crdDefinitions } from '../core/crd-meta.js';

const crdDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'crds');
const check = process.argv.includes('--check');

const files = generateCrdFiles(crdDefinitions, celRules);
/** Generated files from an earlier run whose CRD no longer exists (found by their header). */
const leftovers = existsSync(crdDir)
  ? readdirSync(crdDir).filter((f) => f.endsWith('.yaml') && !files.has(f) && readFileSync(join(crdDir, f), 'utf8').startsWith(CRD_HEADER))
  : [];

if (check) {
  const stale = [...files].filter(([name, text]) => !existsSync(join(crdDir, name)) || readFileSync(join(crdDir, name), 'utf8') !== text).map(([n]) => n);
  for (const name of [...stale, ...leftovers]) console.error(`crds/${name} is stale: run npm run gen:crds`);
  process.exit(stale.length + leftovers.length > 0 ? 1 : 0);
}

mkdirSync(crdDir, { recursive: true });
for (const [name, text] of files) {
  const path = join(crdDir, name);
  const old = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  if (old === text) continue;
  writeFileSync(path, text);
  console.log(`wrote crds/${name}`);
}
for (const name of leftovers) {
  rmSync(join(crdDir, name));
  console.log(`removed crds/${name}`);
}
