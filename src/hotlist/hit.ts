import type { Read } from '../pipeline/read.js';
import type { HotListEntry, HotListSummary } from './list.js';
import type { MatchKind } from './matcher.js';
import type { HotListChange } from './local-entries.js';

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

/** Device events live in src/device-events.ts (one bus for every component); re-exported here. */
export type { DeviceEvent } from '../device-events.js';

// What the hot lists send on the daemon's bus (MQTT publishes all three): a hit, a change of a list
// or local entry (P6, already in the access log), and the lists' summaries after each change.
declare module '../device-events.js' {
  interface DeviceBusChannels {
    hit: [Hit];
    'hotlist-change': [HotListChange];
    'hotlists-changed': [HotListSummary[]];
  }
}
