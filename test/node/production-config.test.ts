import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** What a deployed Worker gets: wrangler.toml's [vars], not the .dev.vars of `npm start`. */
function deployedVars(): Record<string, string> {
  const toml = readFileSync('wrangler.toml', 'utf8');
  const section = /^\[vars\]\n([\s\S]*?)(?=^\[)/m.exec(toml)?.[1] ?? '';
  const vars: Record<string, string> = {};
  for (const match of section.matchAll(/^([A-Z_]+)\s*=\s*"([^"]*)"/gm)) vars[match[1]!] = match[2]!;
  return vars;
}

describe('the deployed configuration', () => {
  it('runs as production, so the development sign-in is refused', () => {
    expect(deployedVars().ENVIRONMENT).toBe('production');
  });

  it('declares no secret in plain text and opens nothing by default', () => {
    const vars = deployedVars();
    expect(Object.keys(vars)).not.toContain('BOOTSTRAP_ADMIN_TOKEN');
    expect(Object.keys(vars)).not.toContain('INGEST_TOKEN');
    expect(vars.AUTO_ENROL).toBe('false');
    expect(vars.CORS_ORIGIN).toBe('');
  });

  it('keeps .dev.vars out of git', () => {
    expect(readFileSync('.gitignore', 'utf8').split('\n')).toContain('.dev.vars');
  });
});
