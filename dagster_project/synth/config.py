"""Every knob of the synthetic world, in one frozen dataclass.

A later calibration (REFERENCE_FIGURES.md) tunes these; nothing else in the generator
holds a rate (the defaults of the long distributions, shares over many categories, are read
from `distributions.py`). Rates are per year unless named otherwise; shares are probabilities;
`*_multiplier` values scale a person's latent offending rate. Dates are ISO strings so
that the config serialises to JSON as it is (truth/…/parameters.json).

Exports `SynthConfig`, `SCALES`.
"""

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

from .distributions import (
    CLIENT_OFFENCE_MIX,
    DISPOSAL_SHARES,
    ETHNICITY_SHARES,
    EXIT_RATE_TILT,
    EXIT_SHARES,
    OTHER_OFFENCE_MIX,
    POST_EXIT_MULTIPLIER,
    RECORDING_ERROR_SHARES,
    REENTRY_SHARE,
    RETAINED_FINAL_EXIT_SHARES,
    RETENTION_MEDIAN_DAYS,
)

SCALES = ("tiny", "demo", "national", "full")
DRUG_GROUPS = ("opiate_and_crack", "opiate_only", "crack_only", "other")
EXIT_TYPES = (
    "successful_completion",
    "dropped_out",
    "transferred",
    "custody",
    "died",
    "other",
    "retained",
)


def _by_drug_group(*values: float) -> dict[str, float]:
    return dict(zip(DRUG_GROUPS, values, strict=True))


