// The Yocto layer (yocto-layer/meta-alpr-edge) is never built here: no bitbake on this machine.
// These checks read its files the way bitbake would and hold them to what a build needs: the
// fields bitbake requires, licence checksums that match the files, a shrinkwrap that is the lock
// file's runtime tree, and a runtime dependency for every GStreamer element capture uses.
// What only a real `bitbake alpr-edge` proves: that npm installs offline from the shrinkwrap, that
// node-gyp cross-compiles our addons against the target's GStreamer, and QA passes
// (yocto-layer/meta-alpr-edge/README.md has the steps).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LICENCES_INCLUDE, RECIPE_FILES_DIR, licencesInclude } from '../../scripts/yocto/package-yocto.js';
import { dependencyLicences, fitsTarget, licenceFiles, registryTarball, shrinkwrapFromLock, yoctoLicences, type LockFile } from '../../scripts/yocto/shrinkwrap.js';
import { expand, listOf, parseBitbake, parseUri, BitbakeSyntaxError, type BitbakeFile } from '../support/bitbake.js';

const ROOT = join(import.meta.dirname, '../..');
const LAYER = join(ROOT, 'yocto-layer/meta-alpr-edge');
const RECIPE_DIR = join(LAYER, 'recipes-alpr/alpr-edge');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; license: string; files: string[] };
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
    for (const dep of dependencyLicences(shrinkwrap)) expect(licence, `LICENSE lacks ${dep}`).toContain(dep);
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
    expect(paths).toEqual(expect.arrayContaining(['node_modules/@img/sharp-linux-arm64', 'node_modules/@img/sharp-libvips-linux-arm64', 'node_modules/@lmdb/lmdb-linux-arm64', 'node_modules/@node-rs/argon2-linux-arm64-gnu', 'node_modules/onnxruntime-node', 'node_modules/gstreamer-superficial', 'node_modules/epoll']));
    expect(paths.filter((p) => /darwin|win32|musl|wasm/.test(p))).toEqual([]);
    expect(paths.filter((p) => ['node_modules/typescript', 'node_modules/vitest'].includes(p))).toEqual([]);
  });

  it('the committed licence include is what package-yocto generates now (else: run scripts/package-yocto)', () => {
    const expected = licencesInclude(dependencyLicences(shrinkwrap), licenceFiles(shrinkwrap, ROOT));
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
