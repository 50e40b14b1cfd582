import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/** .github/workflows/ci.yml stays valid and does what .ci/run does, and deploys only tested tags. */
interface Step {
  uses?: string;
  run?: string;
  name?: string;
  with?: Record<string, unknown>;
}
interface Job {
  'runs-on': string;
  needs?: string | string[];
  if?: string;
  container?: { image: string };
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: { push: { branches?: string[]; tags?: string[] }; pull_request: unknown };
  jobs: Record<string, Job>;
}

const workflow = parse(readFileSync('.github/workflows/ci.yml', 'utf8')) as Workflow;
const ciRun = readFileSync('.ci/run', 'utf8');
const commands = (job: Job) => job.steps.flatMap((step) => (step.run ? step.run.split('\n').map((l) => l.trim()).filter(Boolean) : []));

describe('the GitHub Actions workflow', () => {
  it('runs on pushes, pull requests and v* tags, with a test job and a deploy job', () => {
    expect(Object.keys(workflow.jobs).sort()).toEqual(['deploy', 'test']);
    expect(workflow.on.push.tags).toEqual(['v*']);
    expect(workflow.on.push.branches).toEqual(['**']);
    expect(workflow.on).toHaveProperty('pull_request');
  });

  it("tests by running .ci/run itself, whose last command is the README's `npm test`, as root on Debian", () => {
    const test = workflow.jobs.test!;
    expect(test.steps[0]?.uses).toMatch(/^actions\/checkout@/);
    expect(commands(test)).toEqual(['bash .ci/run']);
    const lines = ciRun.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    expect(lines.at(-1)).toBe('npm test');
    expect(lines).toContain('npm ci --no-audit --no-fund');
    // The labs need apt-get and port 25: the job runs in a Debian container as root.
    expect(test.container?.image).toMatch(/^node:20\.\d+-bookworm$/);
    // The same Node as package.json's engines and this machine.
    expect(JSON.parse(readFileSync('package.json', 'utf8')).engines.node).toBe('>=20');
  });

  it('deploys only tags v*, only after the tests pass, migrations before the code', () => {
    const deploy = workflow.jobs.deploy!;
    expect(deploy.needs).toBe('test');
    expect(deploy.if).toContain("startsWith(github.ref, 'refs/tags/v')");
    expect(deploy.env).toEqual({ CLOUDFLARE_API_TOKEN: '${{ secrets.CLOUDFLARE_API_TOKEN }}', CLOUDFLARE_ACCOUNT_ID: '${{ secrets.CLOUDFLARE_ACCOUNT_ID }}' });
    const run = commands(deploy);
    const migrate = run.indexOf('npx wrangler d1 migrations apply DB --remote --env production');
    const ship = run.indexOf('npx wrangler deploy --env production');
    expect(run[0]).toBe('npm ci --no-audit --no-fund');
    expect(migrate).toBeGreaterThan(0);
    expect(ship).toBeGreaterThan(migrate);
    expect(run.filter((c) => c.includes('wrangler deploy'))).toEqual(['npx wrangler deploy --env production']);
  });
});
