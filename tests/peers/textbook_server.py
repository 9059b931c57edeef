#!/usr/bin/python3
"""The textbook exchange's server for the hs lab: see textbook.py (--help)."""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import textbook  # noqa: E402

if __name__ == "__main__":
    try:
        sys.exit(textbook.server_main())
    except KeyboardInterrupt:
        sys.exit(130)
