// The Debian package's layout logic (scripts/deb/layout.ts, scripts/deb/cli-reference.ts), without
// building a .deb: what goes where, the control fields, the maintainer scripts and the unit agree.
// Building and installing the package is scripts/package-deb and scripts/deb-check (minutes, and
// apt for the throwaway root), so outside the suite; docs/install.md has their output.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { collectHelp, optionNames, parseHelp, renderBashCompletion, renderManPage } from '../../scripts/deb/cli-reference.js';
import { ADDON_PATH, APP_DIR, CONFFILES, CONFIG_PATH, DEPENDS, STATE_DIR, UNIT_PATH, appFiles, controlFile, copyrightFile, debFileName, debianLicenceName, elfMachine, foreignPlatformDirs, maintainerScripts, prunedPaths, requiredPaths } from '../../scripts/deb/layout.js';

const ROOT = join(import.meta.dirname, '../..');
const unit = readFileSync(join(ROOT, 'systemd/alpr-edge.service'), 'utf8');
const unitValue = (key: string): string => new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1] ?? '';

const PACKED = ['LICENSE', 'README.md', 'package.json', 'dist/src/bin.cjs', 'dist/src/main.js', 'dist/console/index.html', 'models/manifest.json', 'models/reader-int8.onnx', 'config/example.jsonc', 'systemd/alpr-edge.service', 'docs/device.md', 'docs/policy.md', 'native/gst-capture/binding.gyp', 'native/gst-capture/gst_capture.cpp', 'native/gst-capture/LICENSE'];

