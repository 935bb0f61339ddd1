// A line chart drawn as SVG from a per-minute series: no chart library, no inline styles (colours
// come from styles.css through class names, so the CSP needs no 'unsafe-inline').

interface Line {
  label: string;
  /** A class in styles.css that gives the line its colour (chart-line-1 .. chart-line-3). */
  tone: string;
  values: (number | null)[];
}

interface Props {
  title: string;
  unit: string;
  times: number[];
  lines: Line[];
}

const WIDTH = 560;
const HEIGHT = 200;
const PAD = { left: 48, right: 12, top: 12, bottom: 26 };

export function LineChart({ title, unit, times, lines }: Props) {
  const all = lines.flatMap((l) => l.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const top = niceCeiling(Math.max(0, ...all));
  const start = times[0] ?? 0;
  const end = times[times.length - 1] ?? start;
  const x = (t: number) => PAD.left + (end === start ? 0 : ((t - start) / (end - start)) * (WIDTH - PAD.left - PAD.right));
  const y = (v: number) => HEIGHT - PAD.bottom - (top === 0 ? 0 : (v / top) * (HEIGHT - PAD.top - PAD.bottom));
  const ticks = [0, top / 2, top];
  const summary = lines.map((l) => `${l.label} ${latest(l.values)} ${unit}`).join(', ');
  return (
    <figure class="chart">
      <figcaption>
        <span class="chart-title">{title}</span>
        <span class="legend">
          {lines.map((l) => (
            <span key={l.label} class={`legend-item ${l.tone}`}>
              {l.label}
            </span>
          ))}
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`${title} over the last hour; latest: ${summary}`}>
        {ticks.map((v) => (
          <g key={v} class="chart-grid">
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(v)} y2={y(v)} />
            <text x={PAD.left - 6} y={y(v) + 4} text-anchor="end">
              {format(v)}
            </text>
          </g>
        ))}
        {times.length > 0 && (
          <g class="chart-axis">
            <text x={PAD.left} y={HEIGHT - 6}>
              {clock(start)}
            </text>
            <text x={WIDTH - PAD.right} y={HEIGHT - 6} text-anchor="end">
              {clock(end)}
            </text>
            <text x={(PAD.left + WIDTH - PAD.right) / 2} y={HEIGHT - 6} text-anchor="middle">
              {unit}
            </text>
          </g>
        )}
        {lines.map((l) => (
          <g key={l.label} class={l.tone}>
            <path class="chart-line" d={pathOf(times, l.values, x, y)} />
            {isolated(l.values).map((i) => (
              <circle key={i} class="chart-dot" cx={x(times[i]!)} cy={y(l.values[i]!)} r={3} />
            ))}
          </g>
        ))}
      </svg>
      {all.length === 0 && <p class="muted">No requests in the last hour yet.</p>}
    </figure>
  );
}

/** An SVG path through the points that have a value; a gap (null) lifts the pen. */
function pathOf(times: number[], values: (number | null)[], x: (t: number) => number, y: (v: number) => number): string {
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    const t = times[i];
    if (v === null || !Number.isFinite(v) || t === undefined) {
      pen = false;
      return;
    }
    d += `${pen ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
    pen = true;
  });
  return d;
}

/** The points with a value but no neighbour with one: a path cannot show them, a dot can. */
function isolated(values: (number | null)[]): number[] {
  const has = (i: number) => {
    const v = values[i];
    return v !== null && v !== undefined && Number.isFinite(v);
  };
  return values.flatMap((_, i) => (has(i) && !has(i - 1) && !has(i + 1) ? [i] : []));
}

/** 1, 2 or 5 times a power of ten, at least the value: axis labels people can read. */
function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function format(v: number): string {
  return v >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(1);
}

function latest(values: (number | null)[]): string {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v !== null && v !== undefined && Number.isFinite(v)) return format(v);
  }
  return 'none';
}

function clock(t: number): string {
  return new Date(t).toISOString().slice(11, 16) + ' UTC';
}
