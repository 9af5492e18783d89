// ApiVersions (key 18).
// Behavior: lists every API this broker serves with its version range, derived from the handler
// registry. The response header is always v0 (see protocol's encodeResponse).
// Version notes: v3+ is flexible and carries the client's software name/version (logged);
// v3+ response may carry supported/finalized features (tagged) — we report none.

import type { ApiHandler } from './handler.ts';

export const apiVersionsHandler: ApiHandler = {
  apiKey: 18,
  minVersion: 0,
  maxVersion: 4,
  handle(ctx) {
    return {
      errorCode: 0,
      apiKeys: ctx.broker.apiVersions(),
      throttleTimeMs: 0,
    };
  },
};
