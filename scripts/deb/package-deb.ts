// `scripts/package-deb [--arch amd64|arm64]... [--dry-run] [--out DIR]` (after `tsc -b` and the
// console build): builds out/deb/alpr-edge_<version>_<arch>.deb with dpkg-deb (docs/install.md).
// Layout, control fields and maintainer scripts: scripts/deb/layout.ts; man page and completion:
// scripts/deb/cli-reference.ts. Production node_modules are installed with `npm ci --omit=dev` in a
// folder of their own under out/deb/build (never the repository's node_modules).
//   amd64: our addon and the dependencies' addons are built here, for this machine's Node 20.
//   arm64: npm's arm64 builds (--cpu=arm64) plus our addon, epoll and msgpackr-extract as
//   cross-built by scripts/arm64-check (.cache/arm64/build); without those it says so and skips
//   arm64, and it refuses any package whose ELF files are not all for its architecture.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, closeSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { shrinkwrapFromLock, declaredLicence, type LockFile } from '../yocto/shrinkwrap.js';
import { collectHelp, renderBashCompletion, renderManPage } from './cli-reference.js';
import { ADDON_PATH, APP_DIR, ARCHES, CONFIG_PATH, CONFFILES, PACKAGE, UNIT_PATH, appFiles, controlFile, copyrightFile, debFileName, elfMachine, foreignPlatformDirs, isDebArch, prunedPaths, maintainerScripts, systemFiles, type DebArch } from './layout.js';

function findRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'package.json'))) return dir;
  throw new Error(`no package.json above ${from}`);
}
const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
const say = (line: string): void => void process.stderr.write(`package-deb: ${line}\n`);
function fail(message: string): never {
  say(`FAILED: ${message}`);
  process.exit(1);
}
const sh = (cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string =>
  execFileSync(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });

interface Options {
  arches: DebArch[];
  dryRun: boolean;
  out: string;
}
function parseArgs(argv: string[]): Options {
  const o: Options = { arches: [], dryRun: false, out: join(ROOT, 'out/deb') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--dry-run') o.dryRun = true;
    else if (a === '--arch') {
      const v = argv[++i] ?? '';
      if (!isDebArch(v)) fail(`--arch ${v}: amd64 or arm64`);
      o.arches.push(v);
    } else if (a === '--out') o.out = argv[++i] ?? fail('--out needs a folder');
    else if (a === '-h' || a === '--help') {
      process.stdout.write('scripts/package-deb [--arch amd64|arm64]... [--dry-run] [--out DIR]   (docs/install.md)\n');
      process.exit(0);
    } else fail(`unknown option ${a}`);
  }
  if (o.arches.length === 0) o.arches = ['amd64', 'arm64'];
  return o;
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; description: string; scripts?: Record<string, string> };
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as LockFile;

function packedFiles(): string[] {
  const out = sh('npm', ['pack', '--dry-run', '--json', '--ignore-scripts']);
  return (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path).sort();
}

