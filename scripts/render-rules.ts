/** `npm run docs:rules`: writes docs/rules.md from the rule lists in src/dns. */
import { writeFileSync } from 'node:fs';
import { renderRulesDoc } from '../src/dns/rules-doc';

writeFileSync('docs/rules.md', renderRulesDoc());
console.log('wrote docs/rules.md');
