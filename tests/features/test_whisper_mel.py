"""The numpy Whisper log-mel against Whisper's recipe written with torch.stft, and its edges."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from synth import speech_and_silence, vowel
from tools import require_module

from streamer.features import whisper_mel
from training.encoders.signals import speech_like

torch = require_module("torch", "encoders")
PARITY = 1e-4  # on the final (x + 4) / 4 values; measured ~3e-5 (float32 rounding)


def _whisper_reference(audio: np.ndarray, filters: np.ndarray) -> np.ndarray:
    """OpenAI Whisper's log_mel_spectrogram without 30-s padding, as Whisper writes it."""
    samples = torch.from_numpy(audio)
    stft = torch.stft(samples, 400, 160, window=torch.hann_window(400), return_complex=True)
    power = stft[..., :-1].abs() ** 2
    log_spec = torch.clamp(torch.from_numpy(filters.copy()) @ power, min=1e-10).log10()
    log_spec = torch.maximum(log_spec, log_spec.max() - 8.0)
    return ((log_spec + 4.0) / 4.0).numpy()


def _signals() -> list[np.ndarray]:
    mixed, _ = speech_and_silence([("silence", 0.3), ("speech", 1.2), ("silence", 0.4),
                                   ("speech", 0.8)])
    return [vowel(0.02, seed=1), vowel(0.5, f0=220, seed=2), mixed, speech_like(4.0, seed=3),
            speech_like(7.3, seed=4, f0=95)]


def test_parity_with_whisper_torch_recipe() -> None:
    filters = whisper_mel.mel_filters()
    worst = 0.0
    for audio in _signals():
        ours = whisper_mel.log_mel_spectrogram(audio)
        expected = _whisper_reference(audio, filters)
        assert ours.shape == expected.shape == (80, audio.size // 160)
        assert ours.dtype == np.float32
        worst = max(worst, float(np.max(np.abs(ours - expected))))
    print(f"whisper log-mel numpy vs torch.stft recipe: max abs diff {worst:.2e}")
    assert worst < PARITY


def test_filterbank_is_librosas_slaney_bank() -> None:
    librosa = require_module("librosa", "train")
    expected = librosa.filters.mel(sr=16000, n_fft=400, n_mels=80)
    np.testing.assert_allclose(whisper_mel.mel_filters(), expected, rtol=1e-5, atol=1e-8)


def test_window_is_torchs_periodic_hann() -> None:
    np.testing.assert_allclose(whisper_mel.hann_periodic(), torch.hann_window(400).numpy(),
                               atol=1e-6)


@pytest.mark.parametrize("n", [0, 1, 159, 160, 200, 201, 399, 400, 401, 16000])
def test_short_and_odd_lengths(n: int) -> None:
    audio = vowel(n / 16000, seed=n) if n else np.zeros(0, np.float32)
    mel = whisper_mel.log_mel_spectrogram(audio)
    assert mel.shape == (80, n // 160) and mel.dtype == np.float32
    assert np.all(np.isfinite(mel))


def test_reflect_padding_when_long_enough_zero_extension_below() -> None:
    """201+ samples: exactly Whisper's reflect padding; shorter: zeros appended first."""
    audio = vowel(0.0125, seed=5)  # 200 samples: too short to reflect 200 each side
    extended = np.concatenate([audio, np.zeros(1, np.float32)])
    np.testing.assert_array_equal(
        whisper_mel.power_spectrogram(audio), whisper_mel.power_spectrogram(extended)[:, :1]
    )


def test_silence_is_the_floor_and_input_is_not_modified() -> None:
    silent = np.zeros(3200, np.float32)
    np.testing.assert_allclose(whisper_mel.log_mel_spectrogram(silent), -1.5, atol=1e-6)
    audio = vowel(0.3, seed=6)
    before = audio.copy()
    whisper_mel.log_mel_spectrogram(audio)
    np.testing.assert_array_equal(audio, before)


def test_runtime_module_needs_neither_torch_nor_librosa() -> None:
    code = ("import sys, streamer.features.whisper_mel as m\n"
            "m.log_mel_spectrogram(m.np.ones(800))\n"
            "sys.exit(', '.join({'torch', 'librosa', 'onnx', 'training'} & set(sys.modules)) or 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).parents[3], check=False)
    assert done.returncode == 0, done.stderr
