import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { age, bytes } from '../format.js';
import type { DeviceStatus, SelftestReport } from '../types.js';

// Device health for every role: cameras, models, hot lists and their ages, broker and outbox,
// store and disk, clock. Counts and ages only (P1); the same figures as `alpr-edge status`.

const REFRESH_MS = 2000;

type Component = Record<string, unknown> & { status?: string };
type ListSummary = { name: string; version: number; entries: number; ageHours: number; stale: boolean };

function Status({ s }: { s: string | undefined }) {
  return <span class={`state ${s ?? 'unknown'}`}>{s ?? 'unknown'}</span>;
}

/**
 * The self-test from the page: the daemon runs it in a child process (one at a time) and leaves out
 * the cameras and pins it holds; each check comes with what to do next.
 */
function Selftest() {
  const [report, setReport] = useState<SelftestReport | null | undefined>();
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string | undefined>();
  useEffect(() => void api<{ report: SelftestReport | null }>('GET', '/device/selftest').then((r) => setReport(r.report), (err: Error) => setError(err.message)), []);
  const run = async () => {
    setRunning(true);
    try {
      setReport(await api<SelftestReport>('POST', '/device/selftest'));
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setRunning(false);
    }
  };
  return (
    <section class="card" data-testid="selftest">
      <h2>Self-test</h2>
      <p><button type="button" onClick={() => void run()} disabled={running}>{running ? 'Running… (up to two minutes)' : 'Run the self-test'}</button>{' '}
        {report && <span data-testid="selftest-summary" class={report.ok ? '' : 'error'}>{report.ok ? 'no check failed' : `${report.checks.filter((c) => c.status === 'fail').length} check(s) failed`}, finished {new Date(report.finishedAt).toLocaleTimeString()}</span>}
      </p>
      {error && <p class="error" role="alert">{error}</p>}
      {report && (
        <table>
          <thead><tr><th>check</th><th>result</th><th>detail</th><th>what to do</th></tr></thead>
          <tbody>
            {report.checks.map((c) => (
              <tr key={c.check} class={c.status === 'fail' || c.status === 'warn' ? 'warn' : ''}>
                <td>{c.check}</td><td><span class={`state ${c.status}`}>{c.status}</span></td><td>{c.detail}</td><td>{c.next}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p class="muted small">The cameras and GPIO pins are the daemon's while it runs, so the page leaves them out (the live view shows the cameras); <code>alpr-edge selftest</code> over SSH, with the daemon stopped, checks them too.</p>
    </section>
  );
}

export function HealthPage({ selftest = false }: { selftest?: boolean }) {
  const [d, setD] = useState<DeviceStatus | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [fetchedAt, setFetchedAt] = useState(0);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const reply = await api<DeviceStatus>('GET', '/device');
        if (stopped) return;
        setD(reply);
        setFetchedAt(Date.now());
        setError(undefined);
      } catch (err) {
        if (!stopped) setError((err as Error).message);
      }
      if (!stopped) timer = setTimeout(() => void tick(), REFRESH_MS);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, []);

  if (!d) return <div><h1>Device health</h1>{error ? <p class="error">{error}</p> : <p>Loading…</p>}</div>;
  const h = d.health;
  const hot = h.components['hotlist'] as Component | undefined;
  const mqtt = h.components['mqtt'] as Component | undefined;
  const store = h.components['store'] as Component | undefined;
  const gpio = h.components['gpio'] as Component | undefined;
  const lists = (hot?.['lists'] as ListSummary[] | undefined) ?? [];
  // The device clock against this computer's, both at the moment of the answer.
  const skewS = (Date.parse(d.now) - fetchedAt) / 1000;

  return (
    <div>
      <h1>Device health <Status s={h.status} /></h1>
      {error && <p class="error" role="alert">{error}</p>}
      <p class="muted">alpr-edge {h.version}, up {age(h.uptimeS * 1000)}. Models {h.models.version}{h.models.interim ? ' (interim)' : ''}.</p>
      <div class="grid-2">
        <section class="card" data-testid="health-cameras">
          <h2>Cameras</h2>
          <table>
            <thead><tr><th>camera</th><th>state</th><th>fps</th><th>last frame</th><th>last read</th><th>in</th><th>dropped</th><th>reconnects</th></tr></thead>
            <tbody>
              {h.cameras.map((c) => (
                <tr key={c.id}><td>{c.id}</td><td><Status s={c.state} />{c.reason ? ` ${c.reason}` : ''}</td><td>{c.analysedFps.toFixed(1)}</td>
                  <td>{age(c.lastFrameAgeMs)}</td><td>{age(c.lastReadAgeMs)}</td><td>{c.framesIn}</td><td>{c.framesDropped}</td><td>{c.reconnects}</td></tr>
              ))}
            </tbody>
          </table>
        </section>
        <section class="card" data-testid="health-hotlists">
          <h2>Hot lists <Status s={hot ? (hot['enabled'] === false ? 'disabled' : hot.status) : 'disabled'} /></h2>
          {hot?.['reason'] ? <p class="warn">{String(hot['reason'])}</p> : null}
          {lists.length === 0 ? <p class="muted">none loaded</p> : (
            <table>
              <thead><tr><th>list</th><th>version</th><th>entries</th><th>age</th><th></th></tr></thead>
              <tbody>{lists.map((l) => <tr key={l.name} class={l.stale ? 'warn' : ''}><td>{l.name}</td><td>{l.version}</td><td>{l.entries}</td><td>{age(l.ageHours * 3_600_000)}</td><td>{l.stale ? 'STALE' : ''}</td></tr>)}</tbody>
            </table>
          )}
        </section>
        <section class="card" data-testid="health-broker">
          <h2>Broker and outbox <Status s={mqtt ? (mqtt['enabled'] === false ? 'disabled' : mqtt.status) : 'disabled'} /></h2>
          {!mqtt || mqtt['enabled'] === false ? <p class="muted">no broker configured</p> : (
            <dl class="figures">
              <dt>connection</dt><dd>{mqtt['connected'] === true ? 'connected' : `down for ${age(Number(mqtt['disconnectedForS'] ?? 0) * 1000)}`}</dd>
              <dt>outbox</dt><dd>{String(mqtt['outboxMessages'] ?? 0)} messages ({String(mqtt['outboxHits'] ?? 0)} hits)</dd>
              <dt>dropped</dt><dd>{String(mqtt['droppedMessages'] ?? 0)}</dd>
            </dl>
          )}
        </section>
        <section class="card" data-testid="health-store">
          <h2>Store and disk <Status s={store?.status} /></h2>
          <dl class="figures">
            <dt>reads kept</dt><dd>{d.store.reads}</dd>
            <dt>store size</dt><dd>{bytes(d.store.usedBytes)} of {bytes(d.store.mapSizeBytes)} mapped</dd>
            <dt>disk free</dt><dd>{bytes(d.store.fsFreeBytes)}</dd>
            <dt>write queue</dt><dd>{String(store?.['queued'] ?? 0)} queued, {String(store?.['dropped'] ?? 0)} dropped</dd>
            {d.store.corruptSkipped > 0 && <><dt>corrupt records skipped</dt><dd>{d.store.corruptSkipped}</dd></>}
          </dl>
          {store?.['alarm'] ? <p class="warn">{String(store['alarm'])}</p> : null}
        </section>
        <section class="card" data-testid="health-clock">
          <h2>Clock <Status s={d.clock ? (d.clock.synced === true ? 'ok' : d.clock.synced === false ? 'degraded' : 'unknown') : 'unknown'} /></h2>
          <dl class="figures">
            <dt>device time (UTC)</dt><dd>{d.now}</dd>
            <dt>against this computer</dt><dd>{Math.abs(skewS) < 2 ? 'within 2 s' : `${skewS > 0 ? 'ahead' : 'behind'} by ${Math.abs(skewS).toFixed(0)} s`}</dd>
            <dt>synchronised</dt><dd>{d.clock ? `${d.clock.synced === undefined ? 'cannot tell' : d.clock.synced ? 'yes' : 'NO'} (${d.clock.source}: ${d.clock.detail})` : 'not known'}</dd>
          </dl>
        </section>
        {gpio && gpio['enabled'] !== false && (
          <section class="card">
            <h2>GPIO <Status s={gpio.status} /></h2>
            <dl class="figures">
              {gpio['led'] ? <><dt>status LED</dt><dd>{String(gpio['led'])}</dd></> : null}
              {gpio['illuminator'] ? <><dt>IR illuminator</dt><dd>{String(gpio['illuminator'])}</dd></> : null}
              {gpio['tamper'] ? <><dt>enclosure</dt><dd>{String(gpio['tamper'])}</dd></> : null}
            </dl>
          </section>
        )}
      </div>
      {selftest ? <Selftest /> : <p class="muted small">The self-test (camera, models, broker TLS round trip, clock, disk, store, GPIO) is run by a technician, from this page or over SSH: <code>alpr-edge selftest</code>.</p>}
    </div>
  );
}
