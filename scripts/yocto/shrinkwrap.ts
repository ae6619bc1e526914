// The npm-shrinkwrap.json and licence list the Yocto recipe (yocto-layer/meta-alpr-edge) is built
// from, derived from package-lock.json. Pure functions: scripts/yocto/package-yocto.ts writes the
// files, test/unit/yocto-layer.test.ts checks them against the lock file and the recipe.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Prebuilt binaries ship for these CPUs (npm `cpu` names) on glibc Linux; see docs/arm.md. */
export const TARGET_CPUS = ['arm64', 'x64'] as const;

export interface LockEntry {
  name?: string;
  version?: string;
  resolved?: string;
  integrity?: string;
  license?: string;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  link?: boolean;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  [field: string]: unknown;
}

export interface LockFile {
  name: string;
  version: string;
  lockfileVersion: number;
  requires?: boolean;
  packages: Record<string, LockEntry>;
}

export class ShrinkwrapError extends Error {
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'ShrinkwrapError';
  }
}

/** `node_modules/a/node_modules/@s/b` → `@s/b` (an alias entry names its real package in `name`). */
export function packageName(path: string, entry: LockEntry): string {
  return entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** A registry's tarball URL for a package: npmsw fetches only entries that carry `resolved`. */
export function registryTarball(registry: string, name: string, version: string): string {
  const base = name.startsWith('@') ? name.split('/')[1]! : name;
  return `${registry.replace(/\/+$/, '')}/${name}/-/${base}-${version}.tgz`;
}

/** npm's platform rule: no list means any; `!x` excludes x; otherwise one entry must match. */
function allows(list: string[] | undefined, value: string): boolean {
  if (list === undefined || list.length === 0) return true;
  if (list.includes(`!${value}`)) return false;
  const positive = list.filter((v) => !v.startsWith('!'));
  return positive.length === 0 || positive.includes(value);
}

/** A package the device can use: any platform-neutral package, or a glibc Linux build for a target CPU. */
export function fitsTarget(entry: LockEntry): boolean {
  return allows(entry.os, 'linux') && allows(entry.libc, 'glibc') && TARGET_CPUS.some((cpu) => allows(entry.cpu, cpu));
}

/**
 * Shrinkwrap for the target: runtime packages only (npmsw skips `dev` entries anyway, but leaving
 * them out keeps the file reviewable), platform builds only for glibc Linux on TARGET_CPUS, every
 * entry with its URL on `registry` (npm's configured one) and the lock file's sha512 integrity.
 */
export function shrinkwrapFromLock(lock: LockFile, registry: string): LockFile {
  if (lock.lockfileVersion < 2) throw new ShrinkwrapError('package-lock.json', `lockfileVersion ${lock.lockfileVersion}: npm.bbclass needs 2 or later`);
  const root = lock.packages[''];
  if (root === undefined) throw new ShrinkwrapError('package-lock.json', 'has no root package entry ("")');
  const { devDependencies: _dev, ...rootRuntime } = root;
  const packages: Record<string, LockEntry> = { '': rootRuntime };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.dev === true || !fitsTarget(entry)) continue;
    if (entry.link === true) throw new ShrinkwrapError(path, 'is a linked (workspace) package; the recipe can only fetch registry packages');
    if (entry.version === undefined || entry.integrity === undefined) throw new ShrinkwrapError(path, 'has no version or integrity in package-lock.json (run npm install)');
    const name = packageName(path, entry);
    packages[path] = { ...entry, resolved: entry.resolved ?? registryTarball(registry, name, entry.version) };
  }
  pruneOrphanedOptionals(packages);
  return { name: lock.name, version: lock.version, lockfileVersion: lock.lockfileVersion, requires: true, packages };
}

/**
 * Optional packages only other platforms' builds depend on (sharp's wasm32 build, needed by its
 * FreeBSD and WebContainers packages) are dropped with them: npm would not install them either.
 */
function pruneOrphanedOptionals(packages: Record<string, LockEntry>): void {
  for (let changed = true; changed; ) {
    changed = false;
    const wanted = new Set<string>();
    for (const entry of Object.values(packages)) {
      for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies'] as const) {
        for (const name of Object.keys((entry[field] as Record<string, string> | undefined) ?? {})) wanted.add(name);
      }
    }
    for (const [path, entry] of Object.entries(packages)) {
      if (path !== '' && entry.optional === true && !wanted.has(packageName(path, entry))) {
        delete packages[path];
        changed = true;
      }
    }
  }
}

