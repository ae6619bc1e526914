// The Yocto layer (yocto-layer/meta-alpr-edge) is never built here: no bitbake on this machine.
// These checks read its files the way bitbake would and hold them to what a build needs: the
// fields bitbake requires, licence checksums that match the files, a shrinkwrap that is the lock
// file's runtime tree, a packed package that carries our addon's sources (not its host build), a
// systemd unit whose user, groups and paths are the ones the recipe creates and installs, and a
// runtime dependency for every GStreamer element capture uses.
// What only a real `bitbake alpr-edge` proves: that npm installs offline from the shrinkwrap, that
// node-gyp cross-compiles native/gst-capture against the target's GStreamer, and QA passes
// (yocto-layer/meta-alpr-edge/README.md has the steps).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOST_BUILD_OUTPUT, LICENCES_INCLUDE, RECIPE_FILES_DIR, licencesInclude, nativeSources } from '../../scripts/yocto/package-yocto.js';
import { LICENCES_READ_BY_HAND, ShrinkwrapError, declaredLicence, dependencyLicences, fitsTarget, licenceFiles, registryTarball, shrinkwrapFromLock, yoctoLicences, type LockFile } from '../../scripts/yocto/shrinkwrap.js';
import { expand, listOf, parseBitbake, parseUri, BitbakeSyntaxError, type BitbakeFile } from '../support/bitbake.js';

const ROOT = join(import.meta.dirname, '../..');
const LAYER = join(ROOT, 'yocto-layer/meta-alpr-edge');
const RECIPE_DIR = join(LAYER, 'recipes-alpr/alpr-edge');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; license: string; files: string[]; bin: Record<string, string>; dependencies: Record<string, string>; scripts: Record<string, string> };
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as LockFile;
/** scripts/package-yocto writes the shrinkwrap (git-ignored) with npm's configured registry; any will do here. */
const REGISTRY = 'https://npm-registry.invalid';
const shrinkwrap = shrinkwrapFromLock(lock, REGISTRY);
const md5 = (path: string) => createHash('md5').update(readFileSync(path)).digest('hex');

/** What bitbake defines before the recipe is parsed. */
const context = (recipeDir: string) => ({ PN: pkg.name, BPN: pkg.name, PV: pkg.version, BP: `${pkg.name}-${pkg.version}`, THISDIR: recipeDir });
const recipePath = join(RECIPE_DIR, `${pkg.name}_${pkg.version}.bb`);
const loadRecipe = (): BitbakeFile => parseBitbake(recipePath, context(RECIPE_DIR));