describe('Debian package layout', () => {
  it('installs the packed app under the path the unit documents, without the addon sources or a second copy of the unit', () => {
    const to = appFiles(PACKED).map((f) => f.to);
    expect(to).toEqual(expect.arrayContaining([`${APP_DIR}/dist/src/bin.cjs`, `${APP_DIR}/models/reader-int8.onnx`, `${APP_DIR}/docs/device.md`, `${APP_DIR}/docs/policy.md`, `${APP_DIR}/package.json`]));
    expect(to.filter((p) => p.includes('/native/'))).toEqual([]);
    expect(to).not.toContain(`${APP_DIR}/systemd/alpr-edge.service`);
    // The unit's Documentation= points into the installed app.
    expect(unitValue('Documentation')).toBe(`file:/${APP_DIR}/docs/device.md`);
    const all = requiredPaths(PACKED);
    expect(all).toEqual(expect.arrayContaining([UNIT_PATH, CONFIG_PATH, ADDON_PATH, 'usr/bin/alpr-edge', 'usr/share/man/man1/alpr-edge.1.gz', 'usr/share/bash-completion/completions/alpr-edge', 'usr/share/doc/alpr-edge/copyright']));
    expect(ADDON_PATH).toBe(`${APP_DIR}/native/gst-capture/build/Release/gst_capture.node`); // where src/capture/gst-binding.ts loads it
  });

  it('the unit runs the installed binary with the conffile, as the user, groups and state directory the postinst creates', () => {
    const [binary, , , config] = unitValue('ExecStart').split(/\s+/);
    expect(binary).toBe('/usr/bin/alpr-edge');
    expect(config).toBe(`/${CONFIG_PATH}`);
    expect(CONFFILES).toEqual([`/${CONFIG_PATH}`]);
    const { postinst } = maintainerScripts();
    expect(postinst).toMatch(new RegExp(`adduser --quiet --system --group --home ${STATE_DIR} .* ${unitValue('User')}\\n`, 's'));
    expect(unitValue('Group')).toBe(unitValue('User'));
    for (const group of unitValue('SupplementaryGroups').split(/\s+/)) {
      expect(postinst, `group ${group}`).toMatch(new RegExp(`addgroup --quiet --system ${group}\\b`));
      expect(postinst, `member of ${group}`).toMatch(new RegExp(`adduser --quiet alpr-edge ${group}\\b`));
    }
    expect(STATE_DIR).toBe(`/var/lib/${unitValue('StateDirectory')}`);
    expect(postinst).toMatch(new RegExp(`install -d -m 0700 -o alpr-edge -g alpr-edge ${STATE_DIR}`));
  });

  it('maintainer scripts are valid sh, never start an unprovisioned daemon, and purge what the daemon made', () => {
    const scripts = maintainerScripts();
    for (const [name, text] of Object.entries(scripts)) {
      expect(text.startsWith('#!/bin/sh\n'), name).toBe(true);
      expect(text, name).toMatch(/\nset -e\n/);
      execFileSync('sh', ['-n'], { input: text }); // throws on a syntax error
    }
    expect(scripts.postinst).not.toMatch(/deb-systemd-invoke (start|restart)\b/);
    expect(scripts.postinst).toMatch(/deb-systemd-invoke try-restart/);
    expect(scripts.postinst).toMatch(/dpkg-statoverride --update --add root alpr-edge "\$mode" "\$path"/);
    expect(scripts.prerm).toMatch(/deb-systemd-invoke stop alpr-edge.service/);
    expect(scripts.postrm).toMatch(/"\$1" = purge[\s\S]*rm -rf \/var\/lib\/alpr-edge/);
    expect(scripts.postrm).toMatch(/dpkg-statoverride --remove/);
  });

  it('control fields name the architecture, Node 20 (the addons\' ABI) and the GStreamer plugin sets capture uses', () => {
    const control = controlFile({ version: '0.1.0', arch: 'arm64', installedSizeKiB: 123, maintainer: 'M <m@example.invalid>', description: 'a b c' });
    const field = (k: string) => new RegExp(`^${k}: (.*)$`, 'm').exec(control)?.[1];
    expect(field('Package')).toBe('alpr-edge');
    expect(field('Architecture')).toBe('arm64');
    expect(field('Installed-Size')).toBe('123');
    expect(field('Depends')).toBe(DEPENDS.join(', '));
    expect(DEPENDS).toEqual(expect.arrayContaining(['nodejs (>= 20)', 'nodejs (<< 21)', 'adduser', 'gstreamer1.0-plugins-base', 'gstreamer1.0-plugins-good', 'gstreamer1.0-plugins-bad']));
    expect(control).toMatch(/^Description: .+\n .+\n$/m);
    expect(debFileName('0.1.0', 'amd64')).toBe('alpr-edge_0.1.0_amd64.deb');
  });

  it('keeps only the package architecture\'s onnxruntime libraries', () => {
    const dirs = ['onnxruntime-node/bin/napi-v6', 'onnxruntime-node/bin/napi-v6/linux', 'onnxruntime-node/bin/napi-v6/linux/x64', 'onnxruntime-node/bin/napi-v6/linux/arm64', 'onnxruntime-node/bin/napi-v6/darwin', 'onnxruntime-node/bin/napi-v6/win32', 'sharp/lib'];
    expect(foreignPlatformDirs(dirs, 'arm64').sort()).toEqual(['onnxruntime-node/bin/napi-v6/darwin', 'onnxruntime-node/bin/napi-v6/linux/x64', 'onnxruntime-node/bin/napi-v6/win32']);
    expect(foreignPlatformDirs(dirs, 'amd64')).toContain('onnxruntime-node/bin/napi-v6/linux/arm64');
    expect(foreignPlatformDirs(dirs, 'amd64')).not.toContain('onnxruntime-node/bin/napi-v6/linux/x64');
  });

  it('prunes tests, VCS and lint files and musl builds from node_modules, never a package itself', () => {
    const paths = ['pino', 'pino/index.html', 'pino/lib/tools.js', 'aedes/.gitattributes', '@fastify/static/test', '@fastify/static/test/a.html.gz', 'test', 'test/index.js', '@lmdb/lmdb-linux-x64/node.napi.musl.node', '@lmdb/lmdb-linux-x64/node.napi.glibc.node', 'epoll/example', 'lmdb/dependencies/lz4/lib/dll/example/fullbench-dll.sln', 'ajv/.eslintrc.json', '@fastify/swagger-ui/static/index.html'];
    const pruned = prunedPaths(paths);
    expect(pruned).toEqual(expect.arrayContaining(['pino/index.html', 'aedes/.gitattributes', '@fastify/static/test', '@lmdb/lmdb-linux-x64/node.napi.musl.node', 'epoll/example', 'lmdb/dependencies/lz4/lib/dll/example/fullbench-dll.sln', 'ajv/.eslintrc.json']));
    // A package named test, runtime code, glibc builds and the Swagger UI page stay.
    for (const kept of ['test', 'test/index.js', 'pino/lib/tools.js', '@lmdb/lmdb-linux-x64/node.napi.glibc.node', '@fastify/swagger-ui/static/index.html']) expect(pruned).not.toContain(kept);
  });

  it('tells an ELF file\'s machine, so an x86 binary in an arm64 package is caught', () => {
    const node = Buffer.alloc(64);
    const fd = openSync(process.execPath, 'r');
    onTestFinished(() => closeSync(fd));
    readSync(fd, node, 0, 64, 0);
    expect(elfMachine(node)).toBe(process.arch === 'arm64' ? 183 : 62);
    const arm = Buffer.alloc(20);
    arm.set([0x7f, 0x45, 0x4c, 0x46, 2, 1], 0);
    arm.writeUInt16LE(183, 18);
    expect(elfMachine(arm)).toBe(183);
    expect(elfMachine(Buffer.from('#!/usr/bin/env node\n'))).toBeUndefined();
  });

  it('copyright names every dependency licence with a licence paragraph for each name', () => {
    const text = copyrightFile([{ path: 'node_modules/pino', licence: 'MIT' }, { path: 'node_modules/glob', licence: 'BlueOak-1.0.0' }, { path: 'node_modules/jsonify', licence: '(MIT OR CC0-1.0)' }], 2026);
    expect(text).toMatch(/^Format: https:\/\/www\.debian\.org\/doc\/packaging-manuals\/copyright-format\/1\.0\/$/m);
    expect(text).toMatch(/Files: usr\/lib\/node_modules\/alpr-edge\/node_modules\/glob\/\*\nCopyright: .*\nLicense: BlueOak-1.0.0/);
    for (const name of ['Expat', 'BlueOak-1.0.0', 'CC0-1.0', 'proprietary']) expect(text).toMatch(new RegExp(`^License: ${name}\\n `, 'm'));
    expect(debianLicenceName('(MIT OR CC0-1.0)')).toBe('Expat or CC0-1.0');
  });
});

