"""``python -m vfu_common.keys DIR``: write the internal-token key pair if missing."""

from __future__ import annotations

import sys
from pathlib import Path

from vfu_common.identity import generate_keypair

PRIVATE_KEY_FILE = "internal_private.pem"
PUBLIC_KEY_FILE = "internal_public.pem"


def ensure_keypair(directory: Path) -> tuple[Path, Path]:
    """Create the key pair in ``directory`` unless both files exist; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    private, public = directory / PRIVATE_KEY_FILE, directory / PUBLIC_KEY_FILE
    if not (private.exists() and public.exists()):
        private_pem, public_pem = generate_keypair()
        private.write_text(private_pem)
        private.chmod(0o600)
        public.write_text(public_pem)
    return private, public


def main(argv: list[str]) -> int:
    """CLI entry point."""
    if len(argv) != 1:
        print("usage: python -m vfu_common.keys DIR", file=sys.stderr)
        return 2
    private, public = ensure_keypair(Path(argv[0]))
    print(f"internal token keys: {private} {public}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
