import { describe, expect, it, onTestFinished } from 'vitest';
import { loadGstreamer, type GstPipeline } from '../../src/capture/gst-binding.js';

const CLIP = 'test/fixtures/demo/clip.mp4';

/** The libav decoder in a running pipeline: decodebin names it avdec_h264-N once it plugs it in. */
async function decoderOf(pipeline: GstPipeline, names: string[]): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    for (const name of names) {
      const el = pipeline.findChild(name);
      if (el) return el as unknown as Record<string, unknown>;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no decoder named ${names.join(' or ')} appeared within 5 s`);
}

function stop(pipeline: GstPipeline): Promise<boolean> {
  return new Promise((resolve) => pipeline.stop(resolve));
}

describe('libav decoder threads (cameras[].decoderThreads)', () => {
  const { Pipeline } = loadGstreamer();
  const autoNames = Array.from({ length: 20 }, (_, i) => `avdec_h264-${i}`);

  it('caps the decoder decodebin plugs in at run time', async () => {
    const p = new Pipeline(`filesrc location=${CLIP} ! qtdemux name=demux demux.video_0 ! decodebin ! fakesink sync=false`, { decoderThreads: 1 });
    onTestFinished(async () => {
      await stop(p);
    });
    p.play();
    expect((await decoderOf(p, autoNames))['max-threads']).toBe(1);
  });

  it('caps a decoder named in the description, and leaves libav its default with 0', async () => {
    const named = new Pipeline(`filesrc location=${CLIP} ! qtdemux name=demux demux.video_0 ! h264parse ! avdec_h264 name=dec ! fakesink sync=false`, { decoderThreads: 3 });
    const free = new Pipeline(`filesrc location=${CLIP} ! qtdemux name=demux demux.video_0 ! h264parse ! avdec_h264 name=dec ! fakesink sync=false`, { decoderThreads: 0 });
    onTestFinished(async () => {
      await Promise.all([stop(named), stop(free)]);
    });
    expect((await decoderOf(named, ['dec']))['max-threads']).toBe(3);
    expect((await decoderOf(free, ['dec']))['max-threads']).toBe(0);
  });
});
