// The security probe: SASL authentications per listener and mechanism (successes, failures with
// their reason), connections closed for a security reason before they authenticated, and
// authorization denials per resource type. Label values come from the broker's own sets (enabled
// mechanisms, failure reasons, Kafka's resource type names), never from what a client sent, so
// the series stay bounded whatever clients do.

import type { Registry } from 'prom-client';
import { CounterFamily } from './families.ts';

/** Kafka's resource type names by code (the authorization denial label). */
const RESOURCE_TYPE_NAMES: Readonly<Record<number, string>> = { 2: 'TOPIC', 3: 'GROUP', 4: 'CLUSTER', 5: 'TRANSACTIONAL_ID', 6: 'DELEGATION_TOKEN', 7: 'USER' };

export class SecurityProbe {
  private readonly successes: CounterFamily;
  private readonly failures: CounterFamily;
  private readonly denials: CounterFamily;

  constructor(registry: Registry) {
    this.successes = new CounterFamily(registry, {
      name: 'sluice_authentication_success_total',
      help: 'SASL authentications that succeeded (re-authentications included).',
      labelNames: ['listener', 'mechanism'],
    });
    this.failures = new CounterFamily(registry, {
      name: 'sluice_authentication_failure_total',
      help: 'SASL authentications that failed, and connections closed before authenticating; each closes its connection.',
      labelNames: ['listener', 'mechanism', 'reason'],
    });
    this.denials = new CounterFamily(registry, {
      name: 'sluice_authorization_denied_total',
      help: 'Authorization checks the ACLs denied, per resource type.',
      labelNames: ['resource_type'],
    });
  }

  authenticated(listener: string, mechanism: string): void {
    this.successes.child(listener, mechanism).inc();
  }

  /** `mechanism` is null when the client asked for one that is not enabled (or never got to one). */
  authenticationFailed(listener: string, mechanism: string | null, reason: string): void {
    this.failures.child(listener, mechanism ?? 'none', reason).inc();
  }

  denied(resourceType: number): void {
    this.denials.child(RESOURCE_TYPE_NAMES[resourceType] ?? 'UNKNOWN').inc();
  }
}
