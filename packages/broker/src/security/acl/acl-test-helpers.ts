// Test helpers: bindings and filters written with Kafka's enum names, as kafka-acls prints them.
import type { AclBinding, AclBindingFilter } from './acl-types.ts';
import { AclOperation, AclPermissionType, PatternType, ResourceType } from './acl-types.ts';

type Names<T> = keyof T & string;

export function acl(
  resourceType: Names<typeof ResourceType>,
  patternType: Names<typeof PatternType>,
  name: string,
  principal: string,
  host: string,
  operation: Names<typeof AclOperation>,
  permission: Names<typeof AclPermissionType>,
): AclBinding {
  return {
    pattern: { resourceType: ResourceType[resourceType], name, patternType: PatternType[patternType] },
    entry: { principal, host, operation: AclOperation[operation], permissionType: AclPermissionType[permission] },
  };
}

export function filter(
  resourceType: Names<typeof ResourceType>,
  patternType: Names<typeof PatternType>,
  name: string | null,
  principal: string | null = null,
  host: string | null = null,
  operation: Names<typeof AclOperation> = 'ANY',
  permission: Names<typeof AclPermissionType> = 'ANY',
): AclBindingFilter {
  return {
    pattern: { resourceType: ResourceType[resourceType], name, patternType: PatternType[patternType] },
    entry: { principal, host, operation: AclOperation[operation], permissionType: AclPermissionType[permission] },
  };
}
