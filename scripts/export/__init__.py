"""Checkpoints to ONNX (fp32 and INT8) and the models manifest."""
