import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { type FeatureSpec, FeatureLevels, InvalidFeatureUpdate, SUPPORTED_FEATURES, UpgradeType } from './features.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sluice-features-'));
  dirs.push(d);
  return d;
}

// group.version's real range (KIP-848 served), stated here so the refusals below do not depend
// on the default table.
const WIDE: FeatureSpec[] = [
  ...SUPPORTED_FEATURES.filter((f) => f.name !== 'group.version'),
  { name: 'group.version', minVersion: 0, maxVersion: 1, defaultLevel: 1 },
];

describe('FeatureLevels', () => {
  test('what ApiVersions reports: metadata.version 3.3-IV3, group.version 1 and share.version 1 finalized; ranges from 0 hidden from v3 clients', () => {
    const f = new FeatureLevels(tempDir(), 1);
    expect(f.supportedFeatures(4)).toEqual([
      { name: 'metadata.version', minVersion: 7, maxVersion: 7 },
      { name: 'transaction.version', minVersion: 0, maxVersion: 0 },
      { name: 'group.version', minVersion: 0, maxVersion: 1 },
      { name: 'share.version', minVersion: 0, maxVersion: 1 },
    ]);
    expect(f.supportedFeatures(3)).toEqual([{ name: 'metadata.version', minVersion: 7, maxVersion: 7 }]);
    expect(f.finalizedFeatures()).toEqual([
      { name: 'metadata.version', maxVersionLevel: 7, minVersionLevel: 7 },
      { name: 'group.version', maxVersionLevel: 1, minVersionLevel: 1 },
      { name: 'share.version', maxVersionLevel: 1, minVersionLevel: 1 },
    ]);
    expect(f.epoch).toBe(0);
  });

  test.each([
    [{ feature: 'group.version', maxVersionLevel: 1, upgradeType: 4 }, 'The controller does not support the given upgrade type.'],
    [{ feature: 'group.version', maxVersionLevel: -1, upgradeType: UpgradeType.UPGRADE }, 'A feature version cannot be less than 0.'],
    [{ feature: 'no.such', maxVersionLevel: 1, upgradeType: UpgradeType.UPGRADE }, 'Local controller 1 does not support this feature.'],
    [{ feature: 'group.version', maxVersionLevel: 2, upgradeType: UpgradeType.UPGRADE }, 'Local controller 1 only supports versions 0-1'],
    [
      { feature: 'group.version', maxVersionLevel: 0, upgradeType: UpgradeType.UPGRADE },
      "Can't downgrade the version of this feature without setting the upgrade type to either safe or unsafe downgrade.",
    ],
  ])('refuses %o: %s', (update, reason) => {
    const f = new FeatureLevels(tempDir(), 1, WIDE);
    expect(() => f.update([update], false)).toThrow(
      new InvalidFeatureUpdate(`Invalid update version ${update.maxVersionLevel} for feature ${update.feature}. ${reason}`),
    );
  });

  test('a downgrade applies, persists with a new epoch, and level 0 is no longer finalized; all or nothing', () => {
    const dir = tempDir();
    const f = new FeatureLevels(dir, 1, WIDE);
    expect(f.finalizedFeatures().map((x) => x.name)).toContain('group.version');
    f.update([{ feature: 'group.version', maxVersionLevel: 0, upgradeType: UpgradeType.SAFE_DOWNGRADE }], true);
    expect(f.level('group.version')).toBe(1); // validateOnly
    expect(() =>
      f.update(
        [
          { feature: 'group.version', maxVersionLevel: 0, upgradeType: UpgradeType.SAFE_DOWNGRADE },
          { feature: 'metadata.version', maxVersionLevel: 8, upgradeType: UpgradeType.UPGRADE },
        ],
        false,
      ),
    ).toThrow(InvalidFeatureUpdate);
    expect(f.level('group.version')).toBe(1);
    f.update([{ feature: 'group.version', maxVersionLevel: 0, upgradeType: UpgradeType.SAFE_DOWNGRADE }], false);
    expect(f.epoch).toBe(1);
    expect(f.finalizedFeatures().map((x) => x.name)).toEqual(['metadata.version', 'share.version']);
    const reopened = new FeatureLevels(dir, 1, WIDE);
    expect(reopened.level('group.version')).toBe(0);
    expect(reopened.epoch).toBe(1);
    // Setting a feature to its current level changes nothing.
    reopened.update([{ feature: 'group.version', maxVersionLevel: 0, upgradeType: UpgradeType.UPGRADE }], false);
    expect(reopened.epoch).toBe(1);
    expect(() => reopened.update([{ feature: 'group.version', maxVersionLevel: 1, upgradeType: UpgradeType.SAFE_DOWNGRADE }], false)).toThrow(
      "Can't downgrade to a newer version.",
    );
  });
});
