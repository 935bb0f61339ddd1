/** A cell's text: strings as they are, everything else as compact JSON; null shows as an em dash. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

export function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

export function number(value: number | null | undefined, digits = 0): string {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '—';
}

/** 0.4213 -> "42.1 %"; null -> the fallback. */
export function percent(ratio: number | null, fallback = '—'): string {
  return ratio === null ? fallback : `${(ratio * 100).toFixed(1)} %`;
}
