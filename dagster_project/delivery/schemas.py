"""Column contracts of the raw and staged tables: the names every stage agrees on.

Raw and staged tables use the delivered column names lower-cased (so that PostgreSQL
needs no quoting and the link back to EXTRACTS.md stays obvious).

Exports `DELIVERY_FILES`, `REQUIRED_COLUMNS`, `OPTIONAL_COLUMNS`, `RAW_TABLES`,
`STAGED_TABLES`, `PROVENANCE_COLUMNS`, `REJECT_COLUMNS`, `STAGED_COLUMNS`.
"""

# file -> required and optional columns, as delivered (EXTRACTS.md)
REQUIRED_COLUMNS = {
    "ndtms_episodes.csv": [
        "AGNCY", "CLIENTID", "EPISODID", "FINITIAL", "SINITIAL", "DOB", "SEX",
        "REFLD", "RFLS", "TRIAGED", "DRUG1",
    ],
    "pnc_nominals.csv": ["PNCID", "SURNAME", "FORENAMES", "DOB", "SEX"],
    "pnc_aliases.csv": ["PNCID", "SURNAME", "FORENAMES"],
    "pnc_offences.csv": [
        "PNCID", "ASN", "OFFENCE_SEQ", "CJS_CODE", "OFFENCE_START", "OUTCOME",
    ],
}
OPTIONAL_COLUMNS = {
    "ndtms_episodes.csv": [
        "PC", "DAT", "ETHNIC", "DRUG2", "DRUG3", "INJSTAT", "MODAL", "MODST", "MODEND",
        "DISD", "DISRSN",
    ],
    "pnc_nominals.csv": ["POSTCODE", "FORCE", "ETHNICITY"],
    "pnc_aliases.csv": ["DOB"],
    "pnc_offences.csv": ["OFFENCE_END", "FORCE", "OUTCOME_DATE", "DISPOSAL", "CUSTODY_DAYS"],
}
DELIVERY_FILES = tuple(REQUIRED_COLUMNS)

# file -> warehouse table names
RAW_TABLES = {f: "raw_" + f.removesuffix(".csv") for f in DELIVERY_FILES}
STAGED_TABLES = {f: "staged_" + f.removesuffix(".csv") for f in DELIVERY_FILES}
REJECTS_TABLE = "staging_rejects"

# every raw and staged row carries where it came from
PROVENANCE_COLUMNS = ["extract_date", "source_file", "line_number"]
REJECT_COLUMNS = ["extract_date", "source_file", "line_number", "reason"]

# Staged tables: typed columns. Dates are datetime64 (midnight), counts nullable Int64,
# codes and ids text. Derived columns (codes mapped through the reference tables) follow
# the delivered ones.
STAGED_COLUMNS = {
    "ndtms_episodes.csv": {
        "agncy": "str", "clientid": "str", "episodid": "str",
        "finitial": "str",  # upper-cased; missing when empty
        "sinitial": "str",
        "dob": "date", "sex": "str",  # '1', '2' or '9'
        "pc": "str", "dat": "str", "ethnic": "str",
        "refld": "date", "rfls": "str", "triaged": "date",
        "drug1": "str", "drug2": "str", "drug3": "str",
        "injstat": "str", "modal": "Int64", "modst": "date", "modend": "date",
        "disd": "date", "disrsn": "str",
        # derived through reference tables
        "referral_route": "str",  # criminal_justice | self | other ('other' when unknown)
        "drug1_class": "str", "drug2_class": "str", "drug3_class": "str",  # 'unknown' when unknown
        "exit_group": "str",  # missing while open; 'other' when the code is unknown
    },
    "pnc_nominals.csv": {
        "pncid": "str", "surname": "str", "forenames": "str", "dob": "date", "sex": "str",
        "postcode": "str", "force": "str", "ethnicity": "str",
    },
    "pnc_aliases.csv": {
        "pncid": "str", "surname": "str", "forenames": "str",
        "dob": "date",  # missing = same as the nominal's
    },
    "pnc_offences.csv": {
        "pncid": "str", "asn": "str", "offence_seq": "Int64", "cjs_code": "str",
        "offence_start": "date", "offence_end": "date", "force": "str", "outcome": "str",
        "outcome_date": "date", "disposal": "str", "custody_days": "Int64",
        # derived through offence_codes (first 7 characters + suffix rule)
        "offence_group": "str",  # 'unknown' when the code is not in the reference
        "trigger": "bool",  # counts in the study (suffix rule applied)
    },
}
