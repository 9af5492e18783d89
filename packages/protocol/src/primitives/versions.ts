// Version ranges in the specification's syntax: 'N+', 'N-M', 'N', 'none'.

export interface VersionRange {
  readonly lo: number;
  /** Inclusive; Infinity for 'N+'. */
  readonly hi: number;
}

const NONE: VersionRange = { lo: 1, hi: 0 };

/** Parses a range; throws (a broken message description) on anything else. */
export function parseVersions(s: string | undefined): VersionRange {
  if (s === undefined || s === 'none') return NONE;
  let m = /^(\d+)\+$/.exec(s);
  if (m) return { lo: Number(m[1]), hi: Infinity };
  m = /^(\d+)-(\d+)$/.exec(s);
  if (m) {
    const lo = Number(m[1]);
    const hi = Number(m[2]);
    if (hi < lo) throw new Error(`version range ${JSON.stringify(s)} is empty`);
    return { lo, hi };
  }
  m = /^(\d+)$/.exec(s);
  if (m) return { lo: Number(m[1]), hi: Number(m[1]) };
  throw new Error(`invalid version range ${JSON.stringify(s)}`);
}

export function inVersions(s: string | undefined, version: number): boolean {
  const r = parseVersions(s);
  return version >= r.lo && version <= r.hi;
}

/** True when the range contains at least one version. */
export function isNonEmpty(s: string | undefined): boolean {
  const r = parseVersions(s);
  return r.lo <= r.hi;
}
