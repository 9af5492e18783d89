// Plain-text tables, column-aligned with spaces, as Kafka's tools print them (kafka-consumer-groups
// .sh --describe): a header row, then one row per item, no borders, so `awk '{print $3}'` works.

export type Cell = string | number | null;

function text(c: Cell): string {
  return c === null ? '-' : String(c);
}

/** Pads every column to its widest cell; two spaces between columns; no trailing spaces. */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<readonly Cell[]>): string {
  const cells = [headers.map(text), ...rows.map((r) => r.map(text))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return (
    cells
      .map((r) =>
        r
          .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
