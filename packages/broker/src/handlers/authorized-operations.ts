// Authorized operations (KIP-430) for Metadata and DescribeCluster, when a request asks for them.
//
// Sluice has no authorizer, so every client may do everything; Kafka without an authorizer
// answers the full set of operations a resource type supports (AclOperation codes as bits of a
// 32-bit field), and clients count them (librdkafka's 0081_admin expects 8 for a topic and 7 for
// the cluster). Not asked for: INT32_MIN, "omitted".

/** Kafka's AclOperation codes. */
const READ = 3;
const WRITE = 4;
const CREATE = 5;
const DELETE = 6;
const ALTER = 7;
const DESCRIBE = 8;
const CLUSTER_ACTION = 9;
const DESCRIBE_CONFIGS = 10;
const ALTER_CONFIGS = 11;
const IDEMPOTENT_WRITE = 12;

const bits = (ops: readonly number[]): number => ops.reduce((field, op) => field | (1 << op), 0);

export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;
export const TOPIC_OPERATIONS = bits([READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS]);
export const CLUSTER_OPERATIONS = bits([CREATE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE, ALTER, DESCRIBE]);
