// DescribeUserScramCredentials (key 50), v0.
// Behavior as Kafka: DESCRIBE on the cluster (else CLUSTER_AUTHORIZATION_FAILED for the request);
// then each user's mechanisms and iteration counts from the broker's SCRAM credential store
// (never salts or keys); null or empty users = every user; an unknown user RESOURCE_NOT_FOUND, a
// repeated one DUPLICATE_RESOURCE (security/sasl/scram-admin.ts). Works with or without an
// authorizer, as in Kafka.

import { ErrorCode } from '@sluice/protocol';
import { describeUserScramCredentials } from '../security/sasl/scram-admin.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const describeUserScramCredentialsHandler = defineHandler({
  apiKey: 50,
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, request) {
    if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.', results: [] };
    }
    const results = describeUserScramCredentials(ctx.broker.scramCredentials, request.users);
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      results: results.map((r) => ({ ...r, credentialInfos: [...r.credentialInfos] })),
    };
  },
});
