// DescribeAcls (key 29), v0–3.
// Behavior as Kafka's AclApis: DESCRIBE on the cluster (else CLUSTER_AUTHORIZATION_FAILED); with no
// authorizer configured, SECURITY_DISABLED "No Authorizer is configured."; otherwise the bindings
// matching the filter, grouped by resource pattern. An invalid filter (UNKNOWN elements) is
// INVALID_REQUEST.
// Version notes: v1 pattern types (v0 filters are LITERAL, so they never match a PREFIXED
// binding); v2+ flexible; v3 the USER resource type (older versions are not shown USER bindings).

import { ErrorCode } from '@sluice/protocol';
import { bindingFitsVersion, describeAclsResources, filterFromWire } from '../security/acl/acl-wire.ts';
import { invalidFilterReason } from '../security/acl/acl-types.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const describeAclsHandler = defineHandler({
  apiKey: 29,
  minVersion: 0,
  maxVersion: 3,
  handle(ctx, request) {
    const failed = (errorCode: number, errorMessage: string) => ({ throttleTimeMs: 0, errorCode, errorMessage, resources: [] });
    if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME))
      return failed(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
    const authorizer = ctx.broker.authorizer;
    if (authorizer === null) return failed(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
    const filter = filterFromWire({ ...request, patternTypeFilter: request.patternTypeFilter ?? 3 });
    const invalid = invalidFilterReason(filter);
    if (invalid !== null) return failed(ErrorCode.INVALID_REQUEST, invalid);
    const version = ctx.header.apiVersion;
    const bindings = authorizer.acls(filter).filter((b) => bindingFitsVersion(b, version));
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, resources: describeAclsResources(bindings) };
  },
});
