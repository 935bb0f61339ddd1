// LabelledHistogram (src/ops/histogram.ts) against prom-client's own Histogram: the same
// observations must give the same exposition text and the same JSON.
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LabelledHistogram } from '../../src/ops/histogram.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVATIONS: [string[], number][] = [
  [['rest', 'query', 'crm.customers', '200'], 0.0004],
  [['rest', 'query', 'crm.customers', '200'], 0.001], // on a bound: in that bucket
  [['rest', 'query', 'crm.customers', '200'], 0.05],
  [['mcp', 'query_view', '-', '404'], 7], // above every bound: +Inf only
  [['rest', 'query', 'a "quoted"\nview\\', '500'], 0.2], // label text the exposition must escape
  [['rest', 'query', 'crm.customers', '429'], 0],
];
const NAMES = ['surface', 'action', 'view', 'status'] as const;

function both() {
  const ours = new Registry();
  const theirs = new Registry();
  const h = new LabelledHistogram('x_seconds', 'help text', NAMES, BUCKETS, ours);
  const p = new Histogram({ name: 'x_seconds', help: 'help text', labelNames: NAMES, buckets: BUCKETS, registers: [theirs] });
  for (const [values, v] of OBSERVATIONS) {
    h.observe(values, v);
    p.observe(Object.fromEntries(NAMES.map((n, i) => [n, values[i]!])), v);
  }
  return { ours, theirs, h, p };
}

describe('LabelledHistogram', () => {
  it('writes the exposition prom-client writes for the same observations', async () => {
    const { ours, theirs } = both();
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('x_seconds_bucket{le="0.001",surface="rest",action="query",view="crm.customers",status="200"} 2');
    expect(text).toContain('x_seconds_bucket{le="+Inf",surface="mcp",action="query_view",view="-",status="404"} 1');
    expect(text).toContain('view="a \\"quoted\\"\\nview\\\\"');
  });

  it('gives the JSON prom-client gives', async () => {
    const { ours, theirs } = both();
    // Exemplars are off: prom-client lists them as null or undefined, LabelledHistogram not at all.
    const plain = (x: unknown) => JSON.parse(JSON.stringify(x, (k, v: unknown) => (k === 'exemplar' ? undefined : v))) as unknown;
    expect(plain(await ours.getMetricsAsJSON())).toEqual(plain(await theirs.getMetricsAsJSON()));
  });

  it('starts empty again after a reset, and ignores a value that is not a number', async () => {
    const { ours, h } = both();
    h.reset();
    h.observe(['rest', 'query', '-', '200'], Number.NaN);
    expect(await ours.metrics()).toBe('# HELP x_seconds help text\n# TYPE x_seconds histogram\n');
  });
});
