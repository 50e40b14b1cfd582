import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderRulesDoc, rulesByArea } from '../../src/dns/rules-doc';

describe('docs/rules.md', () => {
  it('is what the rule lists render to (run `npm run docs:rules` after changing a rule)', () => {
    expect(readFileSync('docs/rules.md', 'utf8')).toBe(renderRulesDoc());
  });

  it('gives every rule a unique id in its area, a severity, a title and advice', () => {
    for (const [area, rules] of Object.entries(rulesByArea())) {
      const ids = rules.map((r) => r.id);
      expect(new Set(ids).size, area).toBe(ids.length);
      for (const r of rules) {
        expect(r.id.startsWith(`${area}.`), r.id).toBe(true);
        expect(['error', 'warning', 'info']).toContain(r.severity);
        expect(r.title.length).toBeGreaterThan(5);
        expect(r.advice.length).toBeGreaterThan(20);
      }
    }
  });
});
