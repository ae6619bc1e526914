import type { AccessLogInput, AuditSample, ChainVerification } from '../../access/access-log.js';
import type { AnchorCheck, ChainAnchor } from '../../access/anchors.js';
import type { SharingRegistry, ShareRequest } from '../../access/sharing.js';
import type { UserDirectory } from '../../access/users.js';
import type { HotListChangeLog } from '../../hotlist/local-entries.js';
import type { DeviceKeys } from '../../state/device-keys.js';
import type { EvidenceHold, HoldRequest } from '../../store/evidence-holds.js';
import type { ExportManifest } from '../../store/export-bundle.js';
import type { ImageKind, ReadView } from '../../store/read-record.js';
import type { ReadPage, ReadQuery } from '../../store/read-search.js';
import type { StoreUsage } from '../../store/store-usage.js';

// What the query API asks of the rest of the daemon, as narrow interfaces the composition root
// (src/app.ts) builds from the store's open database: no module of http/ holds the store, its
// database or the device keys themselves.

/** Reads as an inquiry sees them: retention applied (P3), sealed parts opened, damaged records skipped and counted. */
export interface ReadQueries {
  search(q: ReadQuery): ReadPage;
  get(id: string): ReadView | undefined;
  image(id: string, kind: ImageKind): Buffer | undefined;
  usage(): StoreUsage;
  /** Records that failed to decode since start. */
  readonly corruptSkipped: number;
}

/** P4: evidence holds, each change in the access log with it. */
export interface EvidenceHolds {
  create(req: HoldRequest, user: string): EvidenceHold;
  list(): EvidenceHold[];
  get(name: string): EvidenceHold | undefined;
  release(name: string, user: string, reason: string): EvidenceHold;
  /** A signed bundle of a hold's reads in `outDir` (logged, refusals too). */
  export(opts: { hold: string; outDir: string; by: string; deviceId: string; share?: ShareRequest }): { manifest: ExportManifest; manifestSha256: string };
}

/** P6: the access log's hash chain on the state database, plate parameters sealed (P16). */
export interface AccessLog {
  /** Appends one entry, committed before it returns: no answer leaves before its entry. */
  append(input: AccessLogInput): void;
  verify(): ChainVerification;
  sample(opts: { from: Date; to: Date; n: number; seed: string }): AuditSample;
  /** Checks signed chain heads kept elsewhere against the chain (signed with this device's key). */
  checkAnchors(anchors: readonly ChainAnchor[], deviceId: string): AnchorCheck;
  /** Hot-list changes made over the API, as entries of this log (P11). */
  readonly hotListChanges: HotListChangeLog;
}

/** The device keys as the API uses them: its token secret, signatures of audit samples, sealing of local hot-list files. */
export type DeviceSecrets = Pick<DeviceKeys, 'apiTokenSecret' | 'signingPublicKeyPem' | 'signDetached' | 'currentKeyId' | 'seal' | 'open'>;

/** The user directory as the API uses it (P6, P8; `findUser`: the P11 approver directory of local hot-list entries). */
export type Users = Pick<UserDirectory, 'prepareLogin' | 'login' | 'get' | 'findUser' | 'list' | 'add' | 'disable' | 'enable' | 'unlock' | 'setPassword' | 'setTraining'>;

/** Sharing requests (P14). */
export type Sharing = Pick<SharingRegistry, 'request' | 'approve' | 'refuse' | 'get' | 'list'>;

/** Everything the query API needs of the daemon's state; `queryServices` in src/app.ts builds it. */
export interface QueryServices {
  reads: ReadQueries;
  holds: EvidenceHolds;
  accessLog: AccessLog;
  secrets: DeviceSecrets;
}
