"""ser-serve: speech emotion over a WebSocket, one :class:`~streamer.EmotionStream` per stream.

- :mod:`.codes`: close codes and the protocol's error (one place);
- :mod:`.audio`: binary frames to samples (s16le, f32le, μ-law through a numpy table);
- :mod:`.protocol`: the start message and control messages, validated;
- :mod:`.events`: the JSON events the server sends;
- :mod:`.limits`: sessions, frame size, pace, idle and duration limits;
- :mod:`.inference`: a session's bounded queue feeding the shared thread pool;
- :mod:`.session`: one ``/v1/stream`` connection; :mod:`.twilio`: one Twilio Media Stream;
- :mod:`.http`: the plain HTTP routes (health, readiness, metrics, the page) and refusals;
- :mod:`.auth`: bearer token, Origin allowlist, Twilio signatures;
- :mod:`.metrics`: Prometheus text; :mod:`.server`: the whole server; :mod:`.cli`: ``ser-serve``;
- :mod:`.client`: a small client (``ser-client``).

docs/server.md documents the protocol.
"""
