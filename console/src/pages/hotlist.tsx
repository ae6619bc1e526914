import { useEffect, useState } from 'preact/hooks';
import { api, type Whoami } from '../api.js';
import { localTime } from '../format.js';
import type { LocalProposal } from '../types.js';
import { LocalEntryForm, type LocalEntryFields } from './local-entry-form.js';

// A member's local hot-list entries (P11): entered here with a case number and a synopsis, matched
// only once an administrator has approved them; the member sees what became of each.

export function HotListPage({ me }: { me: Whoami }) {
  const [proposals, setProposals] = useState<LocalProposal[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const reload = () => api<LocalProposal[]>('GET', '/hotlist/local/proposals').then(setProposals, (err: Error) => setError(err.message));
  useEffect(() => void reload(), []);
  const propose = async (fields: LocalEntryFields): Promise<boolean> => {
    try {
      const p = await api<LocalProposal>('POST', '/hotlist/local/proposals', { body: fields });
      setNotice(`${p.plate} (case ${p.caseNumber}) entered for approval as ${p.id}; it is not matched until an administrator approves it`);
      setError(undefined);
      await reload();
      return true;
    } catch (err) {
      setError((err as Error).message);
      return false;
    }
  };
  return (
    <div>
      <h1>Local hot list</h1>
      <section class="card" data-testid="hotlist-propose">
        <h2>Enter a local entry (P11, P12)</h2>
        <p class="muted small">A local entry needs the entering member ({me.username}), a case number and a short synopsis, and an administrator's approval: until then the device does not alert on it. Partial plates: ? for one unknown character, * for any run.</p>
        {error && <p class="error" role="alert">{error}</p>}
        {notice && <p class="notice" role="status">{notice}</p>}
        <LocalEntryForm title="Entry for approval" submitLabel="Enter for approval" onSubmit={propose} />
      </section>
      <section class="card" data-testid="hotlist-proposals">
        <h2>Your entries</h2>
        {!proposals ? <p>Loading…</p> : proposals.length === 0 ? <p class="muted">none yet</p> : (
          <table>
            <thead><tr><th>id</th><th>plate</th><th>state</th><th>type</th><th>case</th><th>synopsis</th><th>entered</th><th>status</th></tr></thead>
            <tbody>
              {proposals.map((p) => (
                <tr key={p.id} class={p.status === 'refused' ? 'warn' : ''}>
                  <td class="mono">{p.id}</td><td class="mono">{p.plate}</td><td>{p.state ?? 'any'}</td><td>{p.type}</td><td>{p.caseNumber}</td><td>{p.synopsis}</td>
                  <td>{localTime(p.proposedAt)}</td>
                  <td>{p.status === 'pending' ? 'awaiting approval' : p.status === 'approved' ? `approved by ${p.decidedBy ?? '?'}` : `refused by ${p.decidedBy ?? '?'}: ${p.refusal ?? ''}`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
