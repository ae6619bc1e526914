import type { Config } from './schema.js';

/**
 * Settings a running daemon takes on `systemctl reload alpr-edge` (SIGHUP) without a restart. Only
 * what is really applied is listed: everything else is read once at start (cameras, models, ports,
 * the broker connection, the store) and a changed value there is logged as needing a restart.
 * docs/configuration.md and docs/device.md are generated from / checked against this list.
 */
export const LIVE_SETTINGS: readonly string[] = [
  'hotlists.publisherKeys',
  'hotlists.maxAgeHours',
  'hotlists.maxListBytes',
  'hotlists.checkIntervalS',
];

function isLive(path: string): boolean {
  return LIVE_SETTINGS.some((live) => path === live || path.startsWith(`${live}.`) || path.startsWith(`${live}[`));
}

/** Dotted paths of the leaves that differ between two configs; arrays compare as one value. */
export function changedSettings(before: Config, after: Config): string[] {
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, path: string): void => {
    const objects = typeof a === 'object' && a !== null && !Array.isArray(a) && typeof b === 'object' && b !== null && !Array.isArray(b);
    if (!objects) {
      if (JSON.stringify(a) !== JSON.stringify(b)) out.push(path);
      return;
    }
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    for (const k of [...keys].sort()) walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
  };
  walk(before, after, '');
  return out;
}

export interface ReloadPlan {
  /** Changed settings the daemon applies now. */
  live: string[];
  /** Changed settings that keep their old value until the daemon restarts. */
  needRestart: string[];
  /** The configuration the daemon runs with afterwards: the old one with the live settings taken from the new. */
  running: Config;
}

/** What a reload changes: the live settings from `next`, everything else as it was at start. */
export function planReload(running: Config, next: Config): ReloadPlan {
  const changed = changedSettings(running, next);
  const live = changed.filter(isLive);
  const needRestart = changed.filter((p) => !isLive(p));
  const merged = structuredClone(running);
  for (const path of LIVE_SETTINGS) {
    const [section, key] = path.split('.') as [keyof Config, string];
    (merged[section] as Record<string, unknown>)[key] = structuredClone((next[section] as Record<string, unknown>)[key]);
  }
  return { live, needRestart, running: merged };
}
