"""The model, in three parts that live and training share.

- ``metadata``: what a ser-live ONNX file must carry, validated on load
- ``normaliser``: per-stream statistics that score an utterance against its own stream
- ``gate``: refuses vectors that look like nothing the model was trained on (noise, music)
- ``backend``: the ONNX graph itself, batched

:mod:`streamer.model.classifier` composes them with the feature front-end for one stream.
"""
