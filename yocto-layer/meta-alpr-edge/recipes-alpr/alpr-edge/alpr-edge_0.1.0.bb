SUMMARY = "Edge licence-plate reader for pole-mounted cameras"
DESCRIPTION = "alpr-edge reads licence plates on the camera pole: GStreamer capture, ONNX \
plate reading in onnxruntime-node, an encrypted LMDB ring store with retention and evidence holds, \
signed hot lists, and hits over MQTT/TLS, run as a hardened systemd service with a watchdog. \
Built with the npm class from the npm-packed compiled package and its npm-shrinkwrap.json, \
both written by scripts/package-yocto in the alpr-edge repository (bitbake has no TypeScript \
compiler and no network at build time)."
SECTION = "multimedia"

# Our code is proprietary: package.json says "UNLICENSED" and the package carries LICENSE, whose
# text Yocto copies into the image's licence manifest (NO_GENERIC_LICENSE: no common-licenses
# file for it). Our GStreamer addon native/gst-capture is a fork of gstreamer-superficial and
# keeps its MIT licence (native/gst-capture/LICENSE). The npm dependencies installed with it keep
# their own licences; the generated include lists them and their licence files' checksums.
LICENSE = "Proprietary & MIT & ${ALPR_EDGE_DEPENDENCY_LICENSES}"
LIC_FILES_CHKSUM = " \
    file://LICENSE;md5=fd9b6b39136e800d1c563dd95ffbc629 \
    file://native/gst-capture/LICENSE;md5=511867298617670ad4fe5dd32aafc215 \
"
NO_GENERIC_LICENSE[Proprietary] = "LICENSE"
require alpr-edge-licences.inc

# ${BP}.tgz: `npm pack` of the compiled package (dist/src, models, default config, systemd unit,
# the sources of native/gst-capture);
# npm-shrinkwrap.json: the runtime dependencies with registry URLs and sha512 integrity, which
# npmsw:// fetches and unpacks under ${S}/node_modules. Both come from scripts/package-yocto.
SRC_URI = " \
    file://${BP}.tgz \
    npmsw://${THISDIR}/${BPN}/npm-shrinkwrap.json;destsuffix=package \
"
# Releases from styhead on define UNPACKDIR (bitbake.conf, before this recipe: ?= keeps theirs);
# scarthgap unpacks into WORKDIR and may not define it.
UNPACKDIR ?= "${WORKDIR}"
S = "${UNPACKDIR}/package"

inherit npm systemd useradd pkgconfig features_check

REQUIRED_DISTRO_FEATURES = "systemd"
# Prebuilt onnxruntime, libvips and argon2 binaries exist for these two only (docs/arm.md).
COMPATIBLE_HOST = "(aarch64|x86_64).*-linux"

# Our GStreamer addon (native/gst-capture) is compiled for the target in do_compile: npm runs the
# package's install script (`npm run build:native` = node-gyp, with the class's nodedir and
# arch), and its binding.gyp asks pkg-config (target sysroot: inherit pkgconfig) for
# gstreamer-1.0 (gstreamer1.0) and gstreamer-app-1.0 (gstreamer1.0-plugins-base), and node for the
# headers of nan (a runtime dependency in the shrinkwrap, so it is under ${S}/node_modules).
# npm.bbclass keeps only build/Release/gst_capture.node, where src/capture/gst-binding.ts loads it.
DEPENDS += "gstreamer1.0 gstreamer1.0-plugins-base"

# onnxruntime-node's install script would download GPU providers; its CPU build for linux arm64
# and x64 ships inside the package, and bitbake's compile step has no network.
export ONNXRUNTIME_NODE_INSTALL = "skip"
# npm chooses optional platform packages (@img/sharp-linux-arm64, @lmdb/lmdb-linux-arm64,
# @node-rs/argon2-linux-arm64-gnu) by CPU and OS; tell it the target's, not the build host's.
EXTRA_OENPM = "--cpu=${NPM_ARCH} --os=linux"

ALPR_EDGE_DIR = "${nonarch_libdir}/node_modules/${BPN}"

