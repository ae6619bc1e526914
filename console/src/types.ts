import type { Static } from '@sinclair/typebox';
import type { ExportOut, HoldOut, LocalEntryOut, LocalProposalOut, ReadOut, SearchReply, ShareOut, UserOut } from '../../src/http/api/schemas.js';
import type { HealthReport } from '../../src/health/health.js';
import type { SelftestReport } from '../../src/device/selftest-runner.js';
import type { LiveFrame } from '../../src/device/live-view.js';

// The API's own types (its TypeBox schemas): the console and the server cannot drift apart.

export type Read = Static<typeof ReadOut>;
export type SearchResult = Static<typeof SearchReply>;
export type Hold = Static<typeof HoldOut>;
export type ShareRequest = Static<typeof ShareOut>;
export type LocalEntry = Static<typeof LocalEntryOut>;
export type LocalProposal = Static<typeof LocalProposalOut>;
export type ExportResult = Static<typeof ExportOut>;
export type { HealthReport, SelftestReport };

export interface DeviceStatus {
  now: string;
  health: HealthReport;
  store: { reads: number; usedBytes: number; mapSizeBytes: number; fsFreeBytes: number | null; corruptSkipped: number };
  clock: { synced: boolean | undefined; source: string; detail: string } | null;
}

export interface LiveCamera {
  id: string;
  state: string;
  reason: string | null;
  analysedFps: number;
  framesIn: number;
  framesDropped: number;
  framesAnalysed: number;
  lastFrameAgeMs: number | null;
  frame: (Omit<LiveFrame, 'jpeg'> & { imageUrl: string }) | null;
}

export interface LiveReply {
  refreshMs: number;
  cameras: LiveCamera[];
}

export type User = Static<typeof UserOut>;

export interface ChainVerification {
  ok: boolean;
  entries: number;
  head: { seq: number; hash: string };
  firstBadSeq?: number;
  problem?: string;
}

/** `audit verify --anchors` over the API: the chain and the check against the central side's heads. */
export interface AnchorVerification extends ChainVerification {
  anchors: {
    ok: boolean;
    anchors: number;
    badSignatures: number;
    otherDevices: number;
    lastMatchingSeq: number;
    firstDisagreement?: { seq: number; afterSeq: number; anchoredAt: string };
    missingTail?: { anchoredSeq: number; localHeadSeq: number };
    problems: string[];
  };
}

export interface AuditSampleReply {
  from: string;
  to: string;
  seed: string;
  n: number;
  population: number;
  entries: { seq: number; time: string; user: string; action: string; result: string; parameters: Record<string, unknown>; parametersInClear?: Record<string, unknown>; hash: string }[];
  chain: ChainVerification;
  drawnBy: string;
  signature: string;
}
