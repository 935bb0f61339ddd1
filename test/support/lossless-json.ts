// JSON as viewgate writes it, read without losing digits: 64-bit integers are exact JSON numbers
// (docs/rest.md), which JSON.parse would round through a double.

/** A JSON number as written. */
export type Num = { num: string };

/** JSON.parse, except that every number is a Num holding its digits. */
export function parseLossless(text: string): unknown {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const value = (): unknown => {
    ws();
    const c = text[i]!;
    if (c === '{') {
      i++;
      const o: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') return (i++, o);
      for (;;) {
        ws();
        const k = value() as string;
        ws();
        i++; // :
        o[k] = value();
        ws();
        if (text[i++] === '}') return o;
      }
    }
    if (c === '[') {
      i++;
      const a: unknown[] = [];
      ws();
      if (text[i] === ']') return (i++, a);
      for (;;) {
        a.push(value());
        ws();
        if (text[i++] === ']') return a;
      }
    }
    if (c === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(i))!;
      i += m[0].length;
      return JSON.parse(m[0]) as string;
    }
    const m = /^(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i))!;
    i += m[0].length;
    if (m[0] === 'true') return true;
    if (m[0] === 'false') return false;
    if (m[0] === 'null') return null;
    return { num: m[0] } satisfies Num;
  };
  return value();
}

const isNum = (v: unknown): v is Num => typeof v === 'object' && v !== null && 'num' in v && Object.keys(v).length === 1;

function plainJson(v: unknown): unknown {
  if (isNum(v)) return Number(v.num);
  if (Array.isArray(v)) return v.map(plainJson);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainJson(x)]));
  return v;
}

/** A REST row -> the value model, by the view's column types. */
export function toValueModel(row: Record<string, unknown>, types: Map<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    const t = types.get(k);
    if (isNum(v)) out[k] = t === 'int' ? BigInt(v.num) : Number(v.num);
    else out[k] = t === 'jsonb' ? plainJson(v) : v;
  }
  return out;
}
