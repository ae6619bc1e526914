import { useState } from 'preact/hooks';
import { api, inquiryQuery, withQuery, type Inquiry, type Whoami } from '../api.js';
import { isoFromLocalInput, localTime, percent } from '../format.js';
import type { Hold, Read, SearchResult } from '../types.js';

// The investigator's search (P6, P7, P8, P13): by plate (exact, look-alike, partial with
// wildcards), camera and time range, through the query API. It cannot be sent without a reason;
// the reason and case number go with the search and with every image the results show, and the
// device writes each of them to the access log under the investigator's name.

type Match = 'exact' | 'lookalike' | 'partial';

interface Criteria {
  plate: string;
  match: Match;
  camera: string;
  from: string;
  to: string;
}

const MIN_REASON = 3;

// Results survive a visit to a read's page and back (the images are fetched, and logged, again).
let lastResults: { inquiry: Inquiry; criteria: Criteria; reads: Read[]; nextCursor?: string } | undefined;

function HoldForm({ readIds, inquiry, done }: { readIds: string[]; inquiry: Inquiry; done: (h: Hold) => void }) {
  const [name, setName] = useState('');
  const [caseNumber, setCaseNumber] = useState(inquiry.caseNumber);
  const [reason, setReason] = useState(inquiry.reason);
  const [error, setError] = useState<string | undefined>();
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      done(await api<Hold>('POST', '/holds', { body: { name, caseNumber, reason, readIds } }));
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="card hold-form" onSubmit={submit}>
      <h2>Evidence hold for {readIds.length} read(s)</h2>
      <p class="muted small">Held reads are kept past retention until the hold is released (P4).</p>
      <label>Hold name<input name="holdName" value={name} pattern="[A-Za-z0-9_.\-]{1,64}" onInput={(e) => setName(e.currentTarget.value)} required /></label>
      <label>Case number<input name="holdCase" value={caseNumber} onInput={(e) => setCaseNumber(e.currentTarget.value)} required /></label>
      <label>Reason<input name="holdReason" value={reason} minLength={3} onInput={(e) => setReason(e.currentTarget.value)} required /></label>
      {error && <p class="error" role="alert">{error}</p>}
      <button type="submit" disabled={!name || !caseNumber || reason.trim().length < 3}>Place hold</button>
    </form>
  );
}

