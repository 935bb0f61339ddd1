import { cellText } from './format';

/** Any figures the API adds beside the ones a page draws itself, labelled from their names. */
export function Figures({ figures }: { figures: Record<string, unknown> }) {
  const entries = Object.entries(figures);
  if (entries.length === 0) return null;
  return (
    <dl class="figures">
      {entries.map(([name, value]) => (
        <div class="figure" key={name}>
          <dt>{label(name)}</dt>
          <dd>{render(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

function render(value: unknown) {
  if (Array.isArray(value)) {
    if (value.length === 0) return 'none';
    return (
      <ul class="plain">
        {value.map((item, i) => (
          <li key={i}>{cellText(item)}</li>
        ))}
      </ul>
    );
  }
  if (value && typeof value === 'object') {
    return (
      <ul class="plain">
        {Object.entries(value).map(([k, v]) => (
          <li key={k}>
            {label(k)}: {cellText(v)}
          </li>
        ))}
      </ul>
    );
  }
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(3);
  return cellText(value);
}

/** requestRate -> "Request rate", hub_refreshes -> "Hub refreshes". */
export function label(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