/** Where the arm64 cross builds of scripts/arm64-check are, or why they are not usable. */
function arm64Addons(): { dirs: Record<'gst-capture' | 'epoll' | 'msgpackr-extract', string> } | { missing: string } {
  const cache = join(ROOT, '.cache/arm64/build');
  const sources = ['binding.gyp', ...readdirSync(join(ROOT, 'native/gst-capture')).filter((f) => f.endsWith('.cpp')).sort(), ...readdirSync(join(ROOT, 'native/gst-capture')).filter((f) => f.endsWith('.h')).sort()];
  // The same name scripts/arm64-check gives the build: a hash of the sources, in the shell's glob order.
  const hash = createHash('sha256').update(Buffer.concat(sources.map((f) => readFileSync(join(ROOT, 'native/gst-capture', f))))).digest('hex').slice(0, 12);
  const version = (name: string) => (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  const dirs = {
    'gst-capture': join(cache, `gst-capture-src-${hash}`, 'build/Release/gst_capture.node'),
    epoll: join(cache, `epoll-${version('epoll')}`),
    'msgpackr-extract': join(cache, `msgpackr-extract-${version('msgpackr-extract')}`),
  };
  for (const [name, path] of Object.entries(dirs)) {
    const stamp = join(name === 'gst-capture' ? dirname(dirname(dirname(path))) : path, '.stamp');
    if (!existsSync(path) || !existsSync(stamp)) return { missing: `${relative(ROOT, path)} (cross-built ${name})` };
    if (!readFileSync(stamp, 'utf8').includes(` ${process.versions.node} `)) return { missing: `${relative(ROOT, path)} was built for another Node than ${process.versions.node}` };
  }
  return { dirs };
}

/** Debian's hardening link flags for what node-gyp builds here (our addon, epoll): full RELRO, bind now. */
const HARDENING = { LDFLAGS: '-Wl,-z,relro -Wl,-z,now' };

/** Production node_modules for one architecture, in a folder of its own. */
function installDependencies(arch: DebArch, work: string): string {
  const dir = join(work, 'npm');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // Our own install script (node-gyp on native/gst-capture) is not wanted here: the addon is built separately.
  const { scripts: _scripts, ...withoutScripts } = pkg;
  writeFileSync(join(dir, 'package.json'), JSON.stringify(withoutScripts, null, 2));
  copyFileSync(join(ROOT, 'package-lock.json'), join(dir, 'package-lock.json'));
  const env = { ...process.env, ...HARDENING, npm_config_nodedir: dirname(dirname(process.execPath)), ONNXRUNTIME_NODE_INSTALL: 'skip', JOBS: '1', npm_config_audit: 'false', npm_config_fund: 'false' };
  const args = ['ci', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'];
  // arm64: npm picks the arm64 platform packages; no install scripts run (they would build x86 code).
  if (arch === 'arm64') args.push('--cpu=arm64', '--os=linux', '--libc=glibc', '--ignore-scripts');
  say(`${arch}: npm ${args.join(' ')} (in ${relative(ROOT, dir)})`);
  try {
    sh('npm', args, { cwd: dir, env });
  } catch (err) {
    fail(`npm ci for ${arch} failed: ${String((err as { stderr?: string }).stderr ?? err).slice(-2000)}`);
  }
  return join(dir, 'node_modules');
}

/** Our GStreamer addon for amd64: node-gyp in a copy of its sources, against this Node's headers. */
function buildAddonAmd64(work: string): string {
  const dir = join(work, 'gst-capture');
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(ROOT, 'native/gst-capture'), dir, { recursive: true, filter: (src) => !src.includes('/build') });
  const nodeGyp = join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
  say('amd64: node-gyp rebuild native/gst-capture');
  try {
    sh(process.execPath, [nodeGyp, 'rebuild', '--release', `--nodedir=${dirname(dirname(process.execPath))}`], { cwd: dir, env: { ...process.env, ...HARDENING, NODE_PATH: join(ROOT, 'node_modules'), JOBS: '1' } });
  } catch (err) {
    fail(`node-gyp for native/gst-capture failed: ${String((err as { stderr?: string }).stderr ?? err).slice(-2000)}`);
  }
  return join(dir, 'build/Release/gst_capture.node');
}

function walk(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, base));
    else out.push(relative(base, p));
  }
  return out;
}
function walkDirs(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const p = join(dir, e.name);
    out.push(relative(base, p), ...walkDirs(p, base));
  }
  return out;
}
function head(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(64);
    const n = readSync(fd, b, 0, 64, 0);
    return b.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function cliHelp(args: string[]): string {
  return sh(process.execPath, [join(ROOT, 'dist/src/bin.cjs'), ...args], { env: { ...process.env, ALPR_EDGE_LOG_LEVEL: 'warn' } });
}

function writeFile(root: string, path: string, content: string | Buffer, mode: number): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
  chmodSync(join(root, path), mode);
}

