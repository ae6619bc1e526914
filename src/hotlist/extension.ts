import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { DaemonContext, DaemonExtension } from '../extension.js';
import type { ComponentHealth } from '../health/health.js';
import type { HotListsConfig } from '../config/schema.js';
import { resolveInstallPath } from '../config/load.js';
import type { Read, ReadSink } from '../pipeline/read.js';
import { summarise, type HotList, type HotListSummary } from './list.js';
import { HotListMatcher } from './matcher.js';
import { HotListRepository } from './repository.js';
import { HotListRejectedError, loadPublicKey } from './signed-list.js';
import { LocalEntryStore, type HotListChange, type HotListChangeLog } from './local-entries.js';
import { ShellChangeQueue } from './shell-changes.js';
import { openDeviceKeys } from '../state/device-keys.js';
import type { DeviceEvent, Hit } from './hit.js';
import { clearDaemonTrust, recordDaemonTrust } from './publisher-keys.js';
import type { Config } from '../config/schema.js';
import type { DeviceEventBus } from '../device-events.js';

export function loadPublisherKeys(cfg: HotListsConfig): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const k of cfg.publisherKeys) {
    const path = isAbsolute(k.file) ? k.file : resolveInstallPath(k.file);
    keys.set(k.id, loadPublicKey(readFileSync(path, 'utf8'), k.id));
  }
  return keys;
}

export interface HotListExtensionOptions {
  /**
   * Where list installs and refusals are recorded: the access log in the store's database (P6; the
   * daemon hands over `StoreExtension.hotListChanges`). There is no file of its own: every record
   * of a change is in the hash chain, plate text sealed (P16).
   */
  changeLog: HotListChangeLog;
}

/**
 * Hot lists as a daemon extension: loads the signed lists and local entries at start, matches each
 * read, and watches list age (P10). Hits, list changes and alarms go on the daemon's device-event bus
 * (channels `hit`, `hotlist-change`, `hotlists-changed`, `event`); MQTT publishes them.
 */
export class HotListExtension implements DaemonExtension, ReadSink {
  readonly name = 'hotlist';
  private cfg!: HotListsConfig;
  private stateDir!: string;
  private logger!: Logger;
  private events!: DeviceEventBus;
  private repo!: HotListRepository;
  private local!: LocalEntryStore;
  private changeLog!: HotListChangeLog;
  private shellChanges!: ShellChangeQueue;
  private lists: HotList[] = [];
  private localList: HotList | undefined;
  private matcher = new HotListMatcher([]);
  private timer: NodeJS.Timeout | undefined;
  private seen = '';
  private staleNames = new Set<string>();
  private hitsTotal = 0;
  private hitsByList: Counter<'list'> | undefined;
  private keyIds: string[] = [];
  private unavailable: string | undefined;
  /** P10: the versions file cannot be read: installs are refused (fail closed) until it is repaired. */
  private versionsProblem: string | undefined;

  constructor(private readonly opts: HotListExtensionOptions) {}

