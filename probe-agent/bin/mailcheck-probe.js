#!/usr/bin/env node
// Runs the probe agent. When `npm run build -w mailcheck-probe` has made probe-agent/dist/mailcheck-probe.mjs
// and none of the files it was built from is newer, that bundle runs (start-up ~0.1 s); otherwise the TypeScript runs straight
// from source through tsx, like the root bin/mailcheck-edge.js (start-up ~0.5 s), so `npx mailcheck-probe`
// works right after `npm install` and never runs stale code. The code is in probe-agent/src/cli/.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const bundle = here('../dist/mailcheck-probe.mjs');

/**
 * The bundle is fresh when none of the files it was built from (esbuild's metafile lists them,
 * relative to probe-agent/) changed since, nor the lockfile. Only those files: an edit elsewhere in
 * the repository (the Worker's UI, say) does not send the agent back to tsx.
 */
function bundleIsFresh() {
  const meta = here('../dist/meta.json');
  if (!existsSync(bundle) || !existsSync(meta)) return false;
  const built = statSync(bundle).mtimeMs;
  const lock = here('../../package-lock.json');
  if (existsSync(lock) && statSync(lock).mtimeMs > built) return false; // dependencies changed
  try {
    const inputs = Object.keys(JSON.parse(readFileSync(meta, 'utf8')).inputs);
    return inputs.every((input) => statSync(here(`../${input}`)).mtimeMs <= built);
  } catch {
    return false; // an input is gone (renamed, deleted): rebuild or run from source
  }
}

if (bundleIsFresh()) {
  await import(bundle);
} else {
  const { register } = await import('tsx/esm/api');
  const tsconfig = here('../../tsconfig.json');
  register({ tsconfig: existsSync(tsconfig) ? tsconfig : false });
  await import('../src/cli/main.ts');
}
