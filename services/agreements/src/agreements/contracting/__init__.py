"""The agreement feature: 2..n-party VFU agreements, their terms, signatures and versions."""
