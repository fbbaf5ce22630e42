"""National data (not a plugin): the catalogue editions and deadline rules of national
law that several province and hospital plugins cite. Each plugin chooses the files
its documents rely on; identical editions from several plugins are merged by core."""

from pathlib import Path

HERE = Path(__file__).parent
RESTRICTED_2017 = HERE / "national-restricted-2017.toml"
RESTRICTED_2022 = HERE / "national-restricted-2022.toml"
PROHIBITED = HERE / "national-prohibited.toml"
DEADLINES = HERE / "deadlines.toml"
