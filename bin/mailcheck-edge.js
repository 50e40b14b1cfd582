#!/usr/bin/env node
// Runs the TypeScript CLI straight from source: tsx compiles it on the fly, so `npx mailcheck-edge`
// works right after `npm install`, with no build step. The code is in src/cli/ (docs/cli.md).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// Our own tsconfig, not whatever project the command happens to be run from.
const tsconfig = fileURLToPath(new URL('../tsconfig.json', import.meta.url));
register({ tsconfig: existsSync(tsconfig) ? tsconfig : false });
await import('../src/cli/main.ts');
