import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { installDir } from '../config/load.js';
import { AlprError, EX_CONFIG } from '../errors.js';

/** One entry of models/manifest.json. */
export interface ModelEntry {
  name: string;
  /** Path relative to the manifest's directory's parent (the install directory) or absolute. */
  file: string;
  sha256: string;
  bytes?: number;
  kind: 'detector' | 'reader' | string;
  architecture: string;
  version: string;
  /** fp32, or int8-qdq (QuantizeLinear/DequantizeLinear pairs onnxruntime fuses into integer kernels). */
  precision?: 'fp32' | 'int8' | 'int8-qdq' | string;
  interim?: boolean;
  inputShape?: (number | string)[];
  [extra: string]: unknown;
}

export interface ModelManifest {
  models: ModelEntry[];
}

/** A model that is missing, unreadable or not the one the manifest names: a start-up error (exit 78). */
export class ModelError extends AlprError {
  constructor(
    message: string,
    readonly model: string,
  ) {
    super(message, model, EX_CONFIG);
  }
}

export function readManifest(manifestPath: string): ModelManifest {
  try {
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as ModelManifest;
    if (!Array.isArray(m.models)) throw new Error('no "models" array');
    return m;
  } catch (err) {
    throw new ModelError(`${manifestPath}: cannot read model manifest (${(err as Error).message})`, '(manifest)');
  }
}

export interface ResolvedModel {
  entry: ModelEntry;
  path: string;
  bytes: Buffer;
}

/** Finds a model by name, reads it and checks its sha256 so a swapped or corrupt file never runs. */
export function resolveModel(manifestPath: string, name: string): ResolvedModel {
  const manifest = readManifest(manifestPath);
  const entry = manifest.models.find((m) => m.name === name);
  if (!entry) {
    const known = manifest.models.map((m) => m.name).join(', ');
    throw new ModelError(`model "${name}" is not in ${manifestPath} (known: ${known})`, name);
  }
  const root = resolve(dirname(manifestPath), '..');
  const path = isAbsolute(entry.file) ? entry.file : resolve(root, entry.file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new ModelError(`model "${name}": cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)}); run scripts/setup`, name);
  }
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== entry.sha256) {
    throw new ModelError(`model "${name}": ${path} has sha256 ${sha.slice(0, 12)}…, manifest expects ${entry.sha256.slice(0, 12)}…`, name);
  }
  return { entry, path, bytes };
}

export function defaultManifestPath(): string {
  return resolve(installDir(), 'models/manifest.json');
}
