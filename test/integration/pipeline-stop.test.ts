import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { livePipelines, PipelineSession, type PipelineSessionHandlers } from '../../src/capture/pipeline-session.js';
import { waitFor } from '../support/wait-for.js';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

function session(description: string): { session: PipelineSession; frames: () => number; pts: number[] } {
  let frames = 0;
  const pts: number[] = [];
  const handlers: PipelineSessionHandlers = {
    sample: (_buf, _caps, timing) => {
      frames++;
      if (typeof timing.ptsNs === 'number') pts.push(timing.ptsNs);
    },
    failure: (reason) => {
      throw new Error(`unexpected pipeline failure: ${reason}`);
    },
    endOfStream: () => {},
    warning: () => {},
    elementSeen: () => {},
  };
  return { session: new PipelineSession(description, handlers, logger), frames: () => frames, pts };
}

const TAIL = 'videoconvert ! video/x-raw,format=RGB ! appsink name=sink max-buffers=2 drop=true sync=false';

describe('stopping GStreamer pipelines', () => {
  it('frees every stopped pipeline and reports buffer timestamps', async () => {
    const baseline = livePipelines();
    for (let i = 0; i < 10; i++) {
      const s = session(`videotestsrc is-live=true ! video/x-raw,width=64,height=48,framerate=30/1 ! ${TAIL}`);
      s.session.start();
      await waitFor('frames', () => s.frames() >= 3, 5000);
      expect(await s.session.stop(5000)).toMatchObject({ outcome: 'stopped' });
      // PTS from the stream: rising, one frame period (33.3 ms) apart.
      expect(s.pts.length).toBeGreaterThanOrEqual(3);
      expect(s.pts[1]! - s.pts[0]!).toBeCloseTo(1e9 / 30, -3);
    }
    // Before, the binding never freed a pipeline: this count only grew.
    await waitFor('all pipelines freed', () => livePipelines() === baseline, 5000);
  });

  it('abandons a pipeline that does not stop in time without blocking the JS thread, and frees it when it does stop', async () => {
    const baseline = livePipelines();
    // identity sleeps 2 s per buffer in the streaming thread, and NULL has to wait for that thread
    // to finish: a stand-in for rtspsrc wedging in its NULL transition (issue: daemon-rtsp test).
    const slow = session(`videotestsrc is-live=true ! video/x-raw,width=64,height=48,framerate=30/1 ! identity sleep-time=2000000 ! ${TAIL}`);
    slow.session.start();
    // The first frame leaves identity after its 2 s sleep; the live source's next buffer is already
    // late, so the streaming thread goes straight back to sleep on it: a stop now has to wait for it.
    await waitFor('the first frame through the sleeping identity', () => slow.frames() >= 1, 10_000);

    let ticks = 0;
    const ticker = setInterval(() => ticks++, 20);
    const result = await slow.session.stop(400);
    clearInterval(ticker);
    expect(result.outcome).toBe('abandoned');
    // The old binding's synchronous stop held the JS thread for the whole NULL transition: no ticks.
    expect(ticks).toBeGreaterThanOrEqual(5);
    expect(livePipelines()).toBe(baseline + 1);
    // Repeated stops answer with the first result and start nothing new.
    expect(await slow.session.stop(400)).toBe(result);

    await waitFor('the abandoned pipeline to be freed once its stop returns', () => livePipelines() === baseline, 5000);
  });
});
