"""The default distributions of the synthetic world: shares over categories (ethnicities,
exits, disposals, offence codes, identity recording errors) and the values by exit type.
`SynthConfig` copies each into its own field, so a profile or a test overrides them there.

Exports one mapping per `SynthConfig` field of the same name, in capitals.
"""

ETHNICITY_SHARES = {
    "A": 0.80,
    "B": 0.01,
    "C": 0.03,
    "D": 0.02,
    "E": 0.005,
    "F": 0.005,
    "G": 0.01,
    "H": 0.01,
    "J": 0.015,
    "K": 0.005,
    "L": 0.005,
    "M": 0.025,
    "N": 0.01,
    "P": 0.005,
    "R": 0.002,
    "S": 0.008,
    "Z": 0.03,
}


EXIT_SHARES = {
    "successful_completion": 0.15,
    "dropped_out": 0.37,
    "transferred": 0.04,
    "custody": 0.04,
    "died": 0.01,
    "other": 0.03,
    "retained": 0.36,
}


EXIT_RATE_TILT = {
    "successful_completion": 0.0,
    "dropped_out": 1.6,
    "transferred": 0.0,
    "custody": 0.0,
    "died": 0.0,
    "other": 0.0,
    "retained": -0.8,
}


RETENTION_MEDIAN_DAYS = {
    "successful_completion": 185.0,
    "dropped_out": 110.0,
    "transferred": 150.0,
    "custody": 140.0,
    "died": 250.0,
    "other": 90.0,
}


RETAINED_FINAL_EXIT_SHARES = {
    "successful_completion": 0.35,
    "dropped_out": 0.45,
    "transferred": 0.10,
    "custody": 0.05,
    "died": 0.02,
    "other": 0.03,
}


REENTRY_SHARE = {
    "successful_completion": 0.72,
    "dropped_out": 0.45,
    "transferred": 0.30,
    "custody": 0.40,
    "died": 0.0,
    "other": 0.35,
}


POST_EXIT_MULTIPLIER = {
    "successful_completion": 0.20,
    "dropped_out": 0.8,
    "transferred": 1.0,
    "custody": 1.0,
    "died": 0.0,
    "other": 1.0,
}


DISPOSAL_SHARES = {
    "CUS": 0.20,
    "SUS": 0.08,
    "COM": 0.30,
    "FIN": 0.15,
    "DIS": 0.20,
    "OTH": 0.07,
}


CLIENT_OFFENCE_MIX = {
    "TH68010": 0.28,
    "TH68001": 0.05,
    "TH68004": 0.01,
    "TH68023": 0.01,
    "TH68030": 0.03,
    "TH68032": 0.02,
    "TH68046": 0.01,
    "TH68048": 0.005,
    "TH68020": 0.02,
    "TH68036": 0.03,
    "TH68040": 0.03,
    "TH68052": 0.003,
    "TH68058": 0.03,
    "TH68060": 0.01,
    "FRAUD": 0.03,
    "MD71200": 0.01,
    "MD71230": 0.01,
    "MD71110": 0.06,
    "MD71111": 0.02,
    "MD71101": 0.04,
    "MD71240": 0.005,
    "VA24001": 0.01,
    "VA24002": 0.003,
    "SO59001": 0.01,
    "OF61047": 0.02,
    "OF61020": 0.005,
    "CJ88001": 0.03,
    "CD71001": 0.03,
    "PU86004": 0.01,
    "PU86005": 0.02,
    "RT88191": 0.01,
    "RT88103": 0.02,
    "BA76001": 0.05,
    "CJ03510": 0.03,
}


OTHER_OFFENCE_MIX = {
    "TH68010": 0.08,
    "TH68001": 0.04,
    "TH68030": 0.02,
    "TH68032": 0.02,
    "TH68046": 0.02,
    "TH68020": 0.01,
    "TH68036": 0.02,
    "TH68040": 0.02,
    "TH68058": 0.02,
    "FRAUD": 0.03,
    "MD71110": 0.01,
    "MD71101": 0.08,
    "MD71240": 0.01,
    "OF61047": 0.07,
    "OF61020": 0.02,
    "CJ88001": 0.10,
    "CD71001": 0.09,
    "PU86004": 0.04,
    "PU86005": 0.08,
    "RT88191": 0.10,
    "RT88103": 0.06,
    "BA76001": 0.04,
    "CJ03510": 0.02,
}


RECORDING_ERROR_SHARES = {
    "dob_day_month_swap": 0.006,
    "dob_digit": 0.006,
    "dob_year_slip": 0.006,
    "wrong_finitial": 0.006,
    "wrong_sinitial": 0.006,
    "missing_initial": 0.004,
    "sex_not_stated": 0.02,
    # kinds the default world does not plant (the model is never tuned on them);
    # the `noisy` profile switches them on (profiles.py)
    "dob_day_transposed": 0.0,  # 12 -> 21
    "dob_year_transposed": 0.0,  # 1975 -> 1957
    "placeholder_dob": 0.0,  # 01/01 of the right year: the real date not known
    "second_forename_first": 0.0,  # the second forename typed as the first
    "married_surname": 0.0,  # a woman's new surname, unknown to the PNC
}
