// ApiVersions (key 18).
// Behavior: lists every API this broker serves with its version range, derived from the handler
// registry. The response header is always v0 (see protocol's encodeResponse). As Kafka's
// KafkaApis does, a request that fails ApiVersionsRequest.isValid gets INVALID_REQUEST, and a v5
// request naming another cluster or node gets REBOOTSTRAP_REQUIRED; both answers carry no API
// list. (A version above ours never reaches here: the connection sends the v0 fallback.)
// Version notes: v3+ is flexible and carries the client's software name/version, which must match
// KIP-511's pattern; v3+ responses carry the supported and finalized features (tagged, from
// features.ts; a v3 client cannot read a supported range starting at 0, so those are left out for
// it, as Kafka does); v5 (KIP-1242) carries the cluster id and node id the client means to reach, both set or
// both unset (null / -1).

import { type ApiVersionsRequest, ErrorCode } from '@sluice/protocol';
import { defineHandler } from './handler.ts';

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
    const { features } = ctx.broker;
    return {
      errorCode: 0,
      apiKeys: ctx.broker.apiVersions(),
      throttleTimeMs: 0,
      supportedFeatures: features.supportedFeatures(version),
      finalizedFeaturesEpoch: features.epoch,
      finalizedFeatures: features.finalizedFeatures(),
    };
  },
});
