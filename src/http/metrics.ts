import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics: counts and timings only, never plate text (P1). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'alpr_edge_' });
  const labelNames = ['camera'] as const;
  return {
    registry,
    framesIn: new Counter({ name: 'alpr_edge_frames_in_total', help: 'Frames delivered by the camera', labelNames, registers: [registry] }),
    framesDropped: new Counter({ name: 'alpr_edge_frames_dropped_total', help: 'Frames dropped so inference keeps up with live video', labelNames, registers: [registry] }),
    framesAnalysed: new Counter({ name: 'alpr_edge_frames_analysed_total', help: 'Frames run through detector and reader', labelNames, registers: [registry] }),
    decodeErrors: new Counter({ name: 'alpr_edge_decode_errors_total', help: 'Decode or stream errors', labelNames, registers: [registry] }),
    reconnects: new Counter({ name: 'alpr_edge_camera_reconnects_total', help: 'Camera reconnect attempts', labelNames, registers: [registry] }),
    pipelinesAbandoned: new Counter({
      name: 'alpr_edge_capture_pipelines_abandoned_total',
      help: 'GStreamer pipelines that did not stop within stopTimeoutMs and were left behind (a wedged element; each keeps a thread and its memory)',
      labelNames,
      registers: [registry],
    }),
    pipelinesAlive: new Gauge({ name: 'alpr_edge_capture_pipelines_alive', help: 'GStreamer pipelines in memory, stopping and abandoned ones included', registers: [registry] }),
    cameraOnline: new Gauge({ name: 'alpr_edge_camera_online', help: '1 when the camera delivers frames', labelNames, registers: [registry] }),
    reads: new Counter({ name: 'alpr_edge_reads_total', help: 'Reads (vehicle passes) emitted', labelNames, registers: [registry] }),
    passesDiscarded: new Counter({ name: 'alpr_edge_passes_discarded_total', help: 'Tracked plates dropped for too few frames or too little agreement', labelNames, registers: [registry] }),
    plateBoxes: new Counter({
      name: 'alpr_edge_plate_boxes_total',
      help: 'Detector boxes per outcome: read by the reader, or skipped_static (this camera\'s unchanged non-plate boxes, a sign say)',
      labelNames: ['camera', 'outcome'],
      registers: [registry],
    }),
    sinkErrors: new Counter({ name: 'alpr_edge_read_sink_errors_total', help: 'Reads a consumer (store, MQTT) failed to accept', labelNames: ['sink'], registers: [registry] }),
    stageSeconds: new Histogram({
      name: 'alpr_edge_stage_seconds',
      help: 'Time per frame in each stage',
      labelNames: ['camera', 'stage'],
      buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
