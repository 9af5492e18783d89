// The semantics of AlterUserScramCredentials and DescribeUserScramCredentials (KIP-554) over a
// ScramCredentialStore, as Kafka's ScramControlManager (alter) and metadata cache (describe)
// implement them. Pure functions of (store, request) -> response data; the handlers (wiring) add
// authorization (ALTER / DESCRIBE on CLUSTER) and the response envelope.
//
// Alter, per user named in the request (Kafka checks per user, not per (user, mechanism)):
// - a user named twice (two deletions, two upsertions, or one of each, any mechanisms):
//   DUPLICATE_RESOURCE "A user credential cannot be altered twice in the same request";
// - empty user name: UNACCEPTABLE_CREDENTIAL "Username must not be empty";
// - mechanism other than 1 (SCRAM-SHA-256) or 2 (SCRAM-SHA-512): UNSUPPORTED_SASL_MECHANISM;
// - deleting a credential that does not exist: RESOURCE_NOT_FOUND;
// - iterations below 4096 / above 16384: UNACCEPTABLE_CREDENTIAL "Too few / Too many iterations";
// - the client sends salt and SaltedPassword; only StoredKey and ServerKey derived from it are
//   kept. Results list successful deletions, then successful upsertions, then errors (Kafka's
//   order). All accepted changes are applied in one atomic store write (synchronous for the
//   local stores, so visible when the call returns; the promise settles once it is durable —
//   in cluster mode, committed to etcd and applied on this broker).
// Describe (Kafka's ScramImage.describe): a null or empty user list describes every user with
// credentials; a named user with none is RESOURCE_NOT_FOUND; a user named twice is
// DUPLICATE_RESOURCE (once in the results); messages end with the user name, as Kafka's.

import { ErrorCode } from '@sluice/protocol';
import type { ScramCredentialChange, ScramCredentialStore } from './scram-credential-store.ts';
import { credentialFromSaltedPassword, SCRAM_MAX_ITERATIONS, scramMechanismByName, scramMechanismByType } from './scram-credential.ts';

export interface ScramDeletion {
  readonly name: string;
  readonly mechanism: number;
}

export interface ScramUpsertion {
  readonly name: string;
  readonly mechanism: number;
  readonly iterations: number;
  readonly salt: Uint8Array;
  readonly saltedPassword: Uint8Array;
}

export interface UserResult {
  readonly user: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

interface ApiError {
  readonly code: number;
  readonly message: string;
}

const DUPLICATE: ApiError = { code: ErrorCode.DUPLICATE_RESOURCE, message: 'A user credential cannot be altered twice in the same request' };

function validateUserAndMechanism(name: string, mechanism: number): ApiError | null {
  if (name === '') return { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: 'Username must not be empty' };
  if (scramMechanismByType(mechanism) === undefined) return { code: ErrorCode.UNSUPPORTED_SASL_MECHANISM, message: 'Unknown SCRAM mechanism' };
  return null;
}

export async function alterUserScramCredentials(
  store: ScramCredentialStore,
  request: { readonly deletions: readonly ScramDeletion[]; readonly upsertions: readonly ScramUpsertion[] },
): Promise<UserResult[]> {
  const deletions = new Map<string, ScramDeletion>();
  const upsertions = new Map<string, ScramUpsertion>();
  const errors = new Map<string, ApiError>();

  for (const d of request.deletions) {
    if (errors.has(d.name)) continue;
    if (deletions.delete(d.name)) {
      errors.set(d.name, DUPLICATE);
      continue;
    }
    const mech = scramMechanismByType(d.mechanism);
    const error =
      validateUserAndMechanism(d.name, d.mechanism) ??
      (store.scramCredential(d.name, (mech as { name: string }).name) === undefined
        ? { code: ErrorCode.RESOURCE_NOT_FOUND, message: 'Attempt to delete a user credential that does not exist' }
        : null);
    if (error !== null) errors.set(d.name, error);
    else deletions.set(d.name, d);
  }
  for (const u of request.upsertions) {
    if (errors.has(u.name)) continue;
    // A name already accepted for deletion or upsertion is a duplicate, and neither change runs.
    if (deletions.delete(u.name) || upsertions.delete(u.name)) {
      errors.set(u.name, DUPLICATE);
      continue;
    }
    let error = validateUserAndMechanism(u.name, u.mechanism);
    if (error === null && u.iterations < (scramMechanismByType(u.mechanism) as { minIterations: number }).minIterations) {
      error = { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: 'Too few iterations' };
    } else if (error === null && u.iterations > SCRAM_MAX_ITERATIONS) {
      error = { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: 'Too many iterations' };
    }
    if (error !== null) errors.set(u.name, error);
    else upsertions.set(u.name, u);
  }

  const changes: ScramCredentialChange[] = [];
  const results: UserResult[] = [];
  for (const d of deletions.values()) {
    changes.push({ kind: 'delete', user: d.name, mechanism: (scramMechanismByType(d.mechanism) as { name: string }).name });
    results.push({ user: d.name, errorCode: ErrorCode.NONE, errorMessage: null });
  }
  for (const u of upsertions.values()) {
    const mech = scramMechanismByType(u.mechanism);
    if (mech === undefined) throw new Error('unreachable: upsertion mechanism validated above');
    changes.push({
      kind: 'upsert',
      user: u.name,
      mechanism: mech.name,
      credential: credentialFromSaltedPassword(mech, u.salt, u.saltedPassword, u.iterations),
    });
    results.push({ user: u.name, errorCode: ErrorCode.NONE, errorMessage: null });
  }
  for (const [user, e] of errors) results.push({ user, errorCode: e.code, errorMessage: e.message });
  if (changes.length > 0) await store.apply(changes);
  return results;
}

export interface DescribeUserResult extends UserResult {
  readonly credentialInfos: ReadonlyArray<{ readonly mechanism: number; readonly iterations: number }>;
}

export function describeUserScramCredentials(store: ScramCredentialStore, users: ReadonlyArray<{ readonly name: string }> | null): DescribeUserResult[] {
  const describe = (user: string): DescribeUserResult => {
    const creds = store.credentialsOf(user);
    if (creds.size === 0)
      return {
        user,
        errorCode: ErrorCode.RESOURCE_NOT_FOUND,
        errorMessage: `Attempt to describe a user credential that does not exist: ${user}`,
        credentialInfos: [],
      };
    const credentialInfos = [...creds]
      .map(([mech, c]) => ({ mechanism: (scramMechanismByName(mech) as { type: number }).type, iterations: c.iterations }))
      .sort((a, b) => a.mechanism - b.mechanism);
    return { user, errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos };
  };
  if (users === null || users.length === 0) return store.users().map(describe);
  const counts = new Map<string, number>();
  for (const u of users) counts.set(u.name, (counts.get(u.name) ?? 0) + 1);
  return [...counts].map(([user, n]) =>
    n > 1
      ? {
          user,
          errorCode: ErrorCode.DUPLICATE_RESOURCE,
          errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`,
          credentialInfos: [],
        }
      : describe(user),
  );
}
