// Conversions between the ACL API message bodies (CreateAcls, DescribeAcls, DeleteAcls as the
// protocol package decodes them) and the authorizer's bindings and filters, so the handlers stay
// thin. Version rules from Kafka's request classes:
// - v0 has no pattern type: requests decode with LITERAL (the codec's default, 3), and a v0
//   response cannot carry a PREFIXED binding (Kafka's DescribeAclsResponse refuses to build one:
//   UnsupportedVersionException), so `describeAclsResources` drops nothing and the handler must
//   answer v0 with an error when a non-LITERAL binding would be returned;
// - USER resource bindings need v3+ (Kafka: "Version 3 adds user resource type").

import type { AclBinding, AclBindingFilter } from './acl-types.ts';
import { PatternType, ResourceType } from './acl-types.ts';

export interface CreatableAcl {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly resourcePatternType: number;
  readonly principal: string;
  readonly host: string;
  readonly operation: number;
  readonly permissionType: number;
}

export interface WireAclFilter {
  readonly resourceTypeFilter: number;
  readonly resourceNameFilter: string | null;
  readonly patternTypeFilter: number;
  readonly principalFilter: string | null;
  readonly hostFilter: string | null;
  readonly operation: number;
  readonly permissionType: number;
}

export function bindingFromCreation(c: CreatableAcl): AclBinding {
  return {
    pattern: { resourceType: c.resourceType, name: c.resourceName, patternType: c.resourcePatternType },
    entry: { principal: c.principal, host: c.host, operation: c.operation, permissionType: c.permissionType },
  };
}

export function filterFromWire(f: WireAclFilter): AclBindingFilter {
  return {
    pattern: { resourceType: f.resourceTypeFilter, name: f.resourceNameFilter, patternType: f.patternTypeFilter },
    entry: { principal: f.principalFilter, host: f.hostFilter, operation: f.operation, permissionType: f.permissionType },
  };
}

/** Whether a binding can be expressed in this version of the ACL APIs (see the header). */
export function bindingFitsVersion(b: AclBinding, version: number): boolean {
  if (version === 0 && b.pattern.patternType !== PatternType.LITERAL) return false;
  if (version < 3 && b.pattern.resourceType === ResourceType.USER) return false;
  return true;
}

export interface DescribeAclsResource {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly patternType: number;
  readonly acls: Array<{ principal: string; host: string; operation: number; permissionType: number }>;
}

/** DescribeAcls response `resources`: bindings grouped by resource pattern, first-seen order. */
export function describeAclsResources(bindings: readonly AclBinding[]): DescribeAclsResource[] {
  const byPattern = new Map<string, DescribeAclsResource>();
  for (const b of bindings) {
    const key = `${b.pattern.resourceType}\u0000${b.pattern.patternType}\u0000${b.pattern.name}`;
    let r = byPattern.get(key);
    if (r === undefined)
      byPattern.set(key, (r = { resourceType: b.pattern.resourceType, resourceName: b.pattern.name, patternType: b.pattern.patternType, acls: [] }));
    r.acls.push({ principal: b.entry.principal, host: b.entry.host, operation: b.entry.operation, permissionType: b.entry.permissionType });
  }
  return [...byPattern.values()];
}

/** One DeleteAcls `matchingAcls` entry for a deleted binding. */
export function deleteAclsMatchingAcl(b: AclBinding) {
  return {
    errorCode: 0,
    errorMessage: null,
    resourceType: b.pattern.resourceType,
    resourceName: b.pattern.name,
    patternType: b.pattern.patternType,
    principal: b.entry.principal,
    host: b.entry.host,
    operation: b.entry.operation,
    permissionType: b.entry.permissionType,
  };
}
