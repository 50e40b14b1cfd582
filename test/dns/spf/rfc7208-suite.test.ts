import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { checkHost, type SpfResult } from '../../../src/dns/spf/index.ts';
import { StaticResolver } from '../static-resolver.ts';
import { zoneFromSuite } from './rfc7208-zone.ts';

/**
 * Every test of the openspf RFC 7208 conformance suite (test/fixtures/rfc7208/, as shipped with
 * pyspf), run through checkHost against the scenario's zone data.
 */

interface SuiteTest {
  description?: string;
  spec: string | number;
  helo: string;
  host: string;
  mailfrom: string;
  result: SpfResult | SpfResult[];
  explanation?: string;
}

interface Scenario {
  description: string;
  tests: Record<string, SuiteTest>;
  zonedata: Record<string, Array<string | Record<string, unknown>>>;
}

const text = readFileSync(new URL('../../fixtures/rfc7208/rfc7208-tests.yml', import.meta.url), 'utf8');
const scenarios = parseAllDocuments(text).map((document) => {
  if (document.errors.length > 0) throw new Error(`rfc7208-tests.yml: ${document.errors[0]?.message}`);
  return document.toJS() as Scenario;
});

const allowed = (test: SuiteTest): SpfResult[] => (Array.isArray(test.result) ? test.result : [test.result]);

/** The identity pyspf checks: MAIL FROM, or the HELO name when MAIL FROM is empty. */
function run(scenario: Scenario, test: SuiteTest) {
  const resolver = new StaticResolver(zoneFromSuite(scenario.zonedata));
  const sender = test.mailfrom === '' ? `postmaster@${test.helo}` : test.mailfrom;
  const domain = sender.slice(sender.lastIndexOf('@') + 1);
  return checkHost(resolver, { ip: test.host, domain, sender, helo: test.helo }, { defaultExplanation: 'DEFAULT' });
}

describe('RFC 7208 conformance suite (openspf 2014.04)', () => {
  it('has the 16 scenarios and 201 tests of the shipped suite', () => {
    expect(scenarios).toHaveLength(16);
    expect(scenarios.reduce((sum, scenario) => sum + Object.keys(scenario.tests).length, 0)).toBe(201);
  });

  for (const scenario of scenarios) {
    describe(scenario.description, () => {
      for (const [name, test] of Object.entries(scenario.tests)) {
        it(`${name} (§${test.spec}) → ${allowed(test).join(' or ')}`, async () => {
          const outcome = await run(scenario, test);
          const context = `${outcome.reason}\n${JSON.stringify(outcome.trail, null, 1)}`;
          expect(allowed(test), context).toContain(outcome.result);
          if (test.explanation !== undefined) expect(outcome.explanation, context).toBe(test.explanation);
        });
      }
    });
  }

  it('gives the preferred (first-listed) result wherever the suite allows several', async () => {
    const notPreferred: string[] = [];
    for (const scenario of scenarios) {
      for (const [name, test] of Object.entries(scenario.tests)) {
        const results = allowed(test);
        if (results.length < 2) continue;
        const outcome = await run(scenario, test);
        if (outcome.result !== results[0]) notPreferred.push(`${name}: ${outcome.result}`);
      }
    }
    expect(notPreferred).toEqual([]);
  });
});