export function SearchPage(props: { me: Whoami; inquiry?: Inquiry; setInquiry: (i: Inquiry) => void; openRead: (id: string) => void }) {
  const [reason, setReason] = useState(props.inquiry?.reason ?? '');
  const [caseNumber, setCaseNumber] = useState(props.inquiry?.caseNumber ?? '');
  const [criteria, setCriteria] = useState<Criteria>(lastResults?.criteria ?? { plate: '', match: 'exact', camera: '', from: '', to: '' });
  const [results, setResults] = useState(lastResults);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [error, setError] = useState<string | undefined>();
  const [held, setHeld] = useState<Hold | undefined>();
  const [busy, setBusy] = useState(false);
  const reasonOk = reason.trim().length >= MIN_REASON;

  if (!props.me.maySeeReads) {
    return <div><h1>Search reads</h1><p class="error">Your training date ({props.me.trainingValidUntil}) has passed: reads stay closed until it is renewed (P8).</p></div>;
  }

  const run = async (cursor?: string) => {
    // P7: never sent without a reason (the button is disabled too, and the API refuses it anyway).
    if (!reasonOk) return;
    const inquiry = { reason: reason.trim(), caseNumber: caseNumber.trim() };
    props.setInquiry(inquiry);
    setBusy(true);
    setError(undefined);
    try {
      const r = await api<SearchResult>('GET', '/reads', {
        query: {
          ...inquiryQuery(inquiry),
          plate: criteria.plate.trim() || undefined,
          match: criteria.plate.trim() ? criteria.match : undefined,
          camera: criteria.camera.trim() || undefined,
          from: isoFromLocalInput(criteria.from),
          to: isoFromLocalInput(criteria.to),
          limit: 50,
          cursor,
        },
      });
      const reads = cursor && results ? [...results.reads, ...r.reads] : r.reads;
      const next = { inquiry, criteria, reads, nextCursor: r.nextCursor };
      lastResults = next;
      setResults(next);
      if (!cursor) setSelected(new Set());
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const set = <K extends keyof Criteria>(k: K, v: Criteria[K]) => setCriteria({ ...criteria, [k]: v });
  const toggle = (id: string) => {
    const s = new Set(selected);
    if (s.has(id)) s.delete(id);
    else s.add(id);
    setSelected(s);
  };

  return (
    <div>
      <h1>Search reads</h1>
      <form class="card search" onSubmit={(e) => { e.preventDefault(); void run(); }}>
        <fieldset class="inquiry">
          <legend>Why (recorded in the access log with your name, P7)</legend>
          <label class="wide"><span>Reason for this inquiry <span class="required">required</span></span>
            <textarea name="reason" rows={2} value={reason} maxLength={500} placeholder="e.g. stolen vehicle report, suspect vehicle in robbery" onInput={(e) => setReason(e.currentTarget.value)} />
          </label>
          <label>Case or incident number
            <input name="caseNumber" value={caseNumber} maxLength={64} placeholder="e.g. 24-001234" onInput={(e) => setCaseNumber(e.currentTarget.value)} />
          </label>
          {!caseNumber.trim() && <p class="muted small">No case number yet? The reason alone is recorded; add the number as soon as there is one.</p>}
        </fieldset>
        <fieldset class="criteria">
          <legend>What</legend>
          <label>Plate<input name="plate" value={criteria.plate} maxLength={16} placeholder="7ABC123, or 7AB* for partial" onInput={(e) => set('plate', e.currentTarget.value.toUpperCase())} /></label>
          <label>Match
            <select name="match" value={criteria.match} onChange={(e) => set('match', e.currentTarget.value as Match)}>
              <option value="exact">exact</option>
              <option value="lookalike">look-alike (0/O, 8/B, …)</option>
              <option value="partial">partial (* any run, ? one character)</option>
            </select>
          </label>
          <label>Camera<input name="camera" value={criteria.camera} maxLength={64} placeholder="any" onInput={(e) => set('camera', e.currentTarget.value)} /></label>
          <label>From<input name="from" type="datetime-local" value={criteria.from} onInput={(e) => set('from', e.currentTarget.value)} /></label>
          <label>To<input name="to" type="datetime-local" value={criteria.to} onInput={(e) => set('to', e.currentTarget.value)} /></label>
        </fieldset>
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" name="search" disabled={!reasonOk || busy} title={reasonOk ? '' : 'Give a reason first (P7)'}>Search</button>
      </form>

      {results && (
        <section>
          <h2 class="results-head">{results.reads.length} read(s){results.nextCursor ? ' (more available)' : ''} <span class="muted small">for “{results.inquiry.reason}”{results.inquiry.caseNumber ? `, case ${results.inquiry.caseNumber}` : ''}</span></h2>
          {held && <p class="notice" role="status">Hold {held.name} placed on {held.readCount} read(s) for case {held.caseNumber}.</p>}
          <div class="grid" data-testid="results">
            {results.reads.map((r) => (
              <article key={r.id} class={`read-card${selected.has(r.id) ? ' selected' : ''}`}>
                <a href={`/console/reads/${r.id}`} onClick={(e) => { e.preventDefault(); props.openRead(r.id); }}>
                  <img class="crop" src={withQuery(r.images.plate, inquiryQuery(results.inquiry))} alt={`plate crop of read ${r.plate}`} loading="lazy" />
                  <div class="plate-text">{r.plate}</div>
                </a>
                <div class="meta">
                  <span>{r.state ?? 'state ?'}</span>
                  <span>{percent(r.confidence)}</span>
                  <span>{r.cameraId}</span>
                </div>
                <div class="meta"><time dateTime={r.capturedAt} title={r.capturedAt}>{localTime(r.capturedAt)}</time></div>
                <label class="select"><input type="checkbox" checked={selected.has(r.id)} onChange={() => toggle(r.id)} /> select for hold</label>
              </article>
            ))}
          </div>
          {results.nextCursor && <button type="button" class="secondary" disabled={busy} onClick={() => void run(results.nextCursor)}>More</button>}
          {selected.size > 0 && <HoldForm readIds={[...selected]} inquiry={results.inquiry} done={(h) => { setHeld(h); setSelected(new Set()); }} />}
        </section>
      )}
    </div>
  );
}
