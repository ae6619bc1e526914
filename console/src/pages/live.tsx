import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { age, percent } from '../format.js';
import type { LiveCamera, LiveReply } from '../types.js';

// The technician's live view: each camera's newest analysed frame with the detector's boxes, each
// plate's width against the width the models read well at, sharpness, fps and drops. Plate text is
// never sent here (P8); the picture is for aim and focus.

function Overlay({ frame }: { frame: NonNullable<LiveCamera['frame']> }) {
  const font = Math.max(12, Math.round(frame.height / 32));
  return (
    <svg class="overlay" viewBox={`0 0 ${frame.width} ${frame.height}`} preserveAspectRatio="none" aria-hidden="true">
      {frame.detections.map((d, i) => (
        <rect key={`d${i}`} class="det" x={d.box[0]} y={d.box[1]} width={d.box[2]} height={d.box[3]} />
      ))}
      {frame.plates.map((p, i) => {
        const ok = p.widthPx >= frame.neededPlateWidthPx;
        return (
          <g key={`p${i}`} class={ok ? 'plate ok' : 'plate small'}>
            <rect x={p.box[0]} y={p.box[1]} width={p.box[2]} height={p.box[3]} />
            <text x={p.box[0]} y={Math.max(font, p.box[1] - 6)} font-size={font}>{`${p.widthPx} px${ok ? '' : ` < ${frame.neededPlateWidthPx}`} · sharp ${p.sharpness.toFixed(0)}`}</text>
          </g>
        );
      })}
    </svg>
  );
}

function CameraView({ cam }: { cam: LiveCamera }) {
  const f = cam.frame;
  return (
    <section class="card camera" data-testid={`live-${cam.id}`}>
      <h2>{cam.id} <span class={`state ${cam.state}`}>{cam.state}</span></h2>
      {cam.reason && <p class="muted">{cam.reason}</p>}
      <div class="live-frame">
        {f ? (
          <>
            <img src={f.imageUrl} alt={`live frame of camera ${cam.id}`} width={f.width} height={f.height} />
            <Overlay frame={f} />
          </>
        ) : <p class="placeholder">waiting for an analysed frame…</p>}
      </div>
      <dl class="figures">
        <dt>analysed</dt><dd data-testid="fps">{cam.analysedFps.toFixed(1)} fps</dd>
        <dt>frames in / dropped</dt><dd>{cam.framesIn} / {cam.framesDropped}{cam.framesIn > 0 ? ` (${percent(cam.framesDropped / cam.framesIn)})` : ''}</dd>
        <dt>last frame</dt><dd>{age(cam.lastFrameAgeMs)} ago</dd>
        {f && <><dt>frame sharpness</dt><dd>{f.sharpness.toFixed(0)}</dd></>}
        {f && <><dt>plate width needed</dt><dd>≥ {f.neededPlateWidthPx} px at {f.width}×{f.height}</dd></>}
      </dl>
      {f && f.plates.length > 0 && (
        <table>
          <thead><tr><th>plate box</th><th>width</th><th>sharpness</th><th>detector</th><th>read</th></tr></thead>
          <tbody>
            {f.plates.map((p, i) => (
              <tr key={i} class={p.widthPx >= f.neededPlateWidthPx ? '' : 'warn'}>
                <td>{p.box.join(', ')}</td><td>{p.widthPx} px {p.widthPx >= f.neededPlateWidthPx ? '✓' : `(needs ${f.neededPlateWidthPx})`}</td>
                <td>{p.sharpness.toFixed(0)}</td><td>{p.detectorScore.toFixed(2)}</td><td>{percent(p.readConfidence)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {f && <p class="muted small">{f.detections.length} detector box(es), {f.plates.length} plate(s). Sharpness: variance of the Laplacian; higher is sharper; compare on the same scene only.</p>}
    </section>
  );
}

export function LivePage() {
  const [live, setLive] = useState<LiveReply | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      const started = Date.now();
      let wait = 1000;
      try {
        const reply = await api<LiveReply>('GET', '/live');
        if (stopped) return;
        setLive(reply);
        setError(undefined);
        wait = Math.max(50, reply.refreshMs - (Date.now() - started));
      } catch (err) {
        if (stopped) return;
        setError((err as Error).message);
        wait = 3000;
      }
      // Not while the tab is hidden: nothing is encoded for nobody.
      if (!stopped) timer = setTimeout(() => void (document.hidden ? (timer = setTimeout(tick, 1000)) : tick()), wait);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, []);

  return (
    <div>
      <h1>Live view</h1>
      <p class="muted">For aiming and focus. No plate text is shown and nothing here is a stored read (P8). Frames are made only while this page is open.</p>
      {error && <p class="error" role="alert">{error}</p>}
      {!live && !error && <p>Loading…</p>}
      <div class="cameras">{live?.cameras.map((c) => <CameraView key={c.id} cam={c} />)}</div>
    </div>
  );
}