const HELP: Record<string, string> = {
  '': `Usage: alpr-edge [options] [command]

Licence-plate reader for fixed pole-mounted cameras

Options:
  -V, --version                  output the version number
  -h, --help                     display help for command

Commands:
  selftest [options]             check camera, models, broker, clock, disk,
                                 store and GPIO; exit 1 when a check fails
  hotlist                        hot lists
  help [command]                 display help for command

Rule ids P1–P17 cited in help and messages: docs/policy.md.`,
  selftest: `Usage: alpr-edge selftest [options]

check camera, models, broker, clock, disk, store and GPIO; exit 1 when a check
fails

Options:
  -c, --config <file>   configuration file (default:
                        "/etc/alpr-edge/config.json")
  --json                print the results as JSON (default: false)
  -h, --help            display help for command`,
  hotlist: `Usage: alpr-edge hotlist [options] [command]

hot lists

Options:
  -h, --help               display help for command

Commands:
  keys                     publisher keys
  help [command]           display help for command`,
  'hotlist keys': `Usage: alpr-edge hotlist keys [options] [command]

publisher keys

Options:
  -h, --help          display help for command

Commands:
  add [options]       trust a publisher key
  help [command]      display help for command`,
  'hotlist keys add': `Usage: alpr-edge hotlist keys add [options]

trust a publisher key: copied beside the config as publisher-keys/<id>.pem

Options:
  --id <id>            key id
  --file <pem>         the Ed25519 public key (PEM)
  -h, --help           display help for command`,
};
const fakeCli = (args: string[]): string => {
  const key = args.filter((a) => a !== '--help').join(' ');
  const text = HELP[key];
  if (text === undefined) throw new Error(`no help for ${key}`);
  return text;
};

describe('man page and bash completion from the CLI help', () => {
  it('parses commander help: usage, wrapped descriptions, options and subcommands', () => {
    const h = parseHelp(['selftest'], HELP['selftest']!);
    expect(h.usage).toBe('alpr-edge selftest [options]');
    expect(h.description).toBe('check camera, models, broker, clock, disk, store and GPIO; exit 1 when a check fails');
    expect(h.options[0]).toEqual({ term: '-c, --config <file>', description: 'configuration file (default: "/etc/alpr-edge/config.json")' });
    expect(optionNames(h.options)).toEqual(['-c', '--config', '--json', '-h', '--help']);
    const top = parseHelp([], HELP['']!);
    expect(top.commands.map((c) => c.term)).toEqual(['selftest [options]', 'hotlist', 'help [command]']);
    expect(top.footer).toMatch(/docs\/policy\.md/);
  });

  it('walks every command, renders each in the man page and completes each level', () => {
    const tree = collectHelp(fakeCli);
    expect(tree.map((c) => c.path.join(' '))).toEqual(['', 'selftest', 'hotlist', 'hotlist keys', 'hotlist keys add']);
    const man = renderManPage(tree, '0.1.0', '2026-12-06');
    expect(man).toMatch(/^\.TH ALPR-EDGE 1 "2026-12-06" "alpr-edge 0\.1\.0"/m);
    expect(man).toMatch(/^\.SS "alpr\\-edge hotlist keys add"$/m);
    expect(man).toMatch(/^\.B \\-\\-json$/m);
    expect(man.match(/^\.B \\-h, \\-\\-help$/gm)).toHaveLength(1); // the program's; each command's --help is noise
    if (hasCommand('man')) {
      // man's own lint: groff warnings would show up on stderr.
      const out = execFileSync('sh', ['-c', 'man -l -Tutf8 - 2>&1 >/dev/null'], { input: man, encoding: 'utf8', env: { ...process.env, MANWIDTH: '80' } });
      expect(out).toBe('');
    }
    const completion = renderBashCompletion(tree);
    execFileSync('bash', ['-n'], { input: completion });
    expect(completion).toMatch(/^ {8}\.\) words='selftest hotlist help -V --version -h --help' ;;$/m);
    expect(completion).toMatch(/^ {8}'hotlist keys add'\) words='--id --file -h --help' ;;$/m);
    // The completion itself, in bash: `alpr-edge hotlist keys <TAB>` offers add.
    const script = `${completion}\nCOMP_WORDS=(alpr-edge hotlist keys ''); COMP_CWORD=3; _alpr_edge; echo "\${COMPREPLY[*]}"`;
    expect(execFileSync('bash', ['-c', script], { encoding: 'utf8' }).trim()).toBe('add help -h --help');
  });
});

function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
