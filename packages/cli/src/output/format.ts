// --output table|json for the listing commands. `table` is what Kafka's tools print (table.ts);
// `json` is one JSON document on stdout for scripts: a table becomes an array of objects whose
// keys are its column headers in camelCase (`CURRENT-OFFSET` -> currentOffset, `#MEMBERS` ->
// members) and whose empty cells (`-` in the table) are null; commands whose output is not a
// table (topic names, topics describe, cluster) document their own shape.

import { type Command, Option } from 'commander';
import { writeOut } from './command.ts';
import { type Cell, formatTable } from './table.ts';

export const OUTPUT_FORMATS = ['table', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Adds --output table|json (default table). */
export function withOutput(cmd: Command): Command {
  return cmd.addOption(
    new Option('--output <format>', "table, as Kafka's tools print it, or json: one JSON document for scripts").choices(OUTPUT_FORMATS).default('table'),
  );
}

/** A column header as a JSON key: `CURRENT-OFFSET` -> currentOffset, `TransactionalId` -> transactionalId, `#MEMBERS` -> members. */
export function jsonKey(header: string): string {
  const words = header
    .replace(/^#/, '')
    .split(/[-_\s]+/)
    .filter((w) => w !== '');
  // All-caps headers (kafka-consumer-groups) are lowercased per word; CamelCase ones (kafka-transactions) keep their inner capitals.
  const allCaps = header === header.toUpperCase();
  return words
    .map((w, i) => {
      const word = allCaps ? w.toLowerCase() : w;
      return i === 0 ? word[0].toLowerCase() + word.slice(1) : word[0].toUpperCase() + word.slice(1);
    })
    .join('');
}

/** Table rows as objects keyed by jsonKey(header). */
export function tableRecords(headers: readonly string[], rows: ReadonlyArray<readonly Cell[]>): Array<Record<string, Cell>> {
  const keys = headers.map(jsonKey);
  return rows.map((row) => Object.fromEntries(keys.map((k, i) => [k, row[i] ?? null])));
}

export function writeJson(value: unknown): Promise<void> | void {
  return writeOut(`${JSON.stringify(value)}\n`);
}

export interface TableSection {
  readonly headers: readonly string[];
  readonly rows: ReadonlyArray<readonly Cell[]>;
}

/**
 * Writes tables: as text (sections separated by a blank line; `empty` instead of a header-only
 * table when there are no rows), or as one JSON array with the records of every section.
 */
export function writeTables(format: OutputFormat, sections: readonly TableSection[], empty?: string): Promise<void> | void {
  if (format === 'json') return writeJson(sections.flatMap((s) => tableRecords(s.headers, s.rows)));
  if (empty !== undefined && sections.every((s) => s.rows.length === 0)) return writeOut(empty);
  return writeOut(sections.map((s) => formatTable(s.headers, s.rows)).join('\n'));
}
