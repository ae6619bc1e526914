SUMMARY = "Everything an alpr-edge camera pole runs"
DESCRIPTION = "The alpr-edge service with what it relies on at the pole: CA certificates for the \
broker's TLS, time zone data, an SSH server for the field technician (provision, selftest, \
snapshot), and software H.264/H.265 decoding where the board has no hardware decoder."
LICENSE = "MIT"

inherit packagegroup

RDEPENDS:${PN} = " \
    alpr-edge \
    ca-certificates \
    tzdata \
    openssh-sshd \
"

# avdec_h264/avdec_h265 (FFmpeg) for boards without a V4L2 hardware decoder; gstreamer1.0-libav
# needs LICENSE_FLAGS_ACCEPTED += "commercial" in local.conf, so it is a recommendation that an
# image without that flag simply goes without. v4l2codecs: stateless hardware decoders.
RRECOMMENDS:${PN} = " \
    gstreamer1.0-libav \
    gstreamer1.0-plugins-bad-v4l2codecs \
"
