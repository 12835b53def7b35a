"""Stand-in for the get-pip.py bootstrap script ansible-test downloads from ci-files.testing.ansible.com,
a host these machines do not reach (noxfile.py puts it where ansible-test caches that script).

ansible-test runs it in an empty venv with pip's install arguments (e.g. pip==24.2
--disable-pip-version-check --no-setuptools --no-wheel): this bootstraps the pip that Python
bundles (ensurepip), then installs what was asked for from the package index.
"""

from __future__ import annotations

import subprocess
import sys

# Options of get-pip.py itself, not of pip install.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}


def main() -> None:
    # In a process of its own: ensurepip.bootstrap() would set PIP_CONFIG_FILE=/dev/null for
    # this process and so for the pip below, which then misses the machine's pip.conf.
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
    arguments = [argument for argument in sys.argv[1:] if argument not in GET_PIP_ONLY]
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", *arguments])


if __name__ == "__main__":
    main()
