// How handlers ask the authorizer, as Kafka's AuthHelper: `authorize` for one action (a denial is
// counted per resource type and logged once per interval per principal, operation and resource),
// `authorizeQuietly` where Kafka passes logIfDenied=false (a topic left out of an all-topics
// answer is not a denied request), `authorizedOperations` for the bit fields Kafka reports.
// With no authorizer configured every check passes, and authorized operations are every
// operation the resource type supports (Kafka's AuthHelper without an authorizer).

import { ErrorCode } from '@sluice/protocol';
import { RESOURCE_BROKER as CONFIG_RESOURCE_BROKER, RESOURCE_GROUP as CONFIG_RESOURCE_GROUP, RESOURCE_TOPIC as CONFIG_RESOURCE_TOPIC } from '../config.ts';
import { AclOperation, ResourceType } from '../security/acl/acl-types.ts';
import { SUPPORTED_OPERATIONS } from '../security/acl/authorizer.ts';
import type { RequestContext } from './handler.ts';

export { AclOperation, ResourceType };

/** The name of the one CLUSTER resource, as Kafka (`kafka-cluster`). */
export const CLUSTER_NAME = 'kafka-cluster';

/** The authorized-operations field when the client did not ask for it. */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

const OPERATION_NAMES = Object.fromEntries(Object.entries(AclOperation).map(([k, v]) => [v, k]));
const RESOURCE_TYPE_NAMES = Object.fromEntries(Object.entries(ResourceType).map(([k, v]) => [v, k]));

export function authorize(ctx: RequestContext, operation: number, resourceType: number, name: string): boolean {
  const authorizer = ctx.broker.authorizer;
  if (authorizer === null || authorizer.authorize(ctx.session, operation, resourceType, name)) return true;
  const { broker, session } = ctx;
  broker.metrics.security.denied(resourceType);
  const due = broker.denialLog.record(session.principal, session.host, operation, resourceType, name);
  if (due !== null) {
    broker.logger.info(
      {
        principal: session.principal,
        host: session.host,
        operation: OPERATION_NAMES[operation],
        resourceType: RESOURCE_TYPE_NAMES[resourceType],
        resource: name,
        apiKey: ctx.header.apiKey,
        suppressedSinceLast: due.suppressed,
      },
      'authorization denied',
    );
  }
  return false;
}

/** A check whose denial only filters an answer (Kafka's logIfDenied = false): neither counted nor logged. */
export function authorizeQuietly(ctx: RequestContext, operation: number, resourceType: number, name: string): boolean {
  const authorizer = ctx.broker.authorizer;
  return authorizer === null || authorizer.authorize(ctx.session, operation, resourceType, name);
}

/**
 * AlterConfigs / IncrementalAlterConfigs, after Kafka's preprocessing: ALTER_CONFIGS on the topic
 * (TOPIC_AUTHORIZATION_FAILED) or, for broker resources, on the cluster
 * (CLUSTER_AUTHORIZATION_FAILED); null when allowed. Kafka sends these without a message.
 */
export function alterConfigsDenied(
  ctx: RequestContext,
  resource: { readonly resourceType: number; readonly resourceName: string },
): { errorCode: number; errorMessage: null } | null {
  if (resource.resourceType === CONFIG_RESOURCE_TOPIC) {
    return authorize(ctx, AclOperation.ALTER_CONFIGS, ResourceType.TOPIC, resource.resourceName)
      ? null
      : { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null };
  }
  if (resource.resourceType === CONFIG_RESOURCE_BROKER) {
    return authorize(ctx, AclOperation.ALTER_CONFIGS, ResourceType.CLUSTER, CLUSTER_NAME)
      ? null
      : { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null };
  }
  if (resource.resourceType === CONFIG_RESOURCE_GROUP) {
    return authorize(ctx, AclOperation.ALTER_CONFIGS, ResourceType.GROUP, resource.resourceName)
      ? null
      : { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null };
  }
  return null;
}

/** Kafka's `authorizeByResourceType`: may the principal do `operation` on some resource of the type? */
export function authorizeByResourceType(ctx: RequestContext, operation: number, resourceType: number): boolean {
  const authorizer = ctx.broker.authorizer;
  return authorizer === null || authorizer.authorizeByResourceType(ctx.session, operation, resourceType);
}

/** The authorized-operations bit field of a resource, as Kafka reports it. */
export function authorizedOperations(ctx: RequestContext, resourceType: number, name: string): number {
  const authorizer = ctx.broker.authorizer;
  if (authorizer !== null) return authorizer.authorizedOperations(ctx.session, resourceType, name);
  let bits = 0;
  for (const op of SUPPORTED_OPERATIONS[resourceType] ?? []) bits |= 1 << op;
  return bits;
}
