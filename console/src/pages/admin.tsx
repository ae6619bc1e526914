import { useEffect, useState } from 'preact/hooks';
import { api, type Whoami } from '../api.js';
import { localTime } from '../format.js';
import type { Hold } from '../types.js';

// Administration (P4, P6, P9, P14). Evidence holds here; users, sharing requests and audits are
// the shell commands of docs/operations.md until their API routes exist.

function Holds() {
  const [holds, setHolds] = useState<Hold[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [releasing, setReleasing] = useState<string | undefined>();
  const [reason, setReason] = useState('');
  const load = () => api<Hold[]>('GET', '/holds').then(setHolds, (err: Error) => setError(err.message));
  useEffect(() => void load(), []);

  const release = async (name: string) => {
    try {
      await api('DELETE', `/holds/${encodeURIComponent(name)}`, { query: { reason } });
      setReleasing(undefined);
      setReason('');
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <section class="card">
      <h2>Evidence holds (P4)</h2>
      {error && <p class="error" role="alert">{error}</p>}
      {!holds ? <p>Loading…</p> : holds.length === 0 ? <p class="muted">no holds</p> : (
        <table>
          <thead><tr><th>name</th><th>case</th><th>reads</th><th>by</th><th>placed</th><th>released</th><th></th></tr></thead>
          <tbody>
            {holds.map((h) => (
              <tr key={h.name}>
                <td>{h.name}</td><td>{h.caseNumber}</td><td>{h.readCount}</td><td>{h.createdBy}</td><td>{localTime(h.createdAt)}</td>
                <td>{h.releasedAt ? `${localTime(h.releasedAt)} by ${h.releasedBy ?? '?'}` : ''}</td>
                <td>{!h.releasedAt && (releasing === h.name ? (
                  <form class="inline" onSubmit={(e) => { e.preventDefault(); void release(h.name); }}>
                    <input name="releaseReason" placeholder="reason for release" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
                    <button type="submit" disabled={reason.trim().length < 3}>Release</button>
                  </form>
                ) : <button type="button" class="secondary" onClick={() => setReleasing(h.name)}>Release…</button>)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p class="muted small">Export a hold for evidence on the device: <code>alpr-edge export --hold NAME</code> (docs/operations.md).</p>
    </section>
  );
}

export function AdminPage(_props: { me: Whoami }) {
  return (
    <div>
      <h1>Administration</h1>
      <Holds />
    </div>
  );
}
