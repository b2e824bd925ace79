"""The lock files stay hashed and the agent's image pins exactly the portal's versions."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ("requirements/base.txt", "requirements/dev.txt", "agent/requirements.txt")
_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(\S+)")


def _entries(path: str) -> dict[str, tuple[str, int]]:
    """Name → (version, number of hashes) for each requirement of a `make lock` output file."""
    entries: dict[str, tuple[str, int]] = {}
    name = ""
    for line in (ROOT / path).read_text().splitlines():
        match = _REQUIREMENT.match(line)
        if match:
            name = match.group(1).lower().replace("_", "-")
            entries[name] = (match.group(3), 0)
        elif line.strip().startswith("--hash=sha256:") and name:
            version, hashes = entries[name]
            entries[name] = (version, hashes + 1)
    return entries


def test_lock_files_every_requirement_is_pinned_with_a_hash():
    for path in LOCKS:
        entries = _entries(path)
        assert entries, f"{path} lists no pinned requirement"
        unhashed = sorted(name for name, (_version, hashes) in entries.items() if hashes == 0)
        assert not unhashed, f"{path}: no --hash for {unhashed}; run `make lock`"


def test_lock_files_agent_pins_equal_the_portal_lock():
    # Given the agent's compiled requirements and the portal's base lock
    agent, base = _entries("agent/requirements.txt"), _entries("requirements/base.txt")
    # Then every package of the agent's image is locked by the portal at the same version
    assert {"kubernetes", "httpx", "boto3"} <= agent.keys()
    differing = {name: (v, base.get(name, ("missing", 0))[0]) for name, (v, _h) in agent.items()}
    differing = {name: pair for name, pair in differing.items() if pair[0] != pair[1]}
    assert not differing, f"agent pin vs base.txt: {differing}; run `make lock`"


def test_lock_files_dev_pins_equal_base_pins():
    base, dev = _entries("requirements/base.txt"), _entries("requirements/dev.txt")
    differing = {n: (base[n][0], dev[n][0]) for n in base.keys() & dev.keys() if base[n][0] != dev[n][0]}
    assert not differing, f"base.txt vs dev.txt: {differing}; run `make lock`"
