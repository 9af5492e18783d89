// The etcd keys of the cluster-wide security and quota metadata (cluster/README.md, "etcd key
// layout"), under the cluster's prefix next to keys.ts's. One key per ACL resource pattern, per
// SCRAM user and per quota entity — the granularity Kafka's ZooKeeper layout had — so writers
// touching different resources never conflict, and a write is a compare-and-swap on the mod
// revision of just the keys it changes. Names are URI-encoded (encodeURIComponent), so a '/' in a
// group name or user name never reads as a separator; the value repeats the name in clear, and
// readers trust the value.
//
//   <prefix>/acls/<RESOURCE_TYPE>/<PATTERN_TYPE>/<name>   AclPatternRecord
//   <prefix>/scram-credentials/<user>                      ScramUserRecord
//   <prefix>/client-quotas/<type>=<name>[,<type>=<name>]   QuotaRecord (client-quota-store.ts); name <default> for the default entity
//   <prefix>/broker-configs/<node.id> | <default>           DynamicBrokerConfigRecord: dynamic broker configs of one broker, or the cluster-wide defaults
//   <prefix>/features/finalized                            FeatureLevelsRecord: the finalized feature levels (its mod revision is the epoch)
//   <prefix>/local-files-imported                          LocalFilesImportedRecord: the first broker's local files were carried in

import type { ClientQuotaEntity } from '../../quotas/client-quota-entity.ts';
import type { FileAcl } from '../../security/acl/acl-store.ts';
import type { ResourcePattern } from '../../security/acl/acl-types.ts';
import { patternTypeName, resourceTypeName } from '../../security/acl/acl-types.ts';
import type { ScramCredentialRecord } from '../../security/sasl/scram-credential-store.ts';
import type { ClusterKeys } from '../keys.ts';

/** <prefix>/acls/…: the ACL entries of one resource pattern (Kafka's names for the enums). */
export interface AclPatternRecord {
  readonly resourceType: string;
  readonly patternType: string;
  readonly name: string;
  readonly acls: ReadonlyArray<Pick<FileAcl, 'principal' | 'host' | 'operation' | 'permissionType'>>;
}

/** <prefix>/scram-credentials/<user>: a user's credentials by mechanism name (salted keys, never passwords). */
export interface ScramUserRecord {
  readonly user: string;
  readonly credentials: Record<string, ScramCredentialRecord>;
}

/** <prefix>/broker-configs/<scope>: the dynamic broker configs of one scope, as given (text). */
export interface DynamicBrokerConfigRecord {
  readonly configs: Record<string, string>;
}

/** <prefix>/features/finalized: the finalized level of each feature (features.ts). */
export interface FeatureLevelsRecord {
  readonly levels: Record<string, number>;
}

/** <prefix>/local-files-imported */
export interface LocalFilesImportedRecord {
  readonly nodeId: number;
  readonly importedAt: number;
  readonly acls: number;
  readonly scramUsers: number;
  readonly quotaEntities: number;
}

export class StoreKeys {
  private readonly prefix: string;

  constructor(keys: ClusterKeys) {
    this.prefix = keys.prefix;
  }

  get acls(): string {
    return `${this.prefix}/acls/`;
  }

  acl(pattern: ResourcePattern): string {
    return `${this.acls}${resourceTypeName(pattern.resourceType)}/${patternTypeName(pattern.patternType)}/${encodeURIComponent(pattern.name)}`;
  }

  get scramCredentials(): string {
    return `${this.prefix}/scram-credentials/`;
  }

  scramUser(user: string): string {
    return `${this.scramCredentials}${encodeURIComponent(user)}`;
  }

  get clientQuotas(): string {
    return `${this.prefix}/client-quotas/`;
  }

  clientQuota(entity: ClientQuotaEntity): string {
    return `${this.clientQuotas}${entity.map((p) => `${p.type}=${p.name === null ? '<default>' : encodeURIComponent(p.name)}`).join(',')}`;
  }

  get brokerConfigs(): string {
    return `${this.prefix}/broker-configs/`;
  }

  /** `scope`: a node id, or `<default>` (dynamic-broker-configs.ts scopeKey). */
  brokerConfig(scope: string): string {
    return `${this.brokerConfigs}${encodeURIComponent(scope)}`;
  }

  get features(): string {
    return `${this.prefix}/features/`;
  }

  get finalizedFeatures(): string {
    return `${this.features}finalized`;
  }

  get localFilesImported(): string {
    return `${this.prefix}/local-files-imported`;
  }
}
