import { describe, expect, it } from 'vitest';
import * as entry from '../../src/index';

describe('the Worker entry module', () => {
  it('exports only handlers and Durable Object classes (workerd refuses to start otherwise)', () => {
    for (const [name, value] of Object.entries(entry)) {
      if (name === 'default') expect(Object.keys(value as object).sort()).toEqual(['email', 'fetch', 'queue', 'scheduled']);
      else expect(typeof value, name).toBe('function');
    }
  });
});