do_install:append() {
    # The hardened unit from the repository (systemd/alpr-edge.service), shipped in the package.
    install -d ${D}${systemd_system_unitdir}
    install -m 0644 ${S}/systemd/alpr-edge.service ${D}${systemd_system_unitdir}/alpr-edge.service

    # Default configuration: the documented example, which `alpr-edge provision` replaces on the
    # pole. Readable by the service's group only (it names the camera and broker).
    install -d -m 0750 ${D}${sysconfdir}/alpr-edge
    install -m 0640 ${S}/config/example.jsonc ${D}${sysconfdir}/alpr-edge/config.json
    chgrp -R alpr-edge ${D}${sysconfdir}/alpr-edge

    # onnxruntime-node ships prebuilt libraries for every platform; keep the target's only
    # (others fail the arch QA check and would add about 260 MB to the image).
    ort=${D}${ALPR_EDGE_DIR}/node_modules/onnxruntime-node/bin/napi-v6
    rm -rf $ort/darwin $ort/win32
    for dir in $ort/linux/*; do
        [ "${dir##*/}" = "${NPM_ARCH}" ] || rm -rf "$dir"
    done
}

USERADD_PACKAGES = "${PN}"
# The unit's SupplementaryGroups=video gpio: systemd refuses to start a unit whose group does not
# exist (status=216/GROUP). base-passwd has video; gpio is ours.
GROUPADD_PARAM:${PN} = "--system gpio"
# Dedicated system user for the service (the unit's User=/Group=, StateDirectory= is its home);
# video for /dev/video* (V4L2 cameras), gpio for the GPIO lines once a udev rule grants the group.
USERADD_PARAM:${PN} = "--system --user-group --home-dir ${localstatedir}/lib/alpr-edge \
    --no-create-home --shell /sbin/nologin --groups video,gpio alpr-edge"

SYSTEMD_SERVICE:${PN} = "alpr-edge.service"
SYSTEMD_AUTO_ENABLE:${PN} = "enable"

CONFFILES:${PN} = "${sysconfdir}/alpr-edge/config.json"

# GStreamer elements the capture pipelines use (src/capture/pipeline-description.ts):
#   core: filesrc, queue, capsfilter          base: decodebin (playback), typefind, videorate,
#   videoscale + videoconvert (videoconvertscale), appsink (app), videotestsrc (test://)
#   good: rtspsrc + rtph264depay/rtph265depay (rtsp, rtp, rtpmanager, udp), qtdemux (isomp4),
#   v4l2src and the V4L2 stateful hardware decoders (video4linux2), MJPEG webcams (jpeg)
#   bad: h264parse/h265parse (videoparsersbad)
# Software H.264/H.265 decoding (avdec_*) is in packagegroup-alpr-edge (LICENSE_FLAGS).
RDEPENDS:${PN} += " \
    gstreamer1.0 \
    gstreamer1.0-plugins-base-app \
    gstreamer1.0-plugins-base-playback \
    gstreamer1.0-plugins-base-typefindfunctions \
    gstreamer1.0-plugins-base-videoconvertscale \
    gstreamer1.0-plugins-base-videorate \
    gstreamer1.0-plugins-base-videotestsrc \
    gstreamer1.0-plugins-good-isomp4 \
    gstreamer1.0-plugins-good-jpeg \
    gstreamer1.0-plugins-good-rtp \
    gstreamer1.0-plugins-good-rtpmanager \
    gstreamer1.0-plugins-good-rtsp \
    gstreamer1.0-plugins-good-udp \
    gstreamer1.0-plugins-good-video4linux2 \
    gstreamer1.0-plugins-bad-videoparsersbad \
"

# onnxruntime, libvips (sharp) and argon2 arrive prebuilt from npm, stripped and linked by their
# publishers; our addon (native/gst-capture), epoll and lmdb/msgpackr-extract are compiled here
# (the npm class passes build-from-source) and get the usual treatment.
INSANE_SKIP:${PN} += "already-stripped ldflags"
