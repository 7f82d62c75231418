"""A large EES file for the import benchmark, generated (no real figures): every LA, region and England, many
years, four filters and six measures (counts, percentages, GSS symbols), in the EES layout.

``python benchmarks/ees_generator.py OUT.csv 200`` writes about 200 MB.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HEAD = ("time_period,time_identifier,geographic_level,country_code,country_name,region_code,region_name,"
        "old_la_code,new_la_code,la_name,sex,age_group,ethnicity,category,"
        "children_count,children_percent,episodes_count,episodes_rate,duration_median,assessments_count")
SEXES = ["Boys", "Girls", "Total"]
AGES = ["Under 1", "1 to 4", "5 to 9", "10 to 15", "16 and over", "Total"]
ETHNICITIES = ["White", "Mixed", "Asian or Asian British", "Black or Black British", "Other ethnic group",
               "Not known", "Total"]
CATEGORIES = ["Abuse or neglect", "Disability", "Family in acute stress", "Family dysfunction", "Total"]


def _areas() -> list[str]:
    """Geography cells (geographic_level ... la_name) for England, 9 regions and the LAs of the reference list."""
    from indicators.local_authorities import all_authorities

    out = ["National,E92000001,England,,,,,"]
    regions = {}
    for la in all_authorities(current_only=True):
        code, name = la.region
        regions[code] = name
        out.append(f"Local authority,E92000001,England,{code},{name},{la.number},{la.ons_code},\"{la.name}\"")
    out[1:1] = [f"Regional,E92000001,England,{c},{n},,," for c, n in sorted(regions.items())]
    return out


def write(path: Path, megabytes: float, seed: int = 8) -> int:
    """Write about ``megabytes`` MB; returns the number of data rows."""
    rng = np.random.default_rng(seed)
    areas = _areas()
    target = megabytes * 1024 * 1024
    rows = 0
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(HEAD + "\n")
        size = len(HEAD) + 1
        year = 2025
        while size < target:
            for area in areas:
                if size >= target:
                    break
                block = []
                for sex in SEXES:
                    for age in AGES:
                        n = rng.integers(0, 900, size=(len(ETHNICITIES) * len(CATEGORIES), 3))
                        k = 0
                        for eth in ETHNICITIES:
                            for cat in CATEGORIES:
                                c, e, a = (int(v) for v in n[k])
                                k += 1
                                count = "c" if c < 5 else str(c)
                                pct = "x" if c < 5 else f"{c / 9:.1f}"
                                block.append(f"{year},Reporting year,{area},{sex},{age},{eth},{cat},{count},{pct},"
                                             f"{e},{e / 3:.1f},{a % 60}.5,{a}\n")
                text = "".join(block)
                fh.write(text)
                size += len(text.encode("utf-8"))
                rows += len(block)
            year -= 1
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    out = Path(sys.argv[1])
    print(write(out, float(sys.argv[2])), "rows")