/** Every way the recipe falls short of what bitbake and the npm/systemd classes need. */
function recipeProblems(recipe: BitbakeFile, sourceRoot: string): string[] {
  const problems: string[] = [];
  const v = (name: string) => expand(recipe.vars.get(name) ?? '', recipe.vars).trim();
  for (const field of ['SUMMARY', 'DESCRIPTION', 'LICENSE', 'LIC_FILES_CHKSUM', 'SRC_URI', 'S']) if (v(field) === '') problems.push(`${field} is empty or missing`);
  for (const cls of ['npm', 'systemd']) if (!recipe.inherits.includes(cls)) problems.push(`does not inherit ${cls}`);

  // Licence: each LIC_FILES_CHKSUM entry names a file in the source whose md5 matches.
  for (const uri of listOf(recipe, 'LIC_FILES_CHKSUM')) {
    const { path, params } = parseUri(uri);
    const file = join(sourceRoot, path);
    if (params['md5'] === undefined) problems.push(`${uri}: no md5`);
    else if (!existsSync(file)) problems.push(`${path}: in LIC_FILES_CHKSUM but not in the source`);
    else if (md5(file) !== params['md5']) problems.push(`${path}: md5 is ${md5(file)}, LIC_FILES_CHKSUM says ${params['md5']}`);
  }
  if (!listOf(recipe, 'LIC_FILES_CHKSUM').some((u) => parseUri(u).path === 'LICENSE')) problems.push('LIC_FILES_CHKSUM does not cover our LICENSE file');
  // A licence with no common-licenses text needs NO_GENERIC_LICENSE naming the file that has it.
  if (/\bProprietary\b/.test(v('LICENSE')) && v('NO_GENERIC_LICENSE[Proprietary]') !== 'LICENSE') problems.push('LICENSE says Proprietary without NO_GENERIC_LICENSE[Proprietary] = "LICENSE"');

  // Sources: the packed package as ${BP}.tgz unpacking into ${S}, and the shrinkwrap via npmsw.
  const uris = listOf(recipe, 'SRC_URI').map(parseUri);
  const tarball = uris.find((u) => u.scheme === 'file' && u.path === `${pkg.name}-${pkg.version}.tgz`);
  if (tarball === undefined) problems.push(`SRC_URI lacks file://${pkg.name}-${pkg.version}.tgz`);
  const npmsw = uris.find((u) => u.scheme === 'npmsw');
  if (npmsw === undefined) problems.push('SRC_URI lacks an npmsw:// shrinkwrap');
  else {
    if (npmsw.path !== join(RECIPE_FILES_DIR, 'npm-shrinkwrap.json')) problems.push(`npmsw reads ${npmsw.path}, but scripts/package-yocto writes ${join(RECIPE_FILES_DIR, 'npm-shrinkwrap.json')}`);
    // npm pack puts everything under package/; the dependencies must land beside it.
    if (!v('S').endsWith(`/${npmsw.params['destsuffix'] ?? ''}`) || npmsw.params['destsuffix'] !== 'package') problems.push(`S (${v('S')}) and npmsw destsuffix (${npmsw.params['destsuffix']}) must both be the tarball's package/ folder`);
  }

  // systemd: the unit named in SYSTEMD_SERVICE is the one do_install installs from the package.
  const services = listOf(recipe, `SYSTEMD_SERVICE:${pkg.name}`);
  if (services.length === 0) problems.push(`SYSTEMD_SERVICE:${pkg.name} is empty or missing`);
  const install = recipe.functions.get('do_install:append') ?? '';
  for (const service of services) {
    if (!new RegExp(`\\$\\{S\\}/systemd/${service.replace('.', '\\.')}\\s+\\$\\{D\\}\\$\\{systemd_system_unitdir\\}`).test(install)) problems.push(`do_install does not install ${service} from \${S}/systemd into \${systemd_system_unitdir}`);
  }
  if (!/\$\{S\}\/config\/example\.jsonc\s+\$\{D\}\$\{sysconfdir\}\/alpr-edge\/config\.json/.test(install)) problems.push('do_install does not install the default config as /etc/alpr-edge/config.json');
  return problems;
}

/** What the paths of a recipe/class variable are on the device (oe-core's defaults). */
const TARGET_PATHS: Record<string, string> = { bindir: '/usr/bin', sysconfdir: '/etc', localstatedir: '/var', nonarch_libdir: '/usr/lib' };
/** Groups base-passwd creates on every image (its group.master); any other group the recipe must add. */
const BASE_PASSWD_GROUPS = new Set(['root', 'daemon', 'bin', 'sys', 'adm', 'tty', 'disk', 'lp', 'mail', 'kmem', 'dialout', 'audio', 'video', 'input', 'plugdev', 'users', 'nogroup', 'shutdown']);

/** `[Service]` keys of a unit file, each with all its values (keys may repeat). */
function unitService(text: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header !== null) section = header[1]!;
    else if (section === 'Service' && line.includes('=')) {
      const at = line.indexOf('=');
      keys.set(line.slice(0, at), [...(keys.get(line.slice(0, at)) ?? []), line.slice(at + 1)]);
    }
  }
  return keys;
}

