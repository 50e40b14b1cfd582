#!/usr/bin/env node
// Runs the probe agent's TypeScript straight from source through tsx, like the root bin/mailcheck-edge.js, so
// `npx mailcheck-probe` works right after `npm install`. The code is in probe-agent/src/cli/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

const tsconfig = fileURLToPath(new URL('../../tsconfig.json', import.meta.url));
register({ tsconfig: existsSync(tsconfig) ? tsconfig : false });
await import('../src/cli/main.ts');
