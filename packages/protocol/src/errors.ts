// Two kinds of error live here, and they must not be confused:
// - ProtocolError: our codec could not frame, decode or encode bytes (a malformed or lying frame,
//   an unknown API, a value that cannot be written). It is thrown; the broker answers or closes.
// - The Kafka error table: the int16 error codes a broker puts in responses (Kafka's Errors enum).
//   Codes and names are wire facts and never change; `retriable` says whether Kafka's client
//   treats the error as a RetriableException; `message` is our one-line description.

/** Why the codec gave up. `code` is a stable string; `offset` is the byte position, when known. */
export class ProtocolError extends Error {
  readonly code: string;
  readonly offset: number | undefined;

  constructor(code: string, message: string, offset?: number, options?: { cause?: unknown }) {
    super(offset === undefined ? message : `${message} (at byte ${offset})`, options);
    this.name = 'ProtocolError';
    this.code = code;
    this.offset = offset;
  }
}

export interface KafkaError {
  readonly name: string;
  readonly code: number;
  readonly retriable: boolean;
  readonly message: string;
}

// [name, code, retriable, message], in code order. Source of the facts: Kafka's
// clients/.../common/protocol/Errors.java and the RetriableException hierarchy.
const table = [
  ['UNKNOWN_SERVER_ERROR', -1, false, 'The server hit an unexpected error while processing the request.'],
  ['NONE', 0, false, 'No error.'],
  ['OFFSET_OUT_OF_RANGE', 1, false, 'The requested offset is outside the range of offsets the server holds.'],
  ['CORRUPT_MESSAGE', 2, true, 'The message failed its CRC check, has an invalid size, has a null key on a compacted topic, or is otherwise corrupt.'],
  ['UNKNOWN_TOPIC_OR_PARTITION', 3, true, 'This server does not host this topic-partition.'],
  ['INVALID_FETCH_SIZE', 4, false, 'The requested fetch size is invalid.'],
  ['LEADER_NOT_AVAILABLE', 5, true, 'The partition has no leader right now; a leader election is in progress.'],
  ['NOT_LEADER_OR_FOLLOWER', 6, true, 'This broker is not the leader (or, for requests to any replica, not a replica) of the partition.'],
  ['REQUEST_TIMED_OUT', 7, true, 'The request timed out.'],
  ['BROKER_NOT_AVAILABLE', 8, false, 'The broker is not available.'],
  ['REPLICA_NOT_AVAILABLE', 9, true, 'The replica is not available for the requested topic-partition.'],
  ['MESSAGE_TOO_LARGE', 10, false, 'The request contained a message larger than the server accepts.'],
  ['STALE_CONTROLLER_EPOCH', 11, false, 'The controller moved to another broker.'],
  ['OFFSET_METADATA_TOO_LARGE', 12, false, 'The offset commit metadata is too large.'],
  ['NETWORK_EXCEPTION', 13, true, 'The server disconnected before a response was received.'],
  ['COORDINATOR_LOAD_IN_PROGRESS', 14, true, 'The coordinator is still loading and cannot serve requests yet.'],
  ['COORDINATOR_NOT_AVAILABLE', 15, true, 'The coordinator is not available.'],
  ['NOT_COORDINATOR', 16, true, 'This broker is not the coordinator.'],
  ['INVALID_TOPIC_EXCEPTION', 17, false, 'The request tried to operate on an invalid topic.'],
  ['RECORD_LIST_TOO_LARGE', 18, false, 'The request contained a record batch larger than the configured segment size.'],
  ['NOT_ENOUGH_REPLICAS', 19, true, 'Messages were rejected: fewer in-sync replicas than required.'],
  ['NOT_ENOUGH_REPLICAS_AFTER_APPEND', 20, true, 'Messages were written, but to fewer in-sync replicas than required.'],
  ['INVALID_REQUIRED_ACKS', 21, false, 'The produce request has an invalid acks value.'],
  ['ILLEGAL_GENERATION', 22, false, 'The group generation id is not valid.'],
  [
    'INCONSISTENT_GROUP_PROTOCOL',
    23,
    false,
    "The member's protocols are incompatible with the group's, or the first member joined with an empty protocol type or list.",
  ],
  ['INVALID_GROUP_ID', 24, false, 'The group id is invalid.'],
  ['UNKNOWN_MEMBER_ID', 25, false, 'The coordinator does not know this member.'],
  ['INVALID_SESSION_TIMEOUT', 26, false, 'The session timeout is outside group.min.session.timeout.ms .. group.max.session.timeout.ms.'],
  ['REBALANCE_IN_PROGRESS', 27, false, 'The group is rebalancing; the member must rejoin.'],
  ['INVALID_COMMIT_OFFSET_SIZE', 28, false, 'The committed offset data size is not valid.'],
  ['TOPIC_AUTHORIZATION_FAILED', 29, false, 'Not authorized to access the topic.'],
  ['GROUP_AUTHORIZATION_FAILED', 30, false, 'Not authorized to access the group.'],
  ['CLUSTER_AUTHORIZATION_FAILED', 31, false, 'Not authorized for this cluster operation.'],
  ['INVALID_TIMESTAMP', 32, false, 'The message timestamp is outside the accepted range.'],
  ['UNSUPPORTED_SASL_MECHANISM', 33, false, 'The broker does not support the requested SASL mechanism.'],
  ['ILLEGAL_SASL_STATE', 34, false, 'The request is not valid in the current SASL state.'],
  ['UNSUPPORTED_VERSION', 35, false, 'This API version is not supported.'],
  ['TOPIC_ALREADY_EXISTS', 36, false, 'A topic with this name already exists.'],
  ['INVALID_PARTITIONS', 37, false, 'The number of partitions is invalid.'],
  ['INVALID_REPLICATION_FACTOR', 38, false, 'The replication factor is below 1 or larger than the number of available brokers.'],
  ['INVALID_REPLICA_ASSIGNMENT', 39, false, 'The replica assignment is invalid.'],
  ['INVALID_CONFIG', 40, false, 'The configuration is invalid.'],
  ['NOT_CONTROLLER', 41, true, 'This broker is not the controller of the cluster.'],
  ['INVALID_REQUEST', 42, false, 'The request is malformed or was sent to an incompatible broker; see the broker log.'],
  ['UNSUPPORTED_FOR_MESSAGE_FORMAT', 43, false, "The broker's message format version does not support the request."],
  ['POLICY_VIOLATION', 44, false, 'The request parameters violate the configured policy.'],
  ['OUT_OF_ORDER_SEQUENCE_NUMBER', 45, false, 'The broker received an out-of-order sequence number.'],
  ['DUPLICATE_SEQUENCE_NUMBER', 46, false, 'The broker received a duplicate sequence number.'],
  ['INVALID_PRODUCER_EPOCH', 47, false, 'The producer used an old epoch.'],
  ['INVALID_TXN_STATE', 48, false, 'The producer attempted a transactional operation in an invalid state.'],
  ['INVALID_PRODUCER_ID_MAPPING', 49, false, 'The producer id is not currently assigned to its transactional id.'],
  ['INVALID_TRANSACTION_TIMEOUT', 50, false, 'The transaction timeout exceeds transaction.max.timeout.ms.'],
  ['CONCURRENT_TRANSACTIONS', 51, true, 'Another operation on the same transaction is in progress.'],
  ['TRANSACTION_COORDINATOR_FENCED', 52, false, 'The transaction coordinator sending the marker is no longer the current one.'],
  ['TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 53, false, 'Not authorized for this transactional id.'],
  ['SECURITY_DISABLED', 54, false, 'Security features are disabled.'],
  ['OPERATION_NOT_ATTEMPTED', 55, false, 'The broker did not attempt this operation because another part of the batch failed.'],
  ['KAFKA_STORAGE_ERROR', 56, true, 'A disk error occurred while accessing the log.'],
  ['LOG_DIR_NOT_FOUND', 57, false, 'The log directory is not in the broker configuration.'],
  ['SASL_AUTHENTICATION_FAILED', 58, false, 'SASL authentication failed.'],
  ['UNKNOWN_PRODUCER_ID', 59, false, 'The broker has no state for this producer id (its records may have been deleted by retention).'],
  ['REASSIGNMENT_IN_PROGRESS', 60, false, 'A partition reassignment is in progress.'],
  ['DELEGATION_TOKEN_AUTH_DISABLED', 61, false, 'Delegation tokens are not enabled.'],
  ['DELEGATION_TOKEN_NOT_FOUND', 62, false, 'The delegation token was not found.'],
  ['DELEGATION_TOKEN_OWNER_MISMATCH', 63, false, 'The principal is not a valid owner or renewer of the token.'],
  ['DELEGATION_TOKEN_REQUEST_NOT_ALLOWED', 64, false, 'Delegation token requests are not allowed on this channel.'],
  ['DELEGATION_TOKEN_AUTHORIZATION_FAILED', 65, false, 'Delegation token authorization failed.'],
  ['DELEGATION_TOKEN_EXPIRED', 66, false, 'The delegation token has expired.'],
  ['INVALID_PRINCIPAL_TYPE', 67, false, 'The principal type is not supported.'],
  ['NON_EMPTY_GROUP', 68, false, 'The group is not empty.'],
  ['GROUP_ID_NOT_FOUND', 69, false, 'The group does not exist.'],
  ['FETCH_SESSION_ID_NOT_FOUND', 70, true, 'The fetch session was not found.'],
  ['INVALID_FETCH_SESSION_EPOCH', 71, true, 'The fetch session epoch is invalid.'],
  ['LISTENER_NOT_FOUND', 72, true, 'The leader has no listener matching the one the metadata request came in on.'],
  ['TOPIC_DELETION_DISABLED', 73, false, 'Topic deletion is disabled.'],
  ['FENCED_LEADER_EPOCH', 74, true, "The request's leader epoch is older than the broker's."],
  ['UNKNOWN_LEADER_EPOCH', 75, true, "The request's leader epoch is newer than the broker's."],
  ['UNSUPPORTED_COMPRESSION_TYPE', 76, false, "The client does not support the partition's compression type."],
  ['STALE_BROKER_EPOCH', 77, false, 'The broker epoch has changed.'],
  ['OFFSET_NOT_AVAILABLE', 78, true, 'The high watermark has not caught up after a leader election, so offsets are not yet reliable.'],
  ['MEMBER_ID_REQUIRED', 79, false, 'The member must rejoin with the member id the coordinator assigned.'],
  ['PREFERRED_LEADER_NOT_AVAILABLE', 80, true, 'The preferred leader is not available.'],
  ['GROUP_MAX_SIZE_REACHED', 81, false, 'The group has reached its maximum size.'],
  ['FENCED_INSTANCE_ID', 82, false, 'Another member registered with the same group.instance.id and a different member id.'],
  ['ELIGIBLE_LEADERS_NOT_AVAILABLE', 83, true, 'No eligible leader is available for the partition.'],
  ['ELECTION_NOT_NEEDED', 84, true, 'No leader election is needed for the partition.'],
  ['NO_REASSIGNMENT_IN_PROGRESS', 85, false, 'No partition reassignment is in progress.'],
  ['GROUP_SUBSCRIBED_TO_TOPIC', 86, false, 'Cannot delete offsets of a topic the group is subscribed to.'],
  ['INVALID_RECORD', 87, false, 'The record failed broker-side validation.'],
  ['UNSTABLE_OFFSET_COMMIT', 88, true, 'There are unstable offsets that must be cleared first.'],
  ['THROTTLING_QUOTA_EXCEEDED', 89, true, 'The throttling quota has been exceeded.'],
  ['PRODUCER_FENCED', 90, false, 'A newer producer with the same transactional id has fenced this one.'],
  ['RESOURCE_NOT_FOUND', 91, false, 'The request refers to a resource that does not exist.'],
  ['DUPLICATE_RESOURCE', 92, false, 'The request refers to the same resource twice.'],
  ['UNACCEPTABLE_CREDENTIAL', 93, false, 'The credential does not meet the acceptance criteria.'],
  ['INCONSISTENT_VOTER_SET', 94, false, 'The sender or receiver of a voter-only request is not an expected voter.'],
  ['INVALID_UPDATE_VERSION', 95, false, 'The update version is invalid.'],
  ['FEATURE_UPDATE_FAILED', 96, false, 'Finalized features could not be updated because of a server error.'],
  ['PRINCIPAL_DESERIALIZATION_FAILURE', 97, false, 'The forwarded request principal could not be deserialized.'],
  ['SNAPSHOT_NOT_FOUND', 98, false, 'The requested snapshot was not found.'],
  ['POSITION_OUT_OF_RANGE', 99, false, 'The requested position is outside the snapshot.'],
  ['UNKNOWN_TOPIC_ID', 100, true, 'This server does not host this topic id.'],
  ['DUPLICATE_BROKER_REGISTRATION', 101, false, 'This broker id is already registered.'],
  ['BROKER_ID_NOT_REGISTERED', 102, false, 'This broker id is not registered.'],
  ['INCONSISTENT_TOPIC_ID', 103, true, "The log's topic id does not match the request's."],
  ['INCONSISTENT_CLUSTER_ID', 104, false, "The request's cluster id does not match the server's."],
  ['TRANSACTIONAL_ID_NOT_FOUND', 105, false, 'The transactional id was not found.'],
  ['FETCH_SESSION_TOPIC_ID_ERROR', 106, true, 'The fetch session used topic ids inconsistently.'],
  ['INELIGIBLE_REPLICA', 107, false, 'The new ISR contains an ineligible replica.'],
  ['NEW_LEADER_ELECTED', 108, false, 'The partition state was updated but the leader changed.'],
  ['OFFSET_MOVED_TO_TIERED_STORAGE', 109, false, 'The requested offset has moved to tiered storage.'],
  ['FENCED_MEMBER_EPOCH', 110, false, 'The member epoch is fenced; the member must give up its partitions and rejoin.'],
  ['UNRELEASED_INSTANCE_ID', 111, false, 'Another member still uses this instance id; it must leave first.'],
  ['UNSUPPORTED_ASSIGNOR', 112, false, 'The group does not support this assignor or version range.'],
  ['STALE_MEMBER_EPOCH', 113, false, 'The member epoch is stale; retry with the epoch from the latest heartbeat.'],
  ['MISMATCHED_ENDPOINT_TYPE', 114, false, 'The request was sent to the wrong type of endpoint.'],
  ['UNSUPPORTED_ENDPOINT_TYPE', 115, false, 'This endpoint type is not supported yet.'],
  ['UNKNOWN_CONTROLLER_ID', 116, false, 'This controller id is not known.'],
  ['UNKNOWN_SUBSCRIPTION_ID', 117, false, 'The telemetry subscription id is invalid or outdated.'],
  ['TELEMETRY_TOO_LARGE', 118, false, 'The telemetry push is larger than the broker accepts.'],
  ['INVALID_REGISTRATION', 119, false, 'The controller considers the broker registration invalid.'],
  ['TRANSACTION_ABORTABLE', 120, false, 'The transaction hit an error; abort it to keep using this transactional id.'],
  ['INVALID_RECORD_STATE', 121, false, 'The record state is invalid; the delivery acknowledgement was not completed.'],
  ['SHARE_SESSION_NOT_FOUND', 122, true, 'The share session was not found.'],
  ['INVALID_SHARE_SESSION_EPOCH', 123, true, 'The share session epoch is invalid.'],
  ['FENCED_STATE_EPOCH', 124, false, 'The share-group state epoch does not match.'],
  ['INVALID_VOTER_KEY', 125, false, "The voter key does not match the receiving replica's key."],
  ['DUPLICATE_VOTER', 126, false, 'The voter is already in the voter set.'],
  ['VOTER_NOT_FOUND', 127, false, 'The voter is not in the voter set.'],
  ['INVALID_REGULAR_EXPRESSION', 128, false, 'The regular expression is not valid.'],
  ['REBOOTSTRAP_REQUIRED', 129, false, 'Client metadata is stale; the client must rebootstrap.'],
  ['STREAMS_INVALID_TOPOLOGY', 130, false, 'The topology is invalid.'],
  ['STREAMS_INVALID_TOPOLOGY_EPOCH', 131, false, 'The topology epoch is invalid.'],
  ['STREAMS_TOPOLOGY_FENCED', 132, false, 'The topology epoch is outdated.'],
  ['SHARE_SESSION_LIMIT_REACHED', 133, true, 'The share session limit has been reached.'],
] as const satisfies ReadonlyArray<readonly [string, number, boolean, string]>;

export const kafkaErrors: readonly KafkaError[] = Object.freeze(
  table.map(([name, code, retriable, message]) => Object.freeze({ name, code, retriable, message })),
);

const byCode = new Map<number, KafkaError>(kafkaErrors.map((e) => [e.code, e]));

/** The table entry for a code, or undefined for a code Kafka does not define. */
export function errorByCode(code: number): KafkaError | undefined {
  return byCode.get(code);
}

type ErrorCodeTable = { readonly [E in (typeof table)[number] as E[0]]: E[1] };

/** `ErrorCode.UNKNOWN_TOPIC_OR_PARTITION === 3`: names exactly as Kafka's Errors enum. */
export const ErrorCode: ErrorCodeTable = Object.freeze(Object.fromEntries(kafkaErrors.map((e) => [e.name, e.code]))) as ErrorCodeTable;