function buildPackage(arch: DebArch, o: Options, packed: string[]): string | undefined {
  const work = join(o.out, 'build', arch);
  let arm: ReturnType<typeof arm64Addons> | undefined;
  if (arch === 'arm64') {
    arm = arm64Addons();
    if ('missing' in arm) {
      say(`arm64: SKIPPED, no arm64 package built: the native addons (native/gst-capture, epoll, msgpackr-extract) cannot be compiled for arm64 by this script; scripts/arm64-check cross-compiles them (apt: g++-aarch64-linux-gnu and an arm64 sysroot) and none is there: ${arm.missing}. Run scripts/arm64-check, then this again.`);
      return undefined;
    }
  }
  const root = join(work, 'root');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const app = join(root, APP_DIR);

  // The compiled app: the files npm pack would carry (package.json "files"), as the Yocto recipe gets them.
  for (const f of appFiles(packed)) {
    mkdirSync(dirname(join(root, f.to)), { recursive: true });
    copyFileSync(join(ROOT, f.from), join(root, f.to));
  }

  // Production dependencies.
  const nodeModules = installDependencies(arch, work);
  cpSync(nodeModules, join(app, 'node_modules'), { recursive: true, verbatimSymlinks: true });
  rmSync(join(app, 'node_modules/.bin'), { recursive: true, force: true });
  rmSync(join(app, 'node_modules/.package-lock.json'), { force: true });
  for (const d of foreignPlatformDirs(walkDirs(join(app, 'node_modules')), arch)) rmSync(join(app, 'node_modules', d), { recursive: true, force: true });

  // Native addons for this architecture.
  if (arch === 'amd64') {
    writeFile(root, ADDON_PATH, readFileSync(buildAddonAmd64(work)), 0o644);
  } else if (arm !== undefined && 'dirs' in arm) {
    writeFile(root, ADDON_PATH, readFileSync(arm.dirs['gst-capture']), 0o644);
    for (const name of ['epoll', 'msgpackr-extract'] as const) {
      const target = join(app, 'node_modules', name);
      rmSync(join(target, 'build'), { recursive: true, force: true });
      cpSync(join(arm.dirs[name], 'build/Release'), join(target, 'build/Release'), { recursive: true, filter: (src) => !src.includes('/obj.target') && !src.endsWith('.d') });
    }
    // msgpackr-extract's own linux-arm64 package holds musl binaries only; the cross build replaces it.
    rmSync(join(app, 'node_modules/@msgpackr-extract/msgpackr-extract-linux-arm64'), { recursive: true, force: true });
  }
  for (const p of prunedPaths([...walkDirs(join(app, 'node_modules')), ...walk(join(app, 'node_modules'))])) rmSync(join(app, 'node_modules', p), { recursive: true, force: true });
  // Build leftovers of dependencies' install scripts (objects, makefiles): not needed at run time.
  for (const d of walkDirs(join(app, 'node_modules'))) {
    if (/\/build\/(Release\/)?(obj\.target|\.deps)$/.test(d) || /\/build\/Release\/\.deps$/.test(d)) rmSync(join(app, 'node_modules', d), { recursive: true, force: true });
  }
  for (const f of walk(join(app, 'node_modules'))) {
    if (/\/build\/(Makefile|config\.gypi|binding\.Makefile|[^/]+\.target\.mk)$/.test(f) || /\.(o|a|d|mk)$/.test(f)) rmSync(join(app, 'node_modules', f), { force: true });
  }

  // Every ELF file must be for this architecture: an x86 binary in an arm64 package is refused.
  const machine = ARCHES[arch].elfMachine;
  const foreign: string[] = [];
  for (const f of walk(root)) {
    const p = join(root, f);
    if (lstatSync(p).isSymbolicLink()) continue;
    const m = elfMachine(head(p));
    if (m !== undefined && m !== machine) foreign.push(`${f} (e_machine ${m})`);
  }
  if (foreign.length > 0) fail(`${arch}: ${foreign.length} ELF file(s) for another architecture, first: ${foreign.slice(0, 5).join(', ')}`);

  // Strip the addons (symbols only; dh_strip does the same): ours, epoll, lmdb, msgpackr, onnxruntime's binding.
  const strip = arch === 'amd64' ? 'strip' : 'aarch64-linux-gnu-strip';
  for (const f of walk(root).filter((f) => f.endsWith('.node'))) {
    try {
      sh(strip, ['--strip-unneeded', '--remove-section=.comment', '--remove-section=.note', join(root, f)]);
    } catch (err) {
      fail(`${strip} ${f}: ${String((err as { stderr?: string }).stderr ?? err)}`);
    }
  }

  // System files.
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  symlinkSync(`../lib/node_modules/${PACKAGE}/dist/src/bin.cjs`, join(root, `usr/bin/${PACKAGE}`));
  writeFile(root, UNIT_PATH, readFileSync(join(ROOT, 'systemd/alpr-edge.service')), 0o644);
  // 0644 here; the postinst's dpkg-statoverride makes it 0640 root:alpr-edge, and dpkg applies that on every later unpack.
  writeFile(root, CONFIG_PATH, readFileSync(join(ROOT, 'config/example.jsonc')), 0o644);
  const tree = collectHelp(cliHelp);
  const date = new Date().toISOString().slice(0, 10);
  writeFile(root, `usr/share/man/man1/${PACKAGE}.1.gz`, gzipSync(renderManPage(tree, pkg.version, date), { level: 9 }), 0o644);
  writeFile(root, `usr/share/bash-completion/completions/${PACKAGE}`, renderBashCompletion(tree), 0o644);
  const shrinkwrap = shrinkwrapFromLock(lock, 'https://registry.npmjs.org/');
  const deps = Object.entries(shrinkwrap.packages)
    .filter(([path]) => path !== '' && existsSync(join(app, path)))
    .map(([path, entry]) => ({ path, licence: declaredLicence(path, entry, join(app)) }));
  writeFile(root, `usr/share/doc/${PACKAGE}/copyright`, copyrightFile(deps, new Date().getUTCFullYear()), 0o644);
  const changelog = `${PACKAGE} (${pkg.version}) unstable; urgency=medium\n\n  * Package built by scripts/package-deb from the alpr-edge repository.\n\n -- alpr-edge maintainers <alpr-edge@example.invalid>  ${new Date().toUTCString().replace('GMT', '+0000')}\n`;
  writeFile(root, `usr/share/doc/${PACKAGE}/changelog.gz`, gzipSync(changelog, { level: 9 }), 0o644);
  writeFile(root, `usr/share/lintian/overrides/${PACKAGE}`, readFileSync(join(ROOT, 'scripts/deb/lintian-overrides')), 0o644);

  // Modes: directories 0755, files 0644, the CLI entry 0755; dpkg-deb --root-owner-group makes root the owner.
  chmodSync(root, 0o755);
  for (const d of walkDirs(root)) chmodSync(join(root, d), 0o755);
  for (const f of walk(root)) {
    const p = join(root, f);
    if (lstatSync(p).isSymbolicLink()) continue;
    // Scripts keep their interpreter line and become executable; everything else is data.
    chmodSync(p, head(p).subarray(0, 2).toString() === '#!' ? 0o755 : 0o644);
  }
  chmodSync(join(app, 'dist/src/bin.cjs'), 0o755);

  // DEBIAN/
  const debian = join(root, 'DEBIAN');
  mkdirSync(debian, { mode: 0o755 });
  const files = walk(root).filter((f) => !f.startsWith('DEBIAN/'));
  const sizeKiB = files.reduce((s, f) => s + Math.ceil(lstatSync(join(root, f)).size / 1024), 0) + walkDirs(root).length;
  writeFile(root, 'DEBIAN/control', controlFile({ version: pkg.version, arch, installedSizeKiB: sizeKiB, maintainer: 'alpr-edge maintainers <alpr-edge@example.invalid>', description: pkg.description }), 0o644);
  writeFile(root, 'DEBIAN/conffiles', CONFFILES.join('\n') + '\n', 0o644);
  const scripts = maintainerScripts();
  for (const [name, text] of Object.entries(scripts)) writeFile(root, `DEBIAN/${name}`, text, 0o755);
  const md5sums = files
    .filter((f) => !lstatSync(join(root, f)).isSymbolicLink())
    .sort()
    .map((f) => `${createHash('md5').update(readFileSync(join(root, f))).digest('hex')}  ${f}`);
  writeFile(root, 'DEBIAN/md5sums', md5sums.join('\n') + '\n', 0o644);

  const deb = join(o.out, debFileName(pkg.version, arch));
  say(`${arch}: dpkg-deb --build (xz)`);
  sh('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, deb]);
  return deb;
}

function dryRun(o: Options, packed: string[]): void {
  const lines: string[] = [];
  const runtime = Object.keys(shrinkwrapFromLock(lock, 'https://registry.npmjs.org/').packages).length - 1;
  for (const arch of o.arches) {
    lines.push(`# ${debFileName(pkg.version, arch)}`);
    lines.push(controlFile({ version: pkg.version, arch, installedSizeKiB: 0, maintainer: 'alpr-edge maintainers <alpr-edge@example.invalid>', description: pkg.description }).trimEnd());
    lines.push(`conffiles: ${CONFFILES.join(' ')}`);
    for (const f of appFiles(packed)) lines.push(`/${f.to}\t<- ${f.from}`);
    for (const f of systemFiles()) lines.push(`/${f.to}\t<- ${f.what} (mode ${f.mode.toString(8)})`);
    lines.push(`/${APP_DIR}/node_modules/\t<- npm ci --omit=dev: up to ${runtime} runtime packages (the ${ARCHES[arch].npmCpu} builds only)`);
    if (arch === 'arm64') {
      const arm = arm64Addons();
      lines.push('missing' in arm ? `# arm64 would be SKIPPED: ${arm.missing} (scripts/arm64-check cross-builds the addons)` : '# arm64 addons: cross builds from .cache/arm64/build');
    }
    lines.push('');
  }
  process.stdout.write(lines.join('\n'));
}

function main(): void {
  const o = parseArgs(process.argv.slice(2));
  if (lock.version !== pkg.version) fail(`package-lock.json is for version ${lock.version}, package.json says ${pkg.version}`);
  const packed = packedFiles();
  for (const needed of ['dist/src/bin.cjs', 'models/manifest.json', 'config/example.jsonc', 'systemd/alpr-edge.service', 'dist/console/index.html']) {
    if (!packed.includes(needed)) fail(`npm pack would not carry ${needed} (run tsc -b and the console build; check "files" in package.json)`);
  }
  if (o.dryRun) return dryRun(o, packed);
  mkdirSync(o.out, { recursive: true });
  const built: string[] = [];
  for (const arch of o.arches) {
    const deb = buildPackage(arch, o, packed);
    if (deb !== undefined) built.push(deb);
  }
  for (const deb of built) {
    const count = sh('dpkg-deb', ['--contents', deb]).trim().split('\n').length;
    process.stdout.write(`${relative(ROOT, deb)}: ${(statSync(deb).size / 1e6).toFixed(1)} MB, ${count} entries\n`);
  }
  if (built.length === 0) fail('no package built');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