@dataclass(frozen=True)
class SynthConfig:
    """The synthetic world's parameters. Build with `for_scale`, adjust with
    `dataclasses.replace(config, knob=value)`."""

    scale: str = "demo"
    profile: str = "default"  # the named world it was built from (profiles.py)
    extract_date: str = "2009-10-31"
    treatment_start: str = "2003-04-01"  # first TRIAGED date NDTMS holds
    history_start: str = "1996-01-01"  # first offence date simulated on the PNC

    # --- treatment population -------------------------------------------------------------
    new_clients_per_year: int = 2_000  # persons whose first journey starts in a given year
    client_male_share: float = 0.75
    client_birth_year_mean: float = 1975.0
    client_birth_year_sd: float = 7.5
    birth_year_min: int = 1925
    birth_year_max: int = 1993
    min_entry_age: int = 15
    # Distinct birthdays per year. 365 nationally; smaller worlds use fewer so that the
    # attributor collides as often as it does against a national-size PNC.
    dob_days_per_year: int = 365
    # initial-letter weights are raised to this power (> 1 sharpens them: attributors collide
    # more, so that the NTA rule finds as many ambiguous clients as the study did)
    initial_skew: float = 0.87
    second_forename_share: float = 0.55
    move_rate: float = 0.06  # moves of home area per year
    ethnicity_shares: dict = field(default_factory=ETHNICITY_SHARES.copy)
    ethnicity_disagreement: float = 0.08  # PNC records a different (stated) ethnicity
    pnc_ethnicity_not_stated: float = 0.06

    # --- treatment journeys ----------------------------------------------------------------
    agencies_per_dat: int = 4
    other_dat_agency_share: float = 0.05  # treated outside the home DAT
    drug_group_shares: dict = field(default_factory=lambda: _by_drug_group(0.30, 0.33, 0.07, 0.30))
    cj_referral_share_offenders: float = 0.48
    cj_referral_share_non_offenders: float = 0.10
    self_referral_share_non_cj: float = 0.55  # of the non-criminal-justice referrals
    referral_lag_mean_days: float = 12.0
    no_modality_share: float = 0.08  # assessed but never started a modality
    exit_shares: dict = field(default_factory=EXIT_SHARES.copy)
    # odds of an exit type scale by (1 + rate / client_rate_mean) ** tilt: chaotic, heavy
    # offenders drop out more and stay less (exit_shares stay the clients' average)
    exit_rate_tilt: dict = field(default_factory=EXIT_RATE_TILT.copy)
    # median days to exit by exit type (log-normal, capped below two years)
    retention_median_days: dict = field(default_factory=RETENTION_MEDIAN_DAYS.copy)
    retention_sigma: float = 0.9
    retained_extra_mean_days: float = 500.0  # beyond two years, for the 'retained'
    # how the journeys of the 'retained' finally end
    retained_final_exit_shares: dict = field(default_factory=RETAINED_FINAL_EXIT_SHARES.copy)
    transfer_share: float = 0.12  # an episode continues at another agency within 21 days
    max_transfers: int = 3
    concurrent_episode_share: float = 0.03  # a second agency during the journey
    reentry_share: dict = field(default_factory=REENTRY_SHARE.copy)
    reentry_gap_mean_days: float = 330.0  # beyond the 21 days that close a journey
    max_journeys: int = 5
    discharge_code_change: str = "2008-04-01"  # 1-13 series before, 80-89 from

    # --- offending (the planted effect) ----------------------------------------------------
    client_offender_share: float = 0.60  # clients with a non-zero latent rate
    client_rate_mean: float = 2.2  # detected cases per year at the peak age, baseline
    client_rate_shape: float = 1.5  # gamma shape: heterogeneity between persons
    drug_group_rate_multiplier: dict = field(
        default_factory=lambda: _by_drug_group(1.8, 1.0, 0.8, 0.6)
    )
    other_rate_mean: float = 0.08  # offenders never treated
    other_rate_shape: float = 2.0
    offending_min_age: float = 10.0
    age_peak: float = 19.0
    age_decline: float = 0.02  # rate falls by exp(-decline * years past the peak)
    pre_entry_days: int = 180  # the spike before entry (regression to the mean)
    pre_entry_multiplier: float = 1.2
    in_treatment_multiplier: dict = field(
        default_factory=lambda: _by_drug_group(0.22, 0.37, 0.13, 0.27)
    )
    # the in-treatment effect builds up: 1 at entry, the full multiplier after some months
    in_treatment_ramp_days: float = 240.0
    relapse_multiplier: float = 1.3  # between an exit and a return to treatment
    # after a successful completion, the relapse that precedes a return lasts this many
    # days before the pre-entry spike (the post-exit effect holds until then)
    completion_relapse_days: int = 180
    dropout_relapse_share: float = 0.75  # of a journey ending in drop-out: a relapse
    # drop-outs stop attending before they are discharged: their last days in treatment
    # (capped at the stay) are offended at this multiplier
    dropout_disengaged_days: int = 60
    disengaged_multiplier: float = 1.8
    # the post-exit multiplier moves from 1 (exit at entry) to `post_exit_multiplier`
    # with the length of the last journey, with this time constant (0: no dose-response)
    post_exit_ramp_days: float = 60.0
    post_exit_multiplier: dict = field(default_factory=POST_EXIT_MULTIPLIER.copy)

    # --- cases and offences on the PNC ---------------------------------------------------
    extra_offences_per_case: float = 0.25  # Poisson mean beyond the first offence
    outcome_shares: dict = field(
        default_factory=lambda: {"C": 0.72, "K": 0.10, "A": 0.05, "W": 0.13}
    )
    withdrawn_within_conviction_share: float = 0.10  # some charges of a convicted case
    court_lag_median_days: float = 75.0
    court_lag_sigma: float = 0.85  # some cases take beyond the 183-day waiting period
    court_lag_max_days: int = 540
    caution_lag_max_days: int = 28
    disposal_shares: dict = field(default_factory=DISPOSAL_SHARES.copy)
    custody_median_days: float = 120.0
    custody_sigma: float = 0.9
    custody_days_missing_share: float = 0.005
    offence_end_share: float = 0.05
    offence_away_share: float = 0.10  # recorded by a force other than the home one
    suffix_share: float = 0.03  # attempts, aiding, conspiracy, incitement
    duplicate_transmission_share: float = 0.004
    fraud_act_date: str = "2007-01-15"  # TH68014 before, FR06xxx from
    client_offence_mix: dict = field(default_factory=CLIENT_OFFENCE_MIX.copy)
    other_offence_mix: dict = field(default_factory=OTHER_OFFENCE_MIX.copy)

    # --- the PNC population --------------------------------------------------------------
    pnc_other_nominals: int = 100_000  # nominals of offenders never in treatment
    pnc_pool_oversample: float = 3.0  # never-treated persons simulated per nominal kept
    # never-treated persons with a nominal beyond those, drawn and written in chunks of
    # persons after the rest of the world (synth/stream.py): the PNC at full size
    pnc_extra_nominals: int = 0
    pnc_extra_chunk: int = 100_000  # persons simulated per chunk (each its own seed)
    pnc_birth_year_mean: float = 1967.0
    pnc_birth_year_sd: float = 20.0
    pnc_male_share: float = 0.80
    pnc_sex_unknown_share: float = 0.001
    pnc_duplicate_share: float = 0.02  # persons with two unconsolidated records
    duplicate_same_attributor_share: float = 0.6  # else the second record's DOB slips
    pnc_dob_error_share: float = 0.01
    alias_share: float = 0.18  # records with at least one alias
    extra_aliases_mean: float = 0.4
    alias_kind_shares: dict = field(
        default_factory=lambda: {"forename": 0.35, "surname": 0.25, "dob": 0.25, "spelling": 0.15}
    )
    first_record_year_min: int = 1970

    # --- NDTMS identity recording errors (per client record at an agency) -----------------
    recording_error_shares: dict = field(default_factory=RECORDING_ERROR_SHARES.copy)
    lower_case_share: float = 0.03
    # areas and ethnicity not recorded, per record on both sides (NDTMS PC/ETHNIC, PNC
    # POSTCODE/ETHNICITY)
    postcode_missing_share: float = 0.0
    ethnicity_missing_share: float = 0.0

    # --- a world with a counterfactual (synth/counterfactual.py) ---------------------------
    # None: the default world (the published figures are calibrated on it); a number: the
    # share of cases that starting treatment takes away over the two years from a start
    treatment_effect: float | None = None
    cf_drug_users_per_client: float = 1.0  # drug-using offenders not (yet) in treatment
    cf_crisis_rate: float = 0.3  # crises a year, of clients and drug users alike
    cf_crisis_days: int = 120
    cf_crisis_multiplier: float = 4.0
    # the chance that a conviction (a crisis) brings a client to treatment: the first one
    # that does, or a time unrelated to offending if earlier, is the first start
    cf_conviction_trigger: float = 0.2
    cf_crisis_trigger: float = 0.4
    cf_start_lag_days: int = 60  # a start follows its trigger within this many days

    # --- invalid rows and unknown codes (METHOD.md §9) -------------------------------------
    invalid_row_share: float = 0.0005  # per file, spread over the kinds of defect
    unknown_code_share: float = 0.0005  # valid rows carrying codes not in the reference

    def __post_init__(self) -> None:
        for name in (
            "extract_date",
            "treatment_start",
            "history_start",
            "discharge_code_change",
            "fraud_act_date",
        ):
            value = getattr(self, name)
            if isinstance(value, dt.date):
                object.__setattr__(self, name, value.isoformat())
            else:
                dt.date.fromisoformat(value)  # fail early on a bad date
        if self.scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}, not {self.scale!r}")

    @classmethod
    def for_scale(cls, scale: str, **overrides) -> "SynthConfig":
        """The default world at a scale: `tiny` (tests), `demo` (seconds), `national`,
        `full` (national's world, its PNC grown to the real one's ~10 million nominals)."""
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}, not {scale!r}")
        sizes = {
            "tiny": dict(new_clients_per_year=60, pnc_other_nominals=3_000, dob_days_per_year=2),
            "demo": dict(
                new_clients_per_year=3_000, pnc_other_nominals=100_000, dob_days_per_year=12
            ),
            "national": dict(
                new_clients_per_year=65_000, pnc_other_nominals=3_000_000, dob_days_per_year=365
            ),
            "full": dict(
                new_clients_per_year=65_000, pnc_other_nominals=3_000_000, dob_days_per_year=365,
                pnc_extra_nominals=6_600_000,
            ),
        }[scale]
        return dataclasses.replace(cls(scale=scale), **{**sizes, **overrides})

    def day(self, name: str) -> int:
        """A date knob as days since 1970-01-01."""
        return (dt.date.fromisoformat(getattr(self, name)) - dt.date(1970, 1, 1)).days

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)
