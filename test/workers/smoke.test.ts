import { env } from 'cloudflare:test';
import { it, expect } from 'vitest';
it('has bindings', async () => {
  await env.RAW_REPORTS.put('x', 'y');
  expect(await (await env.RAW_REPORTS.get('x'))!.text()).toBe('y');
});
