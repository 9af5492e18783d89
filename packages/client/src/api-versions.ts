// API version negotiation: for each API, use the highest version both this client and the broker
// support (what every Kafka client does after its ApiVersions handshake). Our side of each range
// is what the protocol package can encode and decode (its request specs' validVersions).

import { apiKeyName, requestSpecs } from '@sluice/protocol';

export interface BrokerApiRange {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
}

/** The versions this client can speak for an API, or null when the codec has no description of it. */
export function clientRange(apiKey: number): readonly [number, number] | null {
  return requestSpecs.get(apiKey)?.validVersions ?? null;
}

/** Highest version in both ranges, or null when they do not overlap. */
export function pickVersion(ours: readonly [number, number], theirs: readonly [number, number]): number | null {
  const hi = Math.min(ours[1], theirs[1]);
  const lo = Math.max(ours[0], theirs[0]);
  return hi >= lo ? hi : null;
}

/** apiKey -> negotiated version, for every API both sides speak. */
export function negotiate(broker: readonly BrokerApiRange[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const b of broker) {
    const ours = clientRange(b.apiKey);
    if (ours === null) continue;
    const v = pickVersion(ours, [b.minVersion, b.maxVersion]);
    if (v !== null) out.set(b.apiKey, v);
  }
  return out;
}

export interface VersionRow {
  readonly apiKey: number;
  readonly name: string;
  readonly broker: readonly [number, number] | null;
  readonly client: readonly [number, number] | null;
  readonly negotiated: number | null;
}

/** One row per API the broker or the client knows, by API key: as `sluice cluster` prints it. */
export function versionTable(broker: readonly BrokerApiRange[]): VersionRow[] {
  const keys = new Set<number>([...broker.map((b) => b.apiKey), ...requestSpecs.keys()]);
  const byKey = new Map(broker.map((b) => [b.apiKey, [b.minVersion, b.maxVersion] as const]));
  return [...keys]
    .sort((a, b) => a - b)
    .map((apiKey) => {
      const theirs = byKey.get(apiKey) ?? null;
      const ours = clientRange(apiKey);
      const negotiated = theirs !== null && ours !== null ? pickVersion(ours, theirs) : null;
      return { apiKey, name: apiKeyName(apiKey), broker: theirs, client: ours, negotiated };
    });
}
