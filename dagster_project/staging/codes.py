"""Codes mapped through the reference tables. Unknown codes never reject a row: they map to
`other` / `unknown` and are counted (METHOD.md §9) by `unknown_code_counts`.

Exports `map_codes`, `classify_offences`, `unknown_code_counts`, `ATTEMPT_GROUPS`.
"""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.delivery.reference import load_reference
from dagster_project.staging.dates import arrow_text, is_in

# suffix A (attempt) keeps a trigger offence a trigger only in these groups (EXTRACTS.md)
ATTEMPT_GROUPS = ("theft", "robbery", "burglary", "handling", "fraud")


def _position(codes: pa.Array, ref_codes: pd.Series) -> np.ndarray:
    """Row of each code in the reference (exact text), -1 where absent or missing."""
    found = pc.index_in(codes, value_set=pa.array(ref_codes.tolist(), type=codes.type))
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False)


def _lookup(position: np.ndarray, values: pd.Series, unknown: str, index) -> pd.Series:
    """`values[position]`, `unknown` where the position is -1, as a `str` column."""
    labels = pa.array(values.tolist() + [unknown], type=pa.large_string())
    taken = labels.take(pa.array(np.where(position >= 0, position, len(values))))
    return pd.Series(taken.to_pandas(), dtype="str").set_axis(index)


def map_codes(
    codes: pd.Series, ref: pd.DataFrame, column: str, unknown: str, empty: str | None
) -> pd.Series:
    """`ref[column]` for each code (exact text), `unknown` for a code the reference lacks,
    and `empty` (None = missing) where no code was given."""
    mapped = _lookup(_position(arrow_text(codes), ref["code"]), ref[column], unknown, codes.index)
    return mapped.mask(codes.isna(), empty)


def classify_offences(cjs_code: pd.Series, offence_codes: pd.DataFrame) -> pd.DataFrame:
    """`offence_group` and `trigger` per CJS code, by its first 7 characters and the suffix
    rule: a trigger only with no 8th character, or with suffix `A` on a theft, robbery,
    burglary, handling or fraud code; `B`, `C`, `I` (and anything else) never."""
    code = arrow_text(cjs_code)
    position = _position(pc.utf8_slice_codeunits(code, 0, 7), offence_codes["code"])
    known = position >= 0
    flagged = known & offence_codes["trigger"].to_numpy(dtype=bool)[position]
    attempt_group = offence_codes["offence_group"].isin(ATTEMPT_GROUPS).to_numpy(dtype=bool)
    length = pc.fill_null(pc.utf8_length(code), 0).to_numpy(zero_copy_only=False)
    suffix_a = pc.fill_null(pc.equal(pc.utf8_slice_codeunits(code, 7, 8), "A"), False)
    attempt = (length == 8) & suffix_a.to_numpy(zero_copy_only=False) & attempt_group[position]
    return pd.DataFrame(
        {
            "offence_group": _lookup(
                position, offence_codes["offence_group"], "unknown", cjs_code.index
            ),
            "trigger": flagged & ((length == 7) | attempt),
        },
        index=cjs_code.index,
    )


def _unknown(codes: pd.Series, ref: pd.DataFrame, empty_is_unknown: bool) -> int:
    known = is_in(codes, ref["code"])
    present = codes.notna().to_numpy()
    return int((~known & (present | empty_is_unknown)).sum())


def unknown_code_counts(
    staged: pd.DataFrame, refs: dict[str, pd.DataFrame] | None = None
) -> dict[str, int]:
    """Rows of one staged table whose code the reference lacks, per field.

    Episodes: RFLS (empty counts: it maps to 'other' like an unknown code), DRUG1–DRUG3 and
    DISRSN (empty means none given, not unknown). Offences: CJS_CODE (by its first 7
    characters). Other tables have no coded fields: {}."""
    refs = refs or {}

    def ref(name: str) -> pd.DataFrame:
        return refs[name] if name in refs else load_reference(name)

    if "rfls" in staged.columns:
        counts = {"RFLS": _unknown(staged["rfls"], ref("referral_sources"), True)}
        for field in ("drug1", "drug2", "drug3"):
            counts[field.upper()] = _unknown(staged[field], ref("drug_codes"), False)
        counts["DISRSN"] = _unknown(staged["disrsn"], ref("discharge_reasons"), False)
        return counts
    if "cjs_code" in staged.columns:
        return {
            "CJS_CODE": _unknown(staged["cjs_code"].str.slice(0, 7), ref("offence_codes"), True)
        }
    return {}
