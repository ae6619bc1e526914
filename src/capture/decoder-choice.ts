/** Names of the GStreamer elements installed on this machine (see probeElements). */
export type ElementAvailability = ReadonlySet<string>;

export type EncodedCodec = 'h264' | 'h265';

/**
 * Hardware decoders in order of preference. Their plugins only register an element when the
 * hardware (or driver) is really there, so presence in the registry is a usable signal.
 * nvv4l2decoder: Jetson; v4l2sl*: stateless V4L2 (RPi 5, Rockchip); v4l2*: stateful V4L2 (RPi 4,
 * i.MX); va*: VA-API via the new `va` plugin; vaapi*: legacy gstreamer-vaapi.
 */
export const HARDWARE_DECODERS: Readonly<Record<EncodedCodec, readonly string[]>> = {
  h264: ['nvv4l2decoder', 'v4l2slh264dec', 'v4l2h264dec', 'vah264dec', 'vaapih264dec'],
  h265: ['nvv4l2decoder', 'v4l2slh265dec', 'v4l2h265dec', 'vah265dec', 'vaapih265dec'],
};

export const SOFTWARE_DECODERS: Readonly<Record<EncodedCodec, string>> = {
  h264: 'avdec_h264',
  h265: 'avdec_h265',
};

/** Every element whose presence changes the pipeline we build. */
export const PROBED_ELEMENTS: readonly string[] = [
  ...new Set([...HARDWARE_DECODERS.h264, ...HARDWARE_DECODERS.h265, ...Object.values(SOFTWARE_DECODERS), 'nvvidconv']),
];

/** Decoder for `codec`, hardware first; undefined means let decodebin find one. */
export function chooseDecoder(codec: EncodedCodec, available: ElementAvailability): string | undefined {
  return [...HARDWARE_DECODERS[codec], SOFTWARE_DECODERS[codec]].find((name) => available.has(name));
}

/**
 * Decoder element name from a bus message source such as `avdec_h264-3` or `jpegdec0`, for
 * pipelines where decodebin picks the decoder. Undefined when the element is not a decoder.
 */
export function decoderFromElementName(elementName: string): string | undefined {
  const factory = elementName.replace(/-?\d+$/, '');
  if (factory.startsWith('decodebin')) return undefined;
  return /(dec|decoder)$/.test(factory) || factory.startsWith('avdec_') ? factory : undefined;
}
