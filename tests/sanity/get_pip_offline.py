"""Offline stand-in for the get-pip.py that ansible-test downloads to bootstrap
pip into its sanity-test virtualenvs (that download host is out of reach here).

ansible-test runs this file with get-pip's arguments; it bootstraps pip from
the interpreter's own ensurepip, then installs the requested packages from the
package index pip is configured for.
"""

import ensurepip
import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

ensurepip.bootstrap()
args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", *args])
