import { Type, type Static } from '@sinclair/typebox';
import type { HotListEntries } from './entry-table.js';

// The hot-list data model (P10–P12). One TypeBox schema gives the validator for signed list bodies,
// the TypeScript types and the JSON Schema in docs/hotlists.md.

export const LIST_TYPES = ['SVS', 'SLR', 'SFR', 'BOLO', 'CUSTOM'] as const;
export type ListType = (typeof LIST_TYPES)[number];

/** Plates on lists are upper-case A–Z/0–9; partial entries add `?` (one character) and `*` (any run). */
export const PLATE_PATTERN = '^[A-Z0-9?*]{1,10}$';
export const STATE_PATTERN = '^[A-Z]{2}$';

const LocalApproval = Type.Object(
  {
    enteredBy: Type.String({ minLength: 1, maxLength: 100, description: 'Member who entered the entry (P11).' }),
    caseNumber: Type.String({ minLength: 1, maxLength: 64, description: 'Case or incident number (P11).' }),
    synopsis: Type.String({ minLength: 1, maxLength: 500, description: 'Short synopsis of why (P11).' }),
    approvedBy: Type.String({ minLength: 1, maxLength: 100, description: 'Administrator who approved it (P11).' }),
  },
  { additionalProperties: false },
);

export const HotListEntrySchema = Type.Object(
  {
    plate: Type.String({ pattern: PLATE_PATTERN }),
    state: Type.Union([Type.String({ pattern: STATE_PATTERN }), Type.Null()], { description: 'Issuing state; null when unknown (matches any state).' }),
    type: Type.Union(LIST_TYPES.map((t) => Type.Literal(t))),
    reason: Type.String({ maxLength: 500 }),
    recordNumber: Type.String({ maxLength: 64, description: 'NCIC / CA DOJ record number, or the local case number.' }),
    enteredAt: Type.String({ format: 'date-time' }),
    expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    /** Derived from the plate: wildcards make an entry partial (P12). */
    partial: Type.Boolean(),
    /** The entry also matches reads one character off (edit distance 1). */
    fuzzy: Type.Boolean({ default: false }),
    vehicle: Type.Optional(Type.String({ maxLength: 200, description: 'Make/model/colour as given by the source.' })),
    local: Type.Optional(LocalApproval),
  },
  { additionalProperties: false },
);
export type HotListEntry = Static<typeof HotListEntrySchema>;
export type LocalApprovalFields = Static<typeof LocalApproval>;

export const HotListBodySchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'Stable list name; a newer version of the same name replaces the old (P10).' }),
    source: Type.String({ minLength: 1, maxLength: 100, description: 'Who publishes it: "NCIC", "CA DOJ SVS", "Agency BOLO".' }),
    version: Type.Integer({ minimum: 1, description: 'Strictly increasing per name; an older or equal version is refused as a replay.' }),
    issuedAt: Type.String({ format: 'date-time' }),
    entries: Type.Array(HotListEntrySchema, { maxItems: 2_000_000 }),
  },
  { additionalProperties: false },
);
export type HotListBody = Static<typeof HotListBodySchema>;

/** A verified list as the device holds it: entries in compact columns (`entry-table.ts`). */
export interface HotList {
  name: string;
  source: string;
  version: number;
  issuedAt: string;
  entries: HotListEntries;
  /** Publisher key id that signed it ("local" for the device's own local list). */
  signedBy: string;
}

/** What a hit and the `state` topic say about a list. */
export interface HotListSummary {
  name: string;
  source: string;
  version: number;
  issuedAt: string;
  entries: number;
  ageHours: number;
  stale: boolean;
}

export function isPartialPlate(plate: string): boolean {
  return plate.includes('?') || plate.includes('*');
}

export function summarise(list: HotList, maxAgeHours: number, nowMs = Date.now()): HotListSummary {
  const ageHours = Math.max(0, (nowMs - Date.parse(list.issuedAt)) / 3_600_000);
  return { name: list.name, source: list.source, version: list.version, issuedAt: list.issuedAt, entries: list.entries.length, ageHours: Math.round(ageHours * 100) / 100, stale: ageHours > maxAgeHours };
}
