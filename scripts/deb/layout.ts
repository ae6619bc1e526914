// What goes into alpr-edge_<version>_<arch>.deb and where (scripts/package-deb; docs/install.md).
// Pure functions over file lists and versions, so test/unit/deb-package.test.ts checks the layout,
// the control fields and the maintainer scripts without building a package.
import { posix } from 'node:path';

export const PACKAGE = 'alpr-edge';
/** The app's folder: the path the Yocto recipe's npm class uses too, so the one systemd unit fits both. */
export const APP_DIR = `usr/lib/node_modules/${PACKAGE}`;
export const UNIT_PATH = `lib/systemd/system/${PACKAGE}.service`;
export const CONFIG_PATH = `etc/${PACKAGE}/config.json`;
export const STATE_DIR = `/var/lib/${PACKAGE}`;
export const ADDON_PATH = `${APP_DIR}/native/gst-capture/build/Release/gst_capture.node`;

export type DebArch = 'amd64' | 'arm64';
/** Per Debian architecture: npm's CPU name and the ELF e_machine of its binaries. */
export const ARCHES: Readonly<Record<DebArch, { npmCpu: string; elfMachine: number; elfName: string }>> = {
  amd64: { npmCpu: 'x64', elfMachine: 62, elfName: 'x86-64' },
  arm64: { npmCpu: 'arm64', elfMachine: 183, elfName: 'AArch64' },
};
export const isDebArch = (value: string): value is DebArch => value === 'amd64' || value === 'arm64';

export const debFileName = (version: string, arch: DebArch): string => `${PACKAGE}_${version}_${arch}.deb`;

/**
 * Runtime dependencies. nodejs is held to 20.x: our addon (native/gst-capture) and epoll are nan
 * addons, built against Node 20's ABI (NODE_MODULE_VERSION 115), and a Node 22 refuses to load them.
 * Debian 12's own nodejs is 18, so this is NodeSource's (or a backport's) nodejs 20.
 * GStreamer: the elements src/capture uses (test/unit/yocto-layer.test.ts maps each to its
 * plugin): core + base (decodebin, videoconvert, videoscale, videorate, appsink, videotestsrc),
 * good (rtspsrc, rtp depayloaders, qtdemux, v4l2src), bad (h264parse/h265parse); the addon links
 * libgstreamer and libgstapp. adduser for the postinst, systemd for systemd-notify(1).
 */
export const DEPENDS = [
  'nodejs (>= 20)',
  'nodejs (<< 21)',
  'adduser',
  'systemd',
  'libc6',
  'libstdc++6',
  'libglib2.0-0',
  'libgstreamer1.0-0 (>= 1.22)',
  'libgstreamer-plugins-base1.0-0 (>= 1.22)',
  'gstreamer1.0-plugins-base',
  'gstreamer1.0-plugins-good',
  'gstreamer1.0-plugins-bad',
];
/** Software H.264/H.265 decoding (avdec_*), for boards without a V4L2 hardware decoder; python3 for selftest's adjtimex fallback. */
export const RECOMMENDS = ['gstreamer1.0-libav', 'python3'];
export const SUGGESTS = ['mosquitto-clients'];

export interface ControlInput {
  version: string;
  arch: DebArch;
  installedSizeKiB: number;
  maintainer: string;
  description: string;
}

