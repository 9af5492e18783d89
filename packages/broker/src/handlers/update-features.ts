// UpdateFeatures (key 57).
// Behavior: as Kafka's FeatureControlManager.updateFeatures, against the features this broker
// supports (features.ts): all updates are checked first and applied together, or none is; the
// first refusal is the top-level INVALID_UPDATE_VERSION with Kafka's message ("Invalid update
// version <n> for feature <f>. <reason>"). validateOnly checks without applying. v0's
// allowDowngrade means a safe downgrade. A feature named twice is INVALID_REQUEST (Kafka keys the
// request's updates by feature name, so its clients never send that). Applied levels persist in the first log dir and
// show in ApiVersions at once, with a new finalized epoch. Cluster mode: the levels are the
// cluster's (etcd, one compare-and-swap checked against the levels read), so every broker's
// ApiVersions shows them, the epoch being the etcd key's mod revision.
// Authorization as Kafka (the controller's ControllerApis, where brokers forward it): ALTER on the
// cluster, else the request's error response: CLUSTER_AUTHORIZATION_FAILED with no per-feature
// results.
// Version notes: served v0–2, all flexible. v1 upgradeType and validateOnly; v2 drops the
// per-feature results (v0–1 repeat the top-level error for every feature).

import { ErrorCode } from '@sluice/protocol';
import { type FeatureUpdate, InvalidFeatureUpdate, UpgradeType } from '../features.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const updateFeaturesHandler = defineHandler({
  apiKey: 57,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    if (!authorize(ctx, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)) {
      // Kafka's message names the request (ClusterAuthorizationException "Request … is not authorized.").
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Request is not authorized.', results: [] };
    }
    const version = ctx.header.apiVersion;
    const updates: FeatureUpdate[] = request.featureUpdates.map((u) => ({
      feature: u.feature,
      maxVersionLevel: u.maxVersionLevel,
      upgradeType: version === 0 ? (u.allowDowngrade ? UpgradeType.SAFE_DOWNGRADE : UpgradeType.UPGRADE) : (u.upgradeType ?? UpgradeType.UPGRADE),
    }));
    const answer = (errorCode: number, errorMessage: string | null) => ({
      throttleTimeMs: 0,
      errorCode,
      errorMessage,
      results: updates.map((u) => ({ feature: u.feature, errorCode, errorMessage })),
    });
    const names = new Set<string>();
    for (const u of updates) {
      if (names.has(u.feature)) return answer(ErrorCode.INVALID_REQUEST, `Feature ${u.feature} was specified more than once.`);
      names.add(u.feature);
    }
    try {
      await ctx.broker.features.update(updates, request.validateOnly ?? false);
    } catch (err) {
      if (err instanceof InvalidFeatureUpdate) return answer(ErrorCode.INVALID_UPDATE_VERSION, err.message);
      throw err;
    }
    return answer(ErrorCode.NONE, null);
  },
});
