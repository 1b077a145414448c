"""Named worlds: the default one and others the linkage model was never tuned on.

Exports `PROFILES`, `with_profile`.

The linkage model is shaped on `default` only; the others show how it holds when the
delivery differs in the ways real ones do:

- `noisy`: every identity error two and a half times as often, and the kinds `default`
  never plants (transposed digits, placeholder dates, second forenames, married names);
- `big-pnc`: the same clients against a PNC three times as large;
- `sparse`: postcode and ethnicity not recorded on 40% of records, on both sides;
- `mobile`: three times as many moves between areas.
"""

import dataclasses

from .config import SynthConfig

NOISE_FACTOR = 2.5
# the rate of an error kind `default` does not plant, before the noise factor
UNSEEN_KIND_RATE = 0.004


def _noisy(config: SynthConfig) -> dict:
    shares = {
        kind: NOISE_FACTOR * (rate if rate > 0 else UNSEEN_KIND_RATE)
        for kind, rate in config.recording_error_shares.items()
    }
    return dict(
        recording_error_shares=shares,
        pnc_dob_error_share=NOISE_FACTOR * config.pnc_dob_error_share,
        pnc_duplicate_share=NOISE_FACTOR * config.pnc_duplicate_share,
        ethnicity_disagreement=NOISE_FACTOR * config.ethnicity_disagreement,
        lower_case_share=NOISE_FACTOR * config.lower_case_share,
    )


def _big_pnc(config: SynthConfig) -> dict:
    return dict(pnc_other_nominals=3 * config.pnc_other_nominals)


def _sparse(config: SynthConfig) -> dict:
    return dict(postcode_missing_share=0.4, ethnicity_missing_share=0.4)


def _mobile(config: SynthConfig) -> dict:
    return dict(move_rate=3 * config.move_rate)


PROFILES = {
    "default": lambda config: {},
    "noisy": _noisy,
    "big-pnc": _big_pnc,
    "sparse": _sparse,
    "mobile": _mobile,
}


def with_profile(config: SynthConfig, profile: str) -> SynthConfig:
    """`config` changed the way the named profile changes a world (at its scale)."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {sorted(PROFILES)}, not {profile!r}")
    return dataclasses.replace(config, profile=profile, **PROFILES[profile](config))
