"""``python -m flows``: serve every skill deployment from this process (``skillworks up`` starts it).

The number of runs executed at once comes from ``--limit`` or the ``ExecutionDefaults`` block.
"""

from __future__ import annotations

import argparse
import asyncio

from blocks.settings import load_settings
from flows.deployments import serve_skills
from flows.shared_tls import share_tls_context


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m flows", description="Serve every skillworks skill deployment.")
    parser.add_argument("--limit", type=int, help="runs executed at once (default: the ExecutionDefaults block)")
    arguments = parser.parse_args()
    share_tls_context()
    serve_skills(arguments.limit or asyncio.run(load_settings()).concurrency_limit)


if __name__ == "__main__":
    main()
