"""What the test suite needs besides Python packages: kcat (librdkafka's client, the
independent reader of the Kafka tests) and Chromium (the web tests drive /usr/bin/chromium).

`make test` runs this first. Missing tools are installed with apt-get when running as root
on a Debian-like system (as .ci/run does); otherwise it stops at once with the one line to
run, instead of letting the suite fail deep inside. `--check` only reports. Stdlib only."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

TOOLS = {"kcat": "kcat", "chromium": "chromium"}  # command -> Debian package


def missing() -> list[str]:
    return [package for command, package in TOOLS.items() if shutil.which(command) is None]


def apt_install(packages: list[str]) -> bool:
    """True when apt-get installed them; False when it could not (no root, no apt, no net)."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return False
    print(f"test tools: installing {' '.join(packages)} with apt-get", flush=True)
    try:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    except (subprocess.CalledProcessError, OSError) as error:
        print(f"test tools: apt-get failed: {error}", file=sys.stderr)
        return False
    return True


def main(argv: list[str]) -> int:
    absent = missing()
    if absent and "--check" not in argv and apt_install(absent):
        absent = missing()
    if not absent:
        print("test tools: kcat and chromium present")
        return 0
    line = f"sudo apt-get install -y --no-install-recommends {' '.join(absent)}"
    print(f"error: the tests need {', '.join(absent)}; install with: {line}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
