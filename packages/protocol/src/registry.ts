// Every message this codec serves, by API key, checked for well-formedness at load.
//
// The check runs once at import: a malformed description is a broken invariant (a typo in a hand
// transcription), and failing loudly at start beats mis-encoding bytes for one client version.

import type { FieldSpec, MessageSpec } from './spec.ts';
import { apiKeyName } from './api-keys.ts';
import { parseVersions } from './primitives/versions.ts';

import { AddOffsetsToTxnRequest, AddOffsetsToTxnResponse } from './messages/add-offsets-to-txn.ts';
import { AddPartitionsToTxnRequest, AddPartitionsToTxnResponse } from './messages/add-partitions-to-txn.ts';
import { AlterConfigsRequest, AlterConfigsResponse } from './messages/alter-configs.ts';
import { AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse } from './messages/alter-user-scram-credentials.ts';
import { ApiVersionsRequest, ApiVersionsResponse } from './messages/api-versions.ts';
import { ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse } from './messages/consumer-group-describe.ts';
import { ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse } from './messages/consumer-group-heartbeat.ts';
import { CreateAclsRequest, CreateAclsResponse } from './messages/create-acls.ts';
import { CreatePartitionsRequest, CreatePartitionsResponse } from './messages/create-partitions.ts';
import { CreateTopicsRequest, CreateTopicsResponse } from './messages/create-topics.ts';
import { DeleteAclsRequest, DeleteAclsResponse } from './messages/delete-acls.ts';
import { DeleteGroupsRequest, DeleteGroupsResponse } from './messages/delete-groups.ts';
import { DeleteRecordsRequest, DeleteRecordsResponse } from './messages/delete-records.ts';
import { DeleteTopicsRequest, DeleteTopicsResponse } from './messages/delete-topics.ts';
import { DescribeAclsRequest, DescribeAclsResponse } from './messages/describe-acls.ts';
import { DescribeLogDirsRequest, DescribeLogDirsResponse } from './messages/describe-log-dirs.ts';
import { ElectLeadersRequest, ElectLeadersResponse } from './messages/elect-leaders.ts';
import { AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse } from './messages/alter-partition-reassignments.ts';
import { ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse } from './messages/list-partition-reassignments.ts';
import { OffsetDeleteRequest, OffsetDeleteResponse } from './messages/offset-delete.ts';
import { UpdateFeaturesRequest, UpdateFeaturesResponse } from './messages/update-features.ts';
import { DescribeClusterRequest, DescribeClusterResponse } from './messages/describe-cluster.ts';
import { DescribeConfigsRequest, DescribeConfigsResponse } from './messages/describe-configs.ts';
import { DescribeGroupsRequest, DescribeGroupsResponse } from './messages/describe-groups.ts';
import { DescribeProducersRequest, DescribeProducersResponse } from './messages/describe-producers.ts';
import { DescribeTransactionsRequest, DescribeTransactionsResponse } from './messages/describe-transactions.ts';
import { EndTxnRequest, EndTxnResponse } from './messages/end-txn.ts';
import { AlterClientQuotasRequest, AlterClientQuotasResponse } from './messages/alter-client-quotas.ts';
import { DescribeClientQuotasRequest, DescribeClientQuotasResponse } from './messages/describe-client-quotas.ts';
import { DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse } from './messages/describe-user-scram-credentials.ts';
import { FetchRequest, FetchResponse } from './messages/fetch.ts';
import { FindCoordinatorRequest, FindCoordinatorResponse } from './messages/find-coordinator.ts';
import { HeartbeatRequest, HeartbeatResponse } from './messages/heartbeat.ts';
import { IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse } from './messages/incremental-alter-configs.ts';
import { InitProducerIdRequest, InitProducerIdResponse } from './messages/init-producer-id.ts';
import { JoinGroupRequest, JoinGroupResponse } from './messages/join-group.ts';
import { LeaveGroupRequest, LeaveGroupResponse } from './messages/leave-group.ts';
import { ListGroupsRequest, ListGroupsResponse } from './messages/list-groups.ts';
import { ListOffsetsRequest, ListOffsetsResponse } from './messages/list-offsets.ts';
import { ListTransactionsRequest, ListTransactionsResponse } from './messages/list-transactions.ts';
import { MetadataRequest, MetadataResponse } from './messages/metadata.ts';
import { OffsetCommitRequest, OffsetCommitResponse } from './messages/offset-commit.ts';
import { OffsetFetchRequest, OffsetFetchResponse } from './messages/offset-fetch.ts';
import { OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse } from './messages/offset-for-leader-epoch.ts';
import { ProduceRequest, ProduceResponse } from './messages/produce.ts';
import { SaslAuthenticateRequest, SaslAuthenticateResponse } from './messages/sasl-authenticate.ts';
import { SaslHandshakeRequest, SaslHandshakeResponse } from './messages/sasl-handshake.ts';
import { SyncGroupRequest, SyncGroupResponse } from './messages/sync-group.ts';
import { TxnOffsetCommitRequest, TxnOffsetCommitResponse } from './messages/txn-offset-commit.ts';
import { WriteTxnMarkersRequest, WriteTxnMarkersResponse } from './messages/write-txn-markers.ts';
import { ShareAcknowledgeRequest, ShareAcknowledgeResponse } from './messages/share-acknowledge.ts';
import { ShareFetchRequest, ShareFetchResponse } from './messages/share-fetch.ts';
import {
  AlterShareGroupOffsetsRequest,
  AlterShareGroupOffsetsResponse,
  DeleteShareGroupOffsetsRequest,
  DeleteShareGroupOffsetsResponse,
  DescribeShareGroupOffsetsRequest,
  DescribeShareGroupOffsetsResponse,
} from './messages/share-group-offsets.ts';
import { ShareGroupDescribeRequest, ShareGroupDescribeResponse } from './messages/share-group-describe.ts';
import { ShareGroupHeartbeatRequest, ShareGroupHeartbeatResponse } from './messages/share-group-heartbeat.ts';

