import { type ComponentChildren } from 'preact';
import { cellText } from './format';

interface Props<R> {
  rows: R[];
  caption: string;
  /** The columns to show; by default the union of the rows' keys in first-seen order. */
  columns?: readonly string[];
  /** A cell's content; by default its value as text. */
  render?: (row: R, column: string) => ComponentChildren;
}

/** Rows as a table, one column per field. */
export function DataTable<R extends Record<string, unknown>>({ rows, caption, columns, render }: Props<R>) {
  const shown = columns ?? [...new Set(rows.flatMap((row) => Object.keys(row)))];
  if (rows.length === 0) return <p class="muted">No rows.</p>;
  return (
    <div class="scroll">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {shown.map((c) => (
              <th scope="col" key={c}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={i}>
              {shown.map((c) => (
                <td key={c}>{render ? render(row, c) : cellText(row[c])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
