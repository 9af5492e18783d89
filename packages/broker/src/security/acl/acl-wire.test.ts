import { describe, expect, test } from 'vitest';
import { decodeRequest, decodeRequestHeader, encodeRequest, encodeResponse, decodeResponse, FrameReader, ApiKey } from '@sluice/protocol';
import { acl } from './acl-test-helpers.ts';
import { bindingFitsVersion, bindingFromCreation, deleteAclsMatchingAcl, describeAclsResources, filterFromWire } from './acl-wire.ts';
import { MemoryAclStore } from './acl-store.ts';
import { StandardAuthorizer } from './authorizer.ts';

function onlyFrame(bytes: Uint8Array): Uint8Array {
  const r = new FrameReader(1 << 20);
  r.push(bytes);
  return r.next() as Uint8Array;
}

function decodeReq(bytes: Uint8Array): any {
  const frame = onlyFrame(bytes);
  return decodeRequest(decodeRequestHeader(frame), frame);
}

describe('ACL API bodies <-> authorizer', () => {
  test.each([1, 2, 3])('CreateAcls request -> bindings -> DescribeAcls response, v%i', async (v) => {
    const creations = [
      { resourceType: 2, resourceName: 'orders', resourcePatternType: 3, principal: 'User:alice', host: '*', operation: 3, permissionType: 3 },
      { resourceType: 2, resourceName: 'orders', resourcePatternType: 3, principal: 'User:bob', host: '*', operation: 4, permissionType: 2 },
      { resourceType: 3, resourceName: 'app-', resourcePatternType: 4, principal: 'User:alice', host: '10.0.0.1', operation: 2, permissionType: 3 },
    ];
    const body = decodeReq(encodeRequest(ApiKey.CreateAcls, v, 1, 'c', { creations }));
    const auth = new StandardAuthorizer(new MemoryAclStore());
    expect((await auth.createAcls(body.creations.map(bindingFromCreation))).every((r) => r.errorCode === 0)).toBe(true);

    const describe = decodeReq(
      encodeRequest(ApiKey.DescribeAcls, v, 2, 'c', {
        resourceTypeFilter: 1,
        resourceNameFilter: null,
        patternTypeFilter: 1,
        principalFilter: null,
        hostFilter: null,
        operation: 1,
        permissionType: 1,
      }),
    );
    const resources = describeAclsResources(auth.acls(filterFromWire(describe)));
    expect(resources).toEqual([
      {
        resourceType: 2,
        resourceName: 'orders',
        patternType: 3,
        acls: [
          { principal: 'User:alice', host: '*', operation: 3, permissionType: 3 },
          { principal: 'User:bob', host: '*', operation: 4, permissionType: 2 },
        ],
      },
      { resourceType: 3, resourceName: 'app-', patternType: 4, acls: [{ principal: 'User:alice', host: '10.0.0.1', operation: 2, permissionType: 3 }] },
    ]);
    const [frame] = encodeResponse(ApiKey.DescribeAcls, v, 2, { throttleTimeMs: 0, errorCode: 0, errorMessage: null, resources }) as [Uint8Array];
    expect(decodeResponse(ApiKey.DescribeAcls, v, onlyFrame(frame)).body).toMatchObject({ resources });
  });

  test('DeleteAcls matching entries carry the binding', () => {
    const b = acl('TOPIC', 'PREFIXED', 'ord', 'User:alice', '*', 'READ', 'DENY');
    expect(deleteAclsMatchingAcl(b)).toEqual({
      errorCode: 0,
      errorMessage: null,
      resourceType: 2,
      resourceName: 'ord',
      patternType: 4,
      principal: 'User:alice',
      host: '*',
      operation: 3,
      permissionType: 2,
    });
  });

  test('version limits: v0 is LITERAL only, USER needs v3', () => {
    const prefixed = acl('TOPIC', 'PREFIXED', 'ord', 'User:a', '*', 'READ', 'ALLOW');
    const user = acl('USER', 'LITERAL', 'User:b', 'User:a', '*', 'CREATE_TOKENS', 'ALLOW');
    expect([0, 1, 2, 3].map((v) => bindingFitsVersion(prefixed, v))).toEqual([false, true, true, true]);
    expect([0, 1, 2, 3].map((v) => bindingFitsVersion(user, v))).toEqual([false, false, false, true]);
  });
});
