# Example: alpr-edge on the stock core-image-base (systemd as init: see the layer's README).
# A city's own image recipe adds the same line, or local.conf does:
#   IMAGE_INSTALL:append = " packagegroup-alpr-edge"
IMAGE_INSTALL:append = " packagegroup-alpr-edge"
