// Plain-text tables for the terminal: a title, a header, right-aligned figures.

export interface Table {
  title: string;
  /** Lines printed under the title (what the columns mean, raw limits). */
  notes: string[];
  columns: string[];
  /** Columns that hold labels (left-aligned); the rest are figures (right-aligned). */
  labelColumns: number;
  rows: string[][];
}

export function renderTable(t: Table): string {
  const widths = t.columns.map((c, i) => Math.max(c.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const cell = (text: string, i: number) => (i < t.labelColumns ? text.padEnd(widths[i]!) : text.padStart(widths[i]!));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => cell(c, i))
      .join('  ')
      .trimEnd();
  const out = [t.title, ...t.notes.map((n) => `  ${n}`), '', line(t.columns), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of t.rows) out.push(line(t.columns.map((_, i) => r[i] ?? '')));
  return out.join('\n');
}
