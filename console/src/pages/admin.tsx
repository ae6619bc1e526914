import { useEffect, useState } from 'preact/hooks';
import { api, type Whoami } from '../api.js';
import { localTime } from '../format.js';
import type { AnchorVerification, AuditSampleReply, ChainVerification, ExportResult, Hold, LocalEntry, LocalProposal, ShareRequest, User } from '../types.js';
import { LocalEntryForm, type LocalEntryFields } from './local-entry-form.js';

// Administration (P4, P6, P9, P14): users, evidence holds, sharing requests, audits. Every action
// goes through the API and lands in the access log under the administrator's name.

function useList<T>(path: string): { items: T[] | undefined; error: string | undefined; reload: () => Promise<void>; setError: (e: string | undefined) => void } {
  const [items, setItems] = useState<T[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const reload = () => api<T[]>('GET', path).then(setItems, (err: Error) => setError(err.message));
  useEffect(() => void reload(), [path]);
  return { items, error, reload, setError };
}

const MIN_PASSWORD = 12;

function Users({ me }: { me: Whoami }) {
  const { items: users, error, reload, setError } = useList<User>('/users');
  const [form, setForm] = useState({ username: '', role: 'investigator' as User['role'], trainingValidUntil: '', password: '' });
  const [resetting, setResetting] = useState<string | undefined>();
  const [newPassword, setNewPassword] = useState('');
  const [training, setTraining] = useState<{ username: string; date: string } | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const act = async (what: () => Promise<unknown>, done: string) => {
    try {
      await what();
      setError(undefined);
      setNotice(done);
      await reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const add = (e: Event) => {
    e.preventDefault();
    const body = { ...form, trainingValidUntil: form.trainingValidUntil || (form.role === 'technician' ? null : '') };
    void act(() => api('POST', '/users', { body }), `user ${form.username} added`).then(() => setForm({ ...form, username: '', password: '' }));
  };
  const needsTraining = form.role !== 'technician';
  return (
    <section class="card" data-testid="admin-users">
      <h2>Users (P6, P8)</h2>
      {error && <p class="error" role="alert">{error}</p>}
      {notice && <p class="notice" role="status">{notice}</p>}
      {users && <p data-testid="locked-out">{(() => {
        const locked = users.filter((u) => !u.disabled && u.lockedUntil);
        return locked.length === 0 ? 'Nobody is locked out.' : `Locked out now: ${locked.map((u) => `${u.username} (until ${localTime(u.lockedUntil!)})`).join(', ')}. A new password lifts a lockout.`;
      })()}</p>}
      {!users ? <p>Loading…</p> : (
        <table>
          <thead><tr><th>user</th><th>role</th><th>training until</th><th>status</th><th>created</th><th></th></tr></thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.username} class={u.disabled || u.lockedUntil ? 'warn' : ''}>
                <td>{u.username}</td><td>{u.role}</td><td>{u.trainingValidUntil ?? '—'}</td>
                <td>{u.disabled ? 'disabled' : u.lockedUntil ? `locked until ${localTime(u.lockedUntil)}` : u.failedLogins > 0 ? `${u.failedLogins} failed sign-in(s)` : 'active'}</td>
                <td>{localTime(u.createdAt)} by {u.createdBy}</td>
                <td>
                  {u.disabled && (
                    <button type="button" onClick={() => { if (confirm(`Enable ${u.username}? They sign in again with their own password.`)) void act(() => api('POST', `/users/${u.username}/enable`), `${u.username} enabled`); }}>Enable</button>
                  )}
                  {!u.disabled && u.username !== me.username && (
                    <button type="button" class="secondary" onClick={() => { if (confirm(`Disable ${u.username}? Their sessions end at once.`)) void act(() => api('POST', `/users/${u.username}/disable`), `${u.username} disabled`); }}>Disable</button>
                  )}{' '}
                  {!u.disabled && (resetting === u.username ? (
                    <form class="inline" onSubmit={(e) => { e.preventDefault(); void act(() => api('POST', `/users/${u.username}/password`, { body: { password: newPassword } }), `password of ${u.username} set`).then(() => { setResetting(undefined); setNewPassword(''); }); }}>
                      <input name="newPassword" type="password" autocomplete="new-password" placeholder={`new password, ${MIN_PASSWORD}+ characters`} value={newPassword} onInput={(e) => setNewPassword(e.currentTarget.value)} />
                      <button type="submit" disabled={newPassword.length < MIN_PASSWORD}>Set</button>
                    </form>
                  ) : <button type="button" class="secondary" onClick={() => setResetting(u.username)}>Reset password…</button>)}
                  {' '}{!u.disabled && (training?.username === u.username ? (
                    <form class="inline" onSubmit={(e) => { e.preventDefault(); void act(() => api('POST', `/users/${u.username}/training`, { body: { trainingValidUntil: training.date || null } }), `training of ${u.username} set`).then(() => setTraining(undefined)); }}>
                      <input name="trainingDate" type="date" value={training.date} onInput={(e) => setTraining({ username: u.username, date: e.currentTarget.value })} required={u.role !== 'technician'} />
                      <button type="submit" disabled={u.role !== 'technician' && !training.date}>Set</button>
                    </form>
                  ) : <button type="button" class="secondary" onClick={() => setTraining({ username: u.username, date: u.trainingValidUntil ?? '' })}>Training date…</button>)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form class="add-user" onSubmit={add}>
        <h3>Add a user</h3>
        <label>User name<input name="newUsername" value={form.username} pattern="[a-z][a-z0-9._\-]{1,31}" onInput={(e) => setForm({ ...form, username: e.currentTarget.value })} required /></label>
        <label>Role
          <select name="newRole" value={form.role} onChange={(e) => setForm({ ...form, role: e.currentTarget.value as User['role'] })}>
            <option value="technician">technician</option><option value="investigator">investigator</option><option value="administrator">administrator</option>
          </select>
        </label>
        <label>Training valid until{needsTraining ? '' : ' (none needed)'}<input name="newTraining" type="date" value={form.trainingValidUntil} onInput={(e) => setForm({ ...form, trainingValidUntil: e.currentTarget.value })} required={needsTraining} /></label>
        <label>First password<input name="newPassword" type="password" autocomplete="new-password" value={form.password} onInput={(e) => setForm({ ...form, password: e.currentTarget.value })} required /></label>
        <button type="submit" disabled={!form.username || form.password.length < MIN_PASSWORD || (needsTraining && !form.trainingValidUntil)}>Add user</button>
      </form>
    </section>
  );
}

function Holds() {
  const { items: holds, error, reload, setError } = useList<Hold>('/holds');
  const [releasing, setReleasing] = useState<string | undefined>();
  const [reason, setReason] = useState('');
  // Reloaded when an export is begun: a request approved since the page opened is offered too.
  const { items: shares, reload: reloadShares } = useList<ShareRequest>('/shares');
  const [exporting, setExporting] = useState<string | undefined>();
  const [shareFor, setShareFor] = useState('');
  const [exported, setExported] = useState<ExportResult | undefined>();
  const exportNow = async (hold: string) => {
    try {
      setExported(await api<ExportResult>('POST', '/exports', { body: { hold, ...(shareFor ? { shareRequest: shareFor } : {}) } }));
      setExporting(undefined);
      setShareFor('');
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const release = async (name: string) => {
    try {
      await api('DELETE', `/holds/${encodeURIComponent(name)}`, { query: { reason } });
      setReleasing(undefined);
      setReason('');
      await reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <section class="card" data-testid="admin-holds">
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
                ) : <button type="button" class="secondary" onClick={() => setReleasing(h.name)}>Release…</button>)}{' '}
                {!h.releasedAt && (exporting === h.name ? (
                  <form class="inline" onSubmit={(e) => { e.preventDefault(); void exportNow(h.name); }}>
                    <select name="exportShare" value={shareFor} onChange={(e) => setShareFor(e.currentTarget.value)}>
                      <option value="">for this department</option>
                      {(shares ?? []).filter((r) => r.status === 'approved').map((r) => <option key={r.id} value={r.id}>for {r.agency} ({r.id})</option>)}
                    </select>
                    <button type="submit">Export</button>
                  </form>
                ) : <button type="button" class="secondary" onClick={() => { setExporting(h.name); void reloadShares(); }}>Export…</button>)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {exported && (
        <div data-testid="export-result" role="status">
          <p>Exported {exported.files} file(s) of hold {exported.hold} (case {exported.caseNumber}){exported.shareRequest ? ` for ${exported.shareRequest}` : ''} to <code>{exported.dir}</code> on the device.</p>
          <p>Manifest sha256 <code class="mono" data-testid="export-manifest">{exported.manifestSha256}</code><br />
            Device key fingerprint <code class="mono" data-testid="export-fingerprint">{exported.publicKeyFingerprint}</code></p>
          <p class="muted small">Record both with the evidence; check the bundle anywhere with <code>alpr-edge verify-export DIR --fingerprint {exported.publicKeyFingerprint}</code>.</p>
        </div>
      )}
      <p class="muted small">Exports go to a new directory under the state directory's <code>exports/</code>; copy one to media on the device (docs/operations.md).</p>
    </section>
  );
}

function Shares() {
  const { items: shares, error, reload, setError } = useList<ShareRequest>('/shares');
  const [refusing, setRefusing] = useState<string | undefined>();
  const [reason, setReason] = useState('');
  const decide = async (id: string, decision: 'approve' | 'refuse') => {
    try {
      await api('POST', `/shares/${encodeURIComponent(id)}/${decision}`, decision === 'refuse' ? { body: { reason } } : {});
      setRefusing(undefined);
      setReason('');
      await reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <section class="card" data-testid="admin-shares">
      <h2>Sharing requests (P14)</h2>
      <p class="muted small">Only law-enforcement or prosecutorial agencies, never for immigration enforcement; refused requests stay on file with the reason.</p>
      {error && <p class="error" role="alert">{error}</p>}
      {!shares ? <p>Loading…</p> : shares.length === 0 ? <p class="muted">no requests</p> : (
        <table>
          <thead><tr><th>id</th><th>agency</th><th>requester</th><th>purpose</th><th>recorded</th><th>status</th><th></th></tr></thead>
          <tbody>
            {shares.map((s) => (
              <tr key={s.id} class={s.status === 'refused' ? 'warn' : ''}>
                <td class="mono">{s.id}</td><td>{s.agency} ({s.agencyState})</td><td>{s.requester}</td><td>{s.purpose}</td>
                <td>{localTime(s.createdAt)} by {s.requestedBy}</td>
                <td>{s.status}{s.refusal ? `: ${s.refusal}` : ''}{s.approvedBy ? ` by ${s.approvedBy}` : ''}{s.refusedBy ? ` (by ${s.refusedBy})` : ''}</td>
                <td>{s.status === 'pending' && (refusing === s.id ? (
                  <form class="inline" onSubmit={(e) => { e.preventDefault(); void decide(s.id, 'refuse'); }}>
                    <input name="refusalReason" placeholder="reason for refusal" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
                    <button type="submit" disabled={reason.trim().length < 3}>Refuse</button>
                  </form>
                ) : <><button type="button" onClick={() => void decide(s.id, 'approve')}>Approve</button>{' '}<button type="button" class="secondary" onClick={() => setRefusing(s.id)}>Refuse…</button></>)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function LocalHotList({ me }: { me: Whoami }) {
  const { items: entries, error, reload, setError } = useList<LocalEntry>('/hotlist/local');
  const { items: proposals, reload: reloadProposals } = useList<LocalProposal>('/hotlist/local/proposals');
  const [notice, setNotice] = useState<string | undefined>();
  const [refusing, setRefusing] = useState<string | undefined>();
  const [refusal, setRefusal] = useState('');
  const act = async (what: () => Promise<string>) => {
    try {
      setNotice(await what());
      setError(undefined);
      await Promise.all([reload(), reloadProposals()]);
      return true;
    } catch (err) {
      setError((err as Error).message);
      return false;
    }
  };
  const remove = (entry: LocalEntry) => {
    if (!confirm(`Remove ${entry.plate} (case ${entry.caseNumber}) from the local hot list? The device stops alerting on it.`)) return;
    void act(async () => {
      const r = await api<{ removed: number; version: number }>('POST', '/hotlist/local/remove', { body: { plate: entry.plate, caseNumber: entry.caseNumber } });
      return `${entry.plate} (case ${entry.caseNumber}) removed (${r.removed} entr${r.removed === 1 ? 'y' : 'ies'}); local list version ${r.version}`;
    });
  };
  const add = async (fields: LocalEntryFields): Promise<boolean> => {
    if (!confirm(`Approve and add ${fields.plate} as ${me.username}? The device alerts on it until it expires (P11).`)) return false;
    return act(async () => {
      const added = await api<LocalEntry>('POST', '/hotlist/local', { body: fields });
      return `${added.plate} added, approved by ${added.approvedBy ?? '?'}, expires ${localTime(added.expiresAt ?? '')}`;
    });
  };
  const approve = (p: LocalProposal) => {
    if (!confirm(`Approve ${p.plate} (case ${p.caseNumber}) entered by ${p.enteredBy}? The device alerts on it until it expires (P11).`)) return;
    void act(async () => {
      const added = await api<LocalEntry>('POST', `/hotlist/local/proposals/${encodeURIComponent(p.id)}/approve`);
      return `${added.plate} added, entered by ${added.enteredBy ?? '?'}, approved by ${added.approvedBy ?? '?'}`;
    });
  };
  const refuse = (p: LocalProposal) => void act(async () => {
    await api('POST', `/hotlist/local/proposals/${encodeURIComponent(p.id)}/refuse`, { body: { reason: refusal } });
    setRefusing(undefined);
    setRefusal('');
    return `${p.plate} (case ${p.caseNumber}) refused; ${p.enteredBy} sees why`;
  });
  const pending = (proposals ?? []).filter((p) => p.status === 'pending');
  return (
    <section class="card" data-testid="admin-hotlist">
      <h2>Local hot-list entries (P11, P12)</h2>
      <p class="muted small">Each needs a member, a case number, a synopsis and an administrator's approval: approve what members entered, or add one yourself (entered and approved under your own name). Removing one is in the access log under your name too.</p>
      {error && <p class="error" role="alert">{error}</p>}
      {notice && <p class="notice" role="status">{notice}</p>}
      <h3>Awaiting approval</h3>
      {!proposals ? <p>Loading…</p> : pending.length === 0 ? <p class="muted" data-testid="no-proposals">none</p> : (
        <table data-testid="proposals">
          <thead><tr><th>plate</th><th>state</th><th>type</th><th>case</th><th>synopsis</th><th>entered by</th><th>entered</th><th>expires</th><th></th></tr></thead>
          <tbody>
            {pending.map((p) => (
              <tr key={p.id}>
                <td class="mono">{p.plate}</td><td>{p.state ?? 'any'}</td><td>{p.type}</td><td>{p.caseNumber}</td><td>{p.synopsis}</td><td>{p.enteredBy}</td>
                <td>{localTime(p.proposedAt)}</td><td>{p.expiresAt ? localTime(p.expiresAt) : 'longest allowed'}</td>
                <td>{refusing === p.id ? (
                  <form class="inline" onSubmit={(e) => { e.preventDefault(); refuse(p); }}>
                    <input name="proposalRefusal" placeholder="reason for refusal" value={refusal} onInput={(e) => setRefusal(e.currentTarget.value)} />
                    <button type="submit" disabled={refusal.trim().length < 3}>Refuse</button>
                  </form>
                ) : <><button type="button" onClick={() => approve(p)}>Approve</button>{' '}<button type="button" class="secondary" onClick={() => setRefusing(p.id)}>Refuse…</button></>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>On the local list</h3>
      {!entries ? <p>Loading…</p> : entries.length === 0 ? <p class="muted">no local entries</p> : (
        <table>
          <thead><tr><th>plate</th><th>state</th><th>type</th><th>case</th><th>synopsis</th><th>entered by</th><th>approved by</th><th>expires</th><th></th></tr></thead>
          <tbody>
            {entries.map((e, i) => (
              <tr key={`${e.plate}-${e.caseNumber}-${i}`} class={e.expired ? 'warn' : ''}>
                <td class="mono">{e.plate}{e.partial ? ' (partial)' : ''}</td><td>{e.state ?? 'any'}</td><td>{e.type}</td><td>{e.caseNumber}</td><td>{e.synopsis}</td>
                <td>{e.enteredBy ?? '—'}</td><td>{e.approvedBy ?? '—'}</td><td>{e.expiresAt ? `${e.expired ? 'expired ' : ''}${localTime(e.expiresAt)}` : 'never'}</td>
                <td><button type="button" class="secondary" onClick={() => remove(e)}>Remove</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <LocalEntryForm title="Add and approve an entry" submitLabel="Approve and add" onSubmit={add} />
    </section>
  );
}

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function Audit() {
  const [chain, setChain] = useState<ChainVerification | undefined>();
  const now = new Date();
  const [form, setForm] = useState({ from: isoDay(new Date(now.getTime() - 182 * 86_400_000)), to: isoDay(new Date(now.getTime() + 86_400_000)), n: 10, seed: `audit-${isoDay(now)}` });
  const [sample, setSample] = useState<AuditSampleReply | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [anchorsFile, setAnchorsFile] = useState<File | undefined>();
  const [anchored, setAnchored] = useState<AnchorVerification | undefined>();
  const verify = () => api<ChainVerification>('GET', '/audit/verify').then(setChain, (err: Error) => setError(err.message));
  // P6: the chain alone proves only that the file agrees with itself; the heads the central side
  // kept (`alpr-edge watch --out`) show whether it is the history that left the device.
  const verifyAnchors = async (e: Event) => {
    e.preventDefault();
    if (!anchorsFile) return;
    try {
      setAnchored(await api<AnchorVerification>('POST', '/audit/verify-anchors', { text: await anchorsFile.text() }));
      setError(undefined);
    } catch (err) {
      setAnchored(undefined);
      setError((err as Error).message);
    }
  };
  const draw = async (e: Event) => {
    e.preventDefault();
    try {
      setSample(await api<AuditSampleReply>('POST', '/audit/sample', { body: { from: new Date(form.from).toISOString(), to: new Date(form.to).toISOString(), n: form.n, seed: form.seed } }));
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const download = () => {
    if (!sample) return;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([JSON.stringify(sample, null, 2)], { type: 'application/json' }));
    a.download = `audit-sample-${sample.seed}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  };
  return (
    <section class="card" data-testid="admin-audit">
      <h2>Audit (P6, P9)</h2>
      {error && <p class="error" role="alert">{error}</p>}
      <p><button type="button" class="secondary" onClick={() => void verify()}>Verify the access log</button>{' '}
        {chain && <span data-testid="chain" class={chain.ok ? '' : 'error'}>{chain.ok ? `intact: ${chain.entries} entries, head ${chain.head.hash.slice(0, 16)}…` : `BROKEN at entry ${chain.firstBadSeq}: ${chain.problem}`}</span>}
      </p>
      <form class="anchors" onSubmit={(e) => void verifyAnchors(e)}>
        <h3>Check against the central side's anchors</h3>
        <p class="muted small">The signed heads of this device that <code>alpr-edge watch --out DIR</code> kept on the central side, in <code>DIR/DEVICE-ID/anchors.jsonl</code>: as <code>alpr-edge audit verify --anchors</code>, this finds a log rewritten on the device after its head left.</p>
        <label>Anchors file<input name="anchorsFile" type="file" accept=".jsonl,.json,application/json,text/plain" onChange={(e) => { setAnchorsFile(e.currentTarget.files?.[0]); setAnchored(undefined); }} /></label>
        <button type="submit" class="secondary" disabled={!anchorsFile}>Check against anchors</button>
      </form>
      {anchored && (
        <div data-testid="anchors-result" class={anchored.ok ? '' : 'error'} role="status">
          <p>{anchored.ok
            ? `agrees: the log matches all ${anchored.anchors.anchors} anchored head(s), up to entry ${anchored.anchors.lastMatchingSeq}; chain intact (${anchored.entries} entries)`
            : `DOES NOT AGREE: ${[...(anchored.problem ? [`chain: ${anchored.problem}`] : []), ...anchored.anchors.problems].join('; ')}`}</p>
          {(anchored.anchors.badSignatures > 0 || anchored.anchors.otherDevices > 0) && <p class="muted small">{anchored.anchors.badSignatures} not signed by this device's key, {anchored.anchors.otherDevices} of other devices: left out.</p>}
        </div>
      )}
      <form class="sample" onSubmit={(e) => void draw(e)}>
        <h3>Draw a sample of inquiries</h3>
        <p class="muted small">Watsonville: yearly, at least 10 of the prior six months; San Leandro: quarterly, at least 5. The same seed draws the same sample again.</p>
        <label>From<input name="sampleFrom" type="date" value={form.from} onInput={(e) => setForm({ ...form, from: e.currentTarget.value })} required /></label>
        <label>To (exclusive)<input name="sampleTo" type="date" value={form.to} onInput={(e) => setForm({ ...form, to: e.currentTarget.value })} required /></label>
        <label>How many<input name="sampleN" type="number" min={1} max={1000} value={form.n} onInput={(e) => setForm({ ...form, n: Number(e.currentTarget.value) })} required /></label>
        <label>Seed<input name="sampleSeed" value={form.seed} onInput={(e) => setForm({ ...form, seed: e.currentTarget.value })} required /></label>
        <button type="submit">Draw sample</button>
      </form>
      {sample && (
        <div data-testid="sample">
          <p>{sample.entries.length} of {sample.population} inquiries drawn; chain {sample.chain.ok ? 'intact' : 'BROKEN'} when drawn. <button type="button" class="secondary" onClick={download}>Download signed sample (JSON)</button></p>
          <table>
            <thead><tr><th>#</th><th>time</th><th>user</th><th>action</th><th>result</th><th>reason</th><th>case</th><th>what</th></tr></thead>
            <tbody>
              {sample.entries.map((e) => {
                const p = e.parametersInClear ?? e.parameters;
                const what = [p['plate'], p['readId'], p['kind'], p['camera']].filter((x) => typeof x === 'string').join(' · ');
                return <tr key={e.seq}><td>{e.seq}</td><td>{localTime(e.time)}</td><td>{e.user}</td><td>{e.action}</td><td>{e.result}</td><td>{String(p['reason'] ?? '')}</td><td>{String(p['caseNumber'] ?? '')}</td><td class="mono">{what}</td></tr>;
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function AdminPage({ me }: { me: Whoami }) {
  return (
    <div>
      <h1>Administration</h1>
      <Users me={me} />
      <Shares />
      <LocalHotList me={me} />
      <Audit />
      <Holds />
    </div>
  );
}
