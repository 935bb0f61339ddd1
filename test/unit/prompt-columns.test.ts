// Column sections in prompts: shown or hidden by what one caller may read.
import { describe, expect, it } from 'vitest';
import { parsePrompt, renderPrompt, type CallerViews } from '../../src/mcp/prompts.js';

const HEAD = '---\nname: t\ndescription: d\nviews: [s.v, s.w]\n---\n';
const caller = (v: string[], w: string[] = []): CallerViews =>
  new Map([
    ['s.v', { columns: new Set(v), key: v.filter((c) => c === 'id') }],
    ['s.w', { columns: new Set(w), key: [] }],
  ]);

describe('prompt column sections', () => {
  const p = parsePrompt(
    `${HEAD}A{{#column b}} b{{#column c}} c{{/column c}}{{/column b}}{{^column c}} no-c{{/column c}}{{#column s.w.x}} wx{{/column s.w.x}} key=[{{view.key}}]`,
    't.md',
  );

  it('shows a section only when the caller may read its column, nested or inverted', () => {
    expect(renderPrompt(p, {}, caller(['id', 'b', 'c']))).toBe('A b c key=[id]');
    expect(renderPrompt(p, {}, caller(['b']))).toBe('A b no-c key=[]');
    expect(renderPrompt(p, {}, caller([], ['x']))).toBe('A no-c wx key=[]');
  });

  it('refuses a column of a view the prompt does not list', () => {
    expect(() => parsePrompt(`${HEAD}{{#column other.view.x}}x{{/column other.view.x}}`, 'u.md')).toThrow(
      /u\.md: .*not listed under `views`/,
    );
    expect(() => parsePrompt('---\nname: t\ndescription: d\n---\n{{#column x}}x{{/column x}}', 'n.md')).toThrow(/n\.md/);
  });

  it('does not expand sections written in an argument value', () => {
    const q = parsePrompt(`${HEAD}Q={{q}}`, 'q.md');
    expect(renderPrompt(q, { q: '{{#column b}}x{{/column b}} {{view.key}}' }, caller([]))).toBe(
      'Q={{#column b}}x{{/column b}} {{view.key}}',
    );
  });

  it('shows a tool section only when the caller may use the tool; without a tool list, every one', () => {
    const t = parsePrompt(
      '---\nname: t\ndescription: d\n---\nA{{#tool recent}} uses-recent{{/tool recent}}{{^tool recent}} no-recent{{/tool recent}}',
      't.md',
    );
    expect(renderPrompt(t, {}, undefined, new Set(['recent']))).toBe('A uses-recent');
    expect(renderPrompt(t, {}, undefined, new Set(['other']))).toBe('A no-recent');
    expect(renderPrompt(t, {})).toBe('A uses-recent');
  });
});