const pairs: ReadonlyArray<readonly [MessageSpec, MessageSpec]> = [
  [ProduceRequest, ProduceResponse],
  [FetchRequest, FetchResponse],
  [ListOffsetsRequest, ListOffsetsResponse],
  [MetadataRequest, MetadataResponse],
  [OffsetCommitRequest, OffsetCommitResponse],
  [OffsetFetchRequest, OffsetFetchResponse],
  [FindCoordinatorRequest, FindCoordinatorResponse],
  [JoinGroupRequest, JoinGroupResponse],
  [HeartbeatRequest, HeartbeatResponse],
  [LeaveGroupRequest, LeaveGroupResponse],
  [SyncGroupRequest, SyncGroupResponse],
  [DescribeGroupsRequest, DescribeGroupsResponse],
  [ListGroupsRequest, ListGroupsResponse],
  [SaslHandshakeRequest, SaslHandshakeResponse],
  [ApiVersionsRequest, ApiVersionsResponse],
  [CreateTopicsRequest, CreateTopicsResponse],
  [DeleteTopicsRequest, DeleteTopicsResponse],
  [DeleteRecordsRequest, DeleteRecordsResponse],
  [InitProducerIdRequest, InitProducerIdResponse],
  [OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse],
  [AddPartitionsToTxnRequest, AddPartitionsToTxnResponse],
  [AddOffsetsToTxnRequest, AddOffsetsToTxnResponse],
  [EndTxnRequest, EndTxnResponse],
  [WriteTxnMarkersRequest, WriteTxnMarkersResponse],
  [TxnOffsetCommitRequest, TxnOffsetCommitResponse],
  [DescribeAclsRequest, DescribeAclsResponse],
  [CreateAclsRequest, CreateAclsResponse],
  [DeleteAclsRequest, DeleteAclsResponse],
  [DescribeConfigsRequest, DescribeConfigsResponse],
  [AlterConfigsRequest, AlterConfigsResponse],
  [DescribeLogDirsRequest, DescribeLogDirsResponse],
  [SaslAuthenticateRequest, SaslAuthenticateResponse],
  [CreatePartitionsRequest, CreatePartitionsResponse],
  [DeleteGroupsRequest, DeleteGroupsResponse],
  [ElectLeadersRequest, ElectLeadersResponse],
  [IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse],
  [AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse],
  [ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse],
  [OffsetDeleteRequest, OffsetDeleteResponse],
  [UpdateFeaturesRequest, UpdateFeaturesResponse],
  [DescribeClusterRequest, DescribeClusterResponse],
  [ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse],
  [ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse],
  [ShareGroupHeartbeatRequest, ShareGroupHeartbeatResponse],
  [ShareGroupDescribeRequest, ShareGroupDescribeResponse],
  [ShareFetchRequest, ShareFetchResponse],
  [ShareAcknowledgeRequest, ShareAcknowledgeResponse],
  [DescribeShareGroupOffsetsRequest, DescribeShareGroupOffsetsResponse],
  [AlterShareGroupOffsetsRequest, AlterShareGroupOffsetsResponse],
  [DeleteShareGroupOffsetsRequest, DeleteShareGroupOffsetsResponse],
  [DescribeProducersRequest, DescribeProducersResponse],
  [DescribeTransactionsRequest, DescribeTransactionsResponse],
  [ListTransactionsRequest, ListTransactionsResponse],
  [DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse],
  [AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse],
  [DescribeClientQuotasRequest, DescribeClientQuotasResponse],
  [AlterClientQuotasRequest, AlterClientQuotasResponse],
];

