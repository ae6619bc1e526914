import { useEffect, useState } from 'preact/hooks';
import { api, inquiryQuery, withQuery, type Inquiry } from '../api.js';
import { localTime, percent } from '../format.js';
import type { Read } from '../types.js';

// One read (P2, P13): overview image, plate crop, text, state, candidates, vehicle colour, camera,
// place and time, and the reminder that a hit is no basis for action until verified.

function AskReason({ onGiven }: { onGiven: (i: Inquiry) => void }) {
  const [reason, setReason] = useState('');
  const [caseNumber, setCaseNumber] = useState('');
  return (
    <form class="card" onSubmit={(e) => { e.preventDefault(); onGiven({ reason: reason.trim(), caseNumber: caseNumber.trim() }); }}>
      <h2>Why are you opening this read?</h2>
      <p class="muted">Recorded in the access log with your name (P7).</p>
      <label>Reason<textarea name="reason" rows={2} value={reason} onInput={(e) => setReason(e.currentTarget.value)} /></label>
      <label>Case or incident number<input name="caseNumber" value={caseNumber} onInput={(e) => setCaseNumber(e.currentTarget.value)} /></label>
      <button type="submit" disabled={reason.trim().length < 3}>Open</button>
    </form>
  );
}

export function ReadPage(props: { id: string; inquiry?: Inquiry; setInquiry: (i: Inquiry) => void; back: () => void }) {
  const [read, setRead] = useState<Read | undefined>();
  const [error, setError] = useState<string | undefined>();
  const { inquiry } = props;

  useEffect(() => {
    if (!inquiry) return;
    setRead(undefined);
    api<Read>('GET', `/reads/${encodeURIComponent(props.id)}`, { query: inquiryQuery(inquiry) }).then(setRead, (err: Error) => setError(err.message));
  }, [props.id, inquiry]);

  if (!inquiry) return <AskReason onGiven={props.setInquiry} />;
  if (error) return <div><p class="error" role="alert">{error}</p><button type="button" class="secondary" onClick={props.back}>Back to results</button></div>;
  if (!read) return <p>Loading…</p>;
  const q = inquiryQuery(inquiry);
  return (
    <div class="read-page">
      <button type="button" class="secondary" onClick={props.back}>← Back to results</button>
      <div class="verify" role="note" data-testid="verify-notice">
        <strong>Verify before any action (P13).</strong> A read or hot-list hit alone is no basis for a stop.
        Compare the characters, the state of issue and the vehicle with the images below, then confirm the plate through CLETS.
      </div>
      <div class="read-layout">
        <figure class="overview">
          <img src={withQuery(read.images.overview, q)} alt="overview of the vehicle" />
          <figcaption>Overview, camera {read.cameraId}</figcaption>
        </figure>
        <section class="card">
          <img class="crop large" src={withQuery(read.images.plate, q)} alt={`plate crop of read ${read.plate}`} />
          <h1 class="plate-text">{read.plate}</h1>
          <dl class="figures">
            <dt>state</dt><dd>{read.state ?? 'not sure'}{read.stateConfidence !== null ? ` (${percent(read.stateConfidence)})` : ''}</dd>
            <dt>read confidence</dt><dd>{percent(read.confidence)} (frames agreeing {percent(read.agreement)} of {read.frames})</dd>
            <dt>vehicle colour</dt><dd>{read.vehicle ? `${read.vehicle.colour} (${percent(read.vehicle.colourConfidence)} of sampled pixels)` : 'not estimated'}</dd>
            <dt>captured</dt><dd><time dateTime={read.capturedAt} title={read.capturedAt}>{localTime(read.capturedAt)}</time> ({read.capturedAt} UTC)</dd>
            <dt>in view</dt><dd>{localTime(read.firstSeenAt)} – {localTime(read.lastSeenAt)}</dd>
            <dt>camera</dt><dd>{read.cameraId} on {read.deviceId}</dd>
            <dt>location</dt><dd>{read.location.description} ({read.location.latitude.toFixed(5)}, {read.location.longitude.toFixed(5)}, heading {read.location.headingDeg}°)</dd>
            <dt>models</dt><dd>{read.modelVersion}</dd>
          </dl>
          <h2>Candidates</h2>
          <table>
            <thead><tr><th>text</th><th>confidence</th></tr></thead>
            <tbody>{read.candidates.map((c, i) => <tr key={i}><td class="mono">{c.text}</td><td>{percent(c.confidence)}</td></tr>)}</tbody>
          </table>
        </section>
      </div>
    </div>
  );
}
