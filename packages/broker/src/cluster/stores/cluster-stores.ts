// Cluster mode's shared security and quota metadata: the ACL, SCRAM credential and client quota
// stores over etcd, and the dynamic broker configs, opened before the broker accepts clients, and the one-time import of the
// first broker's local files.
//
// Import (how a single node becomes the first broker of a cluster, as its topics are published):
// the first broker to start against a cluster prefix writes `<prefix>/local-files-imported`,
// together with the ACLs, SCRAM users and quotas of its local files (sluice-acls.json,
// sluice-scram-credentials.json, sluice-client-quotas.json in its first log dir), all in one
// transaction that requires the marker absent — so exactly one broker's files are carried in,
// once. Every later broker, and the first one on its next start, finds the marker and leaves its
// local files alone (it logs that they are not used): from then on etcd is the only store, and
// the local files are neither read nor written in cluster mode. More than MAX_KEYS_PER_WRITE
// records are written in several transactions, each still requiring the marker absent, the
// marker with the last.

import type { Logger } from '../../logger.ts';
import { FileClientQuotaStore, quotaEntryToRecord } from '../../quotas/client-quota-store.ts';
import { FileAclStore } from '../../security/acl/acl-store.ts';
import type { AclBinding } from '../../security/acl/acl-types.ts';
import { FileScramCredentialStore } from '../../security/sasl/scram-credential-store.ts';
import type { KvStore, Op } from '../etcd/kv-store.ts';
import type { ClusterKeys } from '../keys.ts';
import { EtcdAclStore, recordOfBindings } from './etcd-acl-store.ts';
import { EtcdDynamicBrokerConfigStore } from './etcd-dynamic-config-store.ts';
import { EtcdFeatureLevels } from './etcd-feature-store.ts';
import { EtcdClientQuotaStore } from './etcd-quota-store.ts';
import { EtcdScramCredentialStore, recordOfCredentials } from './etcd-scram-store.ts';
import { MAX_KEYS_PER_WRITE } from './prefix-mirror.ts';
import { type LocalFilesImportedRecord, StoreKeys } from './store-keys.ts';

export interface ClusterStores {
  readonly acls: EtcdAclStore;
  readonly scramCredentials: EtcdScramCredentialStore;
  readonly clientQuotas: EtcdClientQuotaStore;
  readonly dynamicBrokerConfigs: EtcdDynamicBrokerConfigStore;
  readonly features: EtcdFeatureLevels;
  close(): void;
}

/** What the import found: the local records, and whether this broker carried them into etcd. */
export interface ImportOutcome {
  readonly imported: boolean;
  readonly acls: number;
  readonly scramUsers: number;
  readonly quotaEntities: number;
}

/**
 * Carries the local files of `dir` into etcd if no broker has done so for this cluster yet (see
 * the header). A corrupt local file fails the start, as it would on a single node.
 */
export async function importLocalFiles(store: KvStore, keys: ClusterKeys, nodeId: number, dir: string, logger: Logger): Promise<ImportOutcome> {
  const k = new StoreKeys(keys);
  const acls = new FileAclStore(dir).bindings();
  const scram = new FileScramCredentialStore(dir);
  const quotas = new FileClientQuotaStore(dir).all();
  const counts = { acls: acls.length, scramUsers: scram.users().length, quotaEntities: quotas.length };
  const local = counts.acls + counts.scramUsers + counts.quotaEntities;
  const previous = await store.get(k.localFilesImported);
  if (previous !== null) {
    if (local > 0) {
      let importedBy: number | null = null;
      try {
        importedBy = (JSON.parse(previous.value) as LocalFilesImportedRecord).nodeId;
      } catch {
        // A marker is a marker, whatever it holds.
      }
      logger.warn(
        { dir, ...counts, importedBy },
        importedBy === nodeId
          ? 'cluster mode: the local ACL, SCRAM and quota files are not used any more (this broker carried them into etcd when the cluster began)'
          : 'cluster mode: the local ACL, SCRAM and quota files are not used (the cluster keeps its own in etcd)',
      );
    }
    return { imported: false, ...counts };
  }
  const puts = new Map<string, string>();
  const byPattern = new Map<string, AclBinding[]>();
  for (const b of acls) {
    const key = k.acl(b.pattern);
    byPattern.set(key, [...(byPattern.get(key) ?? []), b]);
  }
  for (const [key, bindings] of byPattern) puts.set(key, recordOfBindings(bindings) as string);
  for (const user of scram.users()) puts.set(k.scramUser(user), recordOfCredentials(user, scram.credentialsOf(user)) as string);
  for (const e of quotas) puts.set(k.clientQuota(e.entity), JSON.stringify(quotaEntryToRecord(e)));
  const marker: LocalFilesImportedRecord = { nodeId, importedAt: Date.now(), ...counts };
  const ops: Op[] = [...puts].map(([key, value]) => ({ put: { key, value } }));
  const chunks: Op[][] = [];
  for (let i = 0; i < ops.length; i += MAX_KEYS_PER_WRITE) chunks.push(ops.slice(i, i + MAX_KEYS_PER_WRITE));
  if (chunks.length === 0 || chunks[chunks.length - 1].length === MAX_KEYS_PER_WRITE) chunks.push([]);
  chunks[chunks.length - 1].push({ put: { key: k.localFilesImported, value: JSON.stringify(marker) } });
  for (const chunk of chunks) {
    const { succeeded } = await store.txn([{ key: k.localFilesImported, target: 'version', result: 'equal', value: 0 }], chunk);
    if (!succeeded) {
      logger.warn({ dir, ...counts }, 'cluster mode: another broker imported its local ACL, SCRAM and quota files first; ours are not used');
      return { imported: false, ...counts };
    }
  }
  logger.info({ dir, ...counts }, 'cluster mode: carried the local ACL, SCRAM and quota files into etcd (the first broker of this cluster)');
  return { imported: true, ...counts };
}

/**
 * The import (once per cluster), then the stores, read and following etcd. A single node's
 * dynamic broker configs file and features.json are not imported: its throttles were set for the
 * moves of its own past, and the cluster's feature levels are the cluster's to finalize.
 */
export async function openClusterStores(store: KvStore, keys: ClusterKeys, nodeId: number, dir: string, logger: Logger): Promise<ClusterStores> {
  await importLocalFiles(store, keys, nodeId, dir, logger);
  const [acls, scramCredentials, clientQuotas, dynamicBrokerConfigs, features] = await Promise.all([
    EtcdAclStore.open(store, keys, logger),
    EtcdScramCredentialStore.open(store, keys, logger),
    EtcdClientQuotaStore.open(store, keys, logger),
    EtcdDynamicBrokerConfigStore.open(store, keys, logger),
    EtcdFeatureLevels.open(store, keys, nodeId, logger),
  ]);
  return {
    acls,
    scramCredentials,
    clientQuotas,
    dynamicBrokerConfigs,
    features,
    close: () => {
      acls.close();
      scramCredentials.close();
      clientQuotas.close();
      dynamicBrokerConfigs.close();
      features.close();
    },
  };
}
