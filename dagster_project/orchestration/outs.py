"""The outputs of a multi-asset: one warehouse table each, held as a pandas frame.

Exports `table_outs`.
"""

import dagster as dg


def table_outs(group: str, code_version: str | None = None, **descriptions: str
               ) -> dict[str, dg.AssetOut]:
    """An `AssetOut` per table named in `descriptions`, all in one asset group (and, for the
    delivery's stages, at one code version, so that a change of the code marks them stale)."""
    return {
        name: dg.AssetOut(group_name=group, kinds={"pandas"}, code_version=code_version,
                          description=description)
        for name, description in descriptions.items()
    }
