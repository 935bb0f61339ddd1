import { type ComponentChildren } from 'preact';

/** A form control under its label, tied by id (a label that wraps a select would also read its options as its name). */
export function Field({ id, label, children }: { id: string; label: string; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children}
    </div>
  );
}
