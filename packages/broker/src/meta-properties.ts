// meta.properties in the first log dir: the cluster id and node id this data belongs to, in
// Kafka's format, so a data dir is never silently served under another identity.

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, parseProperties } from './config.ts';
import { writeFileAtomically } from './topics.ts';

export const META_PROPERTIES = 'meta.properties';

/** Kafka's cluster id form: a random uuid as 22 url-safe base64 characters. */
export function newClusterId(): string {
  return randomBytes(16).toString('base64url');
}

/** What meta.properties in `dir` says, or null when there is none yet. */
export function readMetaProperties(dir: string): { clusterId: string | null; nodeId: number | null; directoryId: string | null } | null {
  const file = join(dir, META_PROPERTIES);
  if (!existsSync(file)) return null;
  const props = parseProperties(readFileSync(file, 'utf8'));
  const node = props.get('node.id') ?? props.get('broker.id');
  return { clusterId: props.get('cluster.id') || null, nodeId: node === undefined ? null : Number(node), directoryId: props.get('directory.id') || null };
}

/** Reads meta.properties, or writes a new one; returns the cluster id. */
export function loadOrFormatMetaProperties(dir: string, nodeId: number, configuredClusterId: string | null): string {
  const file = join(dir, META_PROPERTIES);
  if (existsSync(file)) {
    const props = parseProperties(readFileSync(file, 'utf8'));
    const clusterId = props.get('cluster.id');
    const storedNode = props.get('node.id') ?? props.get('broker.id');
    if (clusterId === undefined || clusterId === '') throw new ConfigError('log.dirs', `${file} has no cluster.id`);
    if (storedNode !== undefined && Number(storedNode) !== nodeId) {
      throw new ConfigError('node.id', `configured ${nodeId} but ${file} belongs to node ${storedNode}`);
    }
    if (configuredClusterId !== null && configuredClusterId !== clusterId) {
      throw new ConfigError('cluster.id', `configured ${configuredClusterId} but ${file} belongs to cluster ${clusterId}`);
    }
    return clusterId;
  }
  const clusterId = configuredClusterId ?? newClusterId();
  const text = ['#', `#${new Date().toString()}`, `cluster.id=${clusterId}`, `node.id=${nodeId}`, 'version=1', `directory.id=${newClusterId()}`, ''].join('\n');
  writeFileAtomically(dir, file, text);
  return clusterId;
}
