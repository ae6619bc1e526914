"""What the Python tools share: paths, `log`, image reading, the split rule, seeding, the
batch-stream loader, labelled-scene listing, the H.264 encoder pipe, checkpoint saving and the
leave-one-source-out check."""
