"""Reading dataset images."""

import cv2


def imread_rgb(path):
    """An image as RGB uint8. The error names no path: file names of the real sets can hold plates."""
    im = cv2.imread(path, cv2.IMREAD_COLOR)
    if im is None:
        raise IOError("cannot read an image of the dataset")
    return cv2.cvtColor(im, cv2.COLOR_BGR2RGB)
