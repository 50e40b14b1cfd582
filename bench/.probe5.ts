import { gzipReport } from './generate-report';
import { pipelineParse } from './parse-pipeline';
const mb = Number(process.argv[2]);
const r = await gzipReport({ xmlBytes: mb * 1e6 });
(globalThis as any).gc(); const before = process.memoryUsage().heapUsed;
await pipelineParse(r.gz);
(globalThis as any).gc(); const after = process.memoryUsage().heapUsed;
console.log(mb, 'MB: heapUsed after GC before parse', (before / 1048576).toFixed(1), 'after', (after / 1048576).toFixed(1), 'maxRSS', process.resourceUsage().maxRSS >> 10);
