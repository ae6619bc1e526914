import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { diskSpace } from '../host/disk.js';

export interface MetricsOptions {
  /** The state directory: the free space of its file system is `alpr_edge_disk_*`. */
  stateDir?: string;
}

/**
 * Prometheus metrics: counts and timings only, never plate text (P1). Our own are `alpr_edge_*`
 * (counters end in `_total`, gauges never do); the process and Node.js metrics keep prom-client's
 * standard names (`process_*`, `nodejs_*`) so stock dashboards work unchanged. The list, with the
 * dashboard and alert rules that use them: docs/monitoring.md.
 */
export function createMetrics(opts: MetricsOptions = {}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
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
    buildInfo: new Gauge({
      name: 'alpr_edge_build_info',
      help: 'Always 1; the labels say which daemon version, source commit (unknown outside a git checkout) and models run',
      labelNames: ['version', 'commit', 'models'],
      registers: [registry],
    }),
    clockSynced: new Gauge({
      name: 'alpr_edge_clock_synced',
      help: 'P2: 1 while the system clock is synchronised (NTP), 0 when not or when nothing could tell; source says who answered',
      labelNames: ['source'],
      registers: [registry],
    }),
    diskFreeBytes: new Gauge({
      name: 'alpr_edge_disk_free_bytes',
      help: 'Bytes available to the daemon on the file system of the state directory (store, outbox, hot lists)',
      registers: [registry],
      collect() {
        const fs = diskSpace(opts.stateDir);
        if (fs) this.set(fs.freeBytes);
      },
    }),
    diskSizeBytes: new Gauge({
      name: 'alpr_edge_disk_size_bytes',
      help: 'Size in bytes of the file system of the state directory',
      registers: [registry],
      collect() {
        const fs = diskSpace(opts.stateDir);
        if (fs) this.set(fs.sizeBytes);
      },
    }),
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

/** `alpr_edge_build_info`: one series, replaced when the models change. */
export function setBuildInfo(metrics: Metrics, info: { version: string; commit: string; models: string }): void {
  metrics.buildInfo.reset();
  metrics.buildInfo.set(info, 1);
}

/** `alpr_edge_clock_synced`: one series, its `source` label the one that answered last. */
export function setClockSynced(metrics: Metrics, clock: { synced: boolean | undefined; source: string }): void {
  metrics.clockSynced.reset();
  metrics.clockSynced.set({ source: clock.source }, clock.synced === true ? 1 : 0);
}

