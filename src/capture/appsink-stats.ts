/**
 * Frames that reached the appsink (`rendered` in GstBaseSink's `stats` structure, GStreamer >= 1.18).
 * The binding hands the structure over serialised, e.g.
 * `application/x-gst-base-sink-stats, average-rate=(double)-1, dropped=(guint64)0, rendered=(guint64)14;`.
 */
export function renderedFromStats(stats: unknown): number | undefined {
  if (typeof stats !== 'string') return undefined;
  const match = /rendered=\(guint64\)(\d+)/.exec(stats);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** 64-bit counters (videorate `out`) arrive as decimal strings. */
export function counterValue(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return undefined;
}
