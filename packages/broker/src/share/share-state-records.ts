// The records of `__share_group_state`: one key per share-partition (group, topic id, partition),
// its value the share-partition's latest snapshot (share-partition.ts), so the compacted topic
// keeps exactly what a restart needs. A null value (tombstone) deletes the share-partition.
//
// Set in stone (data on disk); big-endian, strings int16-length UTF-8. A share-partition:
//   key    int16 version (0), string groupId, uuid topicId (16 bytes), int32 partition
//   value  int16 version (0), int64 startOffset, int64 endOffset, int32 runCount,
//          runCount × { int64 firstOffset, int64 lastOffset, int8 state, int16 deliveryCount }
// state is the RecordState code (0 available, 1 acquired, 2 acknowledged, 4 archived).
// A share group's group-level configs (group-configs.ts); a tombstone clears them all:
//   key    int16 version (1), string groupId
//   value  int16 version (0), int32 count, count × { string name, string value }
// This is Sluice's own format, not Kafka's ShareSnapshot/ShareUpdate records: the topic is
// internal and only Sluice reads it.

import { Reader } from '@sluice/protocol';
import { encodeRecord, strictUtf8 } from '../internal-record-format.ts';
import { RecordState, type RecordStateCode, type SharePartitionSnapshot, type StateRun } from './share-partition.ts';

export const SHARE_STATE_TOPIC = '__share_group_state';
const KEY_VERSION = 0;
const VALUE_VERSION = 0;
const STATES = new Set<number>(Object.values(RecordState));

export interface SharePartitionKey {
  readonly groupId: string;
  readonly topicId: string;
  readonly partition: number;
}

export function encodeShareStateKey(key: SharePartitionKey): Uint8Array {
  return encodeRecord('share state key', (w) => {
    w.int16(KEY_VERSION);
    w.string(key.groupId);
    w.uuid(key.topicId);
    w.int32(key.partition);
  });
}

const GROUP_CONFIG_KEY_VERSION = 1;

export function encodeGroupConfigKey(groupId: string): Uint8Array {
  return encodeRecord('share group config key', (w) => {
    w.int16(GROUP_CONFIG_KEY_VERSION);
    w.string(groupId);
  });
}

export function encodeGroupConfigValue(configs: ReadonlyMap<string, string>): Uint8Array {
  return encodeRecord('share group config value', (w) => {
    w.int16(VALUE_VERSION);
    w.int32(configs.size);
    for (const [name, value] of configs) {
      w.string(name);
      w.string(value);
    }
  });
}

export function decodeGroupConfigValue(bytes: Uint8Array): Map<string, string> {
  const r = new Reader(bytes);
  const version = r.int16();
  if (version !== VALUE_VERSION) throw new Error(`unknown share group config value version ${version}`);
  const configs = new Map<string, string>();
  for (let i = r.int32(); i > 0; i--) configs.set(strictUtf8.decode(r.borrow(r.int16())), strictUtf8.decode(r.borrow(r.int16())));
  return configs;
}

/** A decoded key: a share-partition's, or a group's configs'. */
export type ShareStateKey = ({ readonly kind: 'partition' } & SharePartitionKey) | { readonly kind: 'groupConfig'; readonly groupId: string };

export function decodeShareStateKey(bytes: Uint8Array): ShareStateKey {
  const r = new Reader(bytes);
  const version = r.int16();
  if (version !== KEY_VERSION && version !== GROUP_CONFIG_KEY_VERSION) throw new Error(`unknown share state key version ${version}`);
  const groupId = strictUtf8.decode(r.borrow(r.int16()));
  if (version === GROUP_CONFIG_KEY_VERSION) return { kind: 'groupConfig', groupId };
  return { kind: 'partition', groupId, topicId: r.uuid(), partition: r.int32() };
}

export function encodeShareStateValue(snapshot: SharePartitionSnapshot): Uint8Array {
  return encodeRecord('share state value', (w) => {
    w.int16(VALUE_VERSION);
    w.int64(snapshot.startOffset);
    w.int64(snapshot.endOffset);
    w.int32(snapshot.runs.length);
    for (const run of snapshot.runs) {
      w.int64(run.firstOffset);
      w.int64(run.lastOffset);
      w.int8(run.state);
      w.int16(run.deliveryCount);
    }
  });
}

export function decodeShareStateValue(bytes: Uint8Array): SharePartitionSnapshot {
  const r = new Reader(bytes);
  const version = r.int16();
  if (version !== VALUE_VERSION) throw new Error(`unknown share state value version ${version}`);
  const startOffset = r.int64();
  const endOffset = r.int64();
  const count = r.int32();
  const runs: StateRun[] = [];
  for (let i = 0; i < count; i++) {
    const firstOffset = r.int64();
    const lastOffset = r.int64();
    const state = r.int8();
    if (!STATES.has(state)) throw new Error(`unknown share record state ${state}`);
    runs.push({ firstOffset, lastOffset, state: state as RecordStateCode, deliveryCount: r.int16() });
  }
  return { startOffset, endOffset, runs };
}
