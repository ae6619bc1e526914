export { cameraSourceOptions, isOfflineFile } from './camera-config.js';
export { CameraSource, type CameraSourceEvents, type CameraSourceOptions, type CaptureStatus } from './camera-source.js';
export { CaptureConfigError, GstreamerUnavailableError } from './capture-errors.js';
export { chooseDecoder, type ElementAvailability } from './decoder-choice.js';
export { probeElements } from './element-probe.js';
export type { CameraState, CameraStatus, Frame } from './frame.js';
export {
  buildPipelineDescription,
  type PipelineDescriptionOptions,
  type RegionOfInterest,
} from './pipeline-description.js';
export type { ReconnectPolicy } from './reconnect-backoff.js';
export { livePipelines, type PipelineStop } from './pipeline-session.js';
export { redactUri } from './source-uri.js';
