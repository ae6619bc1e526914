import type { HealthReport } from '../health/health.js';
import type { HotListSummary } from '../hotlist/list.js';
import { AlprError, EX_UNAVAILABLE } from '../errors.js';

// `alpr-edge status`: the running daemon's /healthz as a technician reads it over SSH. It asks the
// daemon's local HTTP server (127.0.0.1 by default), so it needs no credentials and shows counts and
// ages only (P1).

export class StatusUnavailableError extends AlprError {
  constructor(message: string, field = 'http') {
    super(message, field, EX_UNAVAILABLE);
  }
}

export async function fetchHealth(baseUrl: string, timeoutMs = 5000): Promise<{ httpStatus: number; report: HealthReport }> {
  let res: Response;
  try {
    res = await fetch(new URL('/healthz', baseUrl), { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new StatusUnavailableError(`no daemon answers at ${baseUrl} (${cause}): is it running? systemctl status alpr-edge`);
  }
  return { httpStatus: res.status, report: (await res.json()) as HealthReport };
}

function age(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return 'never';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

function table(head: string[], rows: string[][]): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [head, ...rows].map((r) => r.map((c, i) => (c ?? '').padEnd(w[i]!)).join('  ').trimEnd());
}

export function renderStatus(r: HealthReport): string {
  const out: string[] = [];
  out.push(`alpr-edge ${r.version}: ${r.status.toUpperCase()}, up ${age(r.uptimeS * 1000)}, models ${r.models.version}${r.models.interim ? ' (interim)' : ''}`);
  out.push('');
  out.push(...table(
    ['CAMERA', 'STATE', 'FPS', 'LAST FRAME', 'LAST READ', 'FRAMES IN', 'DROPPED', 'RECONNECTS', 'REASON'],
    r.cameras.map((c) => [c.id, c.state, (c.analysedFps ?? 0).toFixed(1), age(c.lastFrameAgeMs), age(c.lastReadAgeMs), String(c.framesIn), String(c.framesDropped), String(c.reconnects), c.reason ?? '']),
  ));
  const hot = r.components['hotlist'];
  out.push('');
  if (!hot || hot['enabled'] === false) out.push('hot lists: disabled');
  else {
    // A list's version is an integer (src/hotlist/list.ts): every cell goes through String().
    const lists = (hot['lists'] as Pick<HotListSummary, 'name' | 'version' | 'entries' | 'ageHours' | 'stale'>[] | undefined) ?? [];
    if (lists.length === 0) out.push(`hot lists: none loaded${hot['reason'] ? ` (${String(hot['reason'])})` : ''}`);
    else out.push(...table(['HOT LIST', 'VERSION', 'ENTRIES', 'AGE', ''], lists.map((l) => [l.name, String(l.version), String(l.entries), age(l.ageHours * 3_600_000), l.stale ? 'STALE' : ''])));
  }
  const mqtt = r.components['mqtt'];
  if (!mqtt || mqtt['enabled'] === false) out.push('broker: none configured');
  else {
    const connected = mqtt['connected'] === true;
    out.push(`broker: ${connected ? 'connected' : `DOWN for ${age(Number(mqtt['disconnectedForS'] ?? 0) * 1000)}`}; outbox ${String(mqtt['outboxMessages'] ?? 0)} messages (${String(mqtt['outboxHits'] ?? 0)} hits), ${String(mqtt['droppedMessages'] ?? 0)} dropped`);
  }
  const store = r.components['store'];
  if (store) out.push(`store: ${store.status}, ${String(store['written'] ?? 0)} reads written, ${String(store['queued'] ?? 0)} queued, ${String(store['dropped'] ?? 0)} dropped${store['alarm'] ? ` (${String(store['alarm'])})` : ''}`);
  const gpio = r.components['gpio'];
  if (gpio && gpio['enabled'] !== false) out.push(`gpio: ${gpio.status}${gpio['led'] ? `, LED ${String(gpio['led'])}` : ''}${gpio['illuminator'] ? `, IR ${String(gpio['illuminator'])}` : ''}${gpio['tamper'] ? `, enclosure ${String(gpio['tamper'])}` : ''}${gpio['reason'] ? ` (${String(gpio['reason'])})` : ''}`);
  return out.join('\n') + '\n';
}