/**
 * An SPDX expression in bitbake's syntax: `(MIT OR Apache-2.0)` → `(MIT | Apache-2.0)`; an AND
 * expression becomes its parts, since the recipe's LICENSE joins everything with `&` anyway.
 * The SPDX ids themselves are the names in Yocto's common-licenses.
 */
export function yoctoLicences(spdx: string): string[] {
  const bare = spdx.trim().replace(/^\((.*)\)$/, '$1');
  if (/\sOR\s/.test(bare)) return [`(${bare.split(/\s+OR\s+/).join(' | ')})`];
  return bare.split(/\s+AND\s+/);
}

export interface LicenceFile {
  /** Path inside the unpacked recipe source (${S}). */
  path: string;
  md5: string;
}

const LICENCE_FILE = /^(licen[cs]e|copying|notice)(\.(md|txt|markdown))?$/i;

/**
 * The file that carries each runtime package's licence in the installed tree: its LICENSE-like
 * file, or its package.json (whose `license` field is then the only statement) when it has none.
 */
export function licenceFiles(shrinkwrap: LockFile, installRoot: string): LicenceFile[] {
  const files: LicenceFile[] = [];
  for (const path of Object.keys(shrinkwrap.packages).sort()) {
    if (path === '') continue;
    const dir = join(installRoot, path);
    if (!existsSync(dir)) continue; // a platform build for the other target CPU is not installed here
    const named = readdirSync(dir).filter((f) => LICENCE_FILE.test(f)).sort()[0];
    const file = named ?? 'package.json';
    const md5 = createHash('md5').update(readFileSync(join(dir, file))).digest('hex');
    files.push({ path: `${path}/${file}`, md5 });
  }
  return files;
}

/**
 * Runtime packages whose package.json names no licence, with the SPDX id someone read off their
 * licence file. Keyed by name@version and pinned to that file's md5, so a new version or a changed
 * text fails package-yocto and the yocto test until someone reads it again.
 */
export const LICENCES_READ_BY_HAND: Readonly<Record<string, { licence: string; file: string; md5: string }>> = {
  // suncalc 2.0.2 (the IR illuminator's sun elevation) has no "license" field; its LICENSE is the
  // two-clause BSD text (copyright notice, two conditions, disclaimer).
  'suncalc@2.0.2': { licence: 'BSD-2-Clause', file: 'LICENSE', md5: '1f9a89610261935eaab9778337c35dca' },
};

/** A package's licence: its package.json `license`, else LICENCES_READ_BY_HAND checked against the installed file. */
export function declaredLicence(path: string, entry: LockEntry, installRoot: string): string {
  if (entry.license !== undefined) return entry.license;
  const key = `${packageName(path, entry)}@${entry.version}`;
  const read = LICENCES_READ_BY_HAND[key];
  if (read === undefined) throw new ShrinkwrapError(path, `has no license field: read its licence file and add ${key} to LICENCES_READ_BY_HAND in scripts/yocto/shrinkwrap.ts`);
  const file = join(installRoot, path, read.file);
  if (!existsSync(file)) throw new ShrinkwrapError(path, `${read.file} missing, LICENCES_READ_BY_HAND names it for ${key} (run npm ci)`);
  const md5 = createHash('md5').update(readFileSync(file)).digest('hex');
  if (md5 !== read.md5) throw new ShrinkwrapError(path, `${read.file} changed (md5 ${md5}, LICENCES_READ_BY_HAND says ${read.md5}): read it again and update the entry`);
  return read.licence;
}

/** Distinct licences of the runtime packages, in bitbake syntax, sorted. */
export function dependencyLicences(shrinkwrap: LockFile, installRoot: string): string[] {
  const set = new Set<string>();
  for (const [path, entry] of Object.entries(shrinkwrap.packages)) {
    if (path === '') continue;
    for (const licence of yoctoLicences(declaredLicence(path, entry, installRoot))) set.add(licence);
  }
  return [...set].sort();
}
