// AlterUserScramCredentials (key 51), v0.
// Behavior as Kafka: ALTER on the cluster (else every user CLUSTER_AUTHORIZATION_FAILED); then
// Kafka's ScramControlManager rules per user (security/sasl/scram-admin.ts), stored durably in the
// broker's SCRAM credential store — the one SCRAM logins read, so a user created here can log in
// on its next connection. Clients send the salted password, never the password itself.

import { ErrorCode } from '@sluice/protocol';
import { alterUserScramCredentials } from '../security/sasl/scram-admin.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const alterUserScramCredentialsHandler = defineHandler({
  apiKey: 51,
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, request) {
    if (!authorize(ctx, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)) {
      const users = [...new Set([...request.deletions, ...request.upsertions].map((u) => u.name))];
      return {
        throttleTimeMs: 0,
        results: users.map((user) => ({ user, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.' })),
      };
    }
    const results = await alterUserScramCredentials(ctx.broker.scramCredentials, request);
    const changed = results.filter((r) => r.errorCode === ErrorCode.NONE).map((r) => r.user);
    if (changed.length > 0) ctx.broker.logger.info({ principal: ctx.session.principal, users: changed }, 'SCRAM credentials changed');
    return { throttleTimeMs: 0, results };
  },
});