// --- well-formedness -------------------------------------------------------------------------

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const PRIMITIVES = new Set(['bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'uuid', 'string', 'bytes', 'records']);
const INT_RANGES: Record<string, readonly [number, number]> = {
  int8: [-0x80, 0x7f],
  int16: [-0x8000, 0x7fff],
  uint16: [0, 0xffff],
  int32: [-0x8000_0000, 0x7fff_ffff],
  uint32: [0, 0xffff_ffff],
  int64: [-(2 ** 63), 2 ** 63],
};

function checkDefault(f: FieldSpec, where: string): void {
  const d = f.default;
  if (d === undefined) return;
  const t = f.type;
  const nullable = f.type === 'records' || parseVersions(f.nullableVersions).lo <= parseVersions(f.nullableVersions).hi;
  const fail = (why: string): never => {
    throw new Error(`${where}: default ${JSON.stringify(d)} ${why}`);
  };
  if (d === null) {
    if (!nullable) fail('is null but the field is never nullable');
    return;
  }
  if (typeof t !== 'string') {
    if (!(Array.isArray(d) && d.length === 0)) fail('must be null or [] for an array or struct');
    if ('struct' in t) fail('must be null for a struct');
    return;
  }
  if (t in INT_RANGES) {
    const [lo, hi] = INT_RANGES[t];
    if (!Number.isInteger(d) || (d as number) < lo || (d as number) > hi) fail(`is not a ${t}`);
  } else if (t === 'float64') {
    if (typeof d !== 'number') fail('is not a number');
  } else if (t === 'bool') {
    if (typeof d !== 'boolean') fail('is not a boolean');
  } else if (t === 'string') {
    if (typeof d !== 'string') fail('is not a string');
  } else if (t === 'uuid') {
    if (typeof d !== 'string' || !/^[0-9a-f]{32}$/.test(d)) fail('is not a 32-char lowercase hex uuid');
  } else if (!(d instanceof Uint8Array)) {
    fail('is not a Uint8Array');
  }
}

function checkFields(fields: readonly FieldSpec[], flexibleFrom: number | null, where: string): void {
  const names = new Set<string>();
  const tags = new Set<number>();
  for (const f of fields) {
    const at = `${where}.${f.name}`;
    if (typeof f.name !== 'string' || !IDENTIFIER.test(f.name) || f.name === '_unknownTaggedFields') {
      throw new Error(`${at}: invalid field name`);
    }
    if (names.has(f.name)) throw new Error(`${at}: duplicate field name`);
    names.add(f.name);
    parseVersions(f.versions);
    parseVersions(f.nullableVersions);
    const t = f.type;
    if (typeof t === 'string') {
      if (!PRIMITIVES.has(t)) throw new Error(`${at}: unknown type ${JSON.stringify(t)}`);
    } else if ('arrayOf' in t) {
      if (!PRIMITIVES.has(t.arrayOf) || t.arrayOf === 'records') throw new Error(`${at}: invalid array element type`);
    } else if ('arrayOfStruct' in t) {
      checkFields(t.arrayOfStruct, flexibleFrom, `${at}[]`);
    } else if ('struct' in t) {
      checkFields(t.struct, flexibleFrom, at);
    } else {
      throw new Error(`${at}: invalid type`);
    }
    if (f.taggedVersions !== undefined || f.tag !== undefined) {
      const tv = parseVersions(f.taggedVersions);
      if (!Number.isInteger(f.tag) || (f.tag as number) < 0) throw new Error(`${at}: a tagged field needs a non-negative integer tag`);
      if (tags.has(f.tag as number)) throw new Error(`${at}: duplicate tag ${f.tag}`);
      tags.add(f.tag as number);
      if (flexibleFrom === null || tv.lo < flexibleFrom) throw new Error(`${at}: tagged in a non-flexible version`);
    }
    checkDefault(f, at);
  }
}

/** Throws an Error describing the first problem found in a message description. */
export function validateMessageSpec(spec: MessageSpec): void {
  const where = `${spec.name}${spec.type === 'request' ? 'Request' : 'Response'}`;
  if (apiKeyName(spec.apiKey) !== spec.name) throw new Error(`${where}: API key ${spec.apiKey} is ${apiKeyName(spec.apiKey)}`);
  const [lo, hi] = spec.validVersions;
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi < lo) throw new Error(`${where}: invalid validVersions`);
  if (spec.flexibleVersions !== null && !Number.isInteger(spec.flexibleVersions)) throw new Error(`${where}: invalid flexibleVersions`);
  checkFields(spec.fields, spec.flexibleVersions, where);
}

// --- the registry ----------------------------------------------------------------------------

function byApiKey(type: 'request' | 'response'): ReadonlyMap<number, MessageSpec> {
  const m = new Map<number, MessageSpec>();
  for (const pair of pairs) {
    const spec = type === 'request' ? pair[0] : pair[1];
    if (spec.type !== type) throw new Error(`${spec.name}: expected a ${type} description`);
    if (m.has(spec.apiKey)) throw new Error(`API key ${spec.apiKey} registered twice`);
    validateMessageSpec(spec);
    m.set(spec.apiKey, spec);
  }
  return m;
}

export const requestSpecs: ReadonlyMap<number, MessageSpec> = byApiKey('request');
export const responseSpecs: ReadonlyMap<number, MessageSpec> = byApiKey('response');

for (const [req, res] of pairs) {
  if (
    req.apiKey !== res.apiKey ||
    req.validVersions[0] !== res.validVersions[0] ||
    req.validVersions[1] !== res.validVersions[1] ||
    req.flexibleVersions !== res.flexibleVersions
  ) {
    throw new Error(`${req.name}: request and response disagree on API key, versions or flexible versions`);
  }
}

/**
 * Whether (apiKey, version) uses the flexible encoding (compact types, tagged fields, header v2 /
 * v1). Versions above the served range count as flexible when past the first flexible version,
 * as in Kafka, so an unsupported newer request's header still parses. False for unknown keys.
 */
export function isFlexible(apiKey: number, version: number): boolean {
  const spec = requestSpecs.get(apiKey);
  return spec !== undefined && spec.flexibleVersions !== null && version >= spec.flexibleVersions;
}

/** True when `version` is within the served range of `apiKey`. */
export function isServed(apiKey: number, version: number): boolean {
  const spec = requestSpecs.get(apiKey);
  return spec !== undefined && version >= spec.validVersions[0] && version <= spec.validVersions[1];
}