/** Every way the systemd unit and the recipe disagree on who runs the daemon and where its files are. */
function unitProblems(unitText: string, recipe: BitbakeFile): string[] {
  const problems: string[] = [];
  const unit = unitService(unitText);
  const one = (key: string) => unit.get(key)?.at(-1) ?? '';
  const onTarget = (value: string) => value.replace(/\$\{([a-z_]+)\}/g, (m, name: string) => TARGET_PATHS[name] ?? m);
  // useradd: the last word is the user; --user-group gives it a group of the same name.
  const useradd = expand(recipe.vars.get(`USERADD_PARAM:${pkg.name}`) ?? '', recipe.vars).trim().split(/\s+/);
  const user = useradd.at(-1) ?? '';
  if (one('User') !== user) problems.push(`unit User=${one('User')}, the recipe creates ${user || 'no user'}`);
  if (one('Group') !== '' && !(one('Group') === user && useradd.includes('--user-group'))) problems.push(`unit Group=${one('Group')} is not the user's own group (useradd --user-group)`);
  const created = expand(recipe.vars.get(`GROUPADD_PARAM:${pkg.name}`) ?? '', recipe.vars).split(';').map((g) => g.trim().split(/\s+/).at(-1) ?? '').filter((g) => g !== '');
  for (const group of one('SupplementaryGroups').split(/\s+/).filter((g) => g !== '')) {
    if (!BASE_PASSWD_GROUPS.has(group) && !created.includes(group)) problems.push(`unit SupplementaryGroups names ${group}, which neither base-passwd nor GROUPADD_PARAM creates (systemd: status=216/GROUP)`);
  }
  const home = useradd[useradd.indexOf('--home-dir') + 1] ?? '';
  if (one('StateDirectory') !== '' && onTarget(home) !== `/var/lib/${one('StateDirectory')}`) problems.push(`unit StateDirectory=${one('StateDirectory')} is not the user's home ${onTarget(home)}`);
  // ExecStart: the npm class links ${bindir}/<bin name> to the package's bin entry.
  const [binary, ...args] = one('ExecStart').split(/\s+/);
  const bins = Object.keys(pkg.bin).map((name) => `${TARGET_PATHS.bindir}/${name}`);
  if (!bins.includes(binary ?? '')) problems.push(`unit ExecStart runs ${binary}, the package installs ${bins.join(', ')}`);
  const config = args[args.indexOf('--config') + 1];
  const install = recipe.functions.get('do_install:append') ?? '';
  const installed = [...install.matchAll(/\$\{D\}(\$\{[a-z_]+\}[^\s]*)/g)].map((m) => onTarget(m[1]!));
  if (args.includes('--config') && !installed.includes(config ?? '')) problems.push(`unit ExecStart reads --config ${config}, do_install installs none there (${installed.join(', ')})`);
  if (one('ConfigurationDirectory') !== '' && !installed.some((p) => p.startsWith(`/etc/${one('ConfigurationDirectory')}/`))) problems.push(`unit ConfigurationDirectory=${one('ConfigurationDirectory')} is not where do_install puts the config`);
  // Documentation=file:... inside the installed package must ship in it.
  for (const doc of (unitText.match(/^Documentation=(.*)$/m)?.[1] ?? '').split(/\s+/).filter((d) => d.startsWith('file:'))) {
    const prefix = `file:${TARGET_PATHS.nonarch_libdir}/node_modules/${pkg.name}/`;
    if (!doc.startsWith(prefix)) problems.push(`unit Documentation=${doc} is outside the installed package`);
    else if (!pkg.files.includes(doc.slice(prefix.length))) problems.push(`unit Documentation=${doc}: ${doc.slice(prefix.length)} is not in package.json "files"`);
  }
  return problems;
}

/** `npm pack --dry-run`: the paths the packed package would carry, as the recipe receives them. */
function packedFiles(): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
}

/**
 * GStreamer elements named in capture's pipeline descriptions, and the Yocto package (oe-core's
 * per-plugin split) that provides each. An element added to capture without a row here fails
 * the test, so the recipe's RDEPENDS cannot silently fall behind.
 */
const ELEMENT_PACKAGES: Record<string, string> = {
  filesrc: 'gstreamer1.0',
  queue: 'gstreamer1.0',
  capsfilter: 'gstreamer1.0',
  appsink: 'gstreamer1.0-plugins-base-app',
  decodebin: 'gstreamer1.0-plugins-base-playback',
  videorate: 'gstreamer1.0-plugins-base-videorate',
  videoscale: 'gstreamer1.0-plugins-base-videoconvertscale',
  videoconvert: 'gstreamer1.0-plugins-base-videoconvertscale',
  videotestsrc: 'gstreamer1.0-plugins-base-videotestsrc',
  rtspsrc: 'gstreamer1.0-plugins-good-rtsp',
  rtph264depay: 'gstreamer1.0-plugins-good-rtp',
  rtph265depay: 'gstreamer1.0-plugins-good-rtp',
  qtdemux: 'gstreamer1.0-plugins-good-isomp4',
  v4l2src: 'gstreamer1.0-plugins-good-video4linux2',
  h264parse: 'gstreamer1.0-plugins-bad-videoparsersbad',
  h265parse: 'gstreamer1.0-plugins-bad-videoparsersbad',
};
/** Element-like words in the capture sources that are hardware decoders chosen when present (packagegroup/board layer). */
const OPTIONAL_ELEMENTS = /^(avdec_h26[45]|v4l2(sl)?h26[45]dec|vaapih26[45]dec|vah26[45]dec|nvv4l2decoder)$/;

