// CreateAcls (key 30), v0–3.
// Behavior as Kafka's AclApis: ALTER on the cluster (else every creation CLUSTER_AUTHORIZATION_FAILED);
// with no authorizer, SECURITY_DISABLED "No Authorizer is configured." for each; otherwise one
// result per creation, in order (an invalid binding INVALID_REQUEST with Kafka's message, an
// existing one succeeds without a copy), all stored in one durable change.
// Version notes: v1 pattern types (v0 creations are LITERAL); v2+ flexible; v3 USER resources.

import { ErrorCode } from '@sluice/protocol';
import { bindingFromCreation } from '../security/acl/acl-wire.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const createAclsHandler = defineHandler({
  apiKey: 30,
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx, request) {
    const all = (errorCode: number, errorMessage: string) => ({ throttleTimeMs: 0, results: request.creations.map(() => ({ errorCode, errorMessage })) });
    if (!authorize(ctx, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME))
      return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
    const authorizer = ctx.broker.authorizer;
    if (authorizer === null) return all(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
    const bindings = request.creations.map((c) => bindingFromCreation({ ...c, resourcePatternType: c.resourcePatternType ?? 3 }));
    const results = await authorizer.createAcls(bindings);
    ctx.broker.logger.info(
      { principal: ctx.session.principal, requested: bindings.length, failed: results.filter((r) => r.errorCode !== 0).length },
      'ACLs created',
    );
    return { throttleTimeMs: 0, results: results.map((r) => ({ errorCode: r.errorCode, errorMessage: r.errorMessage })) };
  },
});
