// DeleteAcls (key 31), v0–3.
// Behavior as Kafka's AclApis: ALTER on the cluster (else every filter CLUSTER_AUTHORIZATION_FAILED);
// with no authorizer, SECURITY_DISABLED "No Authorizer is configured." for each; otherwise one
// result per filter, in order, listing the bindings it matched (deleted in one durable change).
// Version notes: v1 pattern types; v2+ flexible; v3 USER resources.

import { ErrorCode } from '@sluice/protocol';
import { deleteAclsMatchingAcl, filterFromWire } from '../security/acl/acl-wire.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const deleteAclsHandler = defineHandler({
  apiKey: 31,
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx, request) {
    const all = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      filterResults: request.filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })),
    });
    if (!authorize(ctx, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME))
      return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
    const authorizer = ctx.broker.authorizer;
    if (authorizer === null) return all(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
    const results = await authorizer.deleteAcls(request.filters.map((f) => filterFromWire({ ...f, patternTypeFilter: f.patternTypeFilter ?? 3 })));
    const deleted = results.reduce((n, r) => n + r.deleted.length, 0);
    if (deleted > 0) ctx.broker.logger.info({ principal: ctx.session.principal, deleted }, 'ACLs deleted');
    return {
      throttleTimeMs: 0,
      filterResults: results.map((r) => ({ errorCode: r.errorCode, errorMessage: r.errorMessage, matchingAcls: r.deleted.map(deleteAclsMatchingAcl) })),
    };
  },
});