function captureElements(): string[] {
  const dir = join(ROOT, 'src/capture');
  const words = new Set<string>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    const source = readFileSync(join(dir, f), 'utf8');
    // Elements appear as the first word of a gst-launch segment: in `...`/'...' strings or after `! `.
    for (const m of source.matchAll(/(?:[`'"]|!\s)([a-z][a-z0-9_]*(?:src|sink|parse|depay|demux|convert|scale|rate|bin|dec|decoder))\b/g)) words.add(m[1]!);
    for (const m of source.matchAll(/[`'"](queue|capsfilter|filesrc)\b/g)) words.add(m[1]!);
  }
  // `codec` and `videocodec` are config words (the RTSP `codec=` option), not elements.
  return [...words].filter((w) => !OPTIONAL_ELEMENTS.test(w) && !/codec$/.test(w)).sort();
}

describe('Yocto layer meta-alpr-edge', () => {
  it('layer.conf registers the collection, its recipes and the releases it supports', () => {
    const conf = parseBitbake(join(LAYER, 'conf/layer.conf'), { LAYERDIR: LAYER });
    expect(listOf(conf, 'BBFILE_COLLECTIONS')).toContain('alpr-edge');
    expect(conf.vars.get('BBFILE_PATTERN_alpr-edge')).toBe('^${LAYERDIR}/');
    expect(Number(conf.vars.get('BBFILE_PRIORITY_alpr-edge'))).toBeGreaterThan(0);
    expect(listOf(conf, 'LAYERSERIES_COMPAT_alpr-edge').length).toBeGreaterThan(0);
    expect(listOf(conf, 'LAYERDEPENDS_alpr-edge')).toEqual(expect.arrayContaining(['core', 'openembedded-layer']));
    // Every recipe and append in the layer is matched by a BBFILES glob, so bitbake sees it.
    const globs = listOf(conf, 'BBFILES').map((g) => new RegExp(`^${g.replace(/[.+]/g, '\\$&').replace(/\*/g, '[^/]*')}$`));
    const recipes = ['recipes-alpr/alpr-edge', 'recipes-alpr/packagegroups', 'recipes-core/images'].flatMap((d) =>
      readdirSync(join(LAYER, d)).filter((f) => /\.bb(append)?$/.test(f)).map((f) => join(LAYER, d, f)),
    );
    expect(recipes.length).toBe(3);
    for (const r of recipes) expect(globs.some((g) => g.test(r)), r).toBe(true);
  });

  it('the recipe is named for the package version and has every field bitbake and the npm/systemd classes need', () => {
    expect(existsSync(recipePath), `${recipePath} (rename the recipe when package.json's version changes)`).toBe(true);
    expect(recipeProblems(loadRecipe(), ROOT)).toEqual([]);
  });

  it('the recipe check catches a missing field, a wrong licence checksum and a missing class', () => {
    // The same check on broken copies: it must name each fault (so the test above can fail).
    const dir = mkdtempSync(join(tmpdir(), 'alpr-yocto-'));
    const good = readFileSync(recipePath, 'utf8');
    writeFileSync(join(dir, 'alpr-edge-licences.inc'), readFileSync(join(RECIPE_DIR, 'alpr-edge-licences.inc')));
    const broken = good
      .replace(/^SUMMARY = .*$/m, '')
      .replace(/file:\/\/LICENSE;md5=[0-9a-f]{32}/, 'file://LICENSE;md5=00000000000000000000000000000000')
      .replace(/^inherit npm /m, 'inherit ');
    writeFileSync(join(dir, 'broken.bb'), broken);
    const problems = recipeProblems(parseBitbake(join(dir, 'broken.bb'), context(RECIPE_DIR)), ROOT);
    expect(problems).toEqual(expect.arrayContaining([
      'SUMMARY is empty or missing',
      'does not inherit npm',
      `LICENSE: md5 is ${md5(join(ROOT, 'LICENSE'))}, LIC_FILES_CHKSUM says 00000000000000000000000000000000`,
    ]));
    writeFileSync(join(dir, 'bad-syntax.bb'), 'SUMMARY = unquoted\n');
    expect(() => parseBitbake(join(dir, 'bad-syntax.bb'))).toThrow(BitbakeSyntaxError);
  });

  it('our licence is proprietary in package.json, the LICENSE file and the recipe alike; every dependency licence is declared', () => {
    expect(pkg.license).toBe('UNLICENSED');
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/proprietary/i);
    const recipe = loadRecipe();
    const licence = expand(recipe.vars.get('LICENSE')!, recipe.vars);
    expect(licence.split(' & ')[0]).toBe('Proprietary');
    const declared = dependencyLicences(shrinkwrap, ROOT);
    expect(declared).toContain('BSD-2-Clause'); // suncalc, read by hand (its package.json names none)
    for (const dep of declared) expect(licence, `LICENSE lacks ${dep}`).toContain(dep);
  });

  it('every licence text the layer carries is on LICENSE_PATH and named by a dependency licence', () => {
    const conf = parseBitbake(join(LAYER, 'conf/layer.conf'), { LAYERDIR: LAYER });
    const dirs = listOf(conf, 'LICENSE_PATH');
    expect(dirs).toContain(join(LAYER, 'files/common-licenses'));
    const declared = dependencyLicences(shrinkwrap, ROOT).flatMap((l) => l.replace(/[()]/g, '').split(' | '));
    const texts = readdirSync(join(LAYER, 'files/common-licenses'));
    expect(texts).toContain('BlueOak-1.0.0');
    for (const name of texts) expect(declared, `${name} is carried but no dependency uses it`).toContain(name);
  });

  it('our GStreamer addon keeps its MIT licence: the recipe declares MIT and checksums native/gst-capture/LICENSE', () => {
    const text = readFileSync(join(ROOT, 'native/gst-capture/LICENSE'), 'utf8');
    expect(text).toMatch(/Permission is hereby granted, free of charge/); // the MIT text
    const recipe = loadRecipe();
    expect(expand(recipe.vars.get('LICENSE')!, recipe.vars).split(' & ')).toContain('MIT');
    // recipeProblems checks the md5; here: the file is covered at all.
    expect(listOf(recipe, 'LIC_FILES_CHKSUM').map((u) => parseUri(u).path)).toContain('native/gst-capture/LICENSE');
  });

  it('a dependency without a licence field needs a hand-read entry whose file is unchanged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'alpr-yocto-lic-'));
    mkdirSync(join(dir, 'node_modules/suncalc'), { recursive: true });
    const suncalc = { version: '2.0.2', integrity: 'sha512-x' };
    expect(() => declaredLicence('node_modules/suncalc', suncalc, dir)).toThrow(/LICENSE missing/);
    writeFileSync(join(dir, 'node_modules/suncalc/LICENSE'), 'Copyright (c) 2026\nAll rights reserved, and then some.\n');
    expect(() => declaredLicence('node_modules/suncalc', suncalc, dir)).toThrow(ShrinkwrapError);
    expect(() => declaredLicence('node_modules/suncalc', suncalc, dir)).toThrow(/LICENSE changed/);
    expect(() => declaredLicence('node_modules/suncalc', { ...suncalc, version: '2.1.0' }, dir)).toThrow(/add suncalc@2.1.0 to LICENCES_READ_BY_HAND/);
    expect(declaredLicence('node_modules/suncalc', suncalc, ROOT)).toBe(LICENCES_READ_BY_HAND['suncalc@2.0.2']!.licence);
    expect(declaredLicence('node_modules/x', { version: '1.0.0', license: 'ISC' }, dir)).toBe('ISC');
  });

  it('the shrinkwrap package-yocto writes is the runtime tree of package-lock.json, each entry with its registry URL and integrity', () => {
    expect(shrinkwrap.lockfileVersion).toBeGreaterThanOrEqual(2); // npm.bbclass refuses older ones
    expect(shrinkwrap.packages['']?.devDependencies).toBeUndefined();
    const entries = Object.entries(shrinkwrap.packages).filter(([path]) => path !== '');
    for (const [path, entry] of entries) {
      expect(entry.dev, path).toBeUndefined();
      expect(entry.integrity, path).toBe(lock.packages[path]!.integrity);
      expect(entry.resolved, path).toMatch(new RegExp(`^${REGISTRY}/.+/-/.+-${entry.version!.replace(/\./g, '\\.')}\\.tgz$`));
    }
    // The arm64 builds the device needs are in; other platforms' are not.
    const paths = entries.map(([path]) => path);
    // nan: the headers native/gst-capture compiles against on the target; suncalc: the IR illuminator.
    expect(paths).toEqual(expect.arrayContaining(['node_modules/@img/sharp-linux-arm64', 'node_modules/@img/sharp-libvips-linux-arm64', 'node_modules/@lmdb/lmdb-linux-arm64', 'node_modules/@node-rs/argon2-linux-arm64-gnu', 'node_modules/onnxruntime-node', 'node_modules/nan', 'node_modules/suncalc', 'node_modules/epoll']));
    // Replaced by our own addon (native/gst-capture) on 2026-12-01.
    expect(paths).not.toContain('node_modules/gstreamer-superficial');
    expect(paths.filter((p) => /darwin|win32|musl|wasm/.test(p))).toEqual([]);
    expect(paths.filter((p) => ['node_modules/typescript', 'node_modules/vitest'].includes(p))).toEqual([]);
  });

  it('the committed licence include is what package-yocto generates now (else: run scripts/package-yocto)', () => {
    const expected = licencesInclude(dependencyLicences(shrinkwrap, ROOT), licenceFiles(shrinkwrap, ROOT));
    expect(readFileSync(LICENCES_INCLUDE, 'utf8')).toBe(expected);
  });

  it('the models the manifest names ship in the package or in a runtime dependency', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'models/manifest.json'), 'utf8')) as { models: { file: string }[] };
    expect(pkg.files).toContain('models/');
    for (const { file } of manifest.models) {
      const dependency = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
      if (dependency === null) expect(file, file).toMatch(/^models\//);
      else expect(Object.keys(shrinkwrap.packages), file).toContain(`node_modules/${dependency[1]}`);
    }
  });

  it('the package carries what do_install takes from it: compiled code, default config and the systemd unit', () => {
    expect(pkg.files).toEqual(expect.arrayContaining(['dist/src/', 'config/example.jsonc', 'systemd/']));
  });

  it('the packed package carries native/gst-capture\'s sources and no host build, and its install script compiles them', () => {
    // The npm class runs the package's install script on the target: node-gyp on native/gst-capture.
    expect(pkg.scripts['install']).toBe('npm run build:native');
    expect(pkg.scripts['build:native']).toMatch(/node-gyp rebuild --directory native\/gst-capture/);
    expect(Object.keys(pkg.dependencies)).toContain('nan');
    const packed = packedFiles();
    const sources = nativeSources();
    expect(sources).toEqual(expect.arrayContaining(['native/gst-capture/binding.gyp', 'native/gst-capture/LICENSE', 'native/gst-capture/gst_capture.cpp']));
    for (const file of sources) expect(packed, file).toContain(file);
    expect(packed.filter((p) => HOST_BUILD_OUTPUT.test(p))).toEqual([]);
    // The pattern catches what a "native/gst-capture/" entry in "files" would let in.
    expect(HOST_BUILD_OUTPUT.test('native/gst-capture/build/Release/gst_capture.node')).toBe(true);
  });

  it('the systemd unit runs as the user the recipe creates, from the binary and config paths the package installs', () => {
    expect(unitProblems(readFileSync(join(ROOT, 'systemd/alpr-edge.service'), 'utf8'), loadRecipe())).toEqual([]);
  });

  it('the unit check names a wrong user, a group nobody creates, a wrong binary, config path or documentation', () => {
    const unit = readFileSync(join(ROOT, 'systemd/alpr-edge.service'), 'utf8')
      .replace(/^User=.*$/m, 'User=root')
      .replace(/^SupplementaryGroups=.*$/m, 'SupplementaryGroups=video gpio cameras')
      .replace(/^ExecStart=.*$/m, 'ExecStart=/usr/local/bin/alpr-edge run --config /etc/alpr/config.json')
      .replace(/^Documentation=.*$/m, 'Documentation=file:/usr/lib/node_modules/alpr-edge/docs/missing.md');
    const problems = unitProblems(unit, loadRecipe()).join('\n');
    expect(problems).toMatch(/User=root, the recipe creates alpr-edge/);
    expect(problems).toMatch(/names cameras, which neither/);
    expect(problems).not.toMatch(/names (video|gpio),/);
    expect(problems).toMatch(/ExecStart runs \/usr\/local\/bin\/alpr-edge/);
    expect(problems).toMatch(/--config \/etc\/alpr\/config\.json, do_install installs none there/);
    expect(problems).toMatch(/docs\/missing\.md is not in package.json "files"/);
  });

  it('every GStreamer element capture uses has its plugin package in RDEPENDS', () => {
    const elements = captureElements();
    expect(elements).toEqual(expect.arrayContaining(['appsink', 'decodebin', 'rtspsrc', 'qtdemux', 'videoconvert']));
    const unknown = elements.filter((e) => ELEMENT_PACKAGES[e] === undefined);
    expect(unknown, 'capture uses elements this test does not map to a Yocto package: add them here and to the recipe').toEqual([]);
    const rdepends = listOf(loadRecipe(), `RDEPENDS:${pkg.name}`);
    for (const e of elements) expect(rdepends, `${e} needs ${ELEMENT_PACKAGES[e]}`).toContain(ELEMENT_PACKAGES[e]);
  });

  it('the packagegroup pulls in alpr-edge and the image append example installs the packagegroup', () => {
    const group = parseBitbake(join(LAYER, 'recipes-alpr/packagegroups/packagegroup-alpr-edge.bb'), { PN: 'packagegroup-alpr-edge' });
    expect(group.inherits).toContain('packagegroup');
    expect(group.vars.get('LICENSE')).toBeTruthy();
    expect(listOf(group, 'RDEPENDS:packagegroup-alpr-edge')).toContain('alpr-edge');
    const image = parseBitbake(join(LAYER, 'recipes-core/images/core-image-base.bbappend'));
    expect(listOf(image, 'IMAGE_INSTALL:append')).toContain('packagegroup-alpr-edge');
  });
});

