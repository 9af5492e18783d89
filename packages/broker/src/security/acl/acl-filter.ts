// Does a binding match a filter? Kafka's AclBindingFilter semantics (ResourcePatternFilter and
// AccessControlEntryFilter .matches), used by DescribeAcls and DeleteAcls:
// - resource type: ANY or equal;
// - pattern type ANY: any pattern, the name (when given) compared exactly;
// - pattern type MATCH: the patterns that would apply to a resource with that name: the LITERAL
//   pattern of that name, the LITERAL wildcard '*', and every PREFIXED pattern the name starts
//   with (a null name: every pattern);
// - pattern type LITERAL or PREFIXED: that pattern type, the name (when given) exact;
// - principal and host: null matches anything, otherwise exact string equality (no wildcard
//   expansion: filtering for `User:alice` does not return `User:*` bindings);
// - operation and permission type: ANY, or equal (operation ALL matches only ALL bindings).

import type { AccessControlEntry, AccessControlEntryFilter, AclBinding, AclBindingFilter, ResourcePattern, ResourcePatternFilter } from './acl-types.ts';
import { AclOperation, AclPermissionType, PatternType, ResourceType, WILDCARD_RESOURCE } from './acl-types.ts';

export function patternMatches(filter: ResourcePatternFilter, pattern: ResourcePattern): boolean {
  if (filter.resourceType !== ResourceType.ANY && filter.resourceType !== pattern.resourceType) return false;
  const pt = filter.patternType;
  if (pt !== PatternType.ANY && pt !== PatternType.MATCH && pt !== pattern.patternType) return false;
  if (filter.name === null) return true;
  if (pt === PatternType.ANY || pt === pattern.patternType) return filter.name === pattern.name;
  // MATCH
  if (pattern.patternType === PatternType.LITERAL) return filter.name === pattern.name || pattern.name === WILDCARD_RESOURCE;
  if (pattern.patternType === PatternType.PREFIXED) return filter.name.startsWith(pattern.name);
  return false;
}

export function entryMatches(filter: AccessControlEntryFilter, entry: AccessControlEntry): boolean {
  if (filter.principal !== null && filter.principal !== entry.principal) return false;
  if (filter.host !== null && filter.host !== entry.host) return false;
  if (filter.operation !== AclOperation.ANY && filter.operation !== entry.operation) return false;
  return filter.permissionType === AclPermissionType.ANY || filter.permissionType === entry.permissionType;
}

export function bindingMatches(filter: AclBindingFilter, binding: AclBinding): boolean {
  return patternMatches(filter.pattern, binding.pattern) && entryMatches(filter.entry, binding.entry);
}