export function controlFile(c: ControlInput): string {
  const [summary, ...rest] = wrap(c.description, 72);
  const fields: [string, string][] = [
    ['Package', PACKAGE],
    ['Version', c.version],
    ['Architecture', c.arch],
    ['Maintainer', c.maintainer],
    ['Installed-Size', String(c.installedSizeKiB)],
    ['Depends', DEPENDS.join(', ')],
    ['Recommends', RECOMMENDS.join(', ')],
    ['Suggests', SUGGESTS.join(', ')],
    ['Section', 'non-free/video'],
    ['Priority', 'optional'],
    ['Homepage', 'https://alpr-edge.invalid/'],
    ['Description', `licence-plate reader daemon for pole-mounted cameras\n${[summary, ...rest].map((l) => ` ${l}`).join('\n')}`],
  ];
  return fields.map(([k, v]) => `${k}: ${v}`).join('\n') + '\n';
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** Files dpkg treats as the administrator's: kept (or asked about) on upgrade, removed on purge. */
export const CONFFILES = [`/${CONFIG_PATH}`];

/** `npm pack`'s file list (package.json "files") as installed: the addon's sources stay out, its build goes in. */
export function appFiles(packed: readonly string[]): { from: string; to: string }[] {
  return packed
    .filter((p) => !p.startsWith('native/'))
    .filter((p) => p !== 'systemd/alpr-edge.service') // installed once, where systemd looks
    .map((p) => ({ from: p, to: `${APP_DIR}/${p}` }))
    .sort((a, b) => a.to.localeCompare(b.to));
}

/** Everything outside node_modules and the app's own files: the paths each package build adds. */
export function systemFiles(): { to: string; what: string; mode: number }[] {
  return [
    { to: `usr/bin/${PACKAGE}`, what: `symlink to ../lib/node_modules/${PACKAGE}/dist/src/bin.cjs`, mode: 0o777 },
    { to: ADDON_PATH, what: 'native/gst-capture built for the package architecture', mode: 0o644 },
    { to: UNIT_PATH, what: 'systemd/alpr-edge.service', mode: 0o644 },
    { to: CONFIG_PATH, what: 'config/example.jsonc (conffile; root:alpr-edge 0640 by dpkg-statoverride)', mode: 0o644 },
    { to: `usr/share/man/man1/${PACKAGE}.1.gz`, what: 'man page generated from the CLI help', mode: 0o644 },
    { to: `usr/share/bash-completion/completions/${PACKAGE}`, what: 'bash completion generated from the CLI help', mode: 0o644 },
    { to: `usr/share/doc/${PACKAGE}/copyright`, what: 'our licence and every runtime dependency licence', mode: 0o644 },
    { to: `usr/share/doc/${PACKAGE}/changelog.gz`, what: 'package changelog', mode: 0o644 },
    { to: `usr/share/lintian/overrides/${PACKAGE}`, what: 'lintian overrides, each with its reason', mode: 0o644 },
  ];
}

/**
 * onnxruntime-node carries libraries for every platform; keep the package architecture's only.
 * Returns the folders under node_modules to delete.
 */
export function foreignPlatformDirs(paths: readonly string[], arch: DebArch): string[] {
  const keep = ARCHES[arch].npmCpu;
  return paths.filter((p) => {
    const ort = /^onnxruntime-node\/bin\/napi-v\d+\/([^/]+)(?:\/([^/]+))?$/.exec(p);
    if (ort === null) return false;
    return ort[1] !== 'linux' || (ort[2] !== undefined && ort[2] !== keep);
  });
}

/**
 * What in node_modules is never run: tests, examples, benchmarks, CI and lint configuration, VCS
 * files, musl builds (Debian is glibc), Windows project files, pino's documentation page (it loads
 * scripts from CDNs). Lintian flags each (package-contains-vcs-control-file, broken-gz in test
 * fixtures, privacy-breach-generic, library-not-linked-against-libc, ...); nothing requires them.
 */
export const PRUNE_DIRS = new Set(['test', 'tests', '__tests__', '.github', '.husky', 'example', 'examples', 'benchmark', 'benchmarks', 'integration-test']);
export const PRUNE_FILES = /^(\.git(attributes|ignore|modules)|\.npmignore|\.eslintrc(\..*)?|\.eslintignore|eslint\.config\.[cm]?js|\.editorconfig|\.travis\.yml|\.prettierrc(\..*)?|\.taprc|\.nycrc(\..*)?|.*\.sln|.*\.musl\.node)$/;
/** Package-specific paths (relative to node_modules) that are documentation or CI only. */
export const PRUNE_PATHS = ['pino/index.html', 'pino/docs', 'pino/inc-version.sh', 'fastify/integration', 'fastify/scripts'];

/** node_modules paths (relative) to delete, given every file and folder under it. */
export function prunedPaths(paths: readonly string[]): string[] {
  return paths.filter((p) => {
    const parts = p.split('/');
    const name = parts.at(-1)!;
    // A folder is pruned by name only inside a package (node_modules/<pkg>/test), not a package named "test".
    const inPackage = parts.length > (parts[0]!.startsWith('@') ? 2 : 1);
    return (inPackage && (PRUNE_DIRS.has(name) || PRUNE_FILES.test(name))) || PRUNE_PATHS.includes(p);
  });
}

/** ELF e_machine of a file's first bytes, or undefined when it is not an ELF object. */
export function elfMachine(head: Uint8Array): number | undefined {
  if (head.length < 20 || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) return undefined;
  const little = head[5] === 1;
  return little ? head[18]! | (head[19]! << 8) : (head[18]! << 8) | head[19]!;
}

/** Maintainer scripts. dpkg-statoverride keeps the config's group across upgrades (dpkg would reset it). */
export function maintainerScripts(): { postinst: string; prerm: string; postrm: string } {
  const postinst = `#!/bin/sh
# alpr-edge postinst: the service user, its groups, state directory and config permissions.
set -e

if [ "$1" = configure ]; then
    # gpio: the unit's SupplementaryGroups= names it, and systemd refuses a unit whose group is
    # missing (status=216/GROUP); a board's udev rule gives it /dev/gpiochip* or /sys/class/gpio.
    getent group gpio >/dev/null || addgroup --quiet --system gpio
    getent group video >/dev/null || addgroup --quiet --system video
    if ! getent passwd ${PACKAGE} >/dev/null; then
        adduser --quiet --system --group --home ${STATE_DIR} --no-create-home \\
            --shell /usr/sbin/nologin --gecos "alpr-edge licence-plate reader" ${PACKAGE}
    fi
    adduser --quiet ${PACKAGE} gpio
    adduser --quiet ${PACKAGE} video

    # Store, keys and the TLS key: the service user's alone (the unit's StateDirectoryMode=0700).
    if [ ! -d ${STATE_DIR} ]; then
        install -d -m 0700 -o ${PACKAGE} -g ${PACKAGE} ${STATE_DIR}
    fi

    # The config names the camera (with its password) and the broker: root writes it, the
    # service's group reads it.
    for entry in "0750 /etc/${PACKAGE}" "0640 /${CONFIG_PATH}"; do
        mode=\${entry%% *}; path=\${entry#* }
        if ! dpkg-statoverride --list "$path" >/dev/null 2>&1; then
            dpkg-statoverride --update --add root ${PACKAGE} "$mode" "$path"
        fi
    done
fi

# systemd: enable on first install (it starts at the next boot, once provisioned), restart on
# upgrade only if it was running. Not started now: the default config is an example that
# \`alpr-edge provision\` replaces (docs/install.md).
if [ "$1" = configure ] || [ "$1" = abort-upgrade ] || [ "$1" = abort-deconfigure ] || [ "$1" = abort-remove ]; then
    if deb-systemd-helper debian-installed ${PACKAGE}.service; then
        deb-systemd-helper unmask ${PACKAGE}.service >/dev/null || true
        if deb-systemd-helper --quiet was-enabled ${PACKAGE}.service; then
            deb-systemd-helper enable ${PACKAGE}.service >/dev/null || true
        else
            deb-systemd-helper update-state ${PACKAGE}.service >/dev/null || true
        fi
    else
        deb-systemd-helper enable ${PACKAGE}.service >/dev/null || true
    fi
    if [ -d /run/systemd/system ]; then
        systemctl --system daemon-reload >/dev/null || true
        if [ -n "$2" ]; then
            deb-systemd-invoke try-restart ${PACKAGE}.service >/dev/null || true
        fi
    fi
fi

exit 0
`;
  const prerm = `#!/bin/sh
# alpr-edge prerm: stop the daemon before its files go (remove); an upgrade restarts it in postinst.
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
    deb-systemd-invoke stop ${PACKAGE}.service >/dev/null || true
fi
exit 0
`;
  const postrm = `#!/bin/sh
# alpr-edge postrm: purge removes what the package and the daemon made; remove keeps config and data.
set -e

if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null || true
fi
if [ "$1" = remove ]; then
    if command -v deb-systemd-helper >/dev/null; then
        deb-systemd-helper mask ${PACKAGE}.service >/dev/null || true
    fi
fi
if [ "$1" = purge ]; then
    if command -v deb-systemd-helper >/dev/null; then
        deb-systemd-helper purge ${PACKAGE}.service >/dev/null || true
        deb-systemd-helper unmask ${PACKAGE}.service >/dev/null || true
    fi
    for path in /${CONFIG_PATH} /etc/${PACKAGE}; do
        if dpkg-statoverride --list "$path" >/dev/null 2>&1; then
            dpkg-statoverride --remove "$path"
        fi
    done
    # Reads, images, keys, the access log and the device's TLS key (docs/install.md: export what
    # must be kept before purging), and what provision added next to the config.
    rm -rf ${STATE_DIR} /etc/${PACKAGE}/publisher-keys
    rm -f /etc/${PACKAGE}/config.json.dpkg-old /etc/${PACKAGE}/config.json.dpkg-dist
    rmdir --ignore-fail-on-non-empty /etc/${PACKAGE} 2>/dev/null || true
    # The alpr-edge user and group stay (Debian policy: files elsewhere may still belong to them).
fi
exit 0
`;
  return { postinst, prerm, postrm };
}

/** debian/copyright (DEP-5): our code, our addon's MIT, and each runtime npm package under its own licence. */
export function copyrightFile(dependencies: readonly { path: string; licence: string }[], year: number): string {
  const stanzas = [
    `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: ${PACKAGE}
Comment: The npm packages under ${APP_DIR}/node_modules keep their own licences; each
 package's LICENSE file ships next to its code.`,
    `Files: *
Copyright: ${year} alpr-edge authors
License: proprietary
 alpr-edge is proprietary software; see ${APP_DIR}/LICENSE for the terms.`,
    `Files: ${APP_DIR}/native/*
Copyright: gstreamer-superficial authors; ${year} alpr-edge authors
License: Expat
 Permission is hereby granted, free of charge, to any person obtaining a copy of this software
 and associated documentation files, under the terms of the MIT licence; the full text is in
 the package's native/gst-capture/LICENSE of the alpr-edge sources.`,
  ];
  const byLicence = new Map<string, string[]>();
  for (const d of dependencies) byLicence.set(d.licence, [...(byLicence.get(d.licence) ?? []), d.path]);
  for (const [licence, paths] of [...byLicence].sort(([a], [b]) => a.localeCompare(b))) {
    stanzas.push(`Files: ${paths.sort().map((p) => `${APP_DIR}/${p}/*`).join('\n ')}
Copyright: the authors named in each package's licence file
License: ${debianLicenceName(licence)}`);
  }
  for (const name of [...new Set([...byLicence.keys()].flatMap((l) => debianLicenceName(l).split(/ or |, | and /)))].sort()) {
    stanzas.push(`License: ${name}\n ${licenceText(name)}`);
  }
  return stanzas.join('\n\n') + '\n';
}

/** SPDX expression → DEP-5 short names (MIT is Expat there; OR is "or"). */
export function debianLicenceName(spdx: string): string {
  return spdx
    .replace(/^\((.*)\)$/, '$1')
    .split(/\s+OR\s+/)
    .map((id) => (id === 'MIT' ? 'Expat' : id))
    .join(' or ');
}

function licenceText(name: string): string {
  const common: Record<string, string> = {
    'Apache-2.0': '/usr/share/common-licenses/Apache-2.0',
    'LGPL-3.0-or-later': '/usr/share/common-licenses/LGPL-3',
    'CC0-1.0': '/usr/share/common-licenses/CC0-1.0',
  };
  const file = common[name];
  if (file !== undefined) return `On Debian systems the full text is in ${file}.`;
  return `The full text is in the LICENSE file of each package above (under ${APP_DIR}/node_modules).`;
}

/** The paths that must exist in every package build (deb-check and the unit test hold the build to them). */
export function requiredPaths(packed: readonly string[]): string[] {
  return [...appFiles(packed).map((f) => f.to), ...systemFiles().map((f) => f.to)].map((p) => posix.normalize(p)).sort();
}
