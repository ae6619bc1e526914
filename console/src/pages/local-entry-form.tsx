import { useState } from 'preact/hooks';

// The fields P11 asks of a local hot-list entry (plate, case number, synopsis; state, type and an
// expiry optional), shared by the administrator's "approve and add" and a member's proposal.

export interface LocalEntryFields {
  plate: string;
  state: string | null;
  type: string;
  caseNumber: string;
  synopsis: string;
  expiresAt?: string;
}

export function LocalEntryForm({ title, submitLabel, onSubmit }: { title: string; submitLabel: string; onSubmit: (fields: LocalEntryFields) => Promise<boolean> }) {
  const [form, setForm] = useState({ plate: '', state: '', type: 'BOLO', caseNumber: '', synopsis: '', expiresAt: '' });
  const submit = async (e: Event) => {
    e.preventDefault();
    const done = await onSubmit({ plate: form.plate, state: form.state || null, type: form.type, caseNumber: form.caseNumber, synopsis: form.synopsis, ...(form.expiresAt ? { expiresAt: form.expiresAt } : {}) });
    if (done) setForm({ ...form, plate: '', caseNumber: '', synopsis: '' });
  };
  return (
    <form class="add-user" onSubmit={(e) => void submit(e)}>
      <h3>{title}</h3>
      <label>Plate (? one, * any run)<input name="hotPlate" value={form.plate} maxLength={10} onInput={(e) => setForm({ ...form, plate: e.currentTarget.value.toUpperCase() })} required /></label>
      <label>State<input name="hotState" value={form.state} maxLength={2} placeholder="any" onInput={(e) => setForm({ ...form, state: e.currentTarget.value.toUpperCase() })} /></label>
      <label>Type
        <select name="hotType" value={form.type} onChange={(e) => setForm({ ...form, type: e.currentTarget.value })}>
          {['BOLO', 'SVS', 'SLR', 'SFR', 'CUSTOM'].map((t) => <option key={t} value={t}>{t}</option>)}
        </select>
      </label>
      <label>Case number<input name="hotCase" value={form.caseNumber} onInput={(e) => setForm({ ...form, caseNumber: e.currentTarget.value })} required /></label>
      <label>Synopsis<input name="hotSynopsis" value={form.synopsis} maxLength={500} onInput={(e) => setForm({ ...form, synopsis: e.currentTarget.value })} required /></label>
      <label>Expires (default: the longest allowed)<input name="hotExpires" type="date" value={form.expiresAt} onInput={(e) => setForm({ ...form, expiresAt: e.currentTarget.value })} /></label>
      <button type="submit" disabled={!form.plate || !form.caseNumber.trim() || !form.synopsis.trim()}>{submitLabel}</button>
    </form>
  );
}
