import type { Read } from '../pipeline/read.js';
import type { HotListEntry, HotListSummary } from './list.js';
import type { MatchKind } from './matcher.js';

/**
 * A read that matched a hot-list entry. Carries what P13 asks an officer to verify against: the
 * read (with plate crop and overview image, state, confidence, candidates, place and time), the
 * list (name, source, version, age), the entry, and how it matched. Never grounds for action alone.
 */
export interface Hit {
  /** `<readId>:<list>:<entry index>`: the same read matching the same entry is the same hit. */
  id: string;
  read: Read;
  list: HotListSummary;
  entry: HotListEntry;
  kind: MatchKind;
  matchedText: string;
  requiresVerification: true;
  matchedAt: string;
}

/** Something central should know about the device (P10 stale lists, refused lists, tamper, disk). */
export interface DeviceEvent {
  type: 'hotlist-stale' | 'hotlist-fresh' | 'hotlist-refused' | 'hotlist-installed' | 'camera-down' | 'camera-up' | 'tamper' | 'disk' | 'outbox-dropped';
  severity: 'info' | 'warning' | 'critical';
  at: string;
  detail: Record<string, unknown>;
}
