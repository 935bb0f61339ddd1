// Exact decimal arithmetic with PostgreSQL's `numeric` scale rules, on scaled BigInts.
// A value is `unscaled / 10^scale`; its text keeps the scale (PostgreSQL prints 12.50, not 12.5).
import { dataError } from './errors.js';

export interface Dec {
  unscaled: bigint;
  scale: number;
}

const NUMERIC_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?$/;

export function parseDec(text: string): Dec {
  const m = NUMERIC_TEXT.exec(text.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new Error(`not a decimal: "${text}"`);
  const frac = m[3] ?? '';
  const unscaled = BigInt((m[2] || '0') + frac);
  return { unscaled: m[1] === '-' ? -unscaled : unscaled, scale: frac.length };
}

export function formatDec(d: Dec): string {
  const neg = d.unscaled < 0n;
  const digits = (neg ? -d.unscaled : d.unscaled).toString().padStart(d.scale + 1, '0');
  const int = digits.slice(0, digits.length - d.scale);
  const frac = digits.slice(digits.length - d.scale);
  const body = d.scale > 0 ? `${int}.${frac}` : int;
  return neg && d.unscaled !== 0n ? `-${body}` : body;
}

export function fromBigInt(v: bigint): Dec {
  return { unscaled: v, scale: 0 };
}

function rescaleUp(d: Dec, scale: number): bigint {
  return d.unscaled * 10n ** BigInt(scale - d.scale);
}

/** Rounds half away from zero to `scale` digits (PostgreSQL's numeric rounding). */
export function roundDec(d: Dec, scale: number): Dec {
  if (scale >= d.scale) return { unscaled: rescaleUp(d, scale), scale };
  return { unscaled: divRound(d.unscaled, 10n ** BigInt(d.scale - scale)), scale };
}

/** n / m rounded half away from zero. */
function divRound(n: bigint, m: bigint): bigint {
  const q = n / m;
  const r = n % m;
  const twice = (r < 0n ? -r : r) * 2n;
  const mm = m < 0n ? -m : m;
  if (twice >= mm) return q + (n < 0n !== m < 0n ? -1n : 1n);
  return q;
}

export function addDec(a: Dec, b: Dec): Dec {
  const s = Math.max(a.scale, b.scale);
  return { unscaled: rescaleUp(a, s) + rescaleUp(b, s), scale: s };
}

export function subDec(a: Dec, b: Dec): Dec {
  return addDec(a, { unscaled: -b.unscaled, scale: b.scale });
}

export function mulDec(a: Dec, b: Dec): Dec {
  return { unscaled: a.unscaled * b.unscaled, scale: a.scale + b.scale };
}

export function divisionByZero(): Error {
  return dataError('division by zero', '22012');
}

/**
 * a / b with the result scale PostgreSQL's select_div_scale picks: at least 16 significant
 * digits, at least either input's scale, at most 1000.
 */
export function divDec(a: Dec, b: Dec): Dec {
  if (b.unscaled === 0n) throw divisionByZero();
  const scale = divScale(a, b);
  // a/b * 10^scale = (A * 10^(sb + scale)) / (B * 10^sa)
  const n = a.unscaled * 10n ** BigInt(b.scale + scale);
  const m = b.unscaled * 10n ** BigInt(a.scale);
  return { unscaled: divRound(n, m), scale };
}

/** PostgreSQL's modulo: the sign follows the dividend, scale is the larger input scale. */
export function modDec(a: Dec, b: Dec): Dec {
  if (b.unscaled === 0n) throw divisionByZero();
  const s = Math.max(a.scale, b.scale);
  return { unscaled: rescaleUp(a, s) % rescaleUp(b, s), scale: s };
}

const NBASE_DIGITS = 4;
const MIN_SIG_DIGITS = 16;

/** Weight (in base-10000 digits) and value of the first non-zero base-10000 digit, as numeric.c computes them. */
function leading(d: Dec): { weight: number; first: number } {
  if (d.unscaled === 0n) return { weight: 0, first: 0 };
  const digits = (d.unscaled < 0n ? -d.unscaled : d.unscaled).toString();
  const intDigits = digits.length - d.scale; // decimal exponent of the leading digit + 1
  const e = intDigits - 1;
  const weight = Math.floor(e / NBASE_DIGITS);
  // Digits of the base-10000 group holding the leading digit: positions e .. weight*4.
  const groupLen = e - weight * NBASE_DIGITS + 1;
  const first = Number(digits.slice(0, groupLen).padEnd(groupLen, '0'));
  return { weight, first };
}

function divScale(a: Dec, b: Dec): number {
  const x = leading(a);
  const y = leading(b);
  let qweight = x.weight - y.weight;
  if (x.first <= y.first) qweight--;
  let scale = MIN_SIG_DIGITS - qweight * NBASE_DIGITS;
  scale = Math.max(scale, a.scale, b.scale, 0);
  return Math.min(scale, 1000);
}

/** Text of a numeric value with trailing fractional zeros removed, for hashing equal values alike. */
export function normalizedDec(text: string): string {
  const d = parseDec(text);
  let { unscaled, scale } = d;
  while (scale > 0 && unscaled % 10n === 0n) {
    unscaled /= 10n;
    scale--;
  }
  return formatDec({ unscaled, scale });
}

export function isIntegral(d: Dec): boolean {
  return d.unscaled % 10n ** BigInt(d.scale) === 0n;
}

/** The integer part, truncated toward zero... or floored/ceiled, for mapping ranges onto integers. */
export function floorDec(d: Dec): bigint {
  const m = 10n ** BigInt(d.scale);
  const q = d.unscaled / m;
  return d.unscaled < 0n && d.unscaled % m !== 0n ? q - 1n : q;
}

export function ceilDec(d: Dec): bigint {
  const m = 10n ** BigInt(d.scale);
  const q = d.unscaled / m;
  return d.unscaled > 0n && d.unscaled % m !== 0n ? q + 1n : q;
}

/** Number of digits before the point (for numeric(p, s) overflow checks). */
export function integerDigits(d: Dec): number {
  const abs = d.unscaled < 0n ? -d.unscaled : d.unscaled;
  const intPart = abs / 10n ** BigInt(d.scale);
  return intPart === 0n ? 0 : intPart.toString().length;
}