describe('shrinkwrap for the target', () => {
  it('keeps platform-neutral packages and glibc Linux arm64/x64 builds, drops the rest', () => {
    expect(fitsTarget({})).toBe(true);
    expect(fitsTarget({ os: ['linux'], cpu: ['arm64'], libc: ['glibc'] })).toBe(true);
    expect(fitsTarget({ os: ['linux'], cpu: ['x64'] })).toBe(true);
    expect(fitsTarget({ os: ['linux'], cpu: ['arm64'], libc: ['musl'] })).toBe(false);
    expect(fitsTarget({ os: ['darwin'], cpu: ['arm64'] })).toBe(false);
    expect(fitsTarget({ os: ['linux'], cpu: ['riscv64'] })).toBe(false);
    expect(fitsTarget({ os: ['!win32'] })).toBe(true);
  });

  it('gives every entry its registry tarball URL, scoped names included', () => {
    expect(registryTarball('https://r.invalid/', '@img/sharp-linux-arm64', '0.35.5')).toBe('https://r.invalid/@img/sharp-linux-arm64/-/sharp-linux-arm64-0.35.5.tgz');
    expect(registryTarball('https://r.invalid', 'pino', '10.4.0')).toBe('https://r.invalid/pino/-/pino-10.4.0.tgz');
  });

  it('refuses a lock file npm.bbclass cannot use', () => {
    expect(() => shrinkwrapFromLock({ ...lock, lockfileVersion: 1 }, REGISTRY)).toThrow(/lockfileVersion 1/);
    const noIntegrity = { ...lock, packages: { ...lock.packages, 'node_modules/x': { version: '1.0.0' } } };
    expect(() => shrinkwrapFromLock(noIntegrity, REGISTRY)).toThrow(/node_modules\/x: has no version or integrity/);
  });

  it('writes SPDX expressions in bitbake syntax', () => {
    expect(yoctoLicences('MIT')).toEqual(['MIT']);
    expect(yoctoLicences('(MIT OR CC0-1.0)')).toEqual(['(MIT | CC0-1.0)']);
    expect(yoctoLicences('Apache-2.0 AND LGPL-3.0-or-later')).toEqual(['Apache-2.0', 'LGPL-3.0-or-later']);
  });
});
