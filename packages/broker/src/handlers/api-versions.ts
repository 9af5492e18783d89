// ApiVersions (key 18).
// Behavior: lists every API this broker serves with its version range, derived from the handler
// registry. The response header is always v0 (see protocol's encodeResponse). As Kafka's
// KafkaApis does, a request that fails ApiVersionsRequest.isValid gets INVALID_REQUEST, and a v5
// request naming another cluster or node gets REBOOTSTRAP_REQUIRED; both answers carry no API
// list. (A version above ours never reaches here: the connection sends the v0 fallback.)
// Version notes: v3+ is flexible and carries the client's software name/version, which must match
// KIP-511's pattern; v3+ responses carry the supported and finalized features (tagged): we report
// `group.version` (KIP-848's consumer group protocol) supported 0-1 and finalized at 1, as a Kafka
// 4 cluster does, since ConsumerGroupHeartbeat/ConsumerGroupDescribe are always served here (the
// other features Kafka reports, metadata.version, kraft.version, transaction.version, describe
// machinery this broker does not have); v5 (KIP-1242) carries the cluster id and node id the client means to reach, both set or
// both unset (null / -1).

import { type ApiVersionsRequest, ErrorCode } from '@sluice/protocol';
import { defineHandler } from './handler.ts';

/** The features this broker supports (v3+), each with the range it can run. */
export const SUPPORTED_FEATURES = [{ name: 'group.version', minVersion: 0, maxVersion: 1 }];
/** The features in force, fixed for the life of the broker (there is no UpdateFeatures). */
export const FINALIZED_FEATURES = [{ name: 'group.version', minVersionLevel: 1, maxVersionLevel: 1 }];
/** The version of the finalized feature set; it never changes, so any non-negative constant. */
export const FINALIZED_FEATURES_EPOCH = 0;

/** KIP-511: what a client software name or version may look like. */
const SOFTWARE_NAME_OR_VERSION = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

/** Kafka's ApiVersionsRequest.isValid. */
export function isValidApiVersionsRequest(version: number, request: ApiVersionsRequest): boolean {
  // The ?? fallbacks are the fields' defaults, which the decoder gives versions that lack them.
  if (version >= 5 && ((request.clusterId ?? null) === null) !== ((request.nodeId ?? -1) === -1)) return false;
  if (version < 3) return true;
  return SOFTWARE_NAME_OR_VERSION.test(request.clientSoftwareName ?? '') && SOFTWARE_NAME_OR_VERSION.test(request.clientSoftwareVersion ?? '');
}

/**
 * KIP-1242: a client that names the cluster and node it meant to reach, and reached another one,
 * must rebootstrap. A client that names neither (a bootstrap connection) is never refused.
 */
export function isMisrouted(request: ApiVersionsRequest, clusterId: string, nodeId: number): boolean {
  const expected = request.clusterId ?? null;
  return expected !== null && (expected !== clusterId || (request.nodeId ?? -1) !== nodeId);
}

export const apiVersionsHandler = defineHandler({
  apiKey: 18,
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, request) {
    const version = ctx.header.apiVersion;
    // Kafka's getErrorResponse: the error code and throttle time, no API list.
    const refused = (errorCode: number) => ({ errorCode, apiKeys: [], throttleTimeMs: 0 });
    if (!isValidApiVersionsRequest(version, request)) return refused(ErrorCode.INVALID_REQUEST);
    if (version >= 5 && isMisrouted(request, ctx.broker.clusterId, ctx.broker.nodeId)) {
      ctx.broker.logger.info(
        { clientId: ctx.header.clientId, expectedClusterId: request.clusterId, expectedNodeId: request.nodeId, remoteAddress: ctx.connection.remoteAddress },
        'ApiVersions names another cluster or node; answering REBOOTSTRAP_REQUIRED',
      );
      return refused(ErrorCode.REBOOTSTRAP_REQUIRED);
    }
    return {
      errorCode: 0,
      apiKeys: ctx.broker.apiVersions(),
      throttleTimeMs: 0,
      // Tagged, v3+ only: the encoder leaves them out of older versions.
      supportedFeatures: SUPPORTED_FEATURES,
      finalizedFeaturesEpoch: FINALIZED_FEATURES_EPOCH,
      finalizedFeatures: FINALIZED_FEATURES,
    };
  },
});
