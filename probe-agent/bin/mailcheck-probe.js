#!/usr/bin/env node
// Runs the probe agent. When `npm run build -w mailcheck-probe` has made probe-agent/dist/mailcheck-probe.mjs
// and no source file is newer, that bundle runs (start-up ~0.1 s); otherwise the TypeScript runs straight
// from source through tsx, like the root bin/mailcheck-edge.js (start-up ~0.5 s), so `npx mailcheck-probe`
// works right after `npm install` and never runs stale code. The code is in probe-agent/src/cli/.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const bundle = here('../dist/mailcheck-probe.mjs');

/** Newest modification time under a folder (the sources the bundle was built from). */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

function bundleIsFresh() {
  if (!existsSync(bundle)) return false;
  const built = statSync(bundle).mtimeMs;
  const lock = here('../../package-lock.json');
  if (existsSync(lock) && statSync(lock).mtimeMs > built) return false; // dependencies changed
  return [here('../src'), here('../../src')].every((dir) => !existsSync(dir) || newest(dir) <= built);
}

if (bundleIsFresh()) {
  await import(bundle);
} else {
  const { register } = await import('tsx/esm/api');
  const tsconfig = here('../../tsconfig.json');
  register({ tsconfig: existsSync(tsconfig) ? tsconfig : false });
  await import('../src/cli/main.ts');
}
