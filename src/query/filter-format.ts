// Prints a filter AST in the text grammar; parseFilter(formatFilter(ast)) gives the AST back
// (positions aside). Parentheses appear only where the grammar needs them, and around a nested
// and/or of the same kind so that the parsed tree keeps its shape.
import type { FilterAst, Lit } from './ast.js';

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CLAIM_SEGMENT = /^[A-Za-z0-9_$-]+$/;
const KEYWORDS = new Set([
  'and',
  'or',
  'not',
  'like',
  'contains',
  'starts',
  'ends',
  'with',
  'in',
  'is',
  'null',
  'between',
  'true',
  'false',
]);

export function formatFilter(ast: FilterAst): string {
  switch (ast.kind) {
    case 'or':
      return ast.args.map((a) => (a.kind === 'or' ? `(${formatFilter(a)})` : formatFilter(a))).join(' or ');
    case 'and':
      return ast.args.map((a) => (a.kind === 'or' || a.kind === 'and' ? `(${formatFilter(a)})` : formatFilter(a))).join(' and ');
    case 'not':
      return ast.arg.kind === 'or' || ast.arg.kind === 'and' ? `not (${formatFilter(ast.arg)})` : `not ${formatFilter(ast.arg)}`;
    case 'cmp':
      return `${formatField(ast.field)} ${ast.op} ${formatLit(ast.value)}`;
    case 'like': {
      const word = { like: 'like', contains: 'contains', starts: 'starts with', ends: 'ends with' }[ast.mode];
      return `${formatField(ast.field)} ${ast.negated ? 'not ' : ''}${word} ${formatLit(ast.value)}`;
    }
    case 'in':
      return `${formatField(ast.field)} ${ast.negated ? 'not ' : ''}in (${ast.values.map(formatLit).join(', ')})`;
    case 'isnull':
      return `${formatField(ast.field)} is ${ast.negated ? 'not ' : ''}null`;
    case 'between':
      return `${formatField(ast.field)} ${ast.negated ? 'not ' : ''}between ${formatLit(ast.low)} and ${formatLit(ast.high)}`;
  }
}

function formatField(name: string): string {
  return PLAIN_NAME.test(name) && !KEYWORDS.has(name.toLowerCase()) ? name : `"${name.replace(/"/g, '""')}"`;
}

export function formatLit(lit: Lit): string {
  switch (lit.kind) {
    case 'string':
      return `'${lit.value.replace(/'/g, "''")}'`;
    case 'number':
      return lit.text;
    case 'bool':
      return lit.value ? 'true' : 'false';
    case 'null':
      return 'null';
    case 'claim':
      return `{claims${lit.path.map((s) => (CLAIM_SEGMENT.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`)).join('')}}`;
    case 'param':
      return `{params.${lit.name}}`;
  }
}