  async start(ctx: DaemonContext): Promise<ReadSink | undefined> {
    this.cfg = ctx.config.hotlists;
    this.stateDir = ctx.config.stateDir;
    this.logger = ctx.logger;
    this.events = ctx.events;
    this.registerMetrics(ctx);
    if (!this.cfg.enabled) return undefined;
    const keys = loadPublisherKeys(this.cfg);
    try {
      this.repo = new HotListRepository(ctx.config.stateDir, keys, this.cfg.maxListBytes);
      // P16: local entries and the queue's lines are sealed with the device keys, which the CLI seals them with too.
      const deviceKeys = openDeviceKeys(ctx.config.stateDir);
      this.local = new LocalEntryStore(ctx.config.stateDir, deviceKeys);
      this.shellChanges = new ShellChangeQueue(ctx.config.stateDir, deviceKeys);
    } catch (err) {
      // The cameras and the store keep running without hot lists; health says why (degraded).
      this.unavailable = `cannot use ${ctx.config.stateDir}/hotlists: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      this.logger.error({ err: (err as Error).message }, 'hot lists unavailable');
      return undefined;
    }
    this.changeLog = this.opts.changeLog;
    this.reload();
    this.trust(keys);
    this.startTimer();
    return this;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.repo) clearDaemonTrust(this.stateDir);
  }

  /**
   * `systemctl reload` (SIGHUP): the publisher keys are read again (new ones, rotated files) and the
   * stored lists verified against them, so a list signed by a key added since start loads now; the
   * other live settings (src/config/live.ts) take their new values. A key that cannot be read throws
   * before anything changes: the daemon keeps the keys it had.
   */
  async reconfigure(config: Config): Promise<void> {
    if (!this.repo || !config.hotlists.enabled) return;
    const next = { ...config.hotlists, enabled: this.cfg.enabled };
    const keys = loadPublisherKeys(next);
    const interval = next.checkIntervalS !== this.cfg.checkIntervalS;
    this.cfg = next;
    this.repo = new HotListRepository(this.stateDir, keys, next.maxListBytes);
    this.reload();
    this.trust(keys);
    if (interval) this.startTimer();
  }

  private startTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => this.tick(), this.cfg.checkIntervalS * 1000);
    this.timer.unref();
  }

  /** A note of the trusted key ids for `hotlist import`, which warns when this daemon would not load a list. */
  private trust(keys: Map<string, KeyObject>): void {
    this.keyIds = [...keys.keys()];
    this.logger.info({ publisherKeys: this.keyIds }, 'publisher keys loaded');
    try {
      recordDaemonTrust(this.stateDir, this.keyIds);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'cannot note the trusted publisher keys for `hotlist import`');
    }
  }

  /** Lists and their ages, for health and the MQTT `state` topic (no plates, P1). */
  summaries(nowMs = Date.now()): HotListSummary[] {
    if (!this.cfg) return [];
    const out = this.lists.map((l) => summarise(l, this.cfg.maxAgeHours, nowMs));
    if (this.localList && this.localList.entries.length > 0) out.push({ ...summarise(this.localList, this.cfg.maxAgeHours, nowMs), stale: false });
    return out;
  }

  health(): ComponentHealth {
    if (!this.cfg?.enabled) return { status: 'ok', enabled: false };
    if (this.unavailable) return { status: 'degraded', reason: this.unavailable };
    const lists = this.summaries();
    const stale = lists.filter((l) => l.stale).map((l) => l.name);
    const signed = lists.filter((l) => l.name !== 'local').length;
    // P10: a device without a current list, or that cannot take a new one, cannot do its job:
    // degraded, visible in /healthz.
    const reasons = [...(signed === 0 ? ['no signed hot list loaded'] : []), ...(this.versionsProblem ? [`installs refused: ${this.versionsProblem}`] : [])];
    const status = stale.length > 0 || reasons.length > 0 ? 'degraded' : 'ok';
    return { status, lists: lists.map(({ name, version, entries, ageHours, stale: s }) => ({ name, version, entries, ageHours, stale: s })), stale, hits: this.hitsTotal, publisherKeys: this.keyIds, ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}) };
  }

  async accept(read: Read): Promise<void> {
    const now = Date.now();
    for (const m of this.matcher.match(read, now)) {
      const hit: Hit = {
        id: `${read.id}:${m.list.name}:${m.entryIndex}`,
        read,
        list: summarise(m.list, this.cfg.maxAgeHours, now),
        entry: m.entry,
        kind: m.kind,
        matchedText: m.matchedText,
        requiresVerification: true,
        matchedAt: new Date(now).toISOString(),
      };
      this.hitsTotal++;
      this.hitsByList?.inc({ list: m.list.name });
      // P16: the plate only at debug level.
      this.logger.info({ readId: read.id, list: m.list.name, listVersion: m.list.version, type: m.entry.type, kind: m.kind }, 'hot-list hit');
      this.logger.debug({ readId: read.id, plate: read.plate, entryPlate: m.entry.plate }, 'hot-list hit plate');
      this.events.send('hit', hit);
    }
  }

  /**
   * Per list (P10): age since issue, entries, version and staleness, computed at each scrape from the
   * lists in memory; hits counted by list. Names and counts only, never an entry (P1).
   */
  private registerMetrics(ctx: DaemonContext): void {
    const registers = [ctx.metrics.registry];
    const summaries = (nowMs: number) => this.summaries(nowMs);
    const perList = (name: string, help: string, value: (s: HotListSummary, nowMs: number) => number) =>
      new Gauge({
        name, help, labelNames: ['list'], registers,
        collect() {
          this.reset();
          const nowMs = Date.now();
          for (const s of summaries(nowMs)) this.set({ list: s.name }, value(s, nowMs));
        },
      });
    perList('alpr_edge_hotlist_age_seconds', 'Seconds since each loaded hot list was issued (P10: stale past hotlists.maxAgeHours); local: since its last change', (s, nowMs) => Math.max(0, (nowMs - Date.parse(s.issuedAt)) / 1000));
    perList('alpr_edge_hotlist_entries', 'Entries in each loaded hot list', (s) => s.entries);
    perList('alpr_edge_hotlist_version', 'Version of each loaded hot list', (s) => s.version);
    perList('alpr_edge_hotlist_stale', 'P10: 1 while a hot list is older than hotlists.maxAgeHours', (s) => (s.stale ? 1 : 0));
    const maxAgeHours = () => this.cfg?.maxAgeHours ?? 0;
    new Gauge({
      name: 'alpr_edge_hotlist_max_age_seconds', help: 'P10: hotlists.maxAgeHours in seconds: a signed list older than this is stale', registers,
      collect() {
        this.set(maxAgeHours() * 3600);
      },
    });
    this.hitsByList = new Counter({ name: 'alpr_edge_hotlist_hits_total', help: 'Hot-list hits, by list', labelNames: ['list'], registers });
  }

  /** Installs a signed list from MQTT or a file; refused lists never replace the current one. */
  installSigned(bytes: Buffer, actor: string): HotListSummary {
    if (!this.repo) throw new HotListRejectedError('unavailable', this.unavailable ?? 'hot lists are not running');
    try {
      const list = this.repo.install(bytes);
      this.record({ at: new Date().toISOString(), action: 'list-installed', actor, list: list.name, version: list.version, detail: { source: list.source, entries: list.entries.length, signedBy: list.signedBy } });
      this.emitEvent('hotlist-installed', 'info', { list: list.name, version: list.version, entries: list.entries.length });
      // The list just verified is the one now on disk: use it rather than verify it again.
      this.use([...this.lists.filter((l) => l.name !== list.name), list].sort((a, b) => a.name.localeCompare(b.name)));
      return summarise(list, this.cfg.maxAgeHours);
    } catch (err) {
      // The repository may have just found the versions file unreadable: say so at once.
      this.checkVersions();
      const reason = err instanceof HotListRejectedError ? err.reason : 'malformed';
      this.record({ at: new Date().toISOString(), action: 'list-refused', actor, list: '(unknown)', detail: { reason, message: (err as Error).message } });
      this.logger.warn({ reason, err: (err as Error).message, actor }, 'hot list refused; current lists kept');
      this.emitEvent('hotlist-refused', 'warning', { reason, message: (err as Error).message });
      throw err;
    }
  }

  private record(change: HotListChange): void {
    try {
      this.changeLog.append(change);
    } catch (err) {
      this.logger.error({ err }, 'hot-list change log append failed');
    }
    this.events.send('hotlist-change', change);
  }

  /** On the daemon's event bus (MQTT publishes it). */
  private emitEvent(type: DeviceEvent['type'], severity: DeviceEvent['severity'], detail: Record<string, unknown>): void {
    this.events.publish(type, severity, detail);
  }

  /** Loads lists from disk (start, and when another process installed a version). */
  private reload(): void {
    const { lists, errors } = this.repo.loadAll();
    for (const e of errors) this.logger.error({ file: e.file, err: e.error.message }, 'stored hot list does not verify; not loaded');
    this.use(lists);
  }

  private use(lists: HotList[]): void {
    this.lists = lists;
    this.localList = this.local.load();
    this.matcher = new HotListMatcher([...lists, this.localList]);
    this.seen = this.repo.fingerprint() + '|' + this.local.fingerprint();
    this.logger.info({ lists: lists.map((l) => ({ name: l.name, version: l.version, entries: l.entries.length })), localEntries: this.localList.entries.length }, 'hot lists loaded');
    this.events.send('hotlists-changed', this.summaries());
    this.checkStale();
    this.checkVersions();
  }

  /**
   * P10: an unreadable or corrupt versions file would let an older signed list in again, so the
   * repository refuses installs; here health turns degraded and one `hotlist-versions` event goes out
   * (critical), and another (info) once the file is readable again.
   */
  private checkVersions(): void {
    const problem = this.repo.versionsProblem();
    if (problem === this.versionsProblem) return;
    const was = this.versionsProblem;
    this.versionsProblem = problem;
    if (problem) {
      this.logger.error({ problem }, 'hot-list versions file unreadable; installs refused until it is repaired');
      this.emitEvent('hotlist-versions', 'critical', { problem, installs: 'refused' });
    } else {
      this.logger.info({ was }, 'hot-list versions file readable again; installs accepted');
      this.emitEvent('hotlist-versions', 'info', { problem: null, installs: 'accepted' });
    }
  }

  private tick(): void {
    try {
      const [lists, local] = this.seen.split('|');
      // A changed local list alone (`hotlist add`) does not need the signed lists verified again.
      if (this.repo.fingerprint() !== lists) this.reload();
      else if (this.local.fingerprint() !== local) this.use(this.lists);
      else {
        this.checkStale();
        this.checkVersions();
      }
      this.publishShellChanges();
    } catch (err) {
      this.logger.error({ err }, 'hot-list check failed');
    }
  }

  /** `hotlist import|add|remove` changes go out on MQTT `audit` like the daemon's own; the command logged them already (P6). */
  private publishShellChanges(): void {
    const { changes, unreadable } = this.shellChanges.take();
    if (unreadable > 0) this.logger.warn({ unreadable }, 'unreadable hot-list changes from the shell skipped');
    for (const change of changes) this.events.send('hotlist-change', change);
  }

  /** P10: stale raises an alarm once per transition, and clears it when a fresh version arrives. */
  private checkStale(): void {
    const summaries = this.summaries();
    for (const s of summaries) {
      if (s.stale && !this.staleNames.has(s.name)) {
        this.staleNames.add(s.name);
        this.logger.warn({ list: s.name, version: s.version, ageHours: s.ageHours, maxAgeHours: this.cfg.maxAgeHours }, 'hot list is stale');
        this.emitEvent('hotlist-stale', 'critical', { list: s.name, version: s.version, ageHours: s.ageHours, maxAgeHours: this.cfg.maxAgeHours });
      } else if (!s.stale && this.staleNames.delete(s.name)) {
        this.emitEvent('hotlist-fresh', 'info', { list: s.name, version: s.version, ageHours: s.ageHours });
      }
    }
    // A retired list's alarm ends with it (its list-retired change goes out on audit); forgetting the
    // name lets a later list of that name raise its own alarm when it is stale.
    for (const name of this.staleNames) {
      if (summaries.some((s) => s.name === name)) continue;
      this.staleNames.delete(name);
      this.logger.info({ list: name }, 'stale hot list retired: its stale alarm ends');
    }
  }
}
